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

/// How devices are pushed and audited (the `run` flags). The defaults are the associated
/// constants, which the flags' defaults name too: one source for both.
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
    /// `HATANG_APPLY_FAIL_AFTER`, read only by builds with the `fault-injection` feature).
    #[cfg(feature = "fault-injection")]
    pub fail_after: Option<usize>,
}

impl DeviceSettings {
    /// Default of `--state-dir`.
    pub const STATE_DIR: &'static str = "/var/lib/hatang";
    /// Default of `--audit-seconds`.
    pub const AUDIT_SECONDS: u64 = 300;
    /// Default of `--ssh-timeout` (seconds).
    pub const SSH_TIMEOUT_SECONDS: u64 = 30;
    /// Default of `--verify-timeout` (seconds).
    pub const VERIFY_TIMEOUT_SECONDS: u64 = 60;
    /// Default of `--apply-backoff-seconds`.
    pub const BACKOFF_SECONDS: u64 = 60;
    /// Default of `--concurrency`.
    pub const CONCURRENCY: usize = 32;
}

impl Default for DeviceSettings {
    fn default() -> Self {
        DeviceSettings {
            policy: ApplyPolicy::default(),
            ssh_secret: crate::credentials::DEFAULT_SECRET.to_owned(),
            state_dir: PathBuf::from(Self::STATE_DIR),
            audit_every: Some(Duration::from_secs(Self::AUDIT_SECONDS)),
            ssh_timeout: Duration::from_secs(Self::SSH_TIMEOUT_SECONDS),
            verify_timeout: Duration::from_secs(Self::VERIFY_TIMEOUT_SECONDS),
            backoff: Duration::from_secs(Self::BACKOFF_SECONDS),
            concurrency: Self::CONCURRENCY,
            #[cfg(feature = "fault-injection")]
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
#[derive(Debug)]
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
    /// Set when a transaction ended owing work (a failed rollback, an unfinished save): the
    /// next pass recovers before any push.
    pub(crate) owes: std::sync::atomic::AtomicBool,
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

/// An event about one Device, before it is published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceEvent {
    /// Warning, else Normal.
    pub warning: bool,
    /// CamelCase reason (`StaleApproval`, `Applied`, `ApplyFailed`, `Drifted`).
    pub reason: &'static str,
    /// What happened, for people.
    pub note: String,
    /// What the operator was doing (`Apply`, `Audit`).
    pub action: &'static str,
}

impl DeviceEvent {
    /// As the event recorder takes it.
    fn event(&self) -> Event {
        Event {
            type_: if self.warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: self.reason.into(),
            note: Some(self.note.clone()),
            action: self.action.into(),
            secondary: None,
        }
    }
}

/// What a pass knows about one Device, besides its record.
#[derive(Debug, Clone, Copy)]
pub struct DeviceFacts<'a> {
    /// Its name.
    pub name: &'a str,
    /// What it renders to now; `None` when it is not rendered (or its spec did not decode).
    pub rendered: Option<&'a RenderedDevice<'a>>,
    /// Why it cannot be pushed or audited (no adapter for its platform, no management address).
    pub not_applicable: Option<&'a str>,
    /// The estate's policy (`--apply-policy`).
    pub policy: ApplyPolicy,
    /// The `hatang.io/apply-policy` annotation, if set.
    pub policy_annotation: Option<&'a str>,
    /// The `hatang.io/approve` annotation, if set.
    pub approval: Option<&'a str>,
}

/// A condition's status, reason and message, before it is stamped with a time and generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// True, False or Unknown.
    pub status: ConditionStatus,
    /// CamelCase reason.
    pub reason: &'static str,
    /// For people.
    pub message: String,
}

impl Observation {
    fn new(status: ConditionStatus, reason: &'static str, message: String) -> Observation {
        Observation {
            status,
            reason,
            message,
        }
    }

    /// The condition of `type_`, observed now from `generation`.
    fn condition(self, type_: ConditionType, generation: Option<i64>) -> Condition {
        Condition::observed(type_, self.status, self.reason, self.message, generation)
    }
}

/// Why a Device is pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The approval annotation names the rendered hash (removed once committed).
    Approval,
    /// Policy `auto`.
    Policy,
}

/// A Warning about an approval naming another hash, sent once per approved value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleWarning {
    /// The hash approved (remembered, so the same value is not warned about again).
    pub approved: String,
    /// The event.
    pub event: DeviceEvent,
}

/// What the pass does about one Device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceDecision {
    /// The `Applied` condition.
    pub applied: Observation,
    /// The `Drifted` condition; `None` leaves it as it is (nothing applied yet, or not rendered).
    pub drifted: Option<Observation>,
    /// `status.pendingSha256`.
    pub pending_sha256: Option<String>,
    /// Push it in the next transaction, and why.
    pub push: Option<Trigger>,
    /// Audit it: it runs (as far as the operator knows) what is rendered.
    pub audit: bool,
    /// A Warning to send about a stale approval.
    pub stale_warning: Option<StaleWarning>,
}

/// The policy a Device follows, and a note for its condition when the annotation names none.
fn policy_of(annotation: Option<&str>, estate: ApplyPolicy) -> (ApplyPolicy, String) {
    match annotation {
        None => (estate, String::new()),
        Some(v) => match ApplyPolicy::parse(v) {
            Some(p) => (p, String::new()),
            None => (
                ApplyPolicy::Manual,
                format!(
                    " ({POLICY_ANNOTATION}: `{v}` is neither `manual` nor `auto`: treated as manual)"
                ),
            ),
        },
    }
}

/// Everything the pass does about one Device, from its facts and its record as of `now`: the
/// policy's verdict (`policy::decide`) turned into conditions, `pendingSha256`, work and events.
/// Pure, so every branch is tested below; [`Devices::plan`] only carries it out.
pub fn decide(f: &DeviceFacts<'_>, record: &DeviceState, now: Instant) -> DeviceDecision {
    let Some(r) = f.rendered else {
        return DeviceDecision {
            applied: Observation::new(
                ConditionStatus::Unknown,
                "NotRendered",
                "nothing to apply: see the Rendered condition".to_owned(),
            ),
            drifted: None,
            pending_sha256: None,
            push: None,
            audit: false,
            stale_warning: None,
        };
    };
    let (policy, policy_note) = policy_of(f.policy_annotation, f.policy);
    let applied_sha = record.applied.as_ref().map(|a| a.sha256.as_str());
    // An audit of an older configuration says nothing about this one.
    let drift = record
        .drift
        .as_ref()
        .filter(|d| Some(d.sha256()) == applied_sha);
    let verdict = policy::decide(
        &Facts {
            policy,
            rendered: r.sha256,
            applied: applied_sha,
            approval: f.approval,
            drifted: matches!(drift, Some(Drift::Drifted { .. })),
            failure: record.failure.as_ref(),
            in_flight: record.in_flight,
        },
        now,
    );
    let current = applied_sha == Some(r.sha256);
    let pending_sha256 = match verdict {
        Verdict::UpToDate => None,
        _ if current => None,
        _ => Some(r.sha256.to_owned()),
    };
    let applied = match f.not_applicable {
        Some(why) => Observation::new(ConditionStatus::False, "NotApplicable", why.to_owned()),
        None => applied_observation(f.name, r.sha256, &verdict, record, &policy_note),
    };
    let stale_warning = match &verdict {
        Verdict::StaleApproval { approved }
            if f.not_applicable.is_none()
                && record.stale_warned.as_deref() != Some(approved.as_str()) =>
        {
            Some(StaleWarning {
                approved: approved.clone(),
                event: DeviceEvent {
                    warning: true,
                    reason: "StaleApproval",
                    note: applied.message.clone(),
                    action: "Apply",
                },
            })
        }
        _ => None,
    };
    // Only a device with an address and a configuration to send is worked on.
    let workable = f.not_applicable.is_none() && r.candidate.is_some();
    let push = match verdict {
        Verdict::Push { approved: true } if workable => Some(Trigger::Approval),
        Verdict::Push { approved: false } if workable => Some(Trigger::Policy),
        _ => None,
    };
    DeviceDecision {
        applied,
        drifted: record
            .applied
            .as_ref()
            .map(|a| drifted_observation(a, drift)),
        pending_sha256,
        push,
        audit: workable && current && !record.in_flight,
        stale_warning,
    }
}

/// The `Applied` condition of a reachable Device rendered to `rendered`, given the verdict.
fn applied_observation(
    name: &str,
    rendered: &str,
    verdict: &Verdict,
    record: &DeviceState,
    policy_note: &str,
) -> Observation {
    use ConditionStatus::{False, True, Unknown};
    let approve_hint =
        format!("approve with `kubectl annotate device {name} {APPROVE_ANNOTATION}={rendered}`");
    match verdict {
        Verdict::UpToDate => match &record.applied {
            Some(a) if a.sha256 == rendered => Observation::new(
                True,
                "Applied",
                format!(
                    "{} applied at {} by transaction {}",
                    short(&a.sha256),
                    a.at,
                    a.apply_id
                ),
            ),
            _ => Observation::new(Unknown, "Unknown", String::new()),
        },
        Verdict::Applying => Observation::new(
            False,
            "Applying",
            format!("a transaction is pushing {}", short(rendered)),
        ),
        Verdict::Push { approved } => Observation::new(
            False,
            "Pending",
            format!(
                "{} is queued for the next transaction ({})",
                short(rendered),
                if *approved { "approved" } else { "policy auto" }
            ),
        ),
        Verdict::AwaitingApproval => Observation::new(
            False,
            "AwaitingApproval",
            format!(
                "policy manual: {} is rendered, not applied; {approve_hint}{policy_note}",
                short(rendered)
            ),
        ),
        Verdict::StaleApproval { approved } => Observation::new(
            False,
            "StaleApproval",
            format!(
                "the approval names {approved}, but the rendered configuration is now {rendered}: nothing pushed; {approve_hint}"
            ),
        ),
        Verdict::BackingOff => {
            let f = record
                .failure
                .as_ref()
                .expect("backing off after a failure");
            Observation::new(
                False,
                f.reason,
                format!(
                    "{} (attempt {}; pushed again after {}, or at once when the rendering changes)",
                    f.message, f.attempts, f.retry_after
                ),
            )
        }
    }
}

/// The `Drifted` condition of a Device `applied` was committed to, from the last audit of it.
fn drifted_observation(applied: &AppliedConfig, drift: Option<&Drift>) -> Observation {
    use ConditionStatus::{False, True, Unknown};
    match drift {
        Some(Drift::InSync { message, .. }) => Observation::new(False, "InSync", message.clone()),
        Some(Drift::Drifted { message, .. }) => Observation::new(True, "Drifted", message.clone()),
        Some(Drift::Unknown {
            reason, message, ..
        }) => Observation::new(Unknown, reason, message.clone()),
        None => Observation::new(
            Unknown,
            "NotAudited",
            format!("not audited since {} was applied", short(&applied.sha256)),
        ),
    }
}

/// Devices whose last audit found the applied configuration drifted (the metric).
fn drifted_devices(state: &BTreeMap<String, DeviceState>) -> usize {
    state
        .values()
        .filter(|s| {
            matches!(&s.drift, Some(Drift::Drifted { sha256, .. })
                if s.applied.as_ref().is_some_and(|a| &a.sha256 == sha256))
        })
        .count()
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
            owes: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Whether a transaction of this process ended owing work, so recovery must run again
    /// before the next push.
    pub fn owes_recovery(&self) -> bool {
        self.owes.load(std::sync::atomic::Ordering::SeqCst)
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
    /// publish (stale approvals, once per value). What to do is [`decide`]d per device; this
    /// gathers its facts and carries the decision out.
    pub fn plan(
        &self,
        snap: &Snapshot,
        rendered: &BTreeMap<String, RenderedDevice<'_>>,
        statuses: &mut BTreeMap<ObjKey, HatangStatus>,
    ) -> Vec<(ObjectReference, DeviceEvent)> {
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
            let annotations = o.annotations();
            let s = state.entry(name.to_owned()).or_default();
            // After a restart, what was applied is what the status says.
            if s.applied.is_none() {
                s.applied = status.applied.clone();
            }
            status.applied = s.applied.clone();
            let spec = specs.get(name).copied();
            let endpoint = spec.map(|spec| fleet::endpoint(name, spec.platform, Some(spec), None));
            let r = rendered.get(name).filter(|_| spec.is_some());
            let not_applicable = match &endpoint {
                Some(Err(why)) => Some(why.to_string()),
                _ => None,
            };
            let facts = DeviceFacts {
                name,
                rendered: r,
                not_applicable: not_applicable.as_deref(),
                policy: self.settings.policy,
                policy_annotation: annotations.get(POLICY_ANNOTATION).map(String::as_str),
                approval: annotations.get(APPROVE_ANNOTATION).map(String::as_str),
            };
            let decision = decide(&facts, s, now);

            let generation = o.metadata.generation;
            status.pending_sha256 = decision.pending_sha256;
            status.set(
                decision
                    .applied
                    .condition(ConditionType::Applied, generation),
            );
            if let Some(drifted) = decision.drifted {
                status.set(drifted.condition(ConditionType::Drifted, generation));
            }
            let reference = o.object_ref(&api_resource(Kind::Device));
            if let Some(warning) = decision.stale_warning {
                s.stale_warned = Some(warning.approved);
                events.push((reference.clone(), warning.event));
            }

            let (Some(r), Some(spec), Some(Ok(endpoint))) = (r, spec, endpoint) else {
                continue;
            };
            let Some(candidate) = r.candidate else {
                continue;
            };
            if let Some(trigger) = decision.push {
                work.push.push(DuePush {
                    device: name.to_owned(),
                    sha256: r.sha256.to_owned(),
                    candidate: candidate.to_owned(),
                    expect: r.expect.cloned().unwrap_or(Expectation {
                        sessions: vec![],
                        routes: vec![],
                    }),
                    endpoint: endpoint.clone(),
                    approved: trigger == Trigger::Approval,
                    reference: reference.clone(),
                });
            }
            if decision.audit {
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
        self.metrics.devices_drifted.store(
            drifted_devices(&state) as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
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
    pub(crate) async fn publish(&self, events: Vec<(ObjectReference, DeviceEvent)>) {
        for (reference, ev) in events {
            if let Err(e) = self.recorder.publish(&ev.event(), &reference).await {
                tracing::warn!(error = %e, reason = ev.reason, object = reference.name.as_deref().unwrap_or(""), "could not publish event");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConditionStatus::{False, True, Unknown};

    const NEW: &str = "0123456789abcdef-new";
    const OLD: &str = "fedcba9876543210-old";

    fn rendering(sha256: &str) -> RenderedDevice<'_> {
        RenderedDevice {
            sha256,
            candidate: Some("router bgp 4200000001\n"),
            expect: None,
        }
    }

    fn facts<'a>(r: &'a RenderedDevice<'a>, policy: ApplyPolicy) -> DeviceFacts<'a> {
        DeviceFacts {
            name: "hub-001",
            rendered: Some(r),
            not_applicable: None,
            policy,
            policy_annotation: None,
            approval: None,
        }
    }

    fn applied(sha256: &str) -> DeviceState {
        DeviceState {
            applied: Some(AppliedConfig {
                sha256: sha256.to_owned(),
                at: "2026-11-23T10:00:00Z".to_owned(),
                apply_id: "20261123T100000.000Z-7".to_owned(),
            }),
            ..DeviceState::default()
        }
    }

    fn failed(sha256: &str, now: Instant) -> Failure {
        Failure {
            sha256: sha256.to_owned(),
            reason: "HostKeyRefused",
            message: "hub-001: host key refused".to_owned(),
            attempts: 2,
            retry_at: now + Duration::from_secs(120),
            retry_after: "2026-11-23T10:02:00Z".to_owned(),
        }
    }

    fn reason(d: &DeviceDecision) -> (ConditionStatus, &'static str) {
        (d.applied.status, d.applied.reason)
    }

    #[test]
    fn a_device_not_rendered_is_left_alone() {
        let now = Instant::now();
        let r = rendering(NEW);
        let mut f = facts(&r, ApplyPolicy::Auto);
        f.rendered = None;
        let d = decide(&f, &applied(OLD), now);
        assert_eq!(reason(&d), (Unknown, "NotRendered"));
        assert_eq!(d.pending_sha256, None);
        // Its Drifted condition stays as the last pass left it.
        assert_eq!(d.drifted, None);
        assert_eq!((d.push, d.audit), (None, false));
    }

    #[test]
    fn a_device_without_an_address_is_neither_pushed_audited_nor_warned_about() {
        let now = Instant::now();
        let r = rendering(NEW);
        let mut f = facts(&r, ApplyPolicy::Auto);
        f.not_applicable = Some("device `hub-001` has no spec.management");
        let d = decide(&f, &DeviceState::default(), now);
        assert_eq!(reason(&d), (False, "NotApplicable"));
        assert_eq!(d.applied.message, "device `hub-001` has no spec.management");
        assert_eq!(d.pending_sha256.as_deref(), Some(NEW));
        assert_eq!((d.push, d.audit), (None, false));

        f.policy = ApplyPolicy::Manual;
        f.approval = Some(OLD);
        let d = decide(&f, &applied(OLD), now);
        assert_eq!(reason(&d), (False, "NotApplicable"));
        assert_eq!(d.stale_warning, None);
        assert_eq!(d.drifted.map(|o| o.reason), Some("NotAudited"));
        // Even running what is rendered, it is not audited.
        assert!(!decide(&f, &applied(NEW), now).audit);
    }

    #[test]
    fn a_device_running_its_rendering_is_applied_and_audited() {
        let now = Instant::now();
        let r = rendering(NEW);
        let d = decide(&facts(&r, ApplyPolicy::Manual), &applied(NEW), now);
        assert_eq!(reason(&d), (True, "Applied"));
        assert_eq!(
            d.applied.message,
            "0123456789ab applied at 2026-11-23T10:00:00Z by transaction 20261123T100000.000Z-7"
        );
        assert_eq!(d.pending_sha256, None);
        assert_eq!((d.push, d.audit), (None, true));
        let drifted = d.drifted.unwrap();
        assert_eq!((drifted.status, drifted.reason), (Unknown, "NotAudited"));
        assert_eq!(
            drifted.message,
            "not audited since 0123456789ab was applied"
        );
    }

    #[test]
    fn a_device_in_a_running_transaction_is_applying_and_not_audited() {
        let now = Instant::now();
        let r = rendering(NEW);
        let mut s = applied(NEW);
        s.in_flight = true;
        let d = decide(&facts(&r, ApplyPolicy::Auto), &s, now);
        assert_eq!(reason(&d), (False, "Applying"));
        assert_eq!(d.applied.message, "a transaction is pushing 0123456789ab");
        // It was pushed its rendered hash already: nothing is pending.
        assert_eq!(d.pending_sha256, None);
        assert_eq!((d.push, d.audit), (None, false));

        let mut s = applied(OLD);
        s.in_flight = true;
        let d = decide(&facts(&r, ApplyPolicy::Auto), &s, now);
        assert_eq!(d.pending_sha256.as_deref(), Some(NEW));
    }

    #[test]
    fn auto_queues_a_new_rendering_and_an_approval_queues_it_in_either_policy() {
        let now = Instant::now();
        let r = rendering(NEW);
        let d = decide(&facts(&r, ApplyPolicy::Auto), &applied(OLD), now);
        assert_eq!(reason(&d), (False, "Pending"));
        assert_eq!(
            d.applied.message,
            "0123456789ab is queued for the next transaction (policy auto)"
        );
        assert_eq!(d.push, Some(Trigger::Policy));
        assert_eq!(d.pending_sha256.as_deref(), Some(NEW));
        // What runs is not what is rendered: no audit.
        assert!(!d.audit);

        let mut f = facts(&r, ApplyPolicy::Manual);
        f.approval = Some(" 0123456789abcdef-new ");
        let d = decide(&f, &DeviceState::default(), now);
        assert_eq!(d.push, Some(Trigger::Approval));
        assert!(
            d.applied.message.ends_with("(approved)"),
            "{}",
            d.applied.message
        );
        // Nothing applied yet: no Drifted condition.
        assert_eq!(d.drifted, None);
    }

    #[test]
    fn a_rendering_without_frr_conf_is_never_queued() {
        let now = Instant::now();
        let r = RenderedDevice {
            candidate: None,
            ..rendering(NEW)
        };
        let d = decide(&facts(&r, ApplyPolicy::Auto), &applied(OLD), now);
        assert_eq!(reason(&d), (False, "Pending"));
        assert_eq!(d.push, None);
        let d = decide(&facts(&r, ApplyPolicy::Auto), &applied(NEW), now);
        assert!(!d.audit);
    }

    #[test]
    fn manual_waits_with_a_hint_and_names_a_policy_it_cannot_read() {
        let now = Instant::now();
        let r = rendering(NEW);
        let d = decide(&facts(&r, ApplyPolicy::Manual), &applied(OLD), now);
        assert_eq!(reason(&d), (False, "AwaitingApproval"));
        assert_eq!(
            d.applied.message,
            "policy manual: 0123456789ab is rendered, not applied; approve with \
             `kubectl annotate device hub-001 hatang.io/approve=0123456789abcdef-new`"
        );
        assert_eq!((d.push, d.pending_sha256.as_deref()), (None, Some(NEW)));

        // An annotation naming no policy is manual, whatever the estate's.
        let mut f = facts(&r, ApplyPolicy::Auto);
        f.policy_annotation = Some("yes");
        let d = decide(&f, &applied(OLD), now);
        assert_eq!(reason(&d), (False, "AwaitingApproval"));
        assert!(
            d.applied.message.ends_with(
                " (hatang.io/apply-policy: `yes` is neither `manual` nor `auto`: treated as manual)"
            ),
            "{}",
            d.applied.message
        );
        // And a valid one overrides the estate's.
        f.policy_annotation = Some("auto");
        f.policy = ApplyPolicy::Manual;
        assert_eq!(decide(&f, &applied(OLD), now).push, Some(Trigger::Policy));
    }

    #[test]
    fn a_stale_approval_is_warned_about_once_per_value() {
        let now = Instant::now();
        let r = rendering(NEW);
        let mut f = facts(&r, ApplyPolicy::Manual);
        f.approval = Some(OLD);
        let mut s = applied(OLD);
        let d = decide(&f, &s, now);
        assert_eq!(reason(&d), (False, "StaleApproval"));
        assert!(
            d.applied.message.starts_with(
                "the approval names fedcba9876543210-old, but the rendered configuration is now \
                 0123456789abcdef-new: nothing pushed; approve with"
            ),
            "{}",
            d.applied.message
        );
        assert_eq!(d.push, None);
        let warning = d.stale_warning.expect("a first warning");
        assert_eq!(warning.approved, OLD);
        assert_eq!(
            (
                warning.event.warning,
                warning.event.reason,
                warning.event.action
            ),
            (true, "StaleApproval", "Apply")
        );
        assert_eq!(warning.event.note, d.applied.message);

        s.stale_warned = Some(OLD.to_owned());
        assert_eq!(decide(&f, &s, now).stale_warning, None);
        // Another stale value is news again.
        f.approval = Some("another");
        assert_eq!(
            decide(&f, &s, now).stale_warning.map(|w| w.approved),
            Some("another".to_owned())
        );
    }

    #[test]
    fn a_failed_hash_backs_off_with_the_failure_as_the_reason() {
        let now = Instant::now();
        let r = rendering(NEW);
        let mut s = applied(OLD);
        s.failure = Some(failed(NEW, now));
        let d = decide(&facts(&r, ApplyPolicy::Auto), &s, now);
        assert_eq!(reason(&d), (False, "HostKeyRefused"));
        assert_eq!(
            d.applied.message,
            "hub-001: host key refused (attempt 2; pushed again after 2026-11-23T10:02:00Z, or \
             at once when the rendering changes)"
        );
        assert_eq!((d.push, d.pending_sha256.as_deref()), (None, Some(NEW)));
        // Once the back-off has passed, it is queued again.
        let later = decide(
            &facts(&r, ApplyPolicy::Auto),
            &s,
            now + Duration::from_secs(121),
        );
        assert_eq!(later.push, Some(Trigger::Policy));
    }

    #[test]
    fn drifted_follows_the_last_audit_of_what_is_applied() {
        let now = Instant::now();
        let r = rendering(NEW);
        let f = facts(&r, ApplyPolicy::Manual);
        let mut s = applied(NEW);
        let drifted = |s: &DeviceState| {
            let o = decide(&f, s, now).drifted.unwrap();
            (o.status, o.reason, o.message)
        };
        s.drift = Some(Drift::InSync {
            sha256: NEW.into(),
            message: "verified by transaction t1".into(),
        });
        assert_eq!(
            drifted(&s),
            (False, "InSync", "verified by transaction t1".into())
        );
        s.drift = Some(Drift::Drifted {
            sha256: NEW.into(),
            message: "1 deviation".into(),
            signature: "added: x".into(),
        });
        assert_eq!(drifted(&s), (True, "Drifted", "1 deviation".into()));
        // Drifted and not approved: reported, not pushed over.
        assert_eq!(decide(&f, &s, now).push, None);
        s.drift = Some(Drift::Unknown {
            sha256: NEW.into(),
            reason: "Unreachable",
            message: "hub-001: not audited: timed out".into(),
        });
        assert_eq!(
            drifted(&s),
            (
                Unknown,
                "Unreachable",
                "hub-001: not audited: timed out".into()
            )
        );
        // An audit of what was applied before says nothing about what is applied now.
        s.drift = Some(Drift::Drifted {
            sha256: OLD.into(),
            message: "1 deviation".into(),
            signature: "added: x".into(),
        });
        assert_eq!(drifted(&s).1, "NotAudited");
    }

    #[test]
    fn an_up_to_date_verdict_without_a_matching_record_is_unknown() {
        let d = applied_observation("hub-001", NEW, &Verdict::UpToDate, &applied(OLD), "");
        assert_eq!((d.status, d.reason), (Unknown, "Unknown"));
    }

    #[test]
    fn only_drift_of_the_applied_configuration_counts_in_the_metric() {
        let drift = |sha256: &str| Drift::Drifted {
            sha256: sha256.into(),
            message: String::new(),
            signature: String::new(),
        };
        let mut state = BTreeMap::new();
        let mut s = applied(NEW);
        s.drift = Some(drift(NEW));
        state.insert("a".to_owned(), s.clone());
        s.drift = Some(drift(OLD));
        state.insert("b".to_owned(), s.clone());
        s.drift = Some(Drift::InSync {
            sha256: NEW.into(),
            message: String::new(),
        });
        state.insert("c".to_owned(), s);
        state.insert(
            "d".to_owned(),
            DeviceState {
                drift: Some(drift(NEW)),
                ..DeviceState::default()
            },
        );
        assert_eq!(drifted_devices(&state), 1);
    }

    #[test]
    fn events_keep_their_severity() {
        let e = DeviceEvent {
            warning: false,
            reason: "Applied",
            note: "x committed".into(),
            action: "Apply",
        }
        .event();
        assert_eq!(
            (
                e.type_,
                e.reason.as_str(),
                e.note.as_deref(),
                e.action.as_str()
            ),
            (EventType::Normal, "Applied", Some("x committed"), "Apply")
        );
    }
}
