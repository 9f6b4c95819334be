//! `hatang audit`: running configurations (over SSH, `hatang_driver::ssh`, or saved files)
//! against the rendered ones (`hatang_core::audit`), judged by the deviations each device's
//! inventory entry accepts. Thin: gathers targets and trust, runs, prints (`audit/report.rs`).

mod report;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;

use super::render::Desired;
use crate::args::{AuditArgs, Output};
use crate::exit::Verdict;
use hatang_core::audit::{Acceptance, Deviation, DeviationKind, diff, judge};
use hatang_core::model::{AcceptedDeviation, DeviceSpec, Platform};
use hatang_driver::platform;
use hatang_driver::ssh::{SshError, Target};

/// How a device came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Status {
    /// Running = desired.
    Clean,
    /// Running = desired apart from deviations the inventory accepts (and has not let expire).
    Accepted,
    /// Deviations nobody accepted, or whose acceptance expired.
    Drift,
    /// Could not be audited (unreachable, refused host key, login or command failure, no saved
    /// configuration).
    Failed,
    /// No adapter for its platform, or nothing rendered.
    Skipped,
}

/// An acceptance that matched nothing on its device, with what it says.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Unused {
    #[serde(flatten)]
    acceptance: Acceptance,
    kind: DeviationKind,
    block: Vec<String>,
    line: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DeviceAudit {
    device: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint: Option<String>,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<SshError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    /// Drift: deviations not accepted, and those whose acceptance expired (with it).
    deviations: Vec<Deviation>,
    /// Deviations accepted by the inventory, with owner, reason and expiry.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    accepted: Vec<Deviation>,
    /// Acceptances of this device that matched no deviation.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unused_acceptances: Vec<Unused>,
    #[serde(skip_serializing_if = "Option::is_none")]
    millis: Option<u64>,
}

impl DeviceAudit {
    fn new(device: &str, status: Status) -> Self {
        DeviceAudit {
            device: device.to_owned(),
            endpoint: None,
            status,
            error: None,
            note: None,
            deviations: vec![],
            accepted: vec![],
            unused_acceptances: vec![],
            millis: None,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    devices: usize,
    clean: usize,
    accepted: usize,
    drift: usize,
    failed: usize,
    skipped: usize,
    /// Drift deviations (expired acceptances included).
    deviations: usize,
    /// Deviations accepted by acceptances in force.
    accepted_deviations: usize,
    /// Drift deviations whose acceptance has expired.
    expired_acceptances: usize,
    /// Acceptances that matched nothing.
    unused_acceptances: usize,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    summary: Summary,
    devices: Vec<DeviceAudit>,
}

/// A device to audit: its name and inventory entry (management address, accepted deviations).
struct Candidate<'a> {
    name: &'a str,
    spec: &'a DeviceSpec,
}

/// A running configuration as fetched, or the audit of a device that could not be fetched.
type Fetched = (DeviceAudit, Option<String>);

pub(super) fn run(args: &AuditArgs) -> Result<Verdict> {
    let output = args.output.format;
    let desired = match super::render::desired(&args.inventory, args.templates.as_deref(), output)?
    {
        Ok(d) => d,
        Err(verdict) => return Ok(verdict),
    };
    let today = super::today(args.inventory.today);
    let inventory = &desired.planned.checked.loaded.inventory;
    let specs: BTreeMap<&str, &DeviceSpec> = inventory
        .devices
        .iter()
        .map(|d| (d.name(), &d.spec))
        .collect();
    let configs: BTreeMap<&str, &str> = desired
        .files
        .iter()
        .filter(|f| f.file == "frr.conf")
        .map(|f| (f.device.as_str(), f.text.as_str()))
        .collect();
    for d in &args.devices {
        if !specs.contains_key(d.as_str()) {
            return Err(crate::exit::usage_error!(
                "no device `{d}` in the inventory"
            ));
        }
    }

    let (candidates, mut results) = candidates(args, &desired, &specs, &configs);
    let fetched = match &args.saved {
        Some(dir) => from_saved(dir, &candidates),
        None => over_ssh(args, &candidates)?,
    };
    for (mut audit, running) in fetched {
        if let Some(running) = running {
            let device = audit.device.clone();
            let (desired, spec) = (configs[device.as_str()], specs[device.as_str()]);
            judge_device(&mut audit, desired, &running, spec, today);
        }
        results.insert(audit.device.clone(), audit);
    }

    let report = report(results.into_values().collect());
    match output {
        Output::Json => crate::output::print_json(&report)?,
        Output::Text => print!("{}", report::text(&report)),
    }
    if let Some(f) = &args.markdown {
        write(f, &report::markdown(&report))?;
    }
    if let Some(f) = &args.junit {
        write(f, &report::junit(&report))?;
    }
    Ok(Verdict::problems_if(
        report.summary.drift + report.summary.failed > 0,
    ))
}

/// One candidate per rendered FRR device (only `--device`s, when given); the others come back
/// as skipped audits.
fn candidates<'a>(
    args: &AuditArgs,
    desired: &'a Desired,
    specs: &BTreeMap<&str, &'a DeviceSpec>,
    configs: &BTreeMap<&str, &str>,
) -> (Vec<Candidate<'a>>, BTreeMap<String, DeviceAudit>) {
    let mut skipped: BTreeMap<String, DeviceAudit> = BTreeMap::new();
    let mut candidates = Vec::new();
    for model in &desired.models {
        let name = model.name.as_str();
        if !args.devices.is_empty() && !args.devices.iter().any(|d| d == name) {
            continue;
        }
        let mut skip = |note: String| {
            let mut a = DeviceAudit::new(name, Status::Skipped);
            a.note = Some(note);
            skipped.insert(name.to_owned(), a);
        };
        if platform::commands(model.platform, "").is_none() || model.platform != Platform::Frr {
            skip(format!(
                "no audit adapter for platform {:?}",
                model.platform
            ));
            continue;
        }
        if !configs.contains_key(name) {
            skip("nothing rendered".to_owned());
            continue;
        }
        candidates.push(Candidate {
            name,
            spec: specs[name],
        });
    }
    (candidates, skipped)
}

/// Compares a device's running configuration with the desired one and sorts the deviations by
/// the acceptances of its inventory entry.
fn judge_device(
    audit: &mut DeviceAudit,
    desired: &str,
    running: &str,
    spec: &DeviceSpec,
    today: chrono::NaiveDate,
) {
    let judged = judge(diff(desired, running), &spec.accepted_deviations, today);
    audit.deviations = judged.drift;
    audit.accepted = judged.accepted;
    audit.unused_acceptances = judged
        .unused
        .into_iter()
        .map(|a| unused(a, &spec.accepted_deviations))
        .collect();
    audit.status = match (audit.deviations.is_empty(), audit.accepted.is_empty()) {
        (false, _) => Status::Drift,
        (true, false) => Status::Accepted,
        (true, true) => Status::Clean,
    };
}

/// The report over every device's audit, with its summary.
fn report(devices: Vec<DeviceAudit>) -> Report {
    let count = |s: Status| devices.iter().filter(|d| d.status == s).count();
    Report {
        summary: Summary {
            devices: devices.len(),
            clean: count(Status::Clean),
            accepted: count(Status::Accepted),
            drift: count(Status::Drift),
            failed: count(Status::Failed),
            skipped: count(Status::Skipped),
            deviations: devices.iter().map(|d| d.deviations.len()).sum(),
            accepted_deviations: devices.iter().map(|d| d.accepted.len()).sum(),
            expired_acceptances: devices
                .iter()
                .flat_map(|d| &d.deviations)
                .filter(|x| x.acceptance.is_some())
                .count(),
            unused_acceptances: devices.iter().map(|d| d.unused_acceptances.len()).sum(),
        },
        devices,
    }
}

fn unused(acceptance: Acceptance, entries: &[AcceptedDeviation]) -> Unused {
    let entry = &entries[acceptance.index];
    Unused {
        kind: entry.kind,
        block: entry.block.clone(),
        line: entry.line.clone(),
        acceptance,
    }
}

/// Running configurations saved as `dir/<device>.conf`.
fn from_saved(dir: &Path, candidates: &[Candidate<'_>]) -> Vec<Fetched> {
    candidates
        .iter()
        .map(|c| {
            let path = dir.join(format!("{}.conf", c.name));
            let mut audit = DeviceAudit::new(c.name, Status::Failed);
            audit.endpoint = Some(path.display().to_string());
            let start = Instant::now();
            match std::fs::read(&path) {
                Ok(bytes) => {
                    audit.millis = Some(start.elapsed().as_millis() as u64);
                    (audit, Some(String::from_utf8_lossy(&bytes).into_owned()))
                }
                Err(e) => {
                    audit.note = Some(format!(
                        "no saved configuration: cannot read `{}`: {e}",
                        path.display()
                    ));
                    (audit, None)
                }
            }
        })
        .collect()
}

/// Running configurations fetched over SSH (`show running-config`), with the trust and login
/// the arguments and the lab overlay give.
fn over_ssh(args: &AuditArgs, candidates: &[Candidate<'_>]) -> Result<Vec<Fetched>> {
    let overlay = super::fleet::overlay(&args.ssh)?;
    let mut out = Vec::new();
    let mut targets = Vec::new();
    for c in candidates {
        match hatang_driver::fleet::endpoint(c.name, Platform::Frr, Some(c.spec), overlay.as_ref())
        {
            Ok(e) => targets.push(e),
            Err(why) => {
                let mut a = DeviceAudit::new(c.name, Status::Failed);
                a.note = Some(why.to_string());
                out.push((a, None));
            }
        }
    }

    // Login and trust as for apply: a pinned key is the only one trusted for its device.
    let options = super::fleet::ssh_options(&args.ssh, overlay.as_ref(), &targets)?;
    let targets: Vec<Target> = targets.into_iter().map(|e| e.target).collect();
    let runtime = super::fleet::runtime()?;
    let fetched = runtime.block_on(hatang_driver::running::fetch(
        targets,
        options,
        args.ssh.concurrency,
    ));

    let mut new_keys = Vec::new();
    for r in fetched {
        let mut audit = DeviceAudit::new(&r.device, Status::Failed);
        audit.endpoint = Some(r.endpoint.clone());
        audit.millis = Some(r.millis);
        if let Some(k) = &r.new_host_key {
            new_keys.push(format!("{} {k}", r.endpoint));
            audit.note = Some(format!("new host key accepted: {k}"));
        }
        let running = match r.outcome {
            Err(e) => {
                audit.error = Some(e);
                None
            }
            Ok(text) => Some(text),
        };
        out.push((audit, running));
    }
    if !new_keys.is_empty()
        && let Some(f) = &args.ssh.known_hosts
    {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(f)
            .with_context(|| format!("cannot append to `{}`", f.display()))?;
        for line in &new_keys {
            writeln!(file, "{line}")?;
        }
    }
    Ok(out)
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write `{}`", path.display()))
}
