//! `hatang apply`: the rendered configurations pushed as one transaction
//! (`hatang_driver::apply`, decided by `hatang_core::apply`), and `--recover` of a killed run.
//! Thin: gathers devices, trust and candidates, runs, prints.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::fleet::{self, Endpoint};
use crate::args::{ApplyArgs, InventoryArgs, Output, SshArgs};
use hatang_core::apply::{Journal, Outcome, expectations};
use hatang_driver::apply::store::{JOURNAL, RECORD, RunStore};
use hatang_driver::apply::{self, ApplyOptions, CommitHook, DevicePlan, Progress};

/// Fault injection for tests: abort the process (as a kill would) right after this many
/// devices are committed and journaled.
const FAIL_AFTER: &str = "HATANG_APPLY_FAIL_AFTER";

/// Where runs of `inventory` are recorded unless `--state-dir` says otherwise.
pub fn state_dir(inventory: &Path, given: Option<&Path>) -> PathBuf {
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

pub fn run(args: &ApplyArgs, output: Output) -> Result<ExitCode> {
    let options_for = |endpoints: &[Endpoint]| -> Result<ApplyOptions> {
        let overlay = fleet::overlay(&args.ssh)?;
        let ssh = fleet::ssh_options(&args.ssh, overlay.as_ref(), endpoints)?;
        Ok(ApplyOptions {
            ssh,
            concurrency: args.ssh.concurrency,
            verify_timeout: Duration::from_secs(args.verify_timeout),
            progress: progress(),
            after_commit: fail_after()?,
        })
    };
    if let Some(journal) = &args.recover {
        let store = Arc::new(RunStore::open(journal)?);
        let j = store.journal();
        // Exactly the endpoints and host keys the transaction used.
        let endpoints = hatang_driver::fleet::journal_endpoints(&j);
        let options = options_for(&endpoints)?;
        let targets = endpoints.into_iter().map(|e| e.target).collect();
        let done = fleet::runtime()?.block_on(apply::recover(store.clone(), targets, &options))?;
        return report(&done, store.dir(), output, true);
    }

    if args.paths.len() != 1 {
        bail!("apply takes one inventory directory");
    }
    let inventory_args = InventoryArgs {
        paths: args.paths.clone(),
        today: args.today,
        max_file_size: 32 * 1024 * 1024,
        max_problems: 200,
    };
    let desired = match super::render::desired(&inventory_args, args.templates.as_deref())? {
        Ok(d) => d,
        Err(code) => return Ok(code),
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
        bail!("no device to apply to");
    }
    let expect = expectations(&desired.models);
    let mut plans = Vec::new();
    for e in &endpoints {
        let name = e.target.device.as_str();
        let candidate = desired
            .files
            .iter()
            .find(|f| f.device == name && f.file == "frr.conf")
            .with_context(|| format!("nothing rendered for `{name}`"))?;
        plans.push(DevicePlan {
            target: e.target.clone(),
            candidate: candidate.text.clone(),
            expect: expect
                .get(name)
                .cloned()
                .unwrap_or(hatang_core::apply::Expectation {
                    sessions: vec![],
                    routes: vec![],
                }),
        });
    }
    let options = options_for(&endpoints)?;

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

fn fail_after() -> Result<Option<CommitHook>> {
    let Ok(v) = std::env::var(FAIL_AFTER) else {
        return Ok(None);
    };
    let n: usize = v
        .parse()
        .with_context(|| format!("{FAIL_AFTER}={v}: not a number of devices"))?;
    Ok(Some(Arc::new(move |committed| {
        if committed >= n {
            eprintln!("hatang: aborting after {committed} committed devices ({FAIL_AFTER})");
            std::process::abort();
        }
    })))
}

/// Prints the finished journal. Exit 0 when the fleet is consistent as intended: committed or
/// checked; for `--recover` also rolled back or closed (recovery did its job).
fn report(journal: &Journal, dir: &Path, output: Output, recovering: bool) -> Result<ExitCode> {
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(journal)?),
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
        Some(Outcome::Committed | Outcome::Checked) => ExitCode::SUCCESS,
        Some(Outcome::RolledBack | Outcome::Aborted) if recovering => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
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
