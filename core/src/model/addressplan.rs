//! AddressPlan: the IPv6-first address plan and number pools.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::net::{Ipv4Prefix, Ipv6Prefix};

/// Prefix lengths handed out per level or role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PrefixLengths {
    /// IPv6 prefix length per site (RIPE-690 recommends /48).
    #[serde(default = "d48")]
    pub site: u8,
    /// IPv6 prefix length per segment (always /64 for SLAAC).
    #[serde(default = "d64")]
    pub segment: u8,
    /// IPv4 prefix length per site, when IPv4 roots exist.
    #[serde(default = "d24")]
    pub site_v4: u8,
}

impl Default for PrefixLengths {
    fn default() -> Self {
        PrefixLengths {
            site: 48,
            segment: 64,
            site_v4: 24,
        }
    }
}

fn d48() -> u8 {
    48
}
fn d64() -> u8 {
    64
}
fn d24() -> u8 {
    24
}

/// Blocks for router loopbacks (/128) and point-to-point links (/127, RFC 6164).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InfrastructureBlock {
    /// Loopback addresses (/128 each) come from here.
    pub loopbacks: Ipv6Prefix,
    /// Point-to-point links (/127 each) come from here.
    pub point_to_point: Ipv6Prefix,
}

/// An inclusive range of numbers (ASNs, VLAN ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NumberRange {
    /// First value (inclusive).
    pub first: u32,
    /// Last value (inclusive).
    pub last: u32,
}

/// The city's address plan: IPv6 roots (required), IPv4 roots (optional), and pools.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AddressPlanSpec {
    /// IPv6 prefixes the plan allocates from. At least one.
    #[schemars(length(min = 1))]
    pub ipv6_roots: Vec<Ipv6Prefix>,
    /// IPv4 prefixes for dual-stack sites.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ipv4_roots: Vec<Ipv4Prefix>,
    /// Prefix lengths per level and role.
    #[serde(default)]
    pub prefix_lengths: PrefixLengths,
    /// Loopback and point-to-point blocks.
    pub infrastructure: InfrastructureBlock,
    /// Service prefixes per DataCenter name (what the data center announces).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub services: BTreeMap<String, Ipv6Prefix>,
    /// Private 4-byte ASN pool (within 4200000000–4294967294).
    pub asn_pool: NumberRange,
    /// VLAN id pool (within 1–4094), one VLAN per co-location lease.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan_pool: Option<NumberRange>,
    /// Days a value stays reserved after its object is removed, before it may be reused (so a
    /// prefix still in routing tables is not handed to someone else). `hatang ipam release`
    /// frees it earlier.
    #[serde(default = "default_hold_days")]
    pub hold_days: u32,
    /// The DNS zones `hatang ipam export --format zone` writes: the domain of the forward zone,
    /// its name servers and the SOA contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<DnsSpec>,
}

/// The city's DNS for its infrastructure: a forward zone `DOMAIN` (an AAAA, or A, record per
/// interface address, `interface.device.DOMAIN.`) and the reverse zones that match it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DnsSpec {
    /// The forward zone, e.g. `infra.hanoi.gov.vn` (without the final dot).
    pub domain: String,
    /// Host names of the zones' authoritative servers (NS records), fully qualified. At least one.
    #[schemars(length(min = 1))]
    pub name_servers: Vec<String>,
    /// The zones' contact as an e-mail address (the SOA RNAME), e.g. `hostmaster@hanoi.gov.vn`.
    pub contact: String,
    /// Seconds a resolver may keep a record (the zones' $TTL and SOA minimum).
    #[serde(default = "default_ttl")]
    pub ttl: u32,
}

fn default_ttl() -> u32 {
    3600
}

fn default_hold_days() -> u32 {
    90
}
