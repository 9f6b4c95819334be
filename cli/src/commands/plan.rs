//! `hatang plan`: what allocations the inventory needs, written to the ledger after showing them,
//! and how the rendered configurations differ from the last apply or the devices
//! (`plan_configs`).

use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use crate::args::{Output, PlanArgs};
use crate::ledger_file::ledger_path;
use crate::output::print_diagnostics;
use hatang_core::ipam::ChangeKind;

pub fn run(args: &PlanArgs, output: Output) -> Result<ExitCode> {
    let planned = match super::planned(&args.inventory)? {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let super::Planned {
        checked,
        allocation,
        lock,
    } = planned;
    let changed = !allocation.changes.is_empty();
    let path = ledger_path(&args.inventory.paths[0]);
    let mut counts = std::collections::BTreeMap::new();
    for c in &allocation.changes {
        *counts.entry(c.kind).or_insert(0usize) += 1;
    }
    let written = changed && !args.dry_run && !args.locked;
    let configs =
        super::plan_configs::compare(args, &checked.loaded.inventory, &allocation.ledger)?;
    match output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "ledger": path.display().to_string(),
                "changed": changed,
                "written": written,
                "kept": allocation.kept,
                "changes": allocation.changes,
                "warnings": checked.diagnostics,
                "configs": configs,
            }))?
        ),
        Output::Text => {
            print_diagnostics(&checked, args.inventory.max_problems);
            for c in allocation.changes.iter().take(args.max_changes) {
                let sign = match c.kind {
                    ChangeKind::Added => "+",
                    ChangeKind::Held | ChangeKind::Released => "-",
                    _ => "~",
                };
                let old = c
                    .old
                    .as_ref()
                    .map(|o| format!(" (was {o})"))
                    .unwrap_or_default();
                println!(
                    "{sign} {:<12} {:<44} {:<26} {}{old}",
                    format!("{:?}", c.kind).to_lowercase(),
                    c.key,
                    c.value,
                    c.owner
                );
            }
            if allocation.changes.len() > args.max_changes {
                println!(
                    "… and {} more changes (--max-changes, or --output json)",
                    allocation.changes.len() - args.max_changes
                );
            }
            let summary: Vec<String> = counts
                .iter()
                .map(|(k, v)| format!("{v} {}", format!("{k:?}").to_lowercase()))
                .collect();
            println!(
                "{}: {} kept{}{}",
                path.display(),
                allocation.kept,
                if summary.is_empty() {
                    String::new()
                } else {
                    format!(", {}", summary.join(", "))
                },
                if !changed {
                    " — up to date".to_owned()
                } else if written {
                    " — ledger written".to_owned()
                } else if args.locked {
                    " — NOT written (--locked)".to_owned()
                } else {
                    " — not written (--dry-run)".to_owned()
                }
            );
            if let Some(configs) = &configs {
                super::plan_configs::print(configs);
            }
        }
    }
    if configs
        .as_ref()
        .is_some_and(|c| c.iter().any(|c| c.status == "failed"))
    {
        if written {
            lock.write(&allocation.ledger)?;
        }
        return Ok(ExitCode::from(1));
    }
    if changed && args.locked {
        eprintln!(
            "hatang: the ledger needs changes but --locked was given; run `hatang plan` and commit the ledger"
        );
        return Ok(ExitCode::from(1));
    }
    if written {
        lock.write(&allocation.ledger)?;
    }
    Ok(ExitCode::SUCCESS)
}
