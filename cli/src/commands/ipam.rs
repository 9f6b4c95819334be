//! `hatang ipam …`: reports over the planned ledger, release of held values, exports, renumbering.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::args::{ExportFormat, Ipam, Output};
use crate::ledger_file::write_atomically;
use hatang_core::ipam::{Ledger, report};

pub fn run(cmd: Ipam, output: Output) -> Result<ExitCode> {
    match cmd {
        Ipam::Show(args) => {
            let Ok(p) = super::planned(&args)? else {
                return Ok(ExitCode::from(1));
            };
            stale_note(&p);
            match output {
                Output::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&report::to_json(&p.allocation.ledger))?
                ),
                Output::Text => {
                    for (k, e) in &p.allocation.ledger.entries {
                        let state = match e.held {
                            Some(h) => format!("held since {} until {}", h.since, h.release_after),
                            None if e.pinned => "pinned".to_owned(),
                            None => String::new(),
                        };
                        println!(
                            "{:<48} {:<28} {:<40} {state}",
                            k,
                            e.value.to_string(),
                            e.owner
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Ipam::Tree(args) => {
            let Ok(p) = super::planned(&args)? else {
                return Ok(ExitCode::from(1));
            };
            stale_note(&p);
            print!(
                "{}",
                report::tree(&p.allocation.ledger, &p.allocation.pools)
            );
            Ok(ExitCode::SUCCESS)
        }
        Ipam::Utilization(args) => {
            let Ok(p) = super::planned(&args)? else {
                return Ok(ExitCode::from(1));
            };
            stale_note(&p);
            let util = report::utilization(&p.allocation.pools);
            let room = report::room_for_sites(&util);
            match output {
                Output::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"pools": util, "roomForSites": u64::try_from(room).unwrap_or(u64::MAX)})
                    )?
                ),
                Output::Text => {
                    println!(
                        "{:<10} {:<6} {:>22} {:>10} {:>10} {:>22} {:>7}  from",
                        "pool", "unit", "total", "used", "reserved", "free", "use"
                    );
                    for u in &util {
                        println!(
                            "{:<10} {:<6} {:>22} {:>10} {:>10} {:>22} {:>6.2}%  {}",
                            u.pool,
                            u.unit,
                            u.total,
                            u.used,
                            u.reserved,
                            u.free,
                            u.percent,
                            u.from.join(", ")
                        );
                    }
                    for u in util.iter().filter(|u| !u.free_as.is_empty()) {
                        let parts: Vec<String> = u
                            .free_as
                            .iter()
                            .map(|(unit, n)| format!("{n} {unit}s"))
                            .collect();
                        println!("{:<10} free: {}", u.pool, parts.join(" = "));
                    }
                    println!("\nroom for {room} more sites (communes) at the site prefix length");
                    for u in util.iter().filter_map(|u| u.warning.as_ref()) {
                        println!("warning: {u}");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Ipam::Find { inventory, address } => {
            let query: ipnet::IpNet = match address.parse::<ipnet::IpNet>() {
                Ok(n) => n.trunc(),
                Err(_) => address
                    .parse::<std::net::IpAddr>()
                    .map(ipnet::IpNet::from)
                    .with_context(|| format!("`{address}` is not an address or prefix"))?,
            };
            let Ok(p) = super::planned(&inventory)? else {
                return Ok(ExitCode::from(1));
            };
            let hits = report::find(&p.allocation.ledger, &query);
            let addrs: Vec<_> = report::interface_addresses(&p.allocation.ledger)
                .into_iter()
                .filter(|ia| {
                    query.contains(&ia.address) && query.prefix_len() == query.max_prefix_len()
                })
                .collect();
            match output {
                Output::Json => {
                    let json: Vec<_> = hits
                        .iter()
                        .map(|(k, e)| serde_json::json!({"key": k, "value": e.value.to_string(), "owner": e.owner, "pool": e.pool}))
                        .collect();
                    println!(
                        "{}",
                        serde_json::to_string_pretty(
                            &serde_json::json!({"matches": json, "interfaces": addrs})
                        )?
                    );
                }
                Output::Text => {
                    for ia in &addrs {
                        println!(
                            "{} is configured on {} {}",
                            ia.address, ia.device, ia.interface
                        );
                    }
                    for (k, e) in &hits {
                        println!("{:<28} {:<40} {k}", e.value.to_string(), e.owner);
                    }
                    if hits.is_empty() {
                        println!("{query}: not allocated");
                    }
                }
            }
            Ok(if hits.is_empty() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Ipam::Release {
            inventory,
            keys,
            all_held,
        } => {
            if keys.is_empty() && !all_held {
                bail!("name the held values to release with --key KEY, or give --all-held");
            }
            let Ok(p) = super::planned(&inventory)? else {
                return Ok(ExitCode::from(1));
            };
            let mut ledger: Ledger = p.allocation.ledger.clone();
            let mut released = Vec::new();
            for key in &keys {
                match ledger.entries.get(key) {
                    None => bail!("`{key}` is not in the ledger"),
                    Some(e) if e.held.is_none() => bail!(
                        "`{key}` ({}) is still in use by {}; remove the object from the inventory first",
                        e.value,
                        e.owner
                    ),
                    Some(_) => released.push(key.clone()),
                }
            }
            if all_held {
                released.extend(
                    ledger
                        .entries
                        .iter()
                        .filter(|(_, e)| e.held.is_some())
                        .map(|(k, _)| k.clone()),
                );
            }
            released.sort();
            released.dedup();
            for key in &released {
                if let Some(e) = ledger.entries.remove(key) {
                    println!("released {key} {} (was {})", e.value, e.owner);
                }
            }
            p.lock.write(&ledger)?;
            println!("{} values released; ledger written", released.len());
            Ok(ExitCode::SUCCESS)
        }
        Ipam::Export {
            inventory,
            format,
            out,
            domain,
        } => {
            let Ok(p) = super::planned(&inventory)? else {
                return Ok(ExitCode::from(1));
            };
            stale_note(&p);
            let ledger = &p.allocation.ledger;
            let single = |text: String| -> Result<()> {
                match &out {
                    Some(path) => write_atomically(path, &text),
                    None => {
                        print!("{text}");
                        Ok(())
                    }
                }
            };
            match format {
                ExportFormat::Csv => single(report::to_csv(ledger))?,
                ExportFormat::Json => {
                    single(serde_json::to_string_pretty(&report::to_json(ledger))? + "\n")?
                }
                ExportFormat::Zone => {
                    let dir =
                        out.context("zone export writes one file per zone: give --out DIR")?;
                    std::fs::create_dir_all(&dir)?;
                    let zones = report::reverse_zones(ledger, &p.allocation.pools, &domain);
                    for (name, text) in &zones {
                        write_atomically(&dir.join(name), text)?;
                    }
                    eprintln!("wrote {} zone files to {}", zones.len(), dir.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Ipam::Renumber(args) => renumber(args, output),
    }
}

/// Reports run on the planned state; say so when the ledger on disk is behind.
fn stale_note(p: &super::Planned) {
    if !p.allocation.changes.is_empty() {
        eprintln!(
            "note: {} ledger changes are pending (shown as planned); run `hatang plan` to write them",
            p.allocation.changes.len()
        );
    }
}

fn print_problems(diags: &[hatang_core::Diagnostic]) {
    for d in diags {
        println!("{d}\n");
    }
}

fn renumber(a: crate::args::RenumberArgs, output: Output) -> Result<ExitCode> {
    use hatang_core::ipam::renumber;
    let text = std::fs::read_to_string(&a.map)
        .with_context(|| format!("cannot read `{}`", a.map.display()))?;
    let rows = match renumber::parse_map(&a.map, &text) {
        Ok(rows) => rows,
        Err(problems) => {
            print_problems(&problems);
            return Ok(ExitCode::from(1));
        }
    };
    print_problems(&renumber::lint_map(&a.map, &rows));

    let old_path = crate::ledger_file::ledger_path(&a.from);
    let old_text = std::fs::read_to_string(&old_path).with_context(|| {
        format!(
            "cannot read the old ledger `{}`; run `hatang plan {}` first",
            old_path.display(),
            a.from.display()
        )
    })?;
    let old = match Ledger::parse(&old_path, &old_text) {
        Ok(l) => l,
        Err(d) => {
            print_problems(&[*d]);
            return Ok(ExitCode::from(1));
        }
    };
    let inventory = crate::args::InventoryArgs {
        paths: vec![a.to.clone()],
        today: a.today,
        max_file_size: 32 * 1024 * 1024,
        max_problems: 200,
    };
    let checked = super::check(&inventory)?;
    if checked.errors() > 0 {
        crate::output::print_diagnostics(&checked, 200);
        println!(
            "{} errors in `{}`: fix it before renumbering",
            checked.errors(),
            a.to.display()
        );
        return Ok(ExitCode::from(1));
    }
    let province = renumber::province_code(&checked.loaded.inventory).context(
        "the new inventory has no province Region, so its rows of the merge list cannot be chosen",
    )?;
    let rows = renumber::rows_for_province(&rows, province);
    let options = renumber::Options {
        policy: match a.policy {
            crate::args::RenumberPolicy::Largest => renumber::Policy::Largest,
            crate::args::RenumberPolicy::First => renumber::Policy::First,
        },
        effective: a.effective,
        drain_days: a.drain_days,
    };
    let plan = renumber::plan(&old, &checked.loaded.inventory, &rows, &options);
    match output {
        Output::Json => print!("{}", plan.to_json()),
        Output::Text => print!("{}", plan.render_text()),
    }
    if let Some(path) = &a.csv {
        write_atomically(path, &plan.to_csv())?;
        eprintln!("wrote the plan as CSV to {}", path.display());
    }
    if a.write_ledger {
        let path = crate::ledger_file::ledger_path(&a.to);
        let lock = crate::ledger_file::LedgerLock::acquire(&path)?;
        let seed = plan.seed_ledger(&old);
        let carried = seed.entries.len();
        let today = super::today(&inventory);
        let allocation = match hatang_core::ipam::allocate(
            &checked.loaded.inventory,
            seed,
            &checked.loaded.locator(),
            today,
        ) {
            Ok(a) => a,
            Err(problems) => {
                print_problems(&problems);
                println!("nothing was written");
                return Ok(ExitCode::from(1));
            }
        };
        lock.write(&allocation.ledger)?;
        let mut counts = std::collections::BTreeMap::new();
        for c in &allocation.changes {
            *counts
                .entry(format!("{:?}", c.kind).to_lowercase())
                .or_insert(0usize) += 1;
        }
        let counts: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
        eprintln!(
            "wrote {}: {} entries ({} carried over from the old ledger; then {})",
            path.display(),
            allocation.ledger.entries.len(),
            carried,
            if counts.is_empty() {
                "no changes".to_owned()
            } else {
                counts.join(", ")
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
