//! What the operator knows about each Device beyond its spec — the configuration last committed
//! to it, the last failed push, what the last drift audit found — and how that becomes the
//! `Applied` and `Drifted` conditions, `status.applied` and `status.pendingSha256`.
//!
//! The reconcile pass is the only writer of status: pushes (`push.rs`) and audits (`drift.rs`)
//! run beside it, record their results here and wake the pass, which turns them into
//! conditions. So a long transaction never holds up allocation, and two writers never race on
//! the same condition list. On start, what was applied is read back from `status.applied`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ObjectReference;
use kube::Client;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::{Resource, ResourceExt};

use hatang_core::apply::Expectation;
use hatang_core::model::{AcceptedDeviation, Kind};
use hatang_driver::fleet::{self, Endpoint};

use crate::metrics::Metrics;
use crate::policy::{
    self, APPROVE_ANNOTATION, ApplyPolicy, Facts, Failure, POLICY_ANNOTATION, Verdict,
};
use hatang_kube_api::client::api_resource;
use hatang_kube_api::inventory::{ObjKey, Snapshot};
use hatang_kube_api::status::{
    AppliedConfig, Condition, ConditionStatus, ConditionType, HatangStatus,
};

/// How devices are pushed and audited (the `run` flags).
#[derive(Debug, Clone)]
pub struct DeviceSettings {
    /// Policy of Devices without the `hatang.io/apply-policy` annotation.
    pub policy: ApplyPolicy,
    /// Name of the Secret with the SSH login and pinned host keys (operator's namespace).
    pub ssh_secret: String,
    /// Where transactions keep their journals and backups (`<dir>/applies/<id>/`).
    pub state_dir: PathBuf,
    /// Seconds between drift audits; `None` disables them.
    pub audit_every: Option<Duration>,
    /// Limit for connecting, and again for each command, on a device.
    pub ssh_timeout: Duration,
    /// How long a transaction's verification may wait for sessions and routes.
    pub verify_timeout: Duration,
    /// First delay before a failed hash is pushed again (doubled per failure, at most an hour).
    pub backoff: Duration,
    /// Devices worked on at once.
    pub concurrency: usize,
    /// Abort the process after this many commits of a transaction (tests of recovery only:
    /// `HATANG_APPLY_FAIL_AFTER`).
    pub fail_after: Option<usize>,
}

impl Default for DeviceSettings {
    fn default() -> Self {
        DeviceSettings {
            policy: ApplyPolicy::Manual,
            ssh_secret: crate::credentials::DEFAULT_SECRET.to_owned(),
            state_dir: PathBuf::from("/var/lib/hatang"),
            audit_every: Some(Duration::from_secs(300)),
            ssh_timeout: Duration::from_secs(30),
            verify_timeout: Duration::from_secs(60),
            backoff: Duration::from_secs(60),
            concurrency: 32,
            fail_after: None,
        }
    }
}

/// What the last audit of a device found, against the applied configuration `sha256`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// Running = applied (deviations the spec accepts aside).
    InSync {
        /// The configuration compared with.
        sha256: String,
        /// Detail (accepted deviations, or the transaction that verified it).
        message: String,
    },
    /// Deviations nobody accepted.
    Drifted {
        /// The configuration compared with.
        sha256: String,
        /// Counts and the first deviations.
        message: String,
        /// Every deviation, to tell a new drift from the same one seen again.
        signature: String,
    },
    /// Could not be audited.
    Unknown {
        /// The configuration it would have been compared with.
        sha256: String,
        /// `Unreachable`, `HostKeyRefused`, `NoCredentials`.
        reason: &'static str,
        /// Why, naming the device.
        message: String,
    },
}

impl Drift {
    fn sha256(&self) -> &str {
        match self {
            Drift::InSync { sha256, .. }
            | Drift::Drifted { sha256, .. }
            | Drift::Unknown { sha256, .. } => sha256,
        }
    }
}

/// One device's record.
#[derive(Debug, Clone, Default)]
pub struct DeviceState {
    /// Last committed configuration.
    pub applied: Option<AppliedConfig>,
    /// Last failed push.
    pub failure: Option<Failure>,
    /// Last audit.
    pub drift: Option<Drift>,
    /// A transaction with this device is running.
    pub in_flight: bool,
    /// The stale approval a Warning was sent about (once per value).
    pub stale_warned: Option<String>,
    /// The drift signature a Warning was sent about (once per new drift).
    pub drift_warned: Option<String>,
}

/// A device due for a push, with what the transaction needs.
#[derive(Debug, Clone)]
pub struct DuePush {
    /// Device name.
    pub device: String,
    /// Hash of `candidate`'s rendering.
    pub sha256: String,
    /// `frr.conf` as rendered.
    pub candidate: String,
    /// Sessions and routes verification waits for.
    pub expect: Expectation,
    /// Where and how it is reached.
    pub endpoint: Endpoint,
    /// Pushed on the approval annotation (removed once committed).
    pub approved: bool,
    /// For events.
    pub reference: ObjectReference,
}

/// A device to audit: applied and current.
#[derive(Debug, Clone)]
pub struct AuditItem {
    /// Device name.
    pub device: String,
    /// The applied (= rendered) hash.
    pub sha256: String,
    /// `frr.conf` as rendered.
    pub candidate: String,
    /// `spec.acceptedDeviations`.
    pub accepted: Vec<AcceptedDeviation>,
    /// Where and how it is reached.
    pub endpoint: Endpoint,
    /// For events.
    pub reference: ObjectReference,
}

/// What a pass found to do.
#[derive(Debug, Default)]
struct Work {
    push: Vec<DuePush>,
    audit: Vec<AuditItem>,
}

/// A rendered device, as the pass hands it over.
pub struct RenderedDevice<'a> {
    /// Hash of every file.
    pub sha256: &'a str,
    /// `frr.conf`, if rendered.
    pub candidate: Option<&'a str>,
    /// What verification waits for.
    pub expect: Option<&'a Expectation>,
}

/// The devices' side of the operator: state, pending work, and the lock that keeps pushes and
/// audits from overlapping on the devices.
pub struct Devices {
    pub(crate) client: Client,
    pub(crate) namespace: String,
    pub(crate) identity: String,
    pub(crate) settings: DeviceSettings,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) recorder: Recorder,
    pub(crate) state: Mutex<BTreeMap<String, DeviceState>>,
    work: Mutex<Work>,
    /// Held by a transaction or an audit: one of them at a time touches devices.
    pub(crate) busy: tokio::sync::Mutex<()>,
    /// Set on shutdown: no new transaction starts.
    stopping: std::sync::atomic::AtomicBool,
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

impl Devices {
    /// The devices' side, with nothing known yet.
    pub fn new(
        client: Client,
        namespace: String,
        identity: String,
        settings: DeviceSettings,
        metrics: Arc<Metrics>,
        recorder: Recorder,
    ) -> Self {
        Devices {
            client,
            namespace,
            identity,
            settings,
            metrics,
            recorder,
            state: Mutex::new(BTreeMap::new()),
            work: Mutex::new(Work::default()),
            busy: tokio::sync::Mutex::new(()),
            stopping: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// For a graceful shutdown: starts no new transaction, and returns once the transaction or
    /// audit under way (if any) has ended — a push is never cut off between commit and verify.
    pub async fn drain(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let _idle = self.busy.lock().await;
    }

    /// Sets `Applied`, `Drifted`, `applied` and `pendingSha256` on every Device's desired
    /// status, and records what is due for a push and what to audit. Returns the events to
    /// publish (stale approvals, once per value).
    pub fn plan(
        &self,
        snap: &Snapshot,
        rendered: &BTreeMap<String, RenderedDevice<'_>>,
        statuses: &mut BTreeMap<ObjKey, HatangStatus>,
    ) -> Vec<(ObjectReference, Event)> {
        let now = Instant::now();
        let specs: BTreeMap<&str, _> = snap
            .inventory
            .devices
            .iter()
            .map(|d| (d.name(), &d.spec))
            .collect();
        let mut work = Work::default();
        let mut events = Vec::new();
        let mut state = self.state.lock().expect("device state");
        for (key, status) in statuses.iter_mut() {
            if key.kind != Kind::Device {
                continue;
            }
            let name = key.name.as_str();
            let o = &snap.objects[key];
            let generation = o.metadata.generation;
            let reference = o.object_ref(&api_resource(Kind::Device));
            let annotations = o.annotations();
            let s = state.entry(name.to_owned()).or_default();
            // After a restart, what was applied is what the status says.
            if s.applied.is_none() {
                s.applied = status.applied.clone();
            }
            status.applied = s.applied.clone();
            let (Some(r), Some(spec)) = (rendered.get(name), specs.get(name)) else {
                status.pending_sha256 = None;
                status.set(Condition::observed(
                    ConditionType::Applied,
                    ConditionStatus::Unknown,
                    "NotRendered",
                    "nothing to apply: see the Rendered condition".to_owned(),
                    generation,
                ));
                continue;
            };
            let (policy, policy_note) = match annotations.get(POLICY_ANNOTATION) {
                None => (self.settings.policy, String::new()),
                Some(v) => match ApplyPolicy::parse(v) {
                    Some(p) => (p, String::new()),
                    None => (
                        ApplyPolicy::Manual,
                        format!(
                            " ({POLICY_ANNOTATION}: `{v}` is neither `manual` nor `auto`: treated as manual)"
                        ),
                    ),
                },
            };
            let endpoint = fleet::endpoint(name, spec.platform, Some(spec), None);
            let applied_sha = s.applied.as_ref().map(|a| a.sha256.as_str());
            let drift = s.drift.as_ref().filter(|d| Some(d.sha256()) == applied_sha);
            let drifted = matches!(drift, Some(Drift::Drifted { .. }));
            let approval = annotations.get(APPROVE_ANNOTATION).map(String::as_str);
            let verdict = policy::decide(
                &Facts {
                    policy,
                    rendered: r.sha256,
                    applied: applied_sha,
                    approval,
                    drifted,
                    failure: s.failure.as_ref(),
                    in_flight: s.in_flight,
                },
                now,
            );
            status.pending_sha256 = match verdict {
                Verdict::UpToDate => None,
                _ if applied_sha == Some(r.sha256) => None,
                _ => Some(r.sha256.to_owned()),
            };
            let approve_hint = format!(
                "approve with `kubectl annotate device {name} {APPROVE_ANNOTATION}={}`",
                r.sha256
            );
            use ConditionStatus::{False, True, Unknown};
            let (st, reason, message) = match (&endpoint, &verdict) {
                (Err(why), _) => (False, "NotApplicable", why.to_string()),
                (Ok(_), Verdict::UpToDate) => match &s.applied {
                    Some(a) if a.sha256 == r.sha256 => (
                        True,
                        "Applied",
                        format!(
                            "{} applied at {} by transaction {}",
                            short(&a.sha256),
                            a.at,
                            a.apply_id
                        ),
                    ),
                    _ => (Unknown, "Unknown", String::new()),
                },
                (Ok(_), Verdict::Applying) => (
                    False,
                    "Applying",
                    format!("a transaction is pushing {}", short(r.sha256)),
                ),
                (Ok(_), Verdict::Push { approved }) => (
                    False,
                    "Pending",
                    format!(
                        "{} is queued for the next transaction ({})",
                        short(r.sha256),
                        if *approved { "approved" } else { "policy auto" }
                    ),
                ),
                (Ok(_), Verdict::AwaitingApproval) => (
                    False,
                    "AwaitingApproval",
                    format!(
                        "policy manual: {} is rendered, not applied; {approve_hint}{policy_note}",
                        short(r.sha256)
                    ),
                ),
                (Ok(_), Verdict::StaleApproval { approved }) => {
                    let message = format!(
                        "the approval names {approved}, but the rendered configuration is now {}: nothing pushed; {approve_hint}",
                        r.sha256
                    );
                    if s.stale_warned.as_deref() != Some(approved.as_str()) {
                        s.stale_warned = Some(approved.clone());
                        events.push((
                            reference.clone(),
                            Event {
                                type_: EventType::Warning,
                                reason: "StaleApproval".into(),
                                note: Some(message.clone()),
                                action: "Apply".into(),
                                secondary: None,
                            },
                        ));
                    }
                    (False, "StaleApproval", message)
                }
                (Ok(_), Verdict::BackingOff) => {
                    let f = s.failure.as_ref().expect("backing off after a failure");
                    (
                        False,
                        f.reason,
                        format!(
                            "{} (attempt {}; pushed again after {}, or at once when the rendering changes)",
                            f.message, f.attempts, f.retry_after
                        ),
                    )
                }
            };
            status.set(Condition::observed(
                ConditionType::Applied,
                st,
                reason,
                message,
                generation,
            ));

            // Drifted: only for a device something was applied to.
            if let Some(a) = &s.applied {
                let (st, reason, message) = match drift {
                    Some(Drift::InSync { message, .. }) => (False, "InSync", message.clone()),
                    Some(Drift::Drifted { message, .. }) => (True, "Drifted", message.clone()),
                    Some(Drift::Unknown {
                        reason, message, ..
                    }) => (Unknown, *reason, message.clone()),
                    None => (
                        Unknown,
                        "NotAudited",
                        format!("not audited since {} was applied", short(&a.sha256)),
                    ),
                };
                status.set(Condition::observed(
                    ConditionType::Drifted,
                    st,
                    reason,
                    message,
                    generation,
                ));
            }

            let Ok(endpoint) = endpoint else { continue };
            let Some(candidate) = r.candidate else {
                continue;
            };
            if let Verdict::Push { approved } = verdict {
                work.push.push(DuePush {
                    device: name.to_owned(),
                    sha256: r.sha256.to_owned(),
                    candidate: candidate.to_owned(),
                    expect: r.expect.cloned().unwrap_or(Expectation {
                        sessions: vec![],
                        routes: vec![],
                    }),
                    endpoint: endpoint.clone(),
                    approved,
                    reference: reference.clone(),
                });
            }
            if applied_sha == Some(r.sha256) && !s.in_flight {
                work.audit.push(AuditItem {
                    device: name.to_owned(),
                    sha256: r.sha256.to_owned(),
                    candidate: candidate.to_owned(),
                    accepted: spec.accepted_deviations.clone(),
                    endpoint,
                    reference,
                });
            }
        }
        let drifted = state
            .values()
            .filter(|s| {
                matches!(&s.drift, Some(Drift::Drifted { sha256, .. })
                    if s.applied.as_ref().is_some_and(|a| &a.sha256 == sha256))
            })
            .count();
        self.metrics
            .devices_drifted
            .store(drifted as u64, std::sync::atomic::Ordering::Relaxed);
        *self.work.lock().expect("work") = work;
        events
    }

    /// The devices due for a push, marked in flight — or nothing when none is due or a
    /// transaction is already running (the next pass after it asks again).
    pub fn take_due(&self) -> Option<Vec<DuePush>> {
        if self.stopping.load(std::sync::atomic::Ordering::SeqCst) {
            return None;
        }
        let mut state = self.state.lock().expect("device state");
        if state.values().any(|s| s.in_flight) {
            return None;
        }
        let due = std::mem::take(&mut self.work.lock().expect("work").push);
        if due.is_empty() {
            return None;
        }
        for d in &due {
            state.entry(d.device.clone()).or_default().in_flight = true;
        }
        Some(due)
    }

    /// The devices to audit, as the last pass saw them.
    pub(crate) fn audit_items(&self) -> Vec<AuditItem> {
        self.work.lock().expect("work").audit.clone()
    }

    /// Publishes events, logging (not failing) when the API refuses.
    pub(crate) async fn publish(&self, events: Vec<(ObjectReference, Event)>) {
        for (reference, ev) in events {
            if let Err(e) = self.recorder.publish(&ev, &reference).await {
                tracing::warn!(error = %e, reason = %ev.reason, "could not publish event");
            }
        }
    }
}
