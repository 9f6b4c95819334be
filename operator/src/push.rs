//! Pushing: every Device due in one pass goes into **one** transaction of
//! `hatang_driver::apply::run` — the same backup, check, commit, verify, save or roll-back-all
//! as `hatang apply` — with its journal under `<state-dir>/applies/<id>/`. The outcome is
//! recorded per device (`devices.rs`); a failed hash backs off, approvals are removed once what
//! they approved is committed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::api::{Patch, PatchParams};
use serde_json::json;
use tokio::sync::Notify;

use hatang_core::apply::{FailureKind, Journal, Outcome, Recovery};
use hatang_core::model::Kind;
#[cfg(feature = "fault-injection")]
use hatang_driver::apply::CommitHook;
use hatang_driver::apply::store::{JOURNAL, RunStore};
use hatang_driver::apply::{self, ApplyOptions, DevicePlan, Progress};
use hatang_driver::fleet::Endpoint;

use crate::credentials;
use crate::devices::{DeviceEvent, DeviceState, Devices, Drift, DuePush};
use crate::metrics::Metrics;
use crate::policy::{APPROVE_ANNOTATION, Failure, backoff};
use hatang_kube_api::client::api;
use hatang_kube_api::status::AppliedConfig;

/// Fault injection for tests, as for `hatang apply`: the process aborts (as a kill would) right
/// after this many devices of a transaction are committed and journaled. Read only by builds
/// with the `fault-injection` feature.
#[cfg(feature = "fault-injection")]
pub const FAIL_AFTER: &str = "HATANG_APPLY_FAIL_AFTER";

/// Transaction progress as log lines (the CLI draws bars; the operator logs).
struct Logged(String);

impl Progress for Logged {
    fn step(&self, step: &str, devices: usize) {
        tracing::info!(apply = %self.0, step, devices, "apply step");
    }
    fn device(&self, device: &str, result: Result<(), &str>) {
        match result {
            Ok(()) => tracing::debug!(apply = %self.0, device, "ok"),
            Err(e) => tracing::warn!(apply = %self.0, device, error = e, "device failed"),
        }
    }
    fn note(&self, message: &str) {
        tracing::info!(apply = %self.0, message);
    }
}

/// How a transaction ended, for the devices in it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ended {
    /// Committed and saved.
    Committed { id: String, at: String },
    /// Nothing applied (stopped, rolled back, or never started): the failures by device, and
    /// the message for devices not named.
    Failed {
        named: BTreeMap<String, (&'static str, String)>,
        rest: (&'static str, String),
    },
}

/// The `Applied` condition's reason for a device that failed this way.
fn reason_of(kind: FailureKind) -> &'static str {
    match kind {
        FailureKind::HostKey => "HostKeyRefused",
        _ => "ApplyFailed",
    }
}

/// The clocks and the back-off a transaction's end is recorded with.
#[derive(Debug, Clone, Copy)]
struct When {
    /// For retries (monotonic).
    now: Instant,
    /// For the condition message.
    wall: chrono::DateTime<chrono::Utc>,
    /// `--apply-backoff-seconds`.
    backoff: Duration,
}

/// Records in `s` what `ended` means for `device`, pushed with `sha256`: committed (applied,
/// verified in sync, failure cleared), or failed, with the attempts and back-off of that hash.
/// Returns the event to publish about it, if any. A device that only shared the transaction
/// with one that failed is no culprit: its attempts do not grow and it is tried again at once,
/// in a transaction without the failing one.
fn record(
    s: &mut DeviceState,
    device: &str,
    sha256: &str,
    ended: &Ended,
    at: When,
) -> Option<DeviceEvent> {
    s.in_flight = false;
    match ended {
        Ended::Committed { id, at } => {
            s.applied = Some(AppliedConfig {
                sha256: sha256.to_owned(),
                at: at.clone(),
                apply_id: id.clone(),
            });
            s.failure = None;
            // Verification compared the running configuration with the candidate.
            s.drift = Some(Drift::InSync {
                sha256: sha256.to_owned(),
                message: format!("verified by transaction {id}"),
            });
            s.drift_warned = None;
            Some(DeviceEvent {
                warning: false,
                reason: "Applied",
                note: format!("{sha256} committed by transaction {id}"),
                action: "Apply",
            })
        }
        Ended::Failed { named, rest } => {
            let (reason, message, culprit) = match named.get(device) {
                Some((r, m)) => (*r, m.clone(), true),
                None => (rest.0, rest.1.clone(), named.is_empty()),
            };
            let attempts = match &s.failure {
                Some(f) if f.sha256 == sha256 && culprit => f.attempts + 1,
                Some(f) if f.sha256 == sha256 => f.attempts,
                _ => u32::from(culprit),
            };
            let wait = if culprit {
                backoff(at.backoff, attempts.max(1))
            } else {
                Duration::ZERO
            };
            let retry_after = (at.wall + chrono::Duration::from_std(wait).unwrap_or_default())
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            s.failure = Some(Failure {
                sha256: sha256.to_owned(),
                reason,
                message: message.clone(),
                attempts,
                retry_at: at.now + wait,
                retry_after,
            });
            culprit.then_some(DeviceEvent {
                warning: true,
                reason: "ApplyFailed",
                note: message,
                action: "Apply",
            })
        }
    }
}

/// How transaction `id`, finished as `done` says, ended for its devices: committed at `at`, or
/// failed, with the devices that failed named (and why) and a message for the others.
fn ended(id: &str, done: &Journal, at: String) -> Ended {
    let outcome = done.outcome;
    if outcome == Some(Outcome::Committed) {
        return Ended::Committed {
            id: id.to_owned(),
            at,
        };
    }
    let why = done
        .reason
        .clone()
        .unwrap_or_else(|| format!("{outcome:?}"));
    let tail = match outcome {
        Some(Outcome::RolledBack) => "every touched device rolled back",
        Some(Outcome::RollbackFailed) => "ROLLBACK FAILED: see the journal",
        _ => "nothing changed",
    };
    let named = done
        .devices
        .iter()
        .filter_map(|d| {
            d.error.as_ref().map(|e| {
                (
                    d.name.clone(),
                    (
                        reason_of(e.kind),
                        format!("transaction {id}: {}: {e}; {tail}", d.name),
                    ),
                )
            })
        })
        .collect();
    Ended::Failed {
        named,
        rest: (
            "Aborted",
            format!("transaction {id} did not commit ({why}); retried without the failing devices"),
        ),
    }
}

/// The abort `HATANG_APPLY_FAIL_AFTER` asks for: after `n` devices are committed, as a kill
/// would end the process, so the tests can recover what it left.
#[cfg(feature = "fault-injection")]
fn abort_after(n: Option<usize>) -> Option<CommitHook> {
    n.map(|n| -> CommitHook {
        Arc::new(move |committed, _device: &str| {
            if committed >= n {
                tracing::error!(committed, "aborting ({FAIL_AFTER})");
                std::process::abort();
            }
        })
    })
}

impl Devices {
    /// Runs one transaction for `due` (marked in flight by `take_due`), records the outcome and
    /// wakes the pass.
    pub async fn push(self: Arc<Self>, due: Vec<DuePush>, changed: Arc<Notify>) {
        let _busy = self.busy.lock().await;
        let ended = self.transaction(&due).await;
        let now = Instant::now();
        let wall = chrono::Utc::now();
        let mut events = Vec::new();
        {
            let mut state = self.state.lock().expect("device state");
            for d in &due {
                let s = state.entry(d.device.clone()).or_default();
                let at = When {
                    now,
                    wall,
                    backoff: self.settings.backoff,
                };
                if let Some(event) = record(s, &d.device, &d.sha256, &ended, at) {
                    events.push((d.reference.clone(), event));
                }
            }
        }
        match &ended {
            Ended::Committed { .. } => Metrics::inc(&self.metrics.applies),
            Ended::Failed { .. } => Metrics::inc(&self.metrics.apply_failures),
        }
        if let Ended::Committed { .. } = ended {
            for d in due.iter().filter(|d| d.approved) {
                self.consume_approval(&d.device, &d.sha256).await;
            }
        }
        self.publish(events).await;
        changed.notify_one();
        // Wake the pass when the first back-off ends (resync may be much later).
        let first_retry = {
            let state = self.state.lock().expect("device state");
            due.iter()
                .filter_map(|d| state.get(&d.device)?.failure.as_ref())
                .map(|f| f.retry_at)
                .filter(|at| *at > now)
                .min()
        };
        if let Some(at) = first_retry {
            tokio::spawn(async move {
                tokio::time::sleep_until(at.into()).await;
                changed.notify_one();
            });
        }
    }

    async fn transaction(&self, due: &[DuePush]) -> Ended {
        let all = |reason: &'static str, message: String| Ended::Failed {
            named: BTreeMap::new(),
            rest: (reason, message),
        };
        let secrets = kube::Api::namespaced(self.client.clone(), &self.namespace);
        let creds =
            match credentials::read(&secrets, &self.namespace, &self.settings.ssh_secret).await {
                Ok(c) => c,
                Err(e) => return all("NoCredentials", format!("nothing pushed: {e}")),
            };
        let endpoints: Vec<_> = due.iter().map(|d| d.endpoint.clone()).collect();
        let ssh = match creds.ssh_options(&endpoints, self.settings.ssh_timeout) {
            Ok(o) => o,
            Err(e) => return all("NoCredentials", format!("nothing pushed: {e}")),
        };
        let started = chrono::Utc::now();
        let id = format!(
            "{}-{}",
            started.format("%Y%m%dT%H%M%S%.3fZ"),
            std::process::id()
        );
        let journal = Journal::new(
            &id,
            &format!("hatang-operator/{}", self.identity),
            "cluster",
            &started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            false,
            endpoints.iter().map(Endpoint::journal_entry).collect(),
        );
        let dir = self.settings.state_dir.join("applies").join(&id);
        let store = match RunStore::create(&dir, journal) {
            Ok(s) => Arc::new(s),
            Err(e) => return all("ApplyFailed", format!("journal not written: {e}")),
        };
        let plans = due
            .iter()
            .map(|d| DevicePlan {
                target: d.endpoint.target.clone(),
                candidate: d.candidate.clone(),
                expect: d.expect.clone(),
            })
            .collect();
        let options = ApplyOptions {
            ssh,
            concurrency: self.settings.concurrency,
            verify_timeout: self.settings.verify_timeout,
            progress: Arc::new(Logged(id.clone())),
            #[cfg(feature = "fault-injection")]
            after_commit: abort_after(self.settings.fail_after),
            #[cfg(not(feature = "fault-injection"))]
            after_commit: None,
        };
        tracing::info!(apply = %id, devices = due.len(), journal = %dir.display(), "apply starts");
        let done = match apply::run(store.clone(), plans, &options).await {
            Ok(j) => j,
            Err(e) => {
                // A save that failed leaves the journal owing it; anything else may too.
                if !store.journal().owed().is_empty() {
                    self.owes.store(true, std::sync::atomic::Ordering::SeqCst);
                }
                return all("ApplyFailed", format!("transaction {id}: {e}"));
            }
        };
        if !done.owed().is_empty() {
            self.owes.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        tracing::info!(apply = %id, outcome = ?done.outcome, reason = done.reason.as_deref().unwrap_or(""), "apply ends");
        let at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        ended(&id, &done, at)
    }

    /// Completes the transactions left unfinished under the state directory — by a killed
    /// process, or by a rollback or save that did not finish (`hatang apply --recover`'s
    /// decisions: roll back what a killed commit touched, retry a failed rollback, finish a
    /// verified one, close one that changed nothing), before any new push. The devices are
    /// reached at the addresses and with the pins the journal recorded. False while any
    /// transaction still owes work (a device unreachable, the credentials unreadable): no
    /// push starts, and the next pass tries again.
    pub async fn recover(&self) -> bool {
        let dir = self.settings.state_dir.join("applies");
        let mut unfinished: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(|e| Some(e.ok()?.path().join(JOURNAL)))
                    .filter(|p| p.exists())
                    .collect()
            })
            .unwrap_or_default();
        unfinished.sort();
        let mut stores = Vec::new();
        for path in unfinished {
            match RunStore::open(&path) {
                Ok(s) if s.journal().recovery() != Recovery::Nothing => stores.push(Arc::new(s)),
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(journal = %path.display(), error = %e, "journal unreadable")
                }
            }
        }
        if stores.is_empty() {
            self.owes.store(false, std::sync::atomic::Ordering::SeqCst);
            return true;
        }
        let _busy = self.busy.lock().await;
        let secrets = kube::Api::namespaced(self.client.clone(), &self.namespace);
        let creds =
            match credentials::read(&secrets, &self.namespace, &self.settings.ssh_secret).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(error = %e, "cannot recover unfinished transactions yet");
                    return false;
                }
            };
        let mut finished = true;
        for store in stores {
            let j = store.journal();
            let endpoints = hatang_driver::fleet::journal_endpoints(&j);
            let ssh = match creds.ssh_options(&endpoints, self.settings.ssh_timeout) {
                Ok(o) => o,
                Err(e) => {
                    tracing::error!(apply = %j.id, error = %e, "transaction not recovered");
                    finished = false;
                    continue;
                }
            };
            let options = ApplyOptions {
                ssh,
                concurrency: self.settings.concurrency,
                verify_timeout: self.settings.verify_timeout,
                progress: Arc::new(Logged(j.id.clone())),
                after_commit: None,
            };
            let targets = endpoints.into_iter().map(|e| e.target).collect();
            match apply::recover(store.clone(), targets, &options).await {
                Ok(done) => tracing::warn!(
                    apply = %j.id,
                    outcome = ?done.outcome,
                    reason = done.reason.as_deref().unwrap_or(""),
                    "recovered a transaction left unfinished"
                ),
                Err(e) => tracing::error!(apply = %j.id, error = %e, "recovery failed"),
            }
            for owed in store.journal().owed() {
                finished = false;
                tracing::error!(
                    apply = %j.id,
                    device = %owed.device,
                    work = ?owed.work,
                    error = owed.error.as_ref().map(|e| e.message.as_str()).unwrap_or(""),
                    "device still owed; no push until it is recovered"
                );
            }
        }
        self.owes
            .store(!finished, std::sync::atomic::Ordering::SeqCst);
        finished
    }

    /// Removes the approval annotation if it still names `sha256` (someone may have approved a
    /// newer configuration meanwhile: that approval stays).
    async fn consume_approval(&self, device: &str, sha256: &str) {
        let devices = api(&self.client, Kind::Device, None);
        for _ in 0..3 {
            let o = match devices.get(device).await {
                Ok(o) => o,
                Err(e) => {
                    tracing::warn!(device, error = %e, "approval not removed: device not read");
                    return;
                }
            };
            if o.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(APPROVE_ANNOTATION))
                .map(|v| v.trim())
                != Some(sha256)
            {
                return;
            }
            let patch = json!({"metadata": {
                "resourceVersion": o.metadata.resource_version,
                "annotations": {APPROVE_ANNOTATION: null},
            }});
            match devices
                .patch(device, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Err(kube::Error::Api(e)) if e.code == 409 => continue,
                Err(e) => {
                    tracing::warn!(device, error = %e, "approval not removed");
                    return;
                }
                Ok(_) => return,
            }
        }
        tracing::warn!(
            device,
            "approval not removed: the device kept changing (three conflicts)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hatang_core::apply::{DeviceEndpoint, DeviceFailure};

    const SHA: &str = "0123456789abcdef";

    fn when(now: Instant) -> When {
        When {
            now,
            wall: chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
                .unwrap()
                .to_utc(),
            backoff: Duration::from_secs(60),
        }
    }

    fn failed(named: &[(&str, &'static str, &str)]) -> Ended {
        Ended::Failed {
            named: named
                .iter()
                .map(|(d, r, m)| (d.to_string(), (*r, m.to_string())))
                .collect(),
            rest: ("Aborted", "t1 did not commit".to_owned()),
        }
    }

    fn in_flight() -> DeviceState {
        DeviceState {
            in_flight: true,
            ..DeviceState::default()
        }
    }

    #[test]
    fn a_commit_records_what_was_applied_verified_and_clears_the_failure() {
        let now = Instant::now();
        let mut s = in_flight();
        s.failure = Some(Failure {
            sha256: SHA.into(),
            reason: "ApplyFailed",
            message: "before".into(),
            attempts: 3,
            retry_at: now,
            retry_after: String::new(),
        });
        s.drift_warned = Some("old drift".into());
        let ended = Ended::Committed {
            id: "t1".into(),
            at: "2026-11-23T10:00:05Z".into(),
        };
        let event = record(&mut s, "hub-001", SHA, &ended, when(now)).unwrap();
        assert!(!s.in_flight);
        assert_eq!(
            s.applied,
            Some(AppliedConfig {
                sha256: SHA.into(),
                at: "2026-11-23T10:00:05Z".into(),
                apply_id: "t1".into(),
            })
        );
        assert_eq!(s.failure, None);
        assert_eq!(
            s.drift,
            Some(Drift::InSync {
                sha256: SHA.into(),
                message: "verified by transaction t1".into()
            })
        );
        assert_eq!(s.drift_warned, None);
        assert_eq!(
            (event.warning, event.reason, event.note.as_str()),
            (
                false,
                "Applied",
                "0123456789abcdef committed by transaction t1"
            )
        );
    }

    #[test]
    fn the_failing_device_backs_off_longer_each_time() {
        let now = Instant::now();
        let ended = failed(&[("hub-001", "ApplyFailed", "hub-001: rejected")]);
        let mut s = in_flight();
        let event = record(&mut s, "hub-001", SHA, &ended, when(now)).unwrap();
        assert_eq!(
            (event.warning, event.reason, event.note.as_str()),
            (true, "ApplyFailed", "hub-001: rejected")
        );
        let f = s.failure.clone().unwrap();
        assert_eq!(
            (f.reason, f.message.as_str(), f.attempts),
            ("ApplyFailed", "hub-001: rejected", 1)
        );
        assert_eq!(f.retry_at, now + Duration::from_secs(60));
        assert_eq!(f.retry_after, "2026-11-23T10:01:00Z");
        assert!(!s.in_flight);

        // The same hash failing again doubles the wait.
        record(&mut s, "hub-001", SHA, &ended, when(now)).unwrap();
        let f = s.failure.clone().unwrap();
        assert_eq!(f.attempts, 2);
        assert_eq!(f.retry_after, "2026-11-23T10:02:00Z");
        // A new hash starts over.
        record(&mut s, "hub-001", "another", &ended, when(now)).unwrap();
        assert_eq!(s.failure.unwrap().attempts, 1);
    }

    #[test]
    fn a_bystander_of_a_failed_transaction_is_retried_at_once_without_an_event() {
        let now = Instant::now();
        let ended = failed(&[("hub-001", "ApplyFailed", "hub-001: rejected")]);
        let mut s = in_flight();
        s.failure = Some(Failure {
            sha256: SHA.into(),
            reason: "ApplyFailed",
            message: "earlier".into(),
            attempts: 2,
            retry_at: now,
            retry_after: String::new(),
        });
        assert_eq!(record(&mut s, "hub-002", SHA, &ended, when(now)), None);
        let f = s.failure.unwrap();
        assert_eq!(
            (f.reason, f.message.as_str(), f.attempts),
            ("Aborted", "t1 did not commit", 2)
        );
        assert_eq!(f.retry_at, now);
        assert_eq!(f.retry_after, "2026-11-23T10:00:00Z");
        // And one that never failed has no attempts to its name.
        let mut s = in_flight();
        record(&mut s, "hub-002", SHA, &ended, when(now));
        assert_eq!(s.failure.unwrap().attempts, 0);
    }

    #[test]
    fn a_transaction_that_failed_as_a_whole_blames_every_device() {
        let now = Instant::now();
        let ended = Ended::Failed {
            named: BTreeMap::new(),
            rest: ("NoCredentials", "nothing pushed: no Secret".to_owned()),
        };
        let mut s = in_flight();
        let event = record(&mut s, "hub-002", SHA, &ended, when(now)).unwrap();
        assert_eq!(event.note, "nothing pushed: no Secret");
        let f = s.failure.unwrap();
        assert_eq!((f.reason, f.attempts), ("NoCredentials", 1));
        assert_eq!(f.retry_at, now + Duration::from_secs(60));
    }

    fn journal(
        outcome: Outcome,
        reason: Option<&str>,
        errors: &[(&str, FailureKind, &str)],
    ) -> Journal {
        let endpoint = |name: &str| DeviceEndpoint {
            name: name.to_owned(),
            host: "fd00::1".into(),
            port: 22,
            host_key: None,
        };
        let mut j = Journal::new(
            "t1",
            "hatang-operator/test",
            "cluster",
            "2026-11-23T10:00:00Z",
            false,
            vec![endpoint("hub-001"), endpoint("hub-002")],
        );
        j.outcome = Some(outcome);
        j.reason = reason.map(str::to_owned);
        for (device, kind, error) in errors {
            let d = j.devices.iter_mut().find(|d| d.name == *device).unwrap();
            d.error = Some(DeviceFailure::new(*kind, *error));
        }
        j
    }

    #[test]
    fn a_journal_names_the_failing_devices_and_what_became_of_the_others() {
        let done = journal(Outcome::Committed, None, &[]);
        assert_eq!(
            ended("t1", &done, "2026-11-23T10:00:05Z".into()),
            Ended::Committed {
                id: "t1".into(),
                at: "2026-11-23T10:00:05Z".into()
            }
        );

        let done = journal(
            Outcome::RolledBack,
            Some("hub-002: verification timed out"),
            &[("hub-002", FailureKind::Verify, "verification timed out")],
        );
        let Ended::Failed { named, rest } = ended("t1", &done, String::new()) else {
            panic!("a rollback is a failure");
        };
        assert_eq!(
            named.into_iter().collect::<Vec<_>>(),
            [(
                "hub-002".to_owned(),
                (
                    "ApplyFailed",
                    "transaction t1: hub-002: verification timed out; every touched device rolled back"
                        .to_owned()
                )
            )]
        );
        assert_eq!(
            rest,
            (
                "Aborted",
                "transaction t1 did not commit (hub-002: verification timed out); retried \
                 without the failing devices"
                    .to_owned()
            )
        );

        let done = journal(
            Outcome::RollbackFailed,
            None,
            &[("hub-001", FailureKind::CommandFailed, "rollback refused")],
        );
        let Ended::Failed { named, rest } = ended("t1", &done, String::new()) else {
            panic!("a failed rollback is a failure");
        };
        assert!(
            named["hub-001"]
                .1
                .ends_with("; ROLLBACK FAILED: see the journal"),
            "{:?}",
            named["hub-001"]
        );
        // Without a reason, the outcome stands in for it.
        assert!(rest.1.contains("(RollbackFailed)"), "{}", rest.1);

        let done = journal(
            Outcome::Aborted,
            None,
            &[("hub-001", FailureKind::Rejected, "candidate rejected")],
        );
        let Ended::Failed { named, .. } = ended("t1", &done, String::new()) else {
            panic!("an abort is a failure");
        };
        assert!(named["hub-001"].1.ends_with("; nothing changed"));
    }

    #[test]
    fn a_refused_host_key_is_its_own_reason_whatever_the_message_says() {
        let done = journal(
            Outcome::Aborted,
            None,
            &[
                ("hub-001", FailureKind::HostKey, "refused"),
                // The words of a host-key refusal in another kind of failure change nothing.
                (
                    "hub-002",
                    FailureKind::Rejected,
                    "candidate rejected: HOST KEY CHANGED for hub-002",
                ),
            ],
        );
        // As the journal is read back from its file.
        let done = Journal::parse(&serde_json::to_string(&done).unwrap()).unwrap();
        let Ended::Failed { named, .. } = ended("t1", &done, String::new()) else {
            panic!("an abort is a failure");
        };
        assert_eq!(named["hub-001"].0, "HostKeyRefused");
        assert_eq!(named["hub-002"].0, "ApplyFailed");
    }
}
