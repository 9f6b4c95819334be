//! The Kubernetes-style envelope every inventory document shares.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The only API version this release reads and writes.
pub const API_VERSION: &str = "hatang.io/v1alpha1";

/// Identity and labels of an inventory object, as in Kubernetes `ObjectMeta`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectMeta {
    /// Stable identity of the object within its kind: lowercase ASCII letters, digits, `-` and `.`
    /// (a DNS-1123 subdomain, so the same file is a valid Kubernetes object). Put the Vietnamese
    /// name with diacritics in `spec.displayName`.
    pub name: String,
    /// Kubernetes namespace; only meaningful for tenant kinds (ColoLease, InformationSystem).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Free-form labels, used for selection and sharding.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Free-form annotations (never secrets).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A whole inventory document: `apiVersion`, `kind`, `metadata`, `spec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Manifest<S> {
    /// Always `hatang.io/v1alpha1`.
    pub api_version: String,
    /// The kind of object, such as `Region` or `Device`.
    pub kind: String,
    /// Name, namespace, labels and annotations.
    pub metadata: ObjectMeta,
    /// The desired state of the object.
    pub spec: S,
}

impl<S> Manifest<S> {
    /// Wraps a spec in the current API version.
    pub fn new(kind: &str, name: impl Into<String>, spec: S) -> Self {
        Manifest {
            api_version: API_VERSION.to_owned(),
            kind: kind.to_owned(),
            metadata: ObjectMeta {
                name: name.into(),
                ..ObjectMeta::default()
            },
            spec,
        }
    }
}

/// Marks an optional unit (region or site) as deliberately left out of coverage targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Exclusion {
    /// Why the unit is excluded, in words an auditor accepts (plan, decision, physical reason).
    pub reason: String,
}
