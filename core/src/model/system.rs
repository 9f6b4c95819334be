//! InformationSystem: an information system hosted in a data center.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::net::IpPrefix;

/// Disaster-recovery policy of a system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DrPolicy {
    /// Name of the DataCenter holding the replica.
    pub replica_data_center: String,
    /// Rack holding the replica. Required for level 3+ in a single-with-redundancy city, where
    /// the replica must stand on another rack, not sharing a single feed with the primary's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_rack: Option<String>,
    /// Recovery point objective in minutes (how much data may be lost).
    pub rpo_minutes: u32,
    /// Recovery time objective in minutes (how long the service may be down).
    pub rto_minutes: u32,
    /// Day of the last failover drill to the replica, when one is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_drill: Option<NaiveDate>,
}

/// The approval of a system's security level (hồ sơ đề xuất cấp độ được phê duyệt).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LevelApproval {
    /// Day the level was approved.
    pub date: NaiveDate,
    /// The approving body, e.g. `UBND Thành phố Hà Nội` or `Sở Thông tin và Truyền thông`.
    pub body: String,
    /// Number of the approving decision, e.g. `QĐ 1234/QĐ-UBND`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
}

/// How a system's data is backed up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BackupPolicy {
    /// Whether a copy is kept outside the hosting data center (another data center, a vault).
    pub off_site: bool,
    /// Where the copy is kept (a DataCenter's name or a description).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// How long copies are kept, in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
}

/// An information system hosted in a data center, with its security level and DR policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InformationSystemSpec {
    /// Name with diacritics, e.g. `Cổng dịch vụ công thành phố`.
    pub display_name: String,
    /// Name of the owning Tenant.
    pub owner: String,
    /// Name of the DataCenter hosting the primary instance.
    pub data_center: String,
    /// Rack holding the primary instance (in `dataCenter`). Required for level 3+ in a
    /// single-with-redundancy city.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rack: Option<String>,
    /// Approved security level (cấp độ an toàn hệ thống thông tin), 1 to 5. Level 3 and above
    /// must have a DR replica in the other data center (in a single-with-redundancy city: on another
    /// rack and feed of the same one).
    #[schemars(range(min = 1, max = 5))]
    pub security_level: u8,
    /// Who approved the security level and when; a level without approval is a
    /// `level-not-approved` finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<LevelApproval>,
    /// Disaster-recovery policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dr: Option<DrPolicy>,
    /// Backup policy (off-site copies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<BackupPolicy>,
    /// Service prefixes the system is reached on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_prefixes: Vec<IpPrefix>,
}
