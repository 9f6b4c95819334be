//! `hatang plan`: what allocations the inventory needs, written to the ledger after showing them,
//! and how the rendered configurations differ from the last apply or the devices
//! (`plan_configs`).

use anyhow::Result;
use serde::Serialize;

use super::plan_configs::{ConfigChange, ConfigStatus};
use crate::args::{Output, PlanArgs};
use crate::exit::Verdict;
use crate::ledger_file::ledger_path;
use crate::output::{Stop, Stopped, print_diagnostics, print_json};
use hatang_core::Diagnostic;
use hatang_core::ipam::{Change, ChangeKind};

/// `hatang plan -o json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PlanReport<'a> {
    /// The ledger file.
    ledger: String,
    /// Whether the ledger needs changes.
    changed: bool,
    /// Whether they were written.
    written: bool,
    /// Entries kept as they were.
    kept: usize,
    changes: &'a [Change],
    /// The inventory's warnings.
    warnings: &'a [Diagnostic],
    /// Configuration comparisons; null when there was nothing to compare with.
    configs: Option<&'a [ConfigChange]>,
}

pub(super) fn run(args: &PlanArgs) -> Result<Verdict> {
    let output = args.output.format;
    let planned = match super::planned(&args.inventory, output)? {
        Ok(p) => p,
        Err(verdict) => return Ok(verdict),
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
        match super::plan_configs::compare(args, &checked.loaded.inventory, &allocation.ledger)? {
            Ok(configs) => configs,
            Err(problems) => {
                let stop = Stopped {
                    stopped: Stop::CompileFailed,
                    message: format!(
                        "{} problems compiling device configurations: nothing was written",
                        problems.len()
                    ),
                    diagnostics: &problems,
                };
                return stop.print(output, &checked.loaded.sources, args.inventory.max_problems);
            }
        };
    match output {
        Output::Json => print_json(&PlanReport {
            ledger: path.display().to_string(),
            changed,
            written,
            kept: allocation.kept,
            changes: &allocation.changes,
            warnings: &checked.diagnostics,
            configs: configs.as_deref(),
        })?,
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
    if written {
        lock.write(&allocation.ledger)?;
    }
    if configs
        .as_ref()
        .is_some_and(|c| c.iter().any(|c| c.status == ConfigStatus::Failed))
    {
        return Ok(Verdict::Problems);
    }
    if changed && args.locked {
        eprintln!(
            "hatang: the ledger needs changes but --locked was given; run `hatang plan` and commit the ledger"
        );
        return Ok(Verdict::Problems);
    }
    Ok(Verdict::Ok)
}
