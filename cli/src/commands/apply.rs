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
use hatang_core::apply::{Expectation, Journal, Outcome, Owed, OwedWork, expectations};
use hatang_driver::apply::store::{self, JOURNAL, RECORD, RunStore};
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
        after_commit: fault_injection::after_commit()?,
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
    let done = owed_or(
        fleet::runtime()?.block_on(apply::recover(store.clone(), targets, &options)),
        &store,
    )?;
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

    let inventory = &args.paths[0];
    let state = state_dir(inventory, args.state_dir.as_deref());
    if !args.dry_run {
        let unfinished = unfinished_over(&state, &endpoints, &args.ssh);
        if !unfinished.is_empty() {
            return refuse_over_unfinished(&unfinished, output);
        }
    }

    let now = chrono::Utc::now();
    let id = format!(
        "{}-{}",
        now.format("%Y%m%dT%H%M%S%.3fZ"),
        std::process::id()
    );
    let dir = state.join(&id);
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
    let done = owed_or(
        fleet::runtime()?.block_on(apply::run(store.clone(), plans, &options)),
        &store,
    )?;
    record_new_keys(&args.ssh, &endpoints, &done)?;
    report(&done, store.dir(), output, false)
}

/// The journal a run ended with; when saving failed on some devices, the journal as it stands
/// (in `save`, owing them their save), to be reported like any unfinished transaction.
fn owed_or(result: std::result::Result<Journal, ApplyError>, store: &RunStore) -> Result<Journal> {
    match result {
        Ok(done) => Ok(done),
        Err(ApplyError::SaveFailed(_)) => Ok(store.journal()),
        Err(e) => Err(e.into()),
    }
}

/// An earlier transaction that still owes some of the devices about to be applied to.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Unfinished {
    /// Its journal.
    journal: PathBuf,
    /// Its id.
    id: String,
    /// What it owes, to which of these devices.
    owed: Vec<Owed>,
    /// The command that finishes it.
    recover: String,
}

/// Earlier transactions under `state` that owe a rollback or a save to any of `endpoints`: a
/// new transaction over them would back up and build on a half-applied fleet. Journals that
/// cannot be read are named on stderr (they are not transactions this build knows).
fn unfinished_over(state: &Path, endpoints: &[Endpoint], ssh: &SshArgs) -> Vec<Unfinished> {
    let journals = store::journals(state);
    for (path, e) in journals.unreadable {
        eprintln!("hatang: warning: {} is not read: {e}", path.display());
    }
    journals
        .read
        .into_iter()
        .filter_map(|(path, journal)| {
            let owed = journal.owed_to(endpoints.iter().map(|e| e.target.device.as_str()));
            (!owed.is_empty()).then(|| Unfinished {
                recover: recover_command(&path, ssh),
                journal: path,
                id: journal.id,
                owed,
            })
        })
        .collect()
}

/// The `--recover` command line for `journal`, with the login options of this run.
fn recover_command(journal: &Path, ssh: &SshArgs) -> String {
    let mut command = format!("hatang apply --recover {}", journal.display());
    for (flag, value) in [
        ("--lab-state", &ssh.lab_state),
        ("-i", &ssh.identity),
        ("--known-hosts", &ssh.known_hosts),
    ] {
        if let Some(v) = value {
            command.push_str(&format!(" {flag} {}", v.display()));
        }
    }
    if ssh.agent {
        command.push_str(" --agent");
    }
    if let Some(user) = &ssh.user {
        command.push_str(&format!(" --user {user}"));
    }
    command
}

/// Refuses to start a transaction while earlier ones owe its devices work: names each journal,
/// what it owes to which device, and the command that finishes it. Exit code 1.
fn refuse_over_unfinished(listed: &[Unfinished], output: Output) -> Result<Verdict> {
    if output == Output::Json {
        crate::output::print_json(&serde_json::json!({ "refused": true, "unfinished": listed }))?;
    }
    for u in listed {
        eprintln!(
            "hatang: apply refused: transaction {} ({}) has not finished:",
            u.id,
            u.journal.display()
        );
        print_owed(&u.owed);
        eprintln!("  finish it first: {}", u.recover);
    }
    Ok(Verdict::Problems)
}

/// One line per device still owed work, to stderr.
fn print_owed(owed: &[Owed]) {
    for o in owed {
        let work = match o.work {
            OwedWork::Rollback => "a rollback",
            OwedWork::Save => "a save",
        };
        match &o.error {
            Some(e) => eprintln!("  {} is still owed {work} (last error: {e})", o.device),
            None => eprintln!("  {} is still owed {work}", o.device),
        }
    }
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

/// Faults injected on purpose, to test recovery: compiled only with the `fault-injection`
/// feature (`scripts/test.sh` builds the tests so), never into a release.
///
/// - `HATANG_APPLY_FAIL_AFTER=N` aborts the process (as a kill would) once N devices are
///   committed and journaled;
/// - `HATANG_APPLY_RUN_AFTER=N:COMMAND` runs `sh -c COMMAND` once, right after the N-th commit,
///   with `HATANG_DEVICE` set to the device just committed (a test breaks that device's
///   management link with it, say).
mod fault_injection {
    use anyhow::Result;

    use super::CommitHook;

    /// Abort the process right after this many devices are committed and journaled.
    #[cfg(feature = "fault-injection")]
    const FAIL_AFTER: &str = "HATANG_APPLY_FAIL_AFTER";
    /// Run a command once right after this many devices are committed.
    #[cfg(feature = "fault-injection")]
    const RUN_AFTER: &str = "HATANG_APPLY_RUN_AFTER";

    /// The hooks the environment asks for, as one.
    #[cfg(feature = "fault-injection")]
    pub(super) fn after_commit() -> Result<Option<CommitHook>> {
        use anyhow::Context;
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        let number = |name: &str, v: &str| -> Result<usize> {
            v.parse()
                .with_context(|| format!("{name}={v}: not a number of devices"))
                .map_err(crate::exit::usage)
        };
        let abort_at = match std::env::var(FAIL_AFTER) {
            Ok(v) => Some(number(FAIL_AFTER, &v)?),
            Err(_) => None,
        };
        let run_at = match std::env::var(RUN_AFTER) {
            Ok(v) => {
                let (n, command) = v
                    .split_once(':')
                    .with_context(|| format!("{RUN_AFTER}={v}: expected N:COMMAND"))
                    .map_err(crate::exit::usage)?;
                Some((number(RUN_AFTER, n)?, command.to_owned()))
            }
            Err(_) => None,
        };
        if abort_at.is_none() && run_at.is_none() {
            return Ok(None);
        }
        let ran = AtomicBool::new(false);
        Ok(Some(Arc::new(move |committed: usize, device: &str| {
            if let Some((n, command)) = &run_at
                && committed >= *n
                && !ran.swap(true, Ordering::SeqCst)
            {
                let status = std::process::Command::new("sh")
                    .args(["-c", command])
                    .env("HATANG_DEVICE", device)
                    .status();
                eprintln!("hatang: {RUN_AFTER} after {device} ({committed} committed): {status:?}");
            }
            if abort_at.is_some_and(|n| committed >= n) {
                eprintln!("hatang: aborting after {committed} committed devices ({FAIL_AFTER})");
                std::process::abort();
            }
        })))
    }

    /// No hook: this build cannot inject faults.
    #[cfg(not(feature = "fault-injection"))]
    pub(super) fn after_commit() -> Result<Option<CommitHook>> {
        Ok(None)
    }
}

/// Prints the finished journal. Exit 0 when the fleet is consistent as intended: committed or
/// checked; for `--recover` also rolled back or closed (recovery did its job).
fn report(journal: &Journal, dir: &Path, output: Output, recovering: bool) -> Result<Verdict> {
    let owed = journal.owed();
    match output {
        Output::Json => {
            /// The journal, and what it still owes (left out when it finished its work, so
            /// the output is then the journal on disk).
            #[derive(serde::Serialize)]
            struct Reported<'a> {
                #[serde(flatten)]
                journal: &'a Journal,
                #[serde(skip_serializing_if = "<[Owed]>::is_empty")]
                owed: &'a [Owed],
            }
            crate::output::print_json(&Reported {
                journal,
                owed: &owed,
            })?
        }
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
            if !owed.is_empty() {
                eprintln!("hatang: this transaction is not finished:");
                print_owed(&owed);
                eprintln!(
                    "  once the devices are reachable: hatang apply --recover {} (with the login options)",
                    dir.join(JOURNAL).display()
                );
            }
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
