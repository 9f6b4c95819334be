//! Site: a place with network presence.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::meta::Exclusion;
use super::net::{Ipv4Prefix, Ipv6Prefix};

/// What a site is for; decides which rules apply to it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum SiteRole {
    /// A data center building (main or backup); details in a DataCenter object.
    Datacenter,
    /// A district aggregation point (before the 2025 reform).
    DistrictHub,
    /// A ward or commune people's committee office (UBND). Must have a primary and a backup circuit.
    CommuneOffice,
    /// A department or agency office.
    Agency,
    /// A building shared by several agencies (the inter-agency complex on Võ Chí Công).
    InterAgencyComplex,
    /// An aggregation site (point of presence) of the metro network, where an aggregation
    /// router stands.
    MetroNode,
}

impl SiteRole {
    /// kebab-case name as written in inventories.
    pub fn as_str(self) -> &'static str {
        match self {
            SiteRole::Datacenter => "datacenter",
            SiteRole::DistrictHub => "district-hub",
            SiteRole::CommuneOffice => "commune-office",
            SiteRole::Agency => "agency",
            SiteRole::InterAgencyComplex => "inter-agency-complex",
            SiteRole::MetroNode => "metro-node",
        }
    }
}

/// How a site connects upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "kebab-case")]
pub enum UplinkPolicy {
    /// Primary circuit towards the main data center, backup towards the backup data center.
    #[default]
    DualHomed,
    /// One circuit only (accepted only where the site or its region is excluded).
    SingleHomed,
    /// One access circuit to an aggregation router of the metro network (MAN), whose ring is the
    /// second path to the data center (validated: the router must keep a path whichever one
    /// metro circuit fails).
    Metro,
    /// No WAN uplink (data centers themselves).
    None,
}

/// A place with network presence: a data center, a hub, a commune office, an agency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SiteSpec {
    /// Human name with diacritics, e.g. `UBND Phường Ba Đình`.
    pub display_name: String,
    /// What the site is for.
    pub role: SiteRole,
    /// Name of the Region the site lies in.
    pub region: String,
    /// Street address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// How the site connects upstream.
    #[serde(default)]
    pub uplink: UplinkPolicy,
    /// Set when the site is deliberately outside coverage targets, with the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded: Option<Exclusion>,
    /// Statically pinned IPv6 site prefix; the allocator honours it instead of choosing one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_prefix: Option<Ipv6Prefix>,
    /// Statically pinned IPv4 site prefix (dual-stack plans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4_prefix: Option<Ipv4Prefix>,
}
