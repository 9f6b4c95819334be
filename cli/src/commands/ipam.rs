//! `hatang ipam …`: reports over the planned ledger, release of held values, exports, renumbering;
//! one function per subcommand.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use super::Planned;
use crate::args::{
    ExportFormat, InventoryArgs, Ipam, Output, RenumberArgs, RenumberPolicy, ReportArgs,
};
use crate::exit::Verdict;
use crate::ledger_file::{LedgerLock, ledger_path, write_atomically};
use crate::output::{Stop, Stopped, print_json};
use hatang_core::Diagnostic;
use hatang_core::ipam::report::{self, InterfaceAddress, Utilization};
use hatang_core::ipam::zones::{self, ZoneSettings};
use hatang_core::ipam::{Entry, Ledger, renumber};

pub(super) fn run(cmd: Ipam) -> Result<Verdict> {
    match cmd {
        Ipam::Show(args) => show(&args),
        Ipam::Tree(args) => tree(&args),
        Ipam::Utilization(args) => utilization(&args),
        Ipam::Find {
            inventory,
            address,
            output,
        } => find(&inventory, &address, output.format),
        Ipam::Release {
            inventory,
            keys,
            all_held,
            output,
        } => release(&inventory, &keys, all_held, output.format),
        Ipam::Export {
            inventory,
            format,
            out,
            domain,
        } => export(&inventory, format, out.as_deref(), domain.as_deref()),
        Ipam::Renumber(args) => renumber(&args),
    }
}

/// The planned state of `args` for a report, with a note when the ledger on disk is behind.
fn planned_for_report(
    args: &InventoryArgs,
    output: Output,
) -> Result<std::result::Result<Planned, Verdict>> {
    let planned = super::planned(args, output)?;
    if let Ok(p) = &planned
        && !p.allocation.changes.is_empty()
    {
        eprintln!(
            "note: {} ledger changes are pending (shown as planned); run `hatang plan` to write them",
            p.allocation.changes.len()
        );
    }
    Ok(planned)
}

/// `hatang ipam show`: every entry of the planned ledger.
fn show(args: &ReportArgs) -> Result<Verdict> {
    let p = match planned_for_report(&args.inventory, args.output.format)? {
        Ok(p) => p,
        Err(verdict) => return Ok(verdict),
    };
    let ledger = &p.allocation.ledger;
    match args.output.format {
        Output::Json => print_json(&report::to_json(ledger))?,
        Output::Text => {
            for (key, entry) in &ledger.entries {
                println!(
                    "{key:<48} {:<28} {:<40} {}",
                    entry.value.to_string(),
                    entry.owner,
                    state(entry)
                );
            }
        }
    }
    Ok(Verdict::Ok)
}

/// `held since … until …`, `pinned`, or nothing.
fn state(entry: &Entry) -> String {
    match entry.held {
        Some(h) => format!("held since {} until {}", h.since, h.release_after),
        None if entry.pinned => "pinned".to_owned(),
        None => String::new(),
    }
}

/// `hatang ipam tree`: roots, site prefixes, segments, blocks (text only).
fn tree(args: &InventoryArgs) -> Result<Verdict> {
    let p = match planned_for_report(args, Output::Text)? {
        Ok(p) => p,
        Err(verdict) => return Ok(verdict),
    };
    print!(
        "{}",
        report::tree(&p.allocation.ledger, &p.allocation.pools)
    );
    Ok(Verdict::Ok)
}

/// `hatang ipam utilization -o json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct UtilizationReport<'a> {
    pools: &'a [Utilization],
    /// Free site prefixes: how many more communes fit.
    #[serde(serialize_with = "report::ser_count")]
    room_for_sites: u128,
}

/// `hatang ipam utilization`: every pool's use in its own units.
fn utilization(args: &ReportArgs) -> Result<Verdict> {
    let p = match planned_for_report(&args.inventory, args.output.format)? {
        Ok(p) => p,
        Err(verdict) => return Ok(verdict),
    };
    let util = report::utilization(&p.allocation.pools);
    let room = report::room_for_sites(&util);
    match args.output.format {
        Output::Json => print_json(&UtilizationReport {
            pools: &util,
            room_for_sites: room,
        })?,
        Output::Text => print_utilization(&util, room),
    }
    Ok(Verdict::Ok)
}

fn print_utilization(util: &[Utilization], room: u128) {
    println!(
        "{:<10} {:<6} {:>22} {:>10} {:>10} {:>22} {:>7}  from",
        "pool", "unit", "total", "used", "reserved", "free", "use"
    );
    for u in util {
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

/// One ledger entry that holds the address looked up.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Match<'a> {
    key: &'a str,
    value: String,
    owner: &'a str,
    pool: &'a str,
}

/// `hatang ipam find -o json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Found<'a> {
    /// Entries that contain the address or lie inside the prefix, most specific first.
    matches: Vec<Match<'a>>,
    /// Interfaces configured with exactly this address.
    interfaces: &'a [InterfaceAddress],
}

/// An address or prefix as `ipam find` takes it (an address is its /32 or /128).
fn query(address: &str) -> Result<ipnet::IpNet> {
    if let Ok(net) = address.parse::<ipnet::IpNet>() {
        return Ok(net.trunc());
    }
    address
        .parse::<std::net::IpAddr>()
        .map(ipnet::IpNet::from)
        .map_err(|_| crate::exit::usage_error!("`{address}` is not an address or prefix"))
}

/// `hatang ipam find`: who owns an address or prefix; exit code 1 when nobody does.
fn find(args: &InventoryArgs, address: &str, output: Output) -> Result<Verdict> {
    let query = query(address)?;
    let p = match super::planned(args, output)? {
        Ok(p) => p,
        Err(verdict) => return Ok(verdict),
    };
    let hits = report::find(&p.allocation.ledger, &query);
    let single_address = query.prefix_len() == query.max_prefix_len();
    let addrs: Vec<InterfaceAddress> = report::interface_addresses(&p.allocation.ledger)
        .into_iter()
        .filter(|ia| single_address && query.contains(&ia.address))
        .collect();
    match output {
        Output::Json => print_json(&Found {
            matches: hits
                .iter()
                .map(|(key, e)| Match {
                    key,
                    value: e.value.to_string(),
                    owner: &e.owner,
                    pool: &e.pool,
                })
                .collect(),
            interfaces: &addrs,
        })?,
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
    Ok(Verdict::problems_if(hits.is_empty()))
}

/// One value `ipam release` freed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Released {
    key: String,
    value: String,
    owner: String,
}

/// `hatang ipam release -o json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ReleaseReport<'a> {
    /// The ledger file written.
    ledger: String,
    released: &'a [Released],
}

/// The keys to release: those named (each must be held), and every held one with `all_held`.
fn keys_to_release(ledger: &Ledger, keys: &[String], all_held: bool) -> Result<Vec<String>> {
    let mut released = Vec::new();
    for key in keys {
        match ledger.entries.get(key) {
            None => return Err(crate::exit::usage_error!("`{key}` is not in the ledger")),
            Some(e) if e.held.is_none() => {
                return Err(crate::exit::usage_error!(
                    "`{key}` ({}) is still in use by {}; remove the object from the inventory first",
                    e.value,
                    e.owner
                ));
            }
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
    Ok(released)
}

/// `hatang ipam release`: frees held values now and writes the ledger.
fn release(
    args: &InventoryArgs,
    keys: &[String],
    all_held: bool,
    output: Output,
) -> Result<Verdict> {
    if keys.is_empty() && !all_held {
        return Err(crate::exit::usage_error!(
            "name the held values to release with --key KEY, or give --all-held"
        ));
    }
    let p = match super::planned(args, output)? {
        Ok(p) => p,
        Err(verdict) => return Ok(verdict),
    };
    let mut ledger: Ledger = p.allocation.ledger.clone();
    let mut released = Vec::new();
    for key in keys_to_release(&ledger, keys, all_held)? {
        if let Some(e) = ledger.entries.remove(&key) {
            released.push(Released {
                key,
                value: e.value.to_string(),
                owner: e.owner,
            });
        }
    }
    p.lock.write(&ledger)?;
    match output {
        Output::Json => print_json(&ReleaseReport {
            ledger: ledger_path(&args.paths[0]).display().to_string(),
            released: &released,
        })?,
        Output::Text => {
            for r in &released {
                println!("released {} {} (was {})", r.key, r.value, r.owner);
            }
            println!("{} values released; ledger written", released.len());
        }
    }
    Ok(Verdict::Ok)
}

/// `hatang ipam export`: the planned ledger as CSV, JSON or DNS zones.
fn export(
    args: &InventoryArgs,
    format: ExportFormat,
    out: Option<&Path>,
    domain: Option<&str>,
) -> Result<Verdict> {
    if format == ExportFormat::Zone && out.is_none() {
        return Err(crate::exit::usage_error!(
            "zone export writes one file per zone: give --out DIR"
        ));
    }
    let p = match planned_for_report(args, Output::Text)? {
        Ok(p) => p,
        Err(verdict) => return Ok(verdict),
    };
    let ledger = &p.allocation.ledger;
    let single = |text: String| -> Result<()> {
        match out {
            Some(path) => write_atomically(path, &text),
            None => {
                print!("{text}");
                Ok(())
            }
        }
    };
    match (format, out) {
        (ExportFormat::Csv, _) => single(report::to_csv(ledger))?,
        (ExportFormat::Json, _) => {
            single(serde_json::to_string_pretty(&report::to_json(ledger))? + "\n")?
        }
        (ExportFormat::Zone, Some(dir)) => {
            let plan = p.checked.loaded.inventory.address_plans.first();
            let Some(dns) = plan.and_then(|plan| plan.spec.dns.as_ref()) else {
                eprintln!(
                    "error: the address plan has no spec.dns: the zones need a domain, name servers and a contact"
                );
                eprintln!(
                    "  = hint: add `dns: {{domain: …, nameServers: [ns1.…], contact: hostmaster@…}}` to the AddressPlan (docs/ipam.md)"
                );
                return Ok(Verdict::Problems);
            };
            write_zones(dir, &p, &ZoneSettings::of(dns, domain), args.today)?;
        }
        (ExportFormat::Zone, None) => unreachable!("refused above"),
    }
    Ok(Verdict::Ok)
}

/// Writes the forward and reverse zones into `dir`, each zone keeping the serial of the file it
/// replaces when its records did not change.
fn write_zones(
    dir: &Path,
    p: &Planned,
    settings: &ZoneSettings,
    today: Option<chrono::NaiveDate>,
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let today = super::today(today);
    let zones = zones::zones(&p.allocation.ledger, &p.allocation.pools, settings);
    let mut changed = 0;
    for zone in &zones {
        let path = dir.join(zone.file_name());
        let previous = match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", path.display())),
        };
        let serial = zones::next_serial(previous.as_deref(), zone, settings, today);
        let text = zone.text(settings, serial);
        if previous.as_deref() != Some(text.as_str()) {
            write_atomically(&path, &text)?;
            changed += 1;
        }
    }
    eprintln!(
        "{} zone files in {} ({changed} written, {} unchanged)",
        zones.len(),
        dir.display(),
        zones.len() - changed
    );
    Ok(())
}

/// `hatang ipam renumber`: the renumbering plan of merged and split communes, and with
/// `--write-ledger` the new inventory's ledger seeded from it.
fn renumber(a: &RenumberArgs) -> Result<Verdict> {
    let output = a.output.format;
    let rows = match merge_list(&a.map, output)? {
        Ok(rows) => rows,
        Err(verdict) => return Ok(verdict),
    };
    let old_path = ledger_path(&a.from);
    let old = match old_ledger(&old_path, &a.from, output)? {
        Ok(ledger) => ledger,
        Err(verdict) => return Ok(verdict),
    };
    let inventory = InventoryArgs::with_defaults(vec![a.to.clone()], a.today);
    let checked = super::check(&inventory)?;
    if checked.errors() > 0 {
        let message = format!(
            "{} errors in `{}`: fix it before renumbering",
            checked.errors(),
            a.to.display()
        );
        return crate::output::invalid_inventory(&checked, output, inventory.max_problems, message);
    }
    let province = renumber::province_code(&checked.loaded.inventory).ok_or_else(|| {
        crate::exit::usage_error!(
            "the new inventory has no province Region, so its rows of the merge list cannot be chosen"
        )
    })?;
    let rows = renumber::rows_for_province(&rows, province);
    let options = renumber::Options {
        policy: match a.policy {
            RenumberPolicy::Largest => renumber::Policy::Largest,
            RenumberPolicy::First => renumber::Policy::First,
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
    if !a.write_ledger {
        return Ok(Verdict::Ok);
    }
    let seed = plan.seed_ledger(&old);
    write_seeded_ledger(&checked, seed, a, output)
}

/// Diagnostics that are not the command's result: on stdout in text, on stderr with `-o json`
/// (stdout holds the document).
fn print_notes(diagnostics: &[Diagnostic], output: Output) {
    for d in diagnostics {
        match output {
            Output::Text => println!("{d}\n"),
            Output::Json => eprintln!("{d}\n"),
        }
    }
}

/// The merge list's rows (its warnings printed), or the verdict when it has errors.
fn merge_list(
    path: &Path,
    output: Output,
) -> Result<std::result::Result<Vec<renumber::MergeRow>, Verdict>> {
    let text = std::fs::read_to_string(path).map_err(|e| crate::exit::input(path, e))?;
    let rows = match renumber::parse_map(path, &text) {
        Ok(rows) => rows,
        Err(problems) => {
            let stop = Stopped {
                stopped: Stop::InvalidMergeList,
                message: format!("{} errors in the merge list", problems.len()),
                diagnostics: &problems,
            };
            return Ok(Err(stop.print(output, &[], usize::MAX)?));
        }
    };
    print_notes(&renumber::lint_map(path, &rows), output);
    Ok(Ok(rows))
}

/// The ledger of the inventory before the change (`from`), or the verdict when it cannot be
/// parsed.
fn old_ledger(
    path: &Path,
    from: &Path,
    output: Output,
) -> Result<std::result::Result<Ledger, Verdict>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        crate::exit::input(path, e).context(format!(
            "the old ledger is needed; run `hatang plan {}` first",
            from.display()
        ))
    })?;
    match Ledger::parse(path, &text) {
        Ok(ledger) => Ok(Ok(ledger)),
        Err(d) => {
            let stop = Stopped {
                stopped: Stop::InvalidLedger,
                message: format!("`{}` cannot be read as a ledger", path.display()),
                diagnostics: std::slice::from_ref(&*d),
            };
            Ok(Err(stop.print(output, &[], usize::MAX)?))
        }
    }
}

/// Refuses to write a ledger: the reason on stderr (stdout holds the plan), exit code 1.
fn refuse_write(message: &str) -> Result<Verdict> {
    eprintln!("hatang: {message}");
    Ok(Verdict::Problems)
}

/// Allocates what the new inventory still lacks on top of `seed` and writes its ledger,
/// refusing (unless `--force`) to replace a ledger holding entries that would be lost.
fn write_seeded_ledger(
    checked: &hatang_core::Checked,
    seed: Ledger,
    a: &RenumberArgs,
    output: Output,
) -> Result<Verdict> {
    let today = super::today(a.today);
    let path: PathBuf = ledger_path(&a.to);
    let lock = LedgerLock::acquire(&path)?;
    // The ledger there now, if any: nothing it holds may be lost without --force.
    let existing = if path.exists() {
        match lock.read()? {
            Ok(ledger) => Some(ledger),
            Err(d) if a.force => {
                eprintln!("hatang: replacing an unreadable ledger (--force): {d}");
                None
            }
            Err(d) => {
                print_notes(std::slice::from_ref(&*d), output);
                return refuse_write(&format!(
                    "`{}` cannot be read as a ledger; fix it, or replace it with --force",
                    path.display()
                ));
            }
        }
    } else {
        None
    };
    let carried = seed.entries.len();
    let allocation = match hatang_core::ipam::allocate(
        &checked.loaded.inventory,
        seed,
        &checked.loaded.locator(),
        today,
    ) {
        Ok(a) => a,
        Err(problems) => {
            // The plan is printed already (as the one JSON document with `-o json`).
            print_notes(&problems, output);
            match output {
                Output::Text => println!("nothing was written"),
                Output::Json => eprintln!("hatang: nothing was written"),
            }
            return Ok(Verdict::Problems);
        }
    };
    if let Some(existing) = &existing {
        let lost = existing.lost_in(&allocation.ledger);
        if !lost.is_empty() && !a.force {
            const SHOWN: usize = 10;
            let mut named = lost[..lost.len().min(SHOWN)].join(", ");
            if lost.len() > SHOWN {
                named.push_str(&format!(" and {} more", lost.len() - SHOWN));
            }
            return refuse_write(&format!(
                "`{}` holds {} entries the seeded ledger would drop or change ({named}): \
allocations made since, or hold dates; nothing was written (use --force to replace it)",
                path.display(),
                lost.len()
            ));
        }
        if !lost.is_empty() {
            eprintln!(
                "hatang: replacing {} entries of `{}` (--force)",
                lost.len(),
                path.display()
            );
        }
    }
    lock.write(&allocation.ledger)?;
    let mut counts = BTreeMap::new();
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
    Ok(Verdict::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_takes_addresses_and_prefixes_and_refuses_the_rest_as_usage() {
        assert_eq!(
            query("3fff:ab::1").unwrap(),
            "3fff:ab::1/128".parse::<ipnet::IpNet>().unwrap()
        );
        assert_eq!(
            query("3fff:ab::1/48").unwrap(),
            "3fff:ab::/48".parse::<ipnet::IpNet>().unwrap()
        );
        let wrong = query("not-an-address").map(|_| Verdict::Ok);
        assert_eq!(crate::exit::code(&wrong), 2);
    }

    #[test]
    fn release_takes_held_keys_only() {
        let mut ledger = Ledger::default();
        let held = "site/commune-00079@3fff:ab:9::/48";
        let active = "loopback/edge-main";
        for (key, is_held) in [(held, true), (active, false)] {
            ledger.entries.insert(
                key.into(),
                Entry {
                    pool: "site-v6".into(),
                    value: "3fff:ab:9::/48".parse().unwrap(),
                    owner: "Site/x".into(),
                    pinned: false,
                    held: is_held.then(|| hatang_core::ipam::Hold {
                        since: "2026-11-23".parse().unwrap(),
                        release_after: "2027-02-21".parse().unwrap(),
                    }),
                },
            );
        }
        assert_eq!(
            keys_to_release(&ledger, &[], true).unwrap(),
            vec![held.to_owned()]
        );
        assert_eq!(
            keys_to_release(&ledger, &[held.to_owned()], true).unwrap(),
            vec![held.to_owned()],
            "named and all-held at once count once"
        );
        for wrong in [active, "asn/nobody"] {
            let r = keys_to_release(&ledger, &[wrong.to_owned()], false).map(|_| Verdict::Ok);
            assert_eq!(crate::exit::code(&r), 2, "{wrong}");
        }
    }
}
