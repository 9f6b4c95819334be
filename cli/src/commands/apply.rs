//! `hatang apply`: the rendered configurations pushed as one transaction
//! (`hatang_driver::apply`, decided by `hatang_core::apply`), and `--recover` of a killed run.
//! Thin: gathers devices, trust and candidates, runs, prints.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};

use super::fleet::{self, Endpoint};
use super::render::Desired;
use crate::args::{ApplyArgs, InventoryArgs, Output, SshArgs};
use crate::exit::{Verdict, usage};
use hatang_core::apply::{Expectation, Journal, Outcome, expectations};
use hatang_driver::apply::store::{JOURNAL, RECORD, RunStore};
use hatang_driver::apply::{self, ApplyError, ApplyOptions, CommitHook, DevicePlan, Progress};

/// Where runs of `inventory` are recorded unless `--state-dir` says otherwise.
pub(super) fn state_dir(inventory: &Path, given: Option<&Path>) -> PathBuf {
    given
        .map(Path::to_owned)
        .unwrap_or_else(|| inventory.join(".hatang").join("applies"))
}

/// Who runs the command, for the audit record: the person behind sudo, else the user.
fn who() -> String {
    std::env::var("SUDO_USER")
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

pub(super) fn run(args: &ApplyArgs) -> Result<Verdict> {
    match &args.recover {
        Some(journal) => recover(args, journal),
        None => transaction(args),
    }
}

/// How the transaction reaches `endpoints` and reports progress.
fn options(args: &ApplyArgs, endpoints: &[Endpoint]) -> Result<ApplyOptions> {
    let overlay = fleet::overlay(&args.ssh)?;
    let ssh = fleet::ssh_options(&args.ssh, overlay.as_ref(), endpoints)?;
    Ok(ApplyOptions {
        ssh,
        concurrency: args.ssh.concurrency,
        verify_timeout: Duration::from_secs(args.verify_timeout),
        progress: progress(),
        after_commit: fault_injection::fail_after()?,
    })
}

/// `hatang apply --recover JOURNAL`: completes the transaction of a killed run. A journal that
/// is missing or unreadable is a usage error (the wrong file was named).
fn recover(args: &ApplyArgs, journal: &Path) -> Result<Verdict> {
    let store = RunStore::open(journal).map_err(|e| match &e {
        ApplyError::Io { source, .. } if crate::exit::names_nothing(source) => usage(e),
        ApplyError::BadJournal { .. } => usage(e),
        _ => e.into(),
    })?;
    let store = Arc::new(store);
    let j = store.journal();
    // Exactly the endpoints and host keys the transaction used.
    let endpoints = hatang_driver::fleet::journal_endpoints(&j);
    let options = options(args, &endpoints)?;
    let targets = endpoints.into_iter().map(|e| e.target).collect();
    let done = fleet::runtime()?.block_on(apply::recover(store.clone(), targets, &options))?;
    report(&done, store.dir(), args.output.format, true)
}

/// `hatang apply PATH`: one transaction over the inventory's devices.
fn transaction(args: &ApplyArgs) -> Result<Verdict> {
    let output = args.output.format;
    if args.paths.len() != 1 {
        return Err(crate::exit::usage_error!(
            "apply takes one inventory directory"
        ));
    }
    let inventory_args = InventoryArgs::with_defaults(args.paths.clone(), args.today);
    let desired = match super::render::desired(&inventory_args, args.templates.as_deref(), output)?
    {
        Ok(d) => d,
        Err(verdict) => return Ok(verdict),
    };
    let overlay = fleet::overlay(&args.ssh)?;
    let (endpoints, skipped) = fleet::endpoints(
        &desired.models,
        &desired.planned.checked.loaded.inventory,
        overlay.as_ref(),
        &args.devices,
    )?;
    for (device, why) in &skipped {
        eprintln!("hatang: {device}: skipped: {why}");
    }
    if endpoints.is_empty() {
        return Err(crate::exit::usage_error!("no device to apply to"));
    }
    let plans = device_plans(&desired, &endpoints)?;
    let options = options(args, &endpoints)?;

    let now = chrono::Utc::now();
    let id = format!(
        "{}-{}",
        now.format("%Y%m%dT%H%M%S%.3fZ"),
        std::process::id()
    );
    let inventory = &args.paths[0];
    let dir = state_dir(inventory, args.state_dir.as_deref()).join(&id);
    let journal = Journal::new(
        &id,
        &who(),
        &inventory.display().to_string(),
        &now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        args.dry_run,
        endpoints.iter().map(Endpoint::journal_entry).collect(),
    );
    let store = Arc::new(RunStore::create(&dir, journal)?);
    eprintln!(
        "hatang: apply {id}: {} devices; journal {}",
        plans.len(),
        dir.join(JOURNAL).display()
    );
    let done = fleet::runtime()?.block_on(apply::run(store.clone(), plans, &options))?;
    record_new_keys(&args.ssh, &endpoints, &done)?;
    report(&done, store.dir(), output, false)
}

/// What each endpoint is given: its rendered FRR configuration and what must hold after.
fn device_plans(desired: &Desired, endpoints: &[Endpoint]) -> Result<Vec<DevicePlan>> {
    let expect = expectations(&desired.models);
    endpoints
        .iter()
        .map(|e| {
            let name = e.target.device.as_str();
            let candidate = desired
                .files
                .iter()
                .find(|f| f.device == name && f.file == "frr.conf")
                .with_context(|| format!("nothing rendered for `{name}`"))?;
            Ok(DevicePlan {
                target: e.target.clone(),
                candidate: candidate.text.clone(),
                expect: expect.get(name).cloned().unwrap_or(Expectation {
                    sessions: vec![],
                    routes: vec![],
                }),
            })
        })
        .collect()
}

/// Appends the host keys accepted as new (`--accept-new`) to `--known-hosts`, as `hatang audit`
/// does, so the next run knows them.
fn record_new_keys(ssh: &SshArgs, endpoints: &[Endpoint], done: &Journal) -> Result<()> {
    let Some(file) = &ssh.known_hosts else {
        return Ok(());
    };
    let mut lines = String::new();
    for e in endpoints.iter().filter(|e| e.pin.is_none()) {
        if let Some(key) = done
            .device(&e.target.device)
            .and_then(|d| d.host_key.as_ref())
        {
            lines.push_str(&format!("{} {key}\n", e.target.known_hosts_name()));
        }
    }
    if lines.is_empty() {
        return Ok(());
    }
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .and_then(|mut f| f.write_all(lines.as_bytes()))
        .with_context(|| format!("cannot append to `{}`", file.display()))
}

/// Aborting a transaction on purpose, as a kill would, to test recovery: compiled only with the
/// `fault-injection` feature (`scripts/test.sh` builds the tests so), never into a release.
mod fault_injection {
    use anyhow::Result;

    use super::CommitHook;

    /// Abort the process right after this many devices are committed and journaled.
    #[cfg(feature = "fault-injection")]
    const FAIL_AFTER: &str = "HATANG_APPLY_FAIL_AFTER";

    /// The hook `HATANG_APPLY_FAIL_AFTER=N` asks for.
    #[cfg(feature = "fault-injection")]
    pub(super) fn fail_after() -> Result<Option<CommitHook>> {
        use anyhow::Context;
        let Ok(v) = std::env::var(FAIL_AFTER) else {
            return Ok(None);
        };
        let n: usize = v
            .parse()
            .with_context(|| format!("{FAIL_AFTER}={v}: not a number of devices"))
            .map_err(crate::exit::usage)?;
        Ok(Some(std::sync::Arc::new(move |committed| {
            if committed >= n {
                eprintln!("hatang: aborting after {committed} committed devices ({FAIL_AFTER})");
                std::process::abort();
            }
        })))
    }

    /// No hook: this build cannot inject faults.
    #[cfg(not(feature = "fault-injection"))]
    pub(super) fn fail_after() -> Result<Option<CommitHook>> {
        Ok(None)
    }
}

/// Prints the finished journal. Exit 0 when the fleet is consistent as intended: committed or
/// checked; for `--recover` also rolled back or closed (recovery did its job).
fn report(journal: &Journal, dir: &Path, output: Output, recovering: bool) -> Result<Verdict> {
    match output {
        Output::Json => crate::output::print_json(journal)?,
        Output::Text => {
            let width = journal
                .devices
                .iter()
                .map(|d| d.name.len())
                .max()
                .unwrap_or(0);
            // The names of the JSON output (`rolled-back`), not Rust's.
            let name = |v: serde_json::Value| v.as_str().unwrap_or_default().to_owned();
            for d in &journal.devices {
                let step = name(serde_json::to_value(d.step)?);
                match &d.error {
                    Some(e) => println!("{:width$}  {step}: {e}", d.name),
                    None => println!("{:width$}  {step}", d.name),
                }
            }
            let outcome = match journal.outcome {
                Some(o) => name(serde_json::to_value(o)?),
                None => "unfinished".into(),
            };
            println!(
                "apply {}: {outcome}{}",
                journal.id,
                journal
                    .reason
                    .as_deref()
                    .map(|r| format!(" — {r}"))
                    .unwrap_or_default()
            );
            println!(
                "journal {}; record {}",
                dir.join(JOURNAL).display(),
                dir.join(RECORD).display()
            );
        }
    }
    Ok(match journal.outcome {
        Some(Outcome::Committed | Outcome::Checked) => Verdict::Ok,
        Some(Outcome::RolledBack | Outcome::Aborted) if recovering => Verdict::Ok,
        _ => Verdict::Problems,
    })
}

/// A bar on a terminal, one line per device and step otherwise.
fn progress() -> Arc<dyn Progress> {
    if std::io::stderr().is_terminal() {
        Arc::new(Bar(Mutex::new(None)))
    } else {
        Arc::new(Lines)
    }
}

struct Lines;

impl Progress for Lines {
    fn step(&self, step: &str, devices: usize) {
        eprintln!("{step}: {devices} devices");
    }
    fn device(&self, device: &str, result: Result<(), &str>) {
        match result {
            Ok(()) => eprintln!("  {device}: ok"),
            Err(e) => eprintln!("  {device}: FAILED: {e}"),
        }
    }
    fn note(&self, message: &str) {
        eprintln!("{message}");
    }
}

struct Bar(Mutex<Option<indicatif::ProgressBar>>);

impl Progress for Bar {
    fn step(&self, step: &str, devices: usize) {
        let bar = indicatif::ProgressBar::new(devices as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(step.to_owned());
        if let Some(old) = self.0.lock().expect("bar").replace(bar) {
            old.finish();
        }
    }
    fn device(&self, device: &str, result: Result<(), &str>) {
        if let Some(bar) = &*self.0.lock().expect("bar") {
            match result {
                Ok(()) => bar.set_message(device.to_owned()),
                Err(e) => bar.println(format!("{device}: FAILED: {e}")),
            }
            bar.inc(1);
        }
    }
    fn note(&self, message: &str) {
        match &*self.0.lock().expect("bar") {
            Some(bar) => bar.println(message),
            None => eprintln!("{message}"),
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some(bar) = self.0.lock().expect("bar").take() {
            bar.finish();
        }
    }
}
