//! The periodic drift audit: every `--audit-seconds`, the running configuration of every device
//! whose rendered configuration is applied is fetched over SSH
//! (`hatang_driver::running::fetch`, as `hatang audit` does) and compared with it by `hatang_core::audit` — the
//! comparison `hatang audit` makes, deviations the spec accepts (`acceptedDeviations`, until
//! their expiry) set apart. The result is recorded per device for the pass (`Drifted`); a new
//! drift gets one Warning event `Drifted`.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::Notify;

use hatang_core::audit::{Deviation, diff, judge};
use hatang_driver::running;
use hatang_driver::ssh::SshError;

use crate::credentials;
use crate::devices::{AuditItem, DeviceEvent, Devices, Drift};
use crate::metrics::Metrics;

/// How many deviations a `Drifted` message quotes.
const QUOTED: usize = 3;

/// Words after which FRR configurations carry a credential (BGP, OSPF, IS-IS and key-chain
/// passwords and keys).
const SECRET_WORDS: &[&str] = &[
    "password",
    "secret",
    "key-string",
    "authentication-key",
    "message-digest-key",
];

/// A deviation as a status or an event shows it: as `hatang audit` prints it, except a line
/// that carries a credential, which is named but not quoted (statuses and events are readable
/// by every auditor).
pub fn shown(d: &Deviation) -> String {
    let secret = [d.desired.as_deref(), d.running.as_deref()]
        .into_iter()
        .flatten()
        .any(|l| l.split(' ').any(|w| SECRET_WORDS.contains(&w)));
    if !secret {
        return d.to_string();
    }
    let at = if d.context.is_empty() {
        String::new()
    } else {
        format!(" [{}]", d.context.join(" > "))
    };
    format!(
        "{}{at}: a line with a credential (not shown)",
        d.kind.as_str()
    )
}

/// A condition message for `drift` (deviations nobody accepted) and the count accepted.
pub fn summary(drift: &[Deviation], accepted: usize) -> String {
    let mut out = format!(
        "{} deviation{} from the applied configuration",
        drift.len(),
        if drift.len() == 1 { "" } else { "s" }
    );
    if accepted > 0 {
        out.push_str(&format!(
            " ({accepted} more accepted by acceptedDeviations)"
        ));
    }
    let quoted: Vec<String> = drift.iter().take(QUOTED).map(shown).collect();
    if !quoted.is_empty() {
        out.push_str(": ");
        out.push_str(&quoted.join("; "));
    }
    if drift.len() > QUOTED {
        out.push_str(&format!("; … {} more", drift.len() - QUOTED));
    }
    out
}

fn unreachable(item: &AuditItem, e: &SshError) -> Drift {
    Drift::Unknown {
        sha256: item.sha256.clone(),
        reason: if e.is_host_key() {
            "HostKeyRefused"
        } else {
            "Unreachable"
        },
        message: format!("{}: not audited: {e}", item.device),
    }
}

impl Devices {
    /// Audits every applied, current device once; records the results and wakes the pass.
    pub async fn audit(self: &Arc<Self>, changed: &Notify) {
        let _busy = self.busy.lock().await;
        // Read after the lock: a transaction that just ended changed what is applied.
        let items = self.audit_items();
        if items.is_empty() {
            return;
        }
        let today = chrono::Utc::now().date_naive();
        let secrets = kube::Api::namespaced(self.client.clone(), &self.namespace);
        // Without credentials nothing is audited: every device's drift is unknown, and why.
        let not_audited = |e: &dyn std::fmt::Display| -> BTreeMap<String, Drift> {
            items
                .iter()
                .map(|i| {
                    (
                        i.device.clone(),
                        Drift::Unknown {
                            sha256: i.sha256.clone(),
                            reason: "NoCredentials",
                            message: format!("{}: not audited: {e}", i.device),
                        },
                    )
                })
                .collect()
        };
        let found: BTreeMap<String, Drift> =
            match credentials::read(&secrets, &self.namespace, &self.settings.ssh_secret).await {
                Err(e) => not_audited(&e),
                Ok(creds) => {
                    let endpoints: Vec<_> = items.iter().map(|i| i.endpoint.clone()).collect();
                    match creds.ssh_options(&endpoints, self.settings.ssh_timeout) {
                        Err(e) => not_audited(&e),
                        Ok(options) => {
                            let targets = endpoints.into_iter().map(|e| e.target).collect();
                            let mut running = running::by_device(
                                running::fetch(targets, options, self.settings.concurrency).await,
                            );
                            items
                                .iter()
                                .map(|i| {
                                    let d = match running.remove(&i.device) {
                                        Some(Ok(text)) => {
                                            let kept = self.keep_backup(&i.device, &text);
                                            judged(i, &text, today).against(kept.as_ref())
                                        }
                                        Some(Err(e)) => unreachable(i, &e),
                                        None => unreachable(
                                            i,
                                            &SshError::Protocol("no result".to_owned()),
                                        ),
                                    };
                                    (i.device.clone(), d)
                                })
                                .collect()
                        }
                    }
                }
            };
        Metrics::inc(&self.metrics.audits);
        let mut events = Vec::new();
        {
            let mut state = self.state.lock().expect("device state");
            for item in &items {
                let Some(d) = found.get(&item.device) else {
                    continue;
                };
                let s = state.entry(item.device.clone()).or_default();
                // A transaction may have moved the device on while it was being audited.
                if s.in_flight || s.applied.as_ref().map(|a| &a.sha256) != Some(&item.sha256) {
                    continue;
                }
                match d {
                    Drift::Drifted {
                        message, signature, ..
                    } => {
                        if s.drift_warned.as_ref() != Some(signature) {
                            s.drift_warned = Some(signature.clone());
                            events.push((
                                item.reference.clone(),
                                DeviceEvent {
                                    warning: true,
                                    reason: "Drifted",
                                    note: format!("{}: {message}", item.device),
                                    action: "Audit",
                                },
                            ));
                        }
                    }
                    Drift::InSync { .. } => s.drift_warned = None,
                    Drift::Unknown { .. } => {}
                }
                if s.drift.as_ref() != Some(d) {
                    let (state, message) = match d {
                        Drift::InSync { message, .. } => ("in sync", message),
                        Drift::Drifted { message, .. } => ("drifted", message),
                        Drift::Unknown { message, .. } => ("unknown", message),
                    };
                    tracing::info!(device = %item.device, state, message = %message, "audit");
                }
                s.drift = Some(d.clone());
            }
        }
        self.publish(events).await;
        changed.notify_one();
    }
}

impl Devices {
    /// Keeps what the device ran on the state volume (`crate::backups`); a failure to write
    /// is logged, never stops the audit.
    fn keep_backup(&self, device: &str, text: &str) -> Option<crate::backups::Kept> {
        match crate::backups::keep(
            &self.settings.state_dir,
            device,
            text,
            chrono::Utc::now(),
            crate::backups::KEEP,
        ) {
            Ok(k) => {
                tracing::debug!(device, backup = %k.path.display(), sha256 = %k.sha256, written = k.written, "backup");
                Some(k)
            }
            Err(e) => {
                tracing::warn!(device, error = %e, "cannot keep the running configuration's backup");
                None
            }
        }
    }
}

impl Drift {
    /// The same verdict, its message naming the backup the running configuration was kept as
    /// (`backups/<device>/<file>` on the state volume, and its SHA-256), so that the `Drifted`
    /// condition says what was compared.
    fn against(self, kept: Option<&crate::backups::Kept>) -> Drift {
        let Some(k) = kept else {
            return self;
        };
        let file = k
            .path
            .file_name()
            .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
        let device = k
            .path
            .parent()
            .and_then(|d| d.file_name())
            .map_or_else(String::new, |d| d.to_string_lossy().into_owned());
        let named = |message: String| {
            format!(
                "{message} (running configuration kept as backups/{device}/{file}, sha256 {})",
                &k.sha256[..12.min(k.sha256.len())]
            )
        };
        match self {
            Drift::InSync { sha256, message } => Drift::InSync {
                sha256,
                message: named(message),
            },
            Drift::Drifted {
                sha256,
                message,
                signature,
            } => Drift::Drifted {
                sha256,
                message: named(message),
                signature,
            },
            unknown @ Drift::Unknown { .. } => unknown,
        }
    }
}

fn judged(item: &AuditItem, running: &str, today: chrono::NaiveDate) -> Drift {
    let j = judge(diff(&item.candidate, running), &item.accepted, today);
    if j.drift.is_empty() {
        Drift::InSync {
            sha256: item.sha256.clone(),
            message: if j.accepted.is_empty() {
                "running configuration equals the applied one".to_owned()
            } else {
                format!(
                    "running configuration equals the applied one but for {} accepted deviations",
                    j.accepted.len()
                )
            },
        }
    } else {
        Drift::Drifted {
            sha256: item.sha256.clone(),
            message: summary(&j.drift, j.accepted.len()),
            signature: j
                .drift
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_names_the_backup_it_was_judged_on() {
        let kept = crate::backups::Kept {
            path: "/var/lib/hatang/backups/hub-001/20261206T220000.000Z-0123456789ab.conf".into(),
            sha256: "0123456789abcdef".repeat(4),
            written: true,
        };
        let drifted = Drift::Drifted {
            sha256: "s".into(),
            message: "1 deviation".into(),
            signature: "sig".into(),
        }
        .against(Some(&kept));
        let Drift::Drifted {
            message, signature, ..
        } = &drifted
        else {
            panic!("{drifted:?}")
        };
        assert_eq!(
            message,
            "1 deviation (running configuration kept as backups/hub-001/20261206T220000.000Z-0123456789ab.conf, sha256 0123456789ab)"
        );
        assert_eq!(signature, "sig", "the same drift stays the same drift");
        let unknown = Drift::Unknown {
            sha256: "s".into(),
            reason: "Unreachable",
            message: "m".into(),
        };
        assert_eq!(unknown.clone().against(Some(&kept)), unknown);
        let in_sync = Drift::InSync {
            sha256: "s".into(),
            message: "equal".into(),
        };
        assert_eq!(in_sync.clone().against(None), in_sync);
    }

    #[test]
    fn summaries_count_and_quote_the_first_deviations() {
        let desired = "router bgp 1\n neighbor a timers 3 9\n neighbor b timers 3 9\n";
        let running = "router bgp 1\n neighbor a timers 5 15\n neighbor b timers 3 9\n x\n y\n z\n";
        let deviations = diff(desired, running);
        let text = summary(&deviations, 2);
        assert!(
            text.starts_with("4 deviations from the applied configuration (2 more accepted"),
            "{text}"
        );
        assert!(
            text.contains(
                "changed [router bgp 1]: `neighbor a timers 5 15` → `neighbor a timers 3 9`"
            ),
            "{text}"
        );
        assert!(text.ends_with("; … 1 more"), "{text}");
        assert_eq!(
            summary(&[], 0),
            "0 deviations from the applied configuration"
        );
    }

    #[test]
    fn credentials_are_named_not_quoted() {
        let deviations = diff(
            "router bgp 1\n neighbor a password s3cret\n",
            "router bgp 1\n neighbor a password other\n",
        );
        let text = summary(&deviations, 0);
        assert!(
            !text.contains("s3cret") && !text.contains("other"),
            "{text}"
        );
        assert!(
            text.contains("changed [router bgp 1]: a line with a credential (not shown)"),
            "{text}"
        );
    }
}
