//! `hatang apply` on devices: the transaction of `hatang_core::apply` run over SSH — back up,
//! check, commit, verify, save, or roll every touched device back — with the journal written
//! (fsynced) before each step, and recovery of a run that was killed.
//!
//! What to do and in which order is decided by `hatang_core::apply::Journal`; this module only
//! performs the steps and records them.

pub mod store;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hatang_core::apply::{
    DeviceFailure, DeviceStep, Expectation, FailureKind, Journal, JournalError, JournalParseError,
    Outcome, Phase, Recovery, loadable,
};
use hatang_core::model::Platform;
use thiserror::Error;

use crate::platform::{self, Commands};
use crate::ssh::{self, Session, SshError, SshOptions, Target, exec_ok, shell_quote};
use store::{CANDIDATE, RUNNING_AFTER, RUNNING_BEFORE, RunStore, SAVED_BEFORE};

/// Why a transaction could not be run or recorded (device failures are outcomes, not errors).
#[derive(Debug, Error)]
pub enum ApplyError {
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The journal refused a step.
    #[error("journal: {0}")]
    Journal(#[from] JournalError),
    /// A journal could not be read.
    #[error("journal {path} is unreadable: {source}")]
    BadJournal {
        /// The file.
        path: String,
        /// Why.
        source: JournalParseError,
    },
    /// A run directory already holds a journal.
    #[error("{0} already holds a transaction")]
    Exists(String),
    /// Saving failed on verified devices: the commit stands, the saved configurations lag.
    #[error(
        "the change is verified but saving failed on {0}; run `hatang apply --recover` to finish"
    )]
    SaveFailed(String),
}

/// What one device is given.
#[derive(Debug, Clone)]
pub struct DevicePlan {
    /// Where to reach it.
    pub target: Target,
    /// The candidate configuration.
    pub candidate: String,
    /// What must hold once it runs.
    pub expect: Expectation,
}

/// Reports progress (a bar on a terminal, lines otherwise).
pub trait Progress: Send + Sync {
    /// A step starts over `devices` devices.
    fn step(&self, step: &str, devices: usize);
    /// One device finished the step (`Err` with the reason when it failed).
    fn device(&self, device: &str, result: Result<(), &str>);
    /// A message between steps (verification waiting, rollback starting).
    fn note(&self, message: &str);
}

/// Progress that prints nothing.
pub struct Silent;

impl Progress for Silent {
    fn step(&self, _: &str, _: usize) {}
    fn device(&self, _: &str, _: Result<(), &str>) {}
    fn note(&self, _: &str) {}
}

/// A hook called with the number of devices committed so far and the device just committed.
pub type CommitHook = Arc<dyn Fn(usize, &str) + Send + Sync>;

/// How to run a transaction.
#[derive(Clone)]
pub struct ApplyOptions {
    /// SSH session options (trust, login, timeouts).
    pub ssh: SshOptions,
    /// Devices worked on at once.
    pub concurrency: usize,
    /// How long verification may wait for sessions and routes.
    pub verify_timeout: Duration,
    /// Progress reporting.
    pub progress: Arc<dyn Progress>,
    /// Called with the count of committed devices after each commit is journaled (fault
    /// injection for tests: the CLI aborts the process here when asked).
    pub after_commit: Option<CommitHook>,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn frr() -> Commands {
    platform::commands(Platform::Frr, "").expect("FRR adapter")
}

/// The candidate's path on the device: per transaction and device, so labs sharing one /tmp
/// and concurrent transactions never mix files.
fn remote_path(id: &str, device: &str, what: &str) -> String {
    format!("/tmp/hatang-{id}-{device}.{what}")
}

/// The kind of failure an SSH error is, for the journal.
fn failure_kind(e: &SshError) -> FailureKind {
    match e {
        SshError::HostKeyUnknown { .. } | SshError::HostKeyChanged { .. } => FailureKind::HostKey,
        SshError::Connect { .. } => FailureKind::Connect,
        SshError::Auth { .. } | SshError::Key { .. } => FailureKind::Auth,
        SshError::Timeout { .. } => FailureKind::Timeout,
        SshError::CommandFailed { .. } => FailureKind::CommandFailed,
        SshError::Protocol(_) => FailureKind::Other,
    }
}

/// A device's step failed over SSH: journaled with the error's kind.
impl From<SshError> for DeviceFailure {
    fn from(e: SshError) -> Self {
        DeviceFailure::new(failure_kind(&e), e.to_string())
    }
}

fn local(e: ApplyError) -> DeviceFailure {
    DeviceFailure::new(FailureKind::LocalState, format!("local state: {e}"))
}

/// Runs `work` on every device and reports each result; the failures, by device.
async fn fan_out<F, Fut>(
    targets: &[Target],
    options: &ApplyOptions,
    step: &str,
    work: F,
) -> Failures
where
    F: Fn(Arc<Session>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), DeviceFailure>> + Send + 'static,
{
    fan_out_keys(targets, options, step, work).await.0
}

/// Failures of one step, by device.
type Failures = BTreeMap<String, DeviceFailure>;

/// [`fan_out`], also giving the host keys accepted as new (`--accept-new`), by device.
async fn fan_out_keys<F, Fut>(
    targets: &[Target],
    options: &ApplyOptions,
    step: &str,
    work: F,
) -> (Failures, BTreeMap<String, String>)
where
    F: Fn(Arc<Session>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), DeviceFailure>> + Send + 'static,
{
    options.progress.step(step, targets.len());
    let results = ssh::for_each_device(
        targets.to_vec(),
        options.ssh.clone(),
        options.concurrency,
        work,
    )
    .await;
    let mut failed = BTreeMap::new();
    let mut new_keys = BTreeMap::new();
    for r in results {
        if let Some(k) = r.new_host_key {
            new_keys.insert(r.device.clone(), k);
        }
        match r.outcome {
            Ok(()) => options.progress.device(&r.device, Ok(())),
            Err(e) => {
                options.progress.device(&r.device, Err(&e.message));
                failed.insert(r.device, e);
            }
        }
    }
    (failed, new_keys)
}

/// Options that trust exactly the keys accepted as new during backup from now on: a device
/// presenting another key at a later step is refused like any changed key.
fn pin_new_keys(
    options: &ApplyOptions,
    targets: &[Target],
    new_keys: &BTreeMap<String, String>,
) -> ApplyOptions {
    let mut options = options.clone();
    let mut known = (*options.ssh.known_hosts).clone();
    for t in targets {
        if let Some(key) = new_keys.get(&t.device).and_then(|k| k.parse().ok()) {
            known.forget(&t.known_hosts_name());
            known.pin(&t.known_hosts_name(), key);
        }
    }
    options.ssh.known_hosts = Arc::new(known);
    options.ssh.accept_new = false;
    options
}

fn summarize(failed: &Failures) -> String {
    failed
        .iter()
        .map(|(d, e)| format!("{d}: {e}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn record_failures(store: &RunStore, failed: &Failures) -> Result<(), ApplyError> {
    let at = now();
    store.update(|j| {
        for (d, e) in failed {
            j.fail(d, e, &at)?;
        }
        Ok(())
    })
}

fn finish(
    store: &RunStore,
    outcome: Outcome,
    reason: Option<String>,
) -> Result<Journal, ApplyError> {
    let at = now();
    store.update(|j| j.finish(outcome, reason, &at))?;
    store.write_record(&at)?;
    Ok(store.journal())
}

/// Runs the transaction recorded in `store` (a fresh journal in the backup phase) for `plans`.
/// Returns the finished journal: its outcome says whether the change was committed, stopped
/// before any change (and why, naming the device), or rolled back.
pub async fn run(
    store: Arc<RunStore>,
    plans: Vec<DevicePlan>,
    options: &ApplyOptions,
) -> Result<Journal, ApplyError> {
    let id = store.journal().id;
    let dry_run = store.journal().dry_run;
    let targets: Vec<Target> = plans.iter().map(|p| p.target.clone()).collect();
    let plans: Arc<BTreeMap<String, DevicePlan>> = Arc::new(
        plans
            .into_iter()
            .map(|p| (p.target.device.clone(), p))
            .collect(),
    );
    for p in plans.values() {
        store.put(&p.target.device, CANDIDATE, &p.candidate)?;
    }

    // 1. Backup: running and saved configuration of every device, kept locally.
    let (failed, new_keys) = {
        let store = store.clone();
        fan_out_keys(&targets, options, "backup", move |session| {
            let store = store.clone();
            async move { backup(&session, &store).await }
        })
        .await
    };
    let pinned;
    let options = if new_keys.is_empty() {
        options
    } else {
        let at = now();
        store.update(|j| {
            for (d, k) in &new_keys {
                j.accept_host_key(d, k, &at)?;
            }
            Ok(())
        })?;
        pinned = pin_new_keys(options, &targets, &new_keys);
        &pinned
    };
    if !failed.is_empty() {
        record_failures(&store, &failed)?;
        let reason = format!("backup failed, nothing changed: {}", summarize(&failed));
        return finish(&store, Outcome::Aborted, Some(reason));
    }

    // 2. Check: every device must accept its candidate before any is changed.
    store.update(|j| j.enter(Phase::Check, &now()))?;
    let failed = {
        let (store, plans, id) = (store.clone(), plans.clone(), id.clone());
        fan_out(&targets, options, "check", move |session| {
            let (store, plans, id) = (store.clone(), plans.clone(), id.clone());
            async move {
                let device = session.target().device.clone();
                let path = remote_path(&id, &device, "conf");
                session
                    .upload(&path, plans[&device].candidate.as_bytes())
                    .await?;
                let check = platform::commands(Platform::Frr, &path)
                    .expect("FRR adapter")
                    .check_candidate;
                let out = session.exec(&check, None).await?;
                if !out.success() {
                    let why = format!("{}{}", out.stderr.trim(), out.stdout.trim());
                    return Err(DeviceFailure::new(
                        FailureKind::Rejected,
                        format!("candidate rejected: {why}"),
                    ));
                }
                store
                    .update(|j| j.advance(&device, DeviceStep::Checked, &now()))
                    .map_err(local)
            }
        })
        .await
    };
    if !failed.is_empty() {
        record_failures(&store, &failed)?;
        let reason = format!("stopped before any change: {}", summarize(&failed));
        cleanup(&targets, options, &id).await;
        return finish(&store, Outcome::Aborted, Some(reason));
    }
    if dry_run {
        cleanup(&targets, options, &id).await;
        return finish(&store, Outcome::Checked, None);
    }

    // 3. Commit, device by device; each is journaled as committing before it is touched.
    store.update(|j| j.enter(Phase::Commit, &now()))?;
    let committed = Arc::new(AtomicUsize::new(0));
    // After the first failure no further device is touched: it stays `checked` and needs no
    // rollback.
    let stop = Arc::new(AtomicBool::new(false));
    let failed = {
        let (store, id, hook) = (store.clone(), id.clone(), options.after_commit.clone());
        fan_out(&targets, options, "commit", move |session| {
            let (store, id, hook, committed, stop) = (
                store.clone(),
                id.clone(),
                hook.clone(),
                committed.clone(),
                stop.clone(),
            );
            async move {
                if stop.load(Ordering::SeqCst) {
                    return Ok(());
                }
                let device = session.target().device.clone();
                store
                    .update(|j| j.advance(&device, DeviceStep::Committing, &now()))
                    .map_err(local)?;
                let path = remote_path(&id, &device, "conf");
                let load = platform::commands(Platform::Frr, &path)
                    .expect("FRR adapter")
                    .load_candidate;
                if let Err(e) = exec_ok(&session, &load).await {
                    stop.store(true, Ordering::SeqCst);
                    return Err(e.into());
                }
                store
                    .update(|j| j.advance(&device, DeviceStep::Committed, &now()))
                    .map_err(local)?;
                let n = committed.fetch_add(1, Ordering::SeqCst) + 1;
                if let Some(hook) = &hook {
                    hook(n, &device);
                }
                Ok(())
            }
        })
        .await
    };
    if !failed.is_empty() {
        record_failures(&store, &failed)?;
        let reason = format!("commit failed: {}", summarize(&failed));
        return roll_back_all(&store, &targets, options, reason).await;
    }

    // 4. Verify within the deadline.
    store.update(|j| j.enter(Phase::Verify, &now()))?;
    if let Err(problems) = verify(&store, &targets, &plans, options).await {
        record_failures(&store, &problems)?;
        let reason = format!(
            "verification failed after {} s: {}",
            options.verify_timeout.as_secs(),
            summarize(&problems)
        );
        return roll_back_all(&store, &targets, options, reason).await;
    }

    // 5. Save: only a verified change becomes the startup configuration.
    store.update(|j| j.enter(Phase::Save, &now()))?;
    save(&store, &targets, options).await?;
    cleanup(&targets, options, &id).await;
    finish(&store, Outcome::Committed, None)
}

async fn backup(session: &Session, store: &RunStore) -> Result<(), DeviceFailure> {
    let device = session.target().device.clone();
    let c = frr();
    let running = exec_ok(session, &c.show_running).await?;
    let saved = shell_quote(&c.saved_file);
    // Exit 3 (and nothing else) means there is no saved configuration.
    let out = session
        .exec(
            &format!("if [ -e {saved} ]; then cat {saved}; else exit 3; fi"),
            None,
        )
        .await?;
    let had_saved = match out.exit_status {
        Some(0) => true,
        Some(3) => false,
        _ => {
            return Err(DeviceFailure::new(
                FailureKind::CommandFailed,
                format!("cannot read {}: {}", c.saved_file, out.stderr.trim()),
            ));
        }
    };
    store
        .put(&device, RUNNING_BEFORE, &running)
        .map_err(local)?;
    if had_saved {
        store
            .put(&device, SAVED_BEFORE, &out.stdout)
            .map_err(local)?;
    }
    store
        .update(|j| {
            j.set_had_saved(&device, had_saved)?;
            j.advance(&device, DeviceStep::BackedUp, &now())
        })
        .map_err(local)
}

/// What is still wrong on one device, cheapest question first: every `vtysh` costs a process
/// start on the device, which matters on small CPE boxes (and on a lab of ten routers sharing
/// two cores). The running configuration is compared once (`compare`), then sessions, then
/// routes; later questions wait until the earlier ones are answered. Gives the problems and,
/// when it was fetched and equal to the candidate, the running configuration.
async fn problems(
    session: &Session,
    plan: &DevicePlan,
    compare: bool,
) -> Result<(Vec<String>, Option<String>), SshError> {
    let c = frr();
    let mut running = None;
    if compare {
        let text = exec_ok(session, &c.show_running).await?;
        let deviations = hatang_core::audit::diff(&plan.candidate, &text);
        if let Some(first) = deviations.first() {
            return Ok((
                vec![format!(
                    "running configuration differs from the candidate ({} deviations, first: {first})",
                    deviations.len()
                )],
                None,
            ));
        }
        running = Some(text);
    }
    let states = platform::session_states(&exec_ok(session, &c.bgp_sessions).await?)
        .map_err(SshError::Protocol)?;
    let mut out = Vec::new();
    for addr in &plan.expect.sessions {
        let state = states
            .iter()
            .find(|(a, _)| a.parse().ok() == Some(*addr))
            .map(|(_, s)| s.as_str())
            .unwrap_or("not configured");
        if state != "Established" {
            out.push(format!("BGP session {addr} is {state}"));
        }
    }
    if !out.is_empty() {
        return Ok((out, running));
    }
    let routes = platform::installed_routes(&exec_ok(session, &c.routes).await?)
        .map_err(SshError::Protocol)?;
    let missing: Vec<&str> = plan
        .expect
        .routes
        .iter()
        .filter(|r| !routes.contains(*r))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        out.push(format!("no route to {}", missing.join(", ")));
    }
    Ok((out, running))
}

/// Polls every device until its running configuration equals the candidate and its expected
/// sessions and routes are up, or the deadline passes: the problems left, by device.
async fn verify(
    store: &Arc<RunStore>,
    targets: &[Target],
    plans: &Arc<BTreeMap<String, DevicePlan>>,
    options: &ApplyOptions,
) -> Result<(), Failures> {
    let deadline = Instant::now() + options.verify_timeout;
    let mut pending: Vec<Target> = targets.to_vec();
    // Devices whose running configuration was found equal to the candidate.
    let same: Arc<std::sync::Mutex<BTreeSet<String>>> = Default::default();
    let mut left = BTreeMap::new();
    options.progress.step("verify", targets.len());
    loop {
        let (plans2, same2) = (plans.clone(), same.clone());
        let results: Vec<ssh::DeviceResult<_, SshError>> = ssh::for_each_device(
            pending.clone(),
            options.ssh.clone(),
            options.concurrency,
            move |session| {
                let (plans, same) = (plans2.clone(), same2.clone());
                async move {
                    let device = session.target().device.clone();
                    let compare = !same.lock().expect("lock").contains(&device);
                    let r = problems(&session, &plans[&device], compare).await?;
                    if r.1.is_some() {
                        same.lock().expect("lock").insert(device);
                    }
                    Ok(r)
                }
            },
        )
        .await;
        left.clear();
        for r in results {
            match r.outcome {
                Ok((p, running)) => {
                    if let Some(running) = running {
                        let _ = store.put(&r.device, RUNNING_AFTER, &running);
                    }
                    if p.is_empty() {
                        options.progress.device(&r.device, Ok(()));
                    } else {
                        left.insert(
                            r.device,
                            DeviceFailure::new(FailureKind::Verify, p.join("; ")),
                        );
                    }
                }
                Err(e) => {
                    left.insert(r.device, DeviceFailure::from(e));
                }
            }
        }
        if left.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            for (d, e) in &left {
                options.progress.device(d, Err(&e.message));
            }
            return Err(left);
        }
        pending.retain(|t| left.contains_key(&t.device));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn save(
    store: &Arc<RunStore>,
    targets: &[Target],
    options: &ApplyOptions,
) -> Result<(), ApplyError> {
    let failed = {
        let store = store.clone();
        fan_out(targets, options, "save", move |session| {
            let store = store.clone();
            async move {
                let device = session.target().device.clone();
                exec_ok(&session, &frr().save).await?;
                store
                    .update(|j| j.advance(&device, DeviceStep::Saved, &now()))
                    .map_err(local)
            }
        })
        .await
    };
    if failed.is_empty() {
        Ok(())
    } else {
        record_failures(store, &failed)?;
        Err(ApplyError::SaveFailed(summarize(&failed)))
    }
}

/// Removes the candidate files from the devices (best effort: they are harmless).
async fn cleanup(targets: &[Target], options: &ApplyOptions, id: &str) {
    let id = id.to_owned();
    let _ = ssh::for_each_device(
        targets.to_vec(),
        options.ssh.clone(),
        options.concurrency,
        move |session| {
            let id = id.clone();
            async move {
                let device = session.target().device.clone();
                session
                    .exec(
                        &format!(
                            "rm -f {} {}",
                            shell_quote(&remote_path(&id, &device, "conf")),
                            shell_quote(&remote_path(&id, &device, "rollback"))
                        ),
                        None,
                    )
                    .await
                    .map(|_| ())
            }
        },
    )
    .await;
}

async fn roll_back_all(
    store: &Arc<RunStore>,
    targets: &[Target],
    options: &ApplyOptions,
    reason: String,
) -> Result<Journal, ApplyError> {
    options.progress.note(&format!("rolling back: {reason}"));
    store.update(|j| {
        j.set_reason(&reason);
        j.enter(Phase::Rollback, &now())
    })?;
    let touched: BTreeSet<String> = store.journal().touched().into_iter().collect();
    let targets: Vec<Target> = targets
        .iter()
        .filter(|t| touched.contains(&t.device))
        .cloned()
        .collect();
    roll_back(store, &targets, options).await
}

/// Puts `targets` back to their backups and ends the transaction.
async fn roll_back(
    store: &Arc<RunStore>,
    targets: &[Target],
    options: &ApplyOptions,
) -> Result<Journal, ApplyError> {
    let id = store.journal().id;
    let failed = {
        let (store, id) = (store.clone(), id.clone());
        fan_out(targets, options, "rollback", move |session| {
            let (store, id) = (store.clone(), id.clone());
            async move { restore(&session, &store, &id).await }
        })
        .await
    };
    cleanup(targets, options, &id).await;
    if failed.is_empty() {
        finish(store, Outcome::RolledBack, None)
    } else {
        // Not final: the journal still owes these devices their rollback (`--recover`).
        record_failures(store, &failed)?;
        let at = now();
        store.update(|j| j.finish_rollback_failed(&summarize(&failed), &at))?;
        store.write_record(&at)?;
        Ok(store.journal())
    }
}

/// Restores one device: the running configuration from its backup (checked byte for byte),
/// then the saved configuration file as it was.
async fn restore(session: &Session, store: &RunStore, id: &str) -> Result<(), DeviceFailure> {
    let device = session.target().device.clone();
    let step = store.journal().device(&device).map(|d| d.step);
    if step != Some(DeviceStep::RollingBack) {
        store
            .update(|j| j.advance(&device, DeviceStep::RollingBack, &now()))
            .map_err(local)?;
    }
    let before = store.get(&device, RUNNING_BEFORE).map_err(local)?;
    let path = remote_path(id, &device, "rollback");
    session.upload(&path, loadable(&before).as_bytes()).await?;
    let c = frr();
    let load = platform::commands(Platform::Frr, &path)
        .expect("FRR adapter")
        .load_candidate;
    // frr-reload applies differences in one pass; a second pass settles the rare setting that
    // depends on another one removed in the same pass.
    let mut running = String::new();
    for _ in 0..2 {
        exec_ok(session, &load).await?;
        running = exec_ok(session, &c.show_running).await?;
        if running == before {
            break;
        }
    }
    if running != before {
        let diff = hatang_core::apply::unified_diff(&before, &running, "backup", "running");
        return Err(DeviceFailure::new(
            FailureKind::Verify,
            format!("running configuration is not the backup after rollback:\n{diff}"),
        ));
    }
    let saved = shell_quote(&c.saved_file);
    let had_saved = store
        .journal()
        .device(&device)
        .and_then(|d| d.had_saved)
        .unwrap_or(true);
    if had_saved {
        let text = store.get(&device, SAVED_BEFORE).map_err(local)?;
        let tmp = shell_quote(&format!("{}.hatang-tmp", c.saved_file));
        // Keep the file's owner and mode (FRR reads it as its own user).
        let command = format!(
            "cat > {tmp} && {{ [ ! -e {saved} ] || {{ chown --reference={saved} {tmp} && chmod --reference={saved} {tmp}; }}; }} && mv -f {tmp} {saved}"
        );
        let out = session.exec(&command, Some(text.as_bytes())).await?;
        if !out.success() {
            return Err(DeviceFailure::new(
                FailureKind::CommandFailed,
                format!("restoring {} failed: {}", c.saved_file, out.stderr.trim()),
            ));
        }
    } else {
        exec_ok(session, &format!("rm -f {saved}")).await?;
    }
    store
        .update(|j| j.advance(&device, DeviceStep::RolledBack, &now()))
        .map_err(local)
}

/// Completes a transaction a killed process left, or one whose rollback or save did not
/// finish: rolls back every touched device (retrying exactly those a failed rollback left),
/// finishes a verified commit, or closes a transaction that changed nothing. Each device is
/// restored from the backups the run directory holds. A device still unreachable stays owed:
/// the journal ends `rollback-failed` again (or stays in `save`) naming it. `targets` are the
/// journal's devices (the caller builds them, with the journal's pinned host keys).
pub async fn recover(
    store: Arc<RunStore>,
    targets: Vec<Target>,
    options: &ApplyOptions,
) -> Result<Journal, ApplyError> {
    let journal = store.journal();
    match journal.recovery() {
        Recovery::Nothing => Ok(journal),
        Recovery::Abandon => {
            cleanup(&targets, options, &journal.id).await;
            finish(
                &store,
                Outcome::Aborted,
                Some("interrupted before any change; closed by --recover".to_owned()),
            )
        }
        Recovery::RollBack(devices) => {
            store.update(|j| {
                if j.outcome.is_none() {
                    j.set_reason(
                        "interrupted before the change was verified; rolled back by --recover",
                    );
                }
                j.enter(Phase::Rollback, &now())
            })?;
            let targets: Vec<Target> = targets
                .into_iter()
                .filter(|t| devices.contains(&t.device))
                .collect();
            options.progress.note(&format!(
                "rolling back {} touched devices: {}",
                targets.len(),
                devices.join(", ")
            ));
            roll_back(&store, &targets, options).await
        }
        Recovery::FinishCommit(devices) => {
            let targets: Vec<Target> = targets
                .into_iter()
                .filter(|t| devices.contains(&t.device))
                .collect();
            save(&store, &targets, options).await?;
            cleanup(&targets, options, &journal.id).await;
            finish(&store, Outcome::Committed, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_errors_keep_their_kind_in_the_journal() {
        let cases = [
            (
                SshError::HostKeyChanged {
                    host: "h".into(),
                    expected: "a".into(),
                    presented: "b".into(),
                },
                FailureKind::HostKey,
            ),
            (
                SshError::HostKeyUnknown {
                    host: "h".into(),
                    presented: "b".into(),
                },
                FailureKind::HostKey,
            ),
            (
                SshError::Connect {
                    endpoint: "h:22".into(),
                    message: "refused".into(),
                },
                FailureKind::Connect,
            ),
            (
                SshError::Auth {
                    user: "u".into(),
                    message: "no key".into(),
                },
                FailureKind::Auth,
            ),
            (
                SshError::Timeout {
                    what: "connecting".into(),
                    seconds: 5,
                },
                FailureKind::Timeout,
            ),
            (
                SshError::CommandFailed {
                    command: "vtysh".into(),
                    exit: Some(1),
                    output: "% Unknown command".into(),
                },
                FailureKind::CommandFailed,
            ),
            (SshError::Protocol("eof".into()), FailureKind::Other),
        ];
        for (e, kind) in cases {
            let text = e.to_string();
            let f = DeviceFailure::from(e);
            assert_eq!((f.kind, f.message.as_str()), (kind, text.as_str()));
        }
    }

    #[test]
    fn a_journaled_host_key_refusal_reads_back_as_one() {
        let tmp = tempfile::tempdir().unwrap();
        let journal = Journal::new(
            "tx",
            "u",
            "inv",
            "2026-11-23T00:00:00Z",
            false,
            vec![hatang_core::apply::DeviceEndpoint {
                name: "a".into(),
                host: "h".into(),
                port: 22,
                host_key: None,
            }],
        );
        let store = RunStore::create(&tmp.path().join("tx"), journal).unwrap();
        let refused = DeviceFailure::from(SshError::HostKeyChanged {
            host: "h".into(),
            expected: "ssh-ed25519 AAAA".into(),
            presented: "ssh-ed25519 BBBB".into(),
        });
        record_failures(&store, &BTreeMap::from([("a".to_owned(), refused.clone())])).unwrap();
        let reopened = RunStore::open(&store.dir().join(store::JOURNAL)).unwrap();
        let error = reopened.journal().devices[0].error.clone().unwrap();
        assert_eq!(error.kind, FailureKind::HostKey);
        assert_eq!(error, refused);
    }

    #[test]
    fn a_journal_of_another_version_is_refused_as_such() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(store::JOURNAL);
        std::fs::write(&path, r#"{"version": 99, "id": "x"}"#).unwrap();
        match RunStore::open(&path) {
            Err(ApplyError::BadJournal { source, .. }) => assert!(
                matches!(source, JournalParseError::UnsupportedVersion(99)),
                "{source:?}"
            ),
            other => panic!("{other:?}"),
        }
    }
}
