//! Leader election with a `coordination.k8s.io/v1` Lease: acquire when free or expired, renew
//! while holding, every write conditional on `resourceVersion`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, PostParams};
use serde_json::json;

use crate::metrics::Metrics;

/// How long a lease is valid without renewal.
pub const LEASE_SECONDS: i64 = 15;
/// How often the holder renews (and others retry).
pub const RETRY: Duration = Duration::from_secs(2);

/// Whether `holder` with `renewed` at `now` still holds a lease of `seconds`.
pub fn held_by_other(
    holder: Option<&str>,
    renewed: Option<DateTime<Utc>>,
    seconds: i64,
    me: &str,
    now: DateTime<Utc>,
) -> bool {
    match (holder, renewed) {
        (Some(h), Some(t)) if h != me && !h.is_empty() => {
            now < t + chrono::Duration::seconds(seconds)
        }
        _ => false,
    }
}

fn lease_body(name: &str, me: &str, rv: Option<String>, transitions: i64, acquired: &str) -> Lease {
    let now = Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    serde_json::from_value(json!({
        "metadata": {"name": name, "resourceVersion": rv},
        "spec": {"holderIdentity": me, "leaseDurationSeconds": LEASE_SECONDS,
                 "acquireTime": acquired, "renewTime": now, "leaseTransitions": transitions},
    }))
    .expect("lease shape")
}

/// One attempt to acquire or renew. `Ok(true)` when this process holds the lease afterwards.
pub async fn try_acquire(api: &Api<Lease>, name: &str, me: &str) -> Result<bool, kube::Error> {
    let pp = PostParams::default();
    let now_text = Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let Some(current) = api.get_opt(name).await? else {
        return match api
            .create(&pp, &lease_body(name, me, None, 0, &now_text))
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(e),
        };
    };
    let spec = serde_json::to_value(&current.spec).unwrap_or_default();
    let holder = spec["holderIdentity"].as_str();
    let renewed = spec["renewTime"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let seconds = spec["leaseDurationSeconds"]
        .as_i64()
        .unwrap_or(LEASE_SECONDS);
    if held_by_other(holder, renewed, seconds, me, Utc::now()) {
        return Ok(false);
    }
    let mine = holder == Some(me);
    let transitions = spec["leaseTransitions"].as_i64().unwrap_or(0) + i64::from(!mine);
    let acquired = if mine {
        spec["acquireTime"].as_str().unwrap_or(&now_text).to_owned()
    } else {
        now_text
    };
    let body = lease_body(
        name,
        me,
        current.metadata.resource_version.clone(),
        transitions,
        &acquired,
    );
    match api.replace(name, &pp, &body).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
        Err(e) => Err(e),
    }
}

/// Keeps trying to acquire and renew forever, publishing leadership in `metrics.leader`.
/// Leadership lapses locally when a renewal has not succeeded for most of the lease time.
pub async fn run(api: Api<Lease>, name: String, me: String, metrics: Arc<Metrics>) {
    let mut last_ok: Option<tokio::time::Instant> = None;
    loop {
        match try_acquire(&api, &name, &me).await {
            Ok(true) => {
                if !metrics.leader.swap(true, Ordering::SeqCst) {
                    tracing::info!(lease = %name, identity = %me, "became leader");
                }
                last_ok = Some(tokio::time::Instant::now());
            }
            Ok(false) => {
                if metrics.leader.swap(false, Ordering::SeqCst) {
                    tracing::warn!(lease = %name, "lost leadership");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "leader election request failed");
                let lapsed = last_ok.is_none_or(|t| {
                    t.elapsed() > Duration::from_secs(LEASE_SECONDS as u64 * 2 / 3)
                });
                if lapsed && metrics.leader.swap(false, Ordering::SeqCst) {
                    tracing::warn!(lease = %name, "leadership lapsed");
                }
            }
        }
        tokio::time::sleep(RETRY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_is_free_when_expired_empty_or_ours() {
        let now = Utc::now();
        let recent = Some(now - chrono::Duration::seconds(5));
        let old = Some(now - chrono::Duration::seconds(30));
        assert!(held_by_other(Some("b"), recent, 15, "a", now));
        assert!(!held_by_other(Some("b"), old, 15, "a", now));
        assert!(!held_by_other(Some("a"), recent, 15, "a", now));
        assert!(!held_by_other(None, recent, 15, "a", now));
        assert!(!held_by_other(Some(""), recent, 15, "a", now));
    }
}
