//! Tenant: an agency that owns systems or rents space.

use chrono::NaiveDate;
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

impl TenantKind {
    /// Every kind, in the order above.
    pub const ALL: &'static [TenantKind] = &[
        TenantKind::Department,
        TenantKind::Agency,
        TenantKind::District,
        TenantKind::CommuneCommittee,
        TenantKind::External,
    ];

    /// kebab-case name as written in inventories.
    pub fn as_str(self) -> &'static str {
        match self {
            TenantKind::Department => "department",
            TenantKind::Agency => "agency",
            TenantKind::District => "district",
            TenantKind::CommuneCommittee => "commune-committee",
            TenantKind::External => "external",
        }
    }

    /// The kind named `s` (kebab-case).
    pub fn parse(s: &str) -> Option<TenantKind> {
        TenantKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }
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
    /// The tenant's part in the 4-layer security model (mô hình 4 lớp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<FourLayerModel>,
}

/// The 4-layer security model (Hà Nội 2021): an in-house team, a professional monitoring
/// provider, a periodic independent audit and a connection to national monitoring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FourLayerModel {
    /// Layer 1: the tenant has its own security staff (lực lượng tại chỗ).
    #[serde(default)]
    pub in_house_team: bool,
    /// Layer 2: the professional monitoring and protection provider (tổ chức giám sát, bảo vệ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring_provider: Option<String>,
    /// Layer 3: day of the last independent audit (kiểm tra, đánh giá độc lập); older than 12
    /// months counts as stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_independent_audit: Option<NaiveDate>,
    /// Layer 4: connected to national monitoring (hệ thống giám sát quốc gia).
    #[serde(default)]
    pub national_monitoring: bool,
}

impl FourLayerModel {
    /// Whether all four layers are in place on `today` (the audit at most 12 months old).
    pub fn complete_on(&self, today: NaiveDate) -> bool {
        self.in_house_team
            && self.monitoring_provider.is_some()
            && self.national_monitoring
            && self.audit_current_on(today)
    }

    /// Whether the last independent audit is at most 12 months old on `today`.
    pub fn audit_current_on(&self, today: NaiveDate) -> bool {
        self.last_independent_audit
            .is_some_and(|d| d <= today && today <= d + chrono::Months::new(12))
    }
}
