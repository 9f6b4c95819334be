//! ColoLease: co-location space rented to a tenant.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::net::IpPrefix;

/// Rack space: a whole rack or a range of units in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RackSpace {
    /// Rack name in the lease's data center.
    pub rack: String,
    /// First unit (inclusive). Omit both bounds to lease the whole rack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_u: Option<u32>,
    /// Last unit (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_u: Option<u32>,
}

/// A cross-connect delivered with the lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CrossConnect {
    /// Identifier of the cross-connect.
    pub name: String,
    /// What it connects to (a device and interface, a meet-me room port).
    pub to: String,
    /// Medium: `fiber-sm`, `fiber-mm`, `copper`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<String>,
}

/// Network entitlement of a tenant inside the data center.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Entitlement {
    /// VRF the tenant's equipment is placed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vrf: Option<String>,
    /// Prefixes the tenant may announce or use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefixes: Vec<IpPrefix>,
}

/// Co-location space (thuê chỗ đặt máy chủ) rented to a tenant in a data center.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ColoLeaseSpec {
    /// Name of the Tenant.
    pub tenant: String,
    /// Name of the DataCenter.
    pub data_center: String,
    /// Racks or unit ranges leased.
    #[schemars(length(min = 1))]
    pub space: Vec<RackSpace>,
    /// Power reserved for the lease in kW, counted against the rack and feed budgets.
    pub power_kw: f64,
    /// Cross-connects delivered with the lease.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cross_connects: Vec<CrossConnect>,
    /// First day of the lease.
    pub start: NaiveDate,
    /// Last day of the lease (required for temporary leases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<NaiveDate>,
    /// A temporary lease (until the tenant has its own room), as for the departments that moved to
    /// the inter-agency complex.
    #[serde(default)]
    pub temporary: bool,
    /// VRF and prefixes the tenant is entitled to.
    #[serde(default)]
    pub entitlement: Entitlement,
}

impl ColoLeaseSpec {
    /// Whether the lease is in force on `day`.
    pub fn active_on(&self, day: NaiveDate) -> bool {
        self.start <= day && self.end.is_none_or(|end| day <= end)
    }

    /// Whether the two leases' date ranges share at least one day.
    pub fn overlaps_in_time(&self, other: &ColoLeaseSpec) -> bool {
        let ends_before = |a: &ColoLeaseSpec, b: &ColoLeaseSpec| a.end.is_some_and(|e| e < b.start);
        !ends_before(self, other) && !ends_before(other, self)
    }
}
