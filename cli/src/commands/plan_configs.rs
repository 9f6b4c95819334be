//! The configuration half of `hatang plan`: each device's rendered configuration against what
//! it was last given by a successful `hatang apply`, or against what it runs (`--against live`).

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;

use super::fleet;
use crate::args::{Against, PlanArgs};
use hatang_core::apply::{canonical, unified_diff};
use hatang_core::compile::compile;
use hatang_core::ipam::Ledger;
use hatang_core::render::render;
use hatang_driver::apply::store::last_applied;

/// One device's comparison.
#[derive(Debug, Serialize)]
pub struct ConfigChange {
    pub device: String,
    /// `changed`, `unchanged`, `never-applied` or `failed`.
    pub status: &'static str,
    /// What it was compared with: an apply id, or `live`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub against: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub diff: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Compares the rendered configurations with the last apply or the devices; `None` when there
/// is nothing to compare with (no apply recorded and not `--against live`), so inventories that
/// are never applied pay nothing for it.
pub fn compare(
    args: &PlanArgs,
    inventory: &hatang_core::Inventory,
    ledger: &Ledger,
) -> Result<Option<Vec<ConfigChange>>> {
    let state = super::apply::state_dir(&args.inventory.paths[0], args.state_dir.as_deref());
    if args.against == Against::LastApplied && !state.is_dir() {
        return Ok(None);
    }
    let models = match compile(inventory, ledger) {
        Ok(m) => m,
        Err(problems) => {
            anyhow::bail!(
                "cannot compile device configurations: {}",
                problems
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        }
    };
    let templates = super::render::templates(args.templates.as_deref())?;
    let (files, _) = render(&models, &templates)?;
    let rendered: BTreeMap<&str, &str> = files
        .iter()
        .filter(|f| f.file == "frr.conf")
        .map(|f| (f.device.as_str(), f.text.as_str()))
        .collect();
    let mut out = Vec::new();
    match args.against {
        Against::LastApplied => {
            let last = last_applied(&state);
            for (device, text) in &rendered {
                out.push(match last.get(*device) {
                    None => ConfigChange {
                        device: (*device).to_owned(),
                        status: "never-applied",
                        against: None,
                        diff: String::new(),
                        error: None,
                    },
                    Some((id, applied)) => {
                        let diff = unified_diff(
                            applied,
                            text,
                            &format!("{device} (apply {id})"),
                            &format!("{device} (rendered)"),
                        );
                        ConfigChange {
                            device: (*device).to_owned(),
                            status: if diff.is_empty() {
                                "unchanged"
                            } else {
                                "changed"
                            },
                            against: Some(id.clone()),
                            diff,
                            error: None,
                        }
                    }
                });
            }
        }
        Against::Live => {
            let overlay = fleet::overlay(&args.ssh)?;
            let (endpoints, _) = fleet::endpoints(&models, inventory, overlay.as_ref(), &[])?;
            let options = fleet::ssh_options(&args.ssh, overlay.as_ref(), &endpoints)?;
            let targets = endpoints.into_iter().map(|e| e.target).collect();
            let running = hatang_driver::running::by_device(fleet::runtime()?.block_on(
                hatang_driver::running::fetch(targets, options, args.ssh.concurrency),
            ));
            for (device, fetched) in running {
                let Some(text) = rendered.get(device.as_str()) else {
                    continue;
                };
                out.push(match fetched {
                    Err(e) => ConfigChange {
                        device,
                        status: "failed",
                        against: Some("live".into()),
                        diff: String::new(),
                        error: Some(e.to_string()),
                    },
                    Ok(running) => {
                        // Order-insensitive: a device prints blocks in its own order.
                        let diff = unified_diff(
                            &canonical(&running),
                            &canonical(text),
                            &format!("{device} (running)"),
                            &format!("{device} (rendered)"),
                        );
                        ConfigChange {
                            status: if diff.is_empty() {
                                "unchanged"
                            } else {
                                "changed"
                            },
                            device,
                            against: Some("live".into()),
                            diff,
                            error: None,
                        }
                    }
                });
            }
        }
    }
    Ok(Some(out))
}

/// The comparison for people: diffs of changed devices, a line per other device, a summary.
pub fn print(changes: &[ConfigChange]) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for c in changes {
        *counts.entry(c.status).or_default() += 1;
        match c.status {
            "changed" => print!("{}", c.diff),
            "failed" => println!(
                "{}: cannot fetch the running configuration: {}",
                c.device,
                c.error.as_deref().unwrap_or("")
            ),
            "never-applied" => println!("{}: never applied", c.device),
            _ => {}
        }
    }
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    println!("configurations: {}", summary.join(", "));
}
