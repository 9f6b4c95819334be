//! Device: a router, switch, firewall or CPE.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::net::{InterfaceAddress, IpAddress};

/// Software platform; decides templates and driver adapter.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Platform {
    /// FRRouting on Linux (the platform proven on real routers).
    Frr,
    /// Cisco IOS-XE.
    Iosxe,
    /// Juniper Junos.
    Junos,
}

impl Platform {
    /// kebab-case name as written in inventories (and as the templates' directory).
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Frr => "frr",
            Platform::Iosxe => "iosxe",
            Platform::Junos => "junos",
        }
    }
}

/// What the device does in the network.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceRole {
    /// Data-center core router.
    Core,
    /// WAN edge router terminating commune circuits.
    WanEdge,
    /// Customer-premises router at a commune office or agency.
    Cpe,
    /// Firewall.
    Firewall,
    /// Top-of-rack switch.
    Tor,
    /// District aggregation router.
    Hub,
    /// Aggregation router of a metro network (MAN): on a ring or mesh of `metro` circuits with
    /// other aggregation routers and the data-center edges, agencies attached to it.
    Aggregation,
}

impl DeviceRole {
    /// kebab-case name as written in inventories.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceRole::Core => "core",
            DeviceRole::WanEdge => "wan-edge",
            DeviceRole::Cpe => "cpe",
            DeviceRole::Firewall => "firewall",
            DeviceRole::Tor => "tor",
            DeviceRole::Hub => "hub",
            DeviceRole::Aggregation => "aggregation",
        }
    }
}

/// Where a device is mounted in a data-center rack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RackPlacement {
    /// Name of the DataCenter.
    pub data_center: String,
    /// Rack name within that data center.
    pub rack: String,
    /// Lowest rack unit the device occupies (1 = bottom).
    #[schemars(range(min = 1))]
    pub position: u32,
    /// Height of the device in rack units.
    #[serde(default = "one")]
    #[schemars(range(min = 1))]
    pub height_u: u32,
}

fn one() -> u32 {
    1
}

/// How hatang reaches the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Management {
    /// Management address (out-of-band or loopback).
    pub address: IpAddress,
    /// SSH port.
    #[serde(default = "ssh_port")]
    pub port: u16,
    /// Pinned SSH host public key in OpenSSH form (`ssh-ed25519 AAAA…`). Never a private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_host_key: Option<String>,
}

fn ssh_port() -> u16 {
    22
}

/// A network interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Interface {
    /// Interface name as the platform spells it (`eth0`, `GigabitEthernet0/0/1`).
    pub name: String,
    /// Free-text description, one line: rendered into the device configuration
    /// (`description …`), so no control character (line break, TAB) is allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Statically pinned addresses with their prefix length (`2001:db8:1:1::1/64`); the allocator
    /// takes the network of an IPv6 one as this interface's segment or point-to-point link.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<InterfaceAddress>,
}

/// A router, switch, firewall or CPE.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeviceSpec {
    /// Name of the Site the device is at.
    pub site: String,
    /// Software platform.
    pub platform: Platform,
    /// What the device does.
    pub role: DeviceRole,
    /// Hardware model, for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Rack placement (data-center devices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rack: Option<RackPlacement>,
    /// Typical power draw in watts, counted against rack and feed budgets.
    #[serde(default)]
    pub power_w: u32,
    /// How hatang reaches the device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management: Option<Management>,
    /// Statically pinned BGP AS number (otherwise allocated from the plan's pool).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    /// Statically pinned loopback address (otherwise a /128 from the plan's loopback block).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loopback: Option<IpAddress>,
    /// Network interfaces.
    #[serde(default)]
    pub interfaces: Vec<Interface>,
    /// Differences between the running and the rendered configuration that someone has accepted
    /// until a date: `hatang audit` lists them apart and does not fail on them; after their
    /// expiry they count as drift again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted_deviations: Vec<AcceptedDeviation>,
}

/// How a configuration line deviates from the rendered configuration (`hatang audit`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum DeviationKind {
    /// Desired but not running.
    Missing,
    /// Running but not desired.
    Unexpected,
    /// Running with other values than desired.
    Changed,
}

impl DeviationKind {
    /// kebab-case name as written in inventories and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviationKind::Missing => "missing",
            DeviationKind::Unexpected => "unexpected",
            DeviationKind::Changed => "changed",
        }
    }
}

/// A deviation of the device from its rendered configuration, accepted for a time (a
/// workaround during an incident, a provider's setting awaiting a template change). It matches
/// one line of `hatang audit`'s report: the same kind, the same enclosing blocks and the same
/// line, with runs of spaces counted as one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AcceptedDeviation {
    /// `missing` (rendered, not running), `unexpected` (running, not rendered) or `changed`
    /// (running with other values).
    pub kind: DeviationKind,
    /// Headers of the blocks the line is in, outermost first, as the audit prints them
    /// (`["router bgp 4200000100", "address-family ipv6 unicast"]`). Empty for a top-level line.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub block: Vec<String>,
    /// The line: as rendered for `missing`, as the device runs it for `unexpected` and
    /// `changed` (so another value on the device is drift again).
    pub line: String,
    /// Who accepted the deviation and answers for it (a person or team).
    pub owner: String,
    /// Why the device may differ.
    pub reason: String,
    /// Last day the acceptance holds (YYYY-MM-DD); from the next day on the deviation is drift.
    pub expires: NaiveDate,
    /// Change request or ticket that records the decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

impl DeviceSpec {
    /// Looks an interface up by name.
    pub fn interface(&self, name: &str) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.name == name)
    }
}
