//! Tenant: an agency that owns systems or rents space.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What kind of body the tenant is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum TenantKind {
    /// A department of the city (sở).
    Department,
    /// A board or other agency (ban, ngành).
    Agency,
    /// A district people's committee.
    District,
    /// A ward or commune people's committee.
    CommuneCommittee,
    /// A state-owned company or other outside body.
    External,
}

/// An agency (sở, ban, ngành; a commune committee) that owns systems or rents space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TenantSpec {
    /// Official name with diacritics, e.g. `Sở Tài chính`.
    pub display_name: String,
    /// What kind of body the tenant is.
    pub kind: TenantKind,
    /// Kubernetes namespace the tenant's leases and systems live in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name of the Site where the tenant is housed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// Contact role or mailbox (no personal secrets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}
