//! Circuit: a WAN or metro-network link between two device interfaces.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Transport of a circuit.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Medium {
    /// Dark or leased fiber.
    Fiber,
    /// The government's dedicated data network (mạng truyền số liệu chuyên dùng).
    GovernmentDataNetwork,
    /// Provider MPLS VPN.
    Mpls,
    /// IPsec VPN over the Internet.
    InternetVpn,
    /// Mobile (4G/5G) link.
    Lte,
    /// Satellite (VSAT) link.
    Satellite,
}

impl Medium {
    /// kebab-case name as written in inventories.
    pub fn as_str(self) -> &'static str {
        match self {
            Medium::Fiber => "fiber",
            Medium::GovernmentDataNetwork => "government-data-network",
            Medium::Mpls => "mpls",
            Medium::InternetVpn => "internet-vpn",
            Medium::Lte => "lte",
            Medium::Satellite => "satellite",
        }
    }
}

/// Whether the circuit carries traffic normally or on failure.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum CircuitRole {
    /// Normal path (towards the main data center).
    Primary,
    /// Failover path (towards the backup data center).
    Backup,
    /// A trunk of the metro network (MAN) between two aggregation routers or an aggregation
    /// router and a data-center edge. Metro circuits form a ring or mesh: neither end is
    /// upstream, both carry traffic, and BGP takes the shortest way round (see docs/metro.md).
    Metro,
}

impl CircuitRole {
    /// kebab-case name as written in inventories.
    pub fn as_str(self) -> &'static str {
        match self {
            CircuitRole::Primary => "primary",
            CircuitRole::Backup => "backup",
            CircuitRole::Metro => "metro",
        }
    }
}

/// One end of a circuit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CircuitEnd {
    /// Name of the Device.
    pub device: String,
    /// Interface name on that device.
    pub interface: String,
}

/// A WAN link between two device interfaces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CircuitSpec {
    /// The A end (by convention the commune or branch side).
    pub a: CircuitEnd,
    /// The Z end (by convention the data-center or hub side).
    pub z: CircuitEnd,
    /// Transport.
    pub medium: Medium,
    /// Carrier (VNPT, Viettel, FPT, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The carrier's circuit identifier, unique per provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circuit_id: Option<String>,
    /// Committed bandwidth in Mbit/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_mbps: Option<u32>,
    /// `primary`, `backup` or `metro`.
    pub role: CircuitRole,
}
