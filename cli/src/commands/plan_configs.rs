//! The configuration half of `hatang plan`: each device's rendered configuration against what
//! it was last given by a successful `hatang apply`, or against what it runs (`--against live`).

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;

use super::fleet;
use crate::args::{Against, PlanArgs};
use hatang_core::Diagnostic;
use hatang_core::apply::{canonical, unified_diff};
use hatang_core::compile::compile;
use hatang_core::ipam::Ledger;
use hatang_core::render::render;
use hatang_driver::apply::store::last_applied;
use hatang_driver::ssh::SshError;

/// How a device's rendered configuration compares (in the order summaries count them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum ConfigStatus {
    /// It differs from what it is compared with.
    Changed,
    /// The running configuration could not be fetched.
    Failed,
    /// No committed apply included the device.
    NeverApplied,
    /// It is the same.
    Unchanged,
}

impl ConfigStatus {
    /// The name `-o json` gives it.
    fn as_str(self) -> &'static str {
        match self {
            ConfigStatus::Changed => "changed",
            ConfigStatus::Unchanged => "unchanged",
            ConfigStatus::NeverApplied => "never-applied",
            ConfigStatus::Failed => "failed",
        }
    }

    fn of(diff: &str) -> ConfigStatus {
        if diff.is_empty() {
            ConfigStatus::Unchanged
        } else {
            ConfigStatus::Changed
        }
    }
}

/// One device's comparison.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ConfigChange {
    pub device: String,
    pub status: ConfigStatus,
    /// What it was compared with: an apply id, or `live`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub against: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub diff: String,
    /// Why the running configuration could not be fetched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<SshError>,
}

/// What [`compare`] gives: the comparisons (`None` when there is nothing to compare with), or
/// the problems that keep the inventory from compiling.
pub(super) type Comparison = std::result::Result<Option<Vec<ConfigChange>>, Vec<Diagnostic>>;

/// Compares the rendered configurations with the last apply or the devices; `None` when there
/// is nothing to compare with (no apply recorded and not `--against live`), so inventories that
/// are never applied pay nothing for it.
pub(super) fn compare(
    args: &PlanArgs,
    inventory: &hatang_core::Inventory,
    ledger: &Ledger,
) -> Result<Comparison> {
    let state = super::apply::state_dir(&args.inventory.paths[0], args.state_dir.as_deref());
    if args.against == Against::LastApplied && !state.is_dir() {
        return Ok(Ok(None));
    }
    let models = match compile(inventory, ledger) {
        Ok(m) => m,
        Err(problems) => return Ok(Err(problems)),
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
                        status: ConfigStatus::NeverApplied,
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
                            status: ConfigStatus::of(&diff),
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
                        status: ConfigStatus::Failed,
                        against: Some("live".into()),
                        diff: String::new(),
                        error: Some(e),
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
                            status: ConfigStatus::of(&diff),
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
    Ok(Ok(Some(out)))
}

/// The comparison for people: diffs of changed devices, a line per other device, a summary.
pub(super) fn print(changes: &[ConfigChange]) {
    let mut counts: BTreeMap<ConfigStatus, usize> = BTreeMap::new();
    for c in changes {
        *counts.entry(c.status).or_default() += 1;
        match (c.status, &c.error) {
            (ConfigStatus::Changed, _) => print!("{}", c.diff),
            (ConfigStatus::Failed, Some(e)) => {
                println!("{}: cannot fetch the running configuration: {e}", c.device)
            }
            (ConfigStatus::Failed, None) => {
                println!("{}: cannot fetch the running configuration", c.device)
            }
            (ConfigStatus::NeverApplied, _) => println!("{}: never applied", c.device),
            (ConfigStatus::Unchanged, _) => {}
        }
    }
    let summary: Vec<String> = counts
        .iter()
        .map(|(k, v)| format!("{v} {}", k.as_str()))
        .collect();
    println!("configurations: {}", summary.join(", "));
}
