//! When the operator pushes a Device's rendered configuration: the apply policy (`manual` or
//! `auto`, estate-wide by `--apply-policy`, per Device by the annotation
//! `hatang.io/apply-policy`), approvals (`hatang.io/approve: <sha256>`), and the back-off after a
//! failed push. Pure: decided from what the status, the annotations and the last transaction
//! say, so every rule is unit-tested here and the controller only acts on the verdict.

use std::time::{Duration, Instant};

/// Annotation choosing a Device's policy (`manual` or `auto`); overrides `--apply-policy`.
pub const POLICY_ANNOTATION: &str = "hatang.io/apply-policy";

/// Annotation approving one push of exactly one rendered configuration, named by its SHA-256
/// (`status.rendered.sha256`). The operator removes it once that configuration is committed.
pub const APPROVE_ANNOTATION: &str = "hatang.io/approve";

/// How a Device's rendered configuration reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ApplyPolicy {
    /// Plan only: push a rendered configuration after an approval naming its hash.
    #[default]
    Manual,
    /// Push whenever the rendered configuration differs from the one last applied.
    Auto,
}

impl ApplyPolicy {
    /// The policy an annotation value names.
    pub fn parse(value: &str) -> Option<ApplyPolicy> {
        match value.trim() {
            "manual" => Some(ApplyPolicy::Manual),
            "auto" => Some(ApplyPolicy::Auto),
            _ => None,
        }
    }

    /// As written in annotations and flags.
    pub fn as_str(self) -> &'static str {
        match self {
            ApplyPolicy::Manual => "manual",
            ApplyPolicy::Auto => "auto",
        }
    }
}

/// A push of one hash that failed, and when it may be tried again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The rendered configuration that was pushed.
    pub sha256: String,
    /// Condition reason (`ApplyFailed`, `HostKeyRefused`, `NoCredentials`, `Aborted`).
    pub reason: &'static str,
    /// What went wrong, naming the device (the driver's message).
    pub message: String,
    /// Consecutive failures of this hash.
    pub attempts: u32,
    /// Not tried again before this.
    pub retry_at: Instant,
    /// The same moment on the calendar (RFC 3339), for the condition message: a fixed text, so
    /// a status does not change (and trigger another pass) while it waits.
    pub retry_after: String,
}

/// Longest wait before a failing hash is pushed again.
pub const BACKOFF_MAX: Duration = Duration::from_secs(3600);

/// Delay before the `attempts`-th retry of a failing hash: `base`, doubled per attempt, at most
/// an hour — so a broken configuration costs one transaction per back-off, never a hot loop.
pub fn backoff(base: Duration, attempts: u32) -> Duration {
    doubling(base, attempts, BACKOFF_MAX)
}

/// `base` for the first attempt, doubled for each one after it, never above `cap`.
pub fn doubling(base: Duration, attempts: u32, cap: Duration) -> Duration {
    let factor = 1u32 << attempts.saturating_sub(1).min(16);
    base.saturating_mul(factor).min(cap)
}

/// What a Device is, as far as pushing goes.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// Its policy (annotation, else the estate's).
    pub policy: ApplyPolicy,
    /// Hash of the configuration rendered now.
    pub rendered: &'a str,
    /// Hash last committed to the device, if any.
    pub applied: Option<&'a str>,
    /// The approval annotation's value, if any.
    pub approval: Option<&'a str>,
    /// The last audit found it drifted from the applied configuration.
    pub drifted: bool,
    /// The last failed push (of any hash).
    pub failure: Option<&'a Failure>,
    /// A transaction pushing this device is running.
    pub in_flight: bool,
}

/// What to do with a Device now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It runs what is rendered.
    UpToDate,
    /// Push it in the next transaction (`approved`: because of the approval annotation, which
    /// is removed once committed).
    Push {
        /// Pushed on approval rather than by the `auto` policy.
        approved: bool,
    },
    /// A transaction with it is running.
    Applying,
    /// `manual`, and nobody approved the rendered hash.
    AwaitingApproval,
    /// `manual`, and the approval names another hash: nothing is pushed (an approval never
    /// carries over to a newer configuration).
    StaleApproval {
        /// The hash approved.
        approved: String,
    },
    /// Its last push of this very hash failed; not before `retry_at`.
    BackingOff,
}

/// The rules, in order: a running transaction; an approval of the rendered hash (also to heal
/// drift, in either policy); the back-off of a hash that failed; `auto` pushes a new hash;
/// `manual` waits for an approval of the rendered hash.
pub fn decide(f: &Facts<'_>, now: Instant) -> Verdict {
    if f.in_flight {
        return Verdict::Applying;
    }
    let current = f.applied == Some(f.rendered);
    if current && !f.drifted {
        return Verdict::UpToDate;
    }
    let approved = f.approval.map(str::trim) == Some(f.rendered);
    let backing_off = f
        .failure
        .is_some_and(|x| x.sha256 == f.rendered && now < x.retry_at);
    if backing_off && (approved || (!current && f.policy == ApplyPolicy::Auto)) {
        return Verdict::BackingOff;
    }
    if approved {
        return Verdict::Push { approved: true };
    }
    if current {
        // Drifted, not approved: hand changes are reported, never undone silently.
        return Verdict::UpToDate;
    }
    match (f.policy, f.approval) {
        (ApplyPolicy::Auto, _) => Verdict::Push { approved: false },
        (ApplyPolicy::Manual, Some(a)) => Verdict::StaleApproval {
            approved: a.trim().to_owned(),
        },
        (ApplyPolicy::Manual, None) => Verdict::AwaitingApproval,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(policy: ApplyPolicy, applied: Option<&'a str>) -> Facts<'a> {
        Facts {
            policy,
            rendered: "new",
            applied,
            approval: None,
            drifted: false,
            failure: None,
            in_flight: false,
        }
    }

    #[test]
    fn manual_waits_for_an_approval_of_exactly_the_rendered_hash() {
        let now = Instant::now();
        let mut f = facts(ApplyPolicy::Manual, Some("old"));
        assert_eq!(decide(&f, now), Verdict::AwaitingApproval);
        f.approval = Some("old");
        assert_eq!(
            decide(&f, now),
            Verdict::StaleApproval {
                approved: "old".into()
            }
        );
        f.approval = Some("new");
        assert_eq!(decide(&f, now), Verdict::Push { approved: true });
        f.applied = Some("new");
        assert_eq!(decide(&f, now), Verdict::UpToDate);
    }

    #[test]
    fn auto_pushes_new_hashes_only() {
        let now = Instant::now();
        assert_eq!(
            decide(&facts(ApplyPolicy::Auto, None), now),
            Verdict::Push { approved: false }
        );
        assert_eq!(
            decide(&facts(ApplyPolicy::Auto, Some("new")), now),
            Verdict::UpToDate
        );
        // Drift is reported, not overwritten, unless someone approves the hash again.
        let mut f = facts(ApplyPolicy::Auto, Some("new"));
        f.drifted = true;
        assert_eq!(decide(&f, now), Verdict::UpToDate);
        f.approval = Some("new");
        assert_eq!(decide(&f, now), Verdict::Push { approved: true });
    }

    #[test]
    fn a_failing_hash_backs_off_and_a_new_hash_does_not_wait() {
        let now = Instant::now();
        let failure = Failure {
            sha256: "new".into(),
            reason: "ApplyFailed",
            message: "hub-002: candidate rejected".into(),
            attempts: 1,
            retry_at: now + Duration::from_secs(60),
            retry_after: "2026-11-24T00:01:00Z".into(),
        };
        let mut f = facts(ApplyPolicy::Auto, Some("old"));
        f.failure = Some(&failure);
        assert_eq!(decide(&f, now), Verdict::BackingOff);
        assert_eq!(
            decide(&f, now + Duration::from_secs(61)),
            Verdict::Push { approved: false }
        );
        f.rendered = "newer";
        assert_eq!(decide(&f, now), Verdict::Push { approved: false });
        f.in_flight = true;
        assert_eq!(decide(&f, now), Verdict::Applying);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_secs(30);
        assert_eq!(backoff(base, 1), base);
        assert_eq!(backoff(base, 3), Duration::from_secs(120));
        assert_eq!(backoff(base, 40), Duration::from_secs(3600));
    }

    #[test]
    fn policies_parse_from_annotations() {
        assert_eq!(ApplyPolicy::parse("auto"), Some(ApplyPolicy::Auto));
        assert_eq!(ApplyPolicy::parse(" manual "), Some(ApplyPolicy::Manual));
        assert_eq!(ApplyPolicy::parse("yes"), None);
    }
}
