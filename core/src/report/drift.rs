//! The drift summary of a report, read from the JSON `hatang audit -o json` writes.

use serde::{Deserialize, Serialize};

/// `hatang audit -o json`, the parts a report shows.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuditFile {
    summary: AuditCounts,
    #[serde(default)]
    devices: Vec<AuditDevice>,
}

/// The audit's counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuditCounts {
    /// Devices audited.
    pub devices: usize,
    /// Running = rendered.
    pub clean: usize,
    /// Only accepted deviations.
    pub accepted: usize,
    /// Deviations nobody accepted.
    pub drift: usize,
    /// Could not be audited.
    pub failed: usize,
    /// Not audited (no adapter, nothing rendered).
    pub skipped: usize,
    /// Drift deviations.
    pub deviations: usize,
    /// Deviations whose acceptance expired.
    pub expired_acceptances: usize,
}

#[derive(Debug, Deserialize)]
struct AuditDevice {
    device: String,
    status: String,
    #[serde(default)]
    deviations: Vec<serde_json::Value>,
}

/// A device that is not clean.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceDrift {
    /// Device name.
    pub device: String,
    /// `drift`, `failed`, `accepted` or `skipped`, as the audit wrote it.
    pub status: String,
    /// Drift deviations on it.
    pub deviations: usize,
}

/// What the report shows of an audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftSummary {
    /// The audit's counts.
    pub counts: AuditCounts,
    /// Devices that are not clean.
    pub devices: Vec<DeviceDrift>,
}

/// Reads an audit's JSON.
pub fn parse_audit(text: &str) -> Result<DriftSummary, serde_json::Error> {
    let file: AuditFile = serde_json::from_str(text)?;
    Ok(DriftSummary {
        counts: file.summary,
        devices: file
            .devices
            .into_iter()
            .filter(|d| d.status != "clean")
            .map(|d| DeviceDrift {
                device: d.device,
                status: d.status,
                deviations: d.deviations.len(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_json_gives_counts_and_unclean_devices() {
        let text = r#"{"summary": {"devices": 2, "clean": 1, "accepted": 0, "drift": 1,
            "failed": 0, "skipped": 0, "deviations": 2, "acceptedDeviations": 0,
            "expiredAcceptances": 0, "unusedAcceptances": 0},
            "devices": [{"device": "a", "status": "clean", "deviations": []},
                        {"device": "b", "status": "drift", "deviations": [{}, {}]}]}"#;
        let s = parse_audit(text).unwrap();
        assert_eq!((s.counts.devices, s.counts.drift), (2, 1));
        assert_eq!(
            s.devices,
            vec![DeviceDrift {
                device: "b".into(),
                status: "drift".into(),
                deviations: 2
            }]
        );
        assert!(parse_audit("{}").is_err());
    }
}
