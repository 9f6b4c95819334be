//! The `status` every hatang resource carries: conditions, observed generation, allocations.

use std::collections::BTreeMap;

use kube::api::DynamicObject;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Condition types, in the order a resource goes through them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum ConditionType {
    /// Everything the resource asks for is done.
    Ready,
    /// Its prefixes, addresses, ASNs, VLANs or rack units are recorded in the cluster ledger.
    Allocated,
    /// Device configuration was rendered from the compiled model.
    Rendered,
    /// The rendered configuration was applied to the devices.
    Applied,
    /// The live state differs from the desired state.
    Drifted,
}

impl ConditionType {
    /// Every condition type.
    pub const ALL: &'static [ConditionType] = &[
        ConditionType::Ready,
        ConditionType::Allocated,
        ConditionType::Rendered,
        ConditionType::Applied,
        ConditionType::Drifted,
    ];
}

/// `True`, `False` or `Unknown`, as in Kubernetes conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ConditionStatus {
    /// The condition holds.
    True,
    /// The condition does not hold.
    False,
    /// Not known yet.
    Unknown,
}

impl From<bool> for ConditionStatus {
    fn from(holds: bool) -> Self {
        if holds {
            ConditionStatus::True
        } else {
            ConditionStatus::False
        }
    }
}

/// One observation about a resource (the shape of `metav1.Condition`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// What is observed.
    #[serde(rename = "type")]
    pub type_: ConditionType,
    /// Whether it holds.
    pub status: ConditionStatus,
    /// CamelCase reason, for machines.
    pub reason: String,
    /// Human-readable detail (names the rack, the pool, the conflicting object).
    #[serde(default)]
    pub message: String,
    /// When `status` last changed (RFC 3339).
    #[schemars(extend("format" = "date-time"))]
    pub last_transition_time: String,
    /// `metadata.generation` this condition was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

impl Condition {
    /// A condition observed now, from `metadata.generation` `generation`.
    pub fn observed(
        type_: ConditionType,
        status: ConditionStatus,
        reason: &str,
        message: String,
        generation: Option<i64>,
    ) -> Condition {
        Condition {
            type_,
            status,
            reason: reason.to_owned(),
            message,
            last_transition_time: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            observed_generation: generation,
        }
    }
}

/// Status of a hatang resource.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HatangStatus {
    /// `metadata.generation` of the spec last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions, one per type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Values allocated to this object, by ledger key (`site/commune-00004` → `2001:db8:…/48`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub allocations: BTreeMap<String, String>,
    /// Devices: the configuration rendered from the current spec and ledger, by its hash (the
    /// same bytes `hatang render` writes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendered: Option<RenderedConfig>,
    /// Devices: the rendered configuration last committed to the device by the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<AppliedConfig>,
    /// Devices: the SHA-256 of the rendered configuration that is not applied yet (awaiting
    /// approval, queued, backing off after a failure); absent when the device runs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_sha256: Option<String>,
}

/// A rendered configuration committed to a device by one apply transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppliedConfig {
    /// `status.rendered.sha256` of what was pushed.
    pub sha256: String,
    /// When the transaction committed (RFC 3339).
    #[schemars(extend("format" = "date-time"))]
    pub at: String,
    /// The transaction's id (its journal is `<state-dir>/applies/<applyId>/journal.json`).
    pub apply_id: String,
}

/// A device's rendered configuration, identified by hash.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RenderedConfig {
    /// SHA-256 (hex) over every file, in name order: `<name>\0<length>\0<bytes>` each.
    pub sha256: String,
    /// SHA-256 (hex) of each file by name (`frr.conf`, `system.conf`).
    pub files: BTreeMap<String, String>,
    /// Total size in bytes.
    pub bytes: u64,
}

impl RenderedConfig {
    /// The hashes of `files` (name, text).
    pub fn of<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> RenderedConfig {
        use sha2::{Digest, Sha256};
        let hex = |d: &[u8]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let mut sorted: Vec<(&str, &str)> = files.into_iter().collect();
        sorted.sort();
        let mut all = Sha256::new();
        let mut out = RenderedConfig::default();
        for (name, text) in sorted {
            all.update(name.as_bytes());
            all.update([0]);
            all.update(text.len().to_string().as_bytes());
            all.update([0]);
            all.update(text.as_bytes());
            out.files
                .insert(name.to_owned(), hex(&Sha256::digest(text.as_bytes())));
            out.bytes += text.len() as u64;
        }
        out.sha256 = hex(&all.finalize());
        out
    }
}

impl HatangStatus {
    /// The status `object` carries: `None` when it has none yet, an error when it is not a
    /// hatang status (written by hand, or by a newer operator with fields this one lacks).
    pub fn of(object: &DynamicObject) -> Result<Option<HatangStatus>, serde_json::Error> {
        match object.data.get("status") {
            None | Some(Value::Null) => Ok(None),
            Some(status) => HatangStatus::deserialize(status).map(Some),
        }
    }

    /// The JSON merge patch (RFC 7396) of `status` that turns `current` into `self`. A merge
    /// patch keeps what it does not mention, so every field and allocation key `current` has
    /// and `self` lacks is sent as `null` (`pendingSha256` once applied, `rendered` when
    /// rendering fails, allocations released).
    pub fn merge_patch(&self, current: Option<&HatangStatus>) -> Value {
        let mut body = serde_json::to_value(self).expect("a status is plain data");
        let Some(current) = current else {
            return body;
        };
        let old = serde_json::to_value(current).expect("a status is plain data");
        for field in old.as_object().into_iter().flat_map(|o| o.keys()) {
            if body.get(field).is_none() {
                body[field] = Value::Null;
            }
        }
        for key in current.allocations.keys() {
            if !self.allocations.contains_key(key) {
                body["allocations"][key] = Value::Null;
            }
        }
        body
    }

    /// The condition of `type_`, if set.
    pub fn condition(&self, type_: ConditionType) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }

    /// Sets a condition, keeping `lastTransitionTime` when the status did not change.
    pub fn set(&mut self, new: Condition) {
        match self.conditions.iter_mut().find(|c| c.type_ == new.type_) {
            Some(old) if old.status == new.status => {
                old.reason = new.reason;
                old.message = new.message;
                old.observed_generation = new.observed_generation;
            }
            Some(old) => *old = new,
            None => {
                self.conditions.push(new);
                self.conditions.sort_by_key(|c| c.type_);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_hash_is_per_file_and_order_free() {
        let a = RenderedConfig::of([("frr.conf", "router bgp 1\n"), ("system.conf", "x")]);
        let b = RenderedConfig::of([("system.conf", "x"), ("frr.conf", "router bgp 1\n")]);
        assert_eq!(a, b);
        assert_eq!(a.bytes, 14);
        // sha256("x")
        assert_eq!(
            a.files["system.conf"],
            "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
        );
        // Moving a byte from one file to the other changes the whole hash.
        let c = RenderedConfig::of([("frr.conf", "router bgp 1\nx"), ("system.conf", "")]);
        assert_ne!(a.sha256, c.sha256);
    }

    fn cond(status: ConditionStatus, at: &str, reason: &str) -> Condition {
        Condition {
            type_: ConditionType::Ready,
            status,
            reason: reason.into(),
            message: String::new(),
            last_transition_time: at.into(),
            observed_generation: Some(1),
        }
    }

    fn applied(sha256: &str) -> AppliedConfig {
        AppliedConfig {
            sha256: sha256.into(),
            at: "2026-11-23T10:00:00Z".into(),
            apply_id: "20261123T100000.000Z-1".into(),
        }
    }

    #[test]
    fn a_status_is_read_from_its_object_or_refused() {
        let object = |data: Value| {
            let mut o = DynamicObject::new(
                "hub-001",
                &kube::discovery::ApiResource::erase::<k8s_openapi::api::core::v1::ConfigMap>(&()),
            );
            o.data = data;
            o
        };
        assert_eq!(
            HatangStatus::of(&object(serde_json::json!({}))).unwrap(),
            None
        );
        let read = HatangStatus::of(&object(serde_json::json!({"status": {
            "observedGeneration": 3,
            "applied": {"sha256": "abc", "at": "2026-11-23T10:00:00Z", "applyId": "20261123T100000.000Z-1"},
            "pendingSha256": "def",
        }})))
        .unwrap()
        .unwrap();
        assert_eq!(read.observed_generation, Some(3));
        assert_eq!(read.applied, Some(applied("abc")));
        assert_eq!(read.pending_sha256.as_deref(), Some("def"));
        // A condition type this operator does not know is an error, not an empty status.
        let newer = object(serde_json::json!({"status": {"conditions": [{
            "type": "Healed", "status": "True", "reason": "x", "lastTransitionTime": "t"}]}}));
        assert!(HatangStatus::of(&newer).is_err());
    }

    #[test]
    fn a_merge_patch_clears_what_is_no_longer_set() {
        let mut current = HatangStatus {
            observed_generation: Some(1),
            pending_sha256: Some("def".into()),
            rendered: Some(RenderedConfig::of([("frr.conf", "x")])),
            ..HatangStatus::default()
        };
        current
            .allocations
            .insert("loopback/hub-001".into(), "2001:db8::1/128".into());
        current
            .allocations
            .insert("asn/hub-001".into(), "4200000001".into());
        let mut desired = HatangStatus {
            observed_generation: Some(2),
            applied: Some(applied("def")),
            ..HatangStatus::default()
        };
        desired
            .allocations
            .insert("asn/hub-001".into(), "4200000001".into());

        let patch = desired.merge_patch(Some(&current));
        assert_eq!(
            patch,
            serde_json::json!({
                "observedGeneration": 2,
                "applied": {"sha256": "def", "at": "2026-11-23T10:00:00Z", "applyId": "20261123T100000.000Z-1"},
                "pendingSha256": null,
                "rendered": null,
                "allocations": {"asn/hub-001": "4200000001", "loopback/hub-001": null},
            })
        );
        // With nothing released, the patch is the status itself.
        assert_eq!(
            desired.merge_patch(None),
            serde_json::to_value(&desired).unwrap()
        );
        // Every allocation released: the map is sent with each key cleared.
        let patch = HatangStatus::default().merge_patch(Some(&current));
        assert_eq!(
            patch["allocations"],
            serde_json::json!({"asn/hub-001": null, "loopback/hub-001": null})
        );
    }

    #[test]
    fn transition_time_moves_only_when_status_changes() {
        let mut s = HatangStatus::default();
        s.set(cond(ConditionStatus::False, "t1", "Pending"));
        s.set(cond(ConditionStatus::False, "t2", "StillPending"));
        let c = s.condition(ConditionType::Ready).unwrap();
        assert_eq!(
            (c.last_transition_time.as_str(), c.reason.as_str()),
            ("t1", "StillPending")
        );
        s.set(cond(ConditionStatus::True, "t3", "Reconciled"));
        assert_eq!(
            s.condition(ConditionType::Ready)
                .unwrap()
                .last_transition_time,
            "t3"
        );
        assert_eq!(s.conditions.len(), 1);
    }
}
