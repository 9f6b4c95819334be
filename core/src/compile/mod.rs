//! Compile: each device's desired state from the inventory and the planned ledger — interfaces
//! and addresses, eBGP sessions over the /127 of every circuit, route policy preferring the main
//! data center, prefix filters, loopback, syslog towards the SOC collectors, NTP.
//!
//! Pure: the same inventory and ledger give the same models. Templates turn models into
//! configuration text (`crate::render`).

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr};

use serde::Serialize;

use crate::diag::Diagnostic;
use crate::ipam::Ledger;
use crate::ipam::report::interface_addresses;
use crate::ipam::schema::{asn_key, loopback_key, site_key};
use crate::model::{CircuitRole, DataCenterTier, DeviceRole, Inventory, Platform, SiteRole};

/// Local preference for routes learned over a primary circuit (the main data center wins).
pub const PRIMARY_LOCAL_PREF: u32 = 200;
/// Local preference for routes learned over a backup circuit.
pub const BACKUP_LOCAL_PREF: u32 = 100;
/// How many times a router prepends its AS towards a backup neighbour.
pub const BACKUP_PREPEND: usize = 2;

/// Desired state of one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceModel {
    /// Device name (also its hostname).
    pub name: String,
    /// Platform (decides the template).
    pub platform: Platform,
    /// Role.
    pub role: DeviceRole,
    /// BGP AS number, for routing devices.
    pub asn: Option<u32>,
    /// BGP router id (IPv4 form, derived from the loopback so it is unique and stable).
    pub router_id: Ipv4Addr,
    /// Interfaces with their addresses, sorted by name; `lo` first.
    pub interfaces: Vec<InterfaceModel>,
    /// eBGP neighbours, sorted by address.
    pub neighbors: Vec<Neighbor>,
    /// Prefixes this device originates.
    pub originate: Vec<String>,
    /// Prefixes of the branches behind this device that it carries towards the data centers.
    pub carries: Vec<String>,
    /// Syslog collectors (main data center first).
    pub syslog: Vec<IpAddr>,
    /// NTP servers (main data center first).
    pub ntp: Vec<IpAddr>,
}

/// One interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterfaceModel {
    /// Name as the platform spells it.
    pub name: String,
    /// Description.
    pub description: String,
    /// Addresses with prefix length (`3fff:ab:0:2::/127`).
    pub addresses: Vec<String>,
}

/// One eBGP session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Neighbor {
    /// The neighbour's address on the link.
    pub address: IpAddr,
    /// Local interface.
    pub interface: String,
    /// The neighbour's AS.
    pub remote_asn: u32,
    /// The neighbour device.
    pub peer: String,
    /// Circuit name.
    pub circuit: String,
    /// `primary` or `backup`.
    pub role: String,
    /// Local preference for routes learned from it.
    pub local_pref: u32,
    /// AS-path prepends towards it (backup circuits only).
    pub prepend: Vec<u32>,
    /// Prefixes accepted from it (each with `le 64`).
    pub accept: Vec<String>,
    /// Prefixes sent to it.
    pub export: Vec<String>,
    /// Name used for its prefix list and route maps.
    pub policy_name: String,
}

/// Compiles every device. Devices whose values are missing from the ledger are reported.
pub fn compile(inv: &Inventory, ledger: &Ledger) -> Result<Vec<DeviceModel>, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let regions: HashMap<&str, &str> = inv
        .regions
        .iter()
        .map(|r| (r.name(), r.spec.code.as_str()))
        .collect();
    let sites: HashMap<&str, &crate::model::Object<crate::model::SiteSpec>> =
        inv.sites.iter().map(|s| (s.name(), s)).collect();
    let devices: HashMap<&str, &crate::model::Object<crate::model::DeviceSpec>> =
        inv.devices.iter().map(|d| (d.name(), d)).collect();
    let value = |key: &str| {
        ledger
            .entries
            .get(key)
            .filter(|e| e.held.is_none())
            .map(|e| e.value.to_string())
    };

    // Site prefix of each device's site (branch sites), services of each DC site.
    let site_prefix = |site: &str| -> Option<String> {
        let s = sites.get(site)?;
        if s.spec.role == SiteRole::Datacenter {
            return None;
        }
        value(&site_key(
            regions.get(s.spec.region.as_str()).copied(),
            s.spec.role,
            s.name(),
        ))
    };
    let plan = inv.address_plans.first();
    let all_services: Vec<String> = plan
        .map(|p| p.spec.services.values().map(|v| v.to_string()).collect())
        .unwrap_or_default();

    // Collectors and time servers: main data center first.
    let mut dcs: Vec<_> = inv.data_centers.iter().collect();
    dcs.sort_by_key(|d| (d.spec.tier != DataCenterTier::Main, d.name().to_owned()));
    let syslog: Vec<IpAddr> = dcs
        .iter()
        .flat_map(|d| d.spec.soc_collectors.iter().map(|a| a.0))
        .collect();
    let ntp: Vec<IpAddr> = dcs
        .iter()
        .flat_map(|d| d.spec.ntp_servers.iter().map(|a| a.0))
        .collect();

    let mut addrs: HashMap<(String, String), Vec<String>> = HashMap::new();
    let mut addr_of: HashMap<(String, String), IpAddr> = HashMap::new();
    for ia in interface_addresses(ledger) {
        addr_of.insert((ia.device.clone(), ia.interface.clone()), ia.address);
        addrs
            .entry((ia.device, ia.interface))
            .or_default()
            .push(format!("{}/{}", ia.address, ia.prefix_len));
    }

    // What each device originates, and what it carries for the devices behind it (a hub carries
    // its communes' prefixes towards the data centers).
    let originate_of = |d: &crate::model::Object<crate::model::DeviceSpec>| -> Vec<String> {
        match d.spec.role {
            DeviceRole::Cpe | DeviceRole::Hub => site_prefix(&d.spec.site).into_iter().collect(),
            // Every data-center edge announces every service prefix (anycast DR): routers prefer
            // the main data center by local preference and fall back to the backup one.
            DeviceRole::WanEdge | DeviceRole::Core => all_services.clone(),
            _ => Vec::new(),
        }
    };
    let mut behind: HashMap<&str, Vec<String>> = HashMap::new();
    for c in &inv.circuits {
        for (near, far) in [(&c.spec.a, &c.spec.z), (&c.spec.z, &c.spec.a)] {
            let (Some(n), Some(f)) = (
                devices.get(near.device.as_str()),
                devices.get(far.device.as_str()),
            ) else {
                continue;
            };
            if n.spec.role == DeviceRole::Hub && f.spec.role == DeviceRole::Cpe {
                behind.entry(n.name()).or_default().extend(originate_of(f));
            }
        }
    }

    // Circuit ends by device: edge routers terminate thousands of circuits.
    type End<'a> = (
        &'a crate::model::Object<crate::model::CircuitSpec>,
        &'a crate::model::CircuitEnd,
        &'a crate::model::CircuitEnd,
    );
    let mut ends: HashMap<&str, Vec<End<'_>>> = HashMap::new();
    for c in &inv.circuits {
        ends.entry(c.spec.a.device.as_str())
            .or_default()
            .push((c, &c.spec.a, &c.spec.z));
        ends.entry(c.spec.z.device.as_str())
            .or_default()
            .push((c, &c.spec.z, &c.spec.a));
    }

    let mut out = Vec::new();
    for d in &inv.devices {
        let name = d.name().to_owned();
        let asn = value(&asn_key(&name)).and_then(|v| v.parse().ok());
        let loopback = value(&loopback_key(&name));
        let Some(loopback) = loopback else {
            problems.push(
                Diagnostic::error(
                    "not-allocated",
                    format!("device `{name}` has no loopback in the ledger"),
                )
                .object(format!("Device/{name}"))
                .hint("run `hatang plan` first"),
            );
            continue;
        };
        let lo_addr: std::net::Ipv6Addr = loopback
            .split('/')
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or(std::net::Ipv6Addr::UNSPECIFIED);
        let id = (u128::from(lo_addr) as u32).max(1);
        let mut interfaces: BTreeMap<String, InterfaceModel> = BTreeMap::new();
        let mut lo_addresses = vec![loopback.clone()];
        // The service address of a data center lives on its WAN edge's loopback (what communes reach).
        if d.spec.role == DeviceRole::WanEdge {
            for svc in &all_services {
                if let Ok(net) = svc.parse::<ipnet::Ipv6Net>() {
                    lo_addresses.push(format!(
                        "{}/128",
                        std::net::Ipv6Addr::from(u128::from(net.network()) + 1)
                    ));
                }
            }
        }
        interfaces.insert(
            " lo".into(),
            InterfaceModel {
                name: "lo".into(),
                description: "loopback".into(),
                addresses: lo_addresses,
            },
        );
        for iface in &d.spec.interfaces {
            let addresses = addrs
                .get(&(name.clone(), iface.name.clone()))
                .cloned()
                .unwrap_or_default();
            interfaces.insert(
                iface.name.clone(),
                InterfaceModel {
                    name: iface.name.clone(),
                    description: iface.description.clone().unwrap_or_default(),
                    addresses,
                },
            );
        }

        let mut neighbors = Vec::new();
        if asn.is_some() {
            for &(c, near, far) in ends
                .get(name.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                {
                    let Some(peer) = devices.get(far.device.as_str()) else {
                        continue;
                    };
                    let Some(remote_asn) =
                        value(&asn_key(peer.name())).and_then(|v| v.parse().ok())
                    else {
                        continue;
                    };
                    let Some(address) = addr_of.get(&(far.device.clone(), far.interface.clone()))
                    else {
                        problems.push(
                            Diagnostic::error(
                                "not-allocated",
                                format!(
                                    "circuit `{}` has no link addresses in the ledger",
                                    c.name()
                                ),
                            )
                            .object(format!("Circuit/{}", c.name()))
                            .hint("run `hatang plan` first"),
                        );
                        continue;
                    };
                    let backup = c.spec.role == CircuitRole::Backup;
                    // Upstream (towards the data centers) a router accepts the service prefixes and
                    // sends what it originates and carries; downstream it accepts exactly what the
                    // branch originates or carries, and sends the service prefixes.
                    let upstream = rank(peer.spec.role) > rank(d.spec.role)
                        || (rank(peer.spec.role) >= 2 && rank(d.spec.role) >= 2);
                    let mut accept: Vec<String> = if upstream {
                        all_services.clone()
                    } else {
                        let mut v = originate_of(peer);
                        v.extend(behind.get(peer.name()).cloned().unwrap_or_default());
                        v
                    };
                    let mut export: Vec<String> = if upstream {
                        let mut v = originate_of(d);
                        v.extend(behind.get(d.name()).cloned().unwrap_or_default());
                        v
                    } else {
                        all_services.clone()
                    };
                    export.sort();
                    export.dedup();
                    accept.sort();
                    accept.dedup();
                    let policy_name = format!(
                        "{}-{}",
                        if backup { "BACKUP" } else { "PRIMARY" },
                        peer.name().to_uppercase()
                    );
                    neighbors.push(Neighbor {
                        address: *address,
                        interface: near.interface.clone(),
                        remote_asn,
                        peer: peer.name().to_owned(),
                        circuit: c.name().to_owned(),
                        role: if backup {
                            "backup".into()
                        } else {
                            "primary".into()
                        },
                        local_pref: if backup {
                            BACKUP_LOCAL_PREF
                        } else {
                            PRIMARY_LOCAL_PREF
                        },
                        prepend: if backup {
                            asn.map(|a| vec![a; BACKUP_PREPEND]).unwrap_or_default()
                        } else {
                            Vec::new()
                        },
                        accept,
                        export,
                        policy_name,
                    });
                }
            }
        }
        neighbors.sort_by_key(|n| n.address);
        let originate = originate_of(d);
        let mut carries = behind.get(d.name()).cloned().unwrap_or_default();
        carries.sort();
        carries.dedup();
        out.push(DeviceModel {
            name,
            platform: d.spec.platform,
            role: d.spec.role,
            asn,
            router_id: Ipv4Addr::from(id),
            interfaces: interfaces.into_values().collect(),
            neighbors,
            originate,
            carries,
            syslog: syslog.clone(),
            ntp: ntp.clone(),
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Position in the hierarchy: branches below hubs below data-center routers.
fn rank(role: DeviceRole) -> u8 {
    match role {
        DeviceRole::Cpe => 0,
        DeviceRole::Hub => 1,
        _ => 2,
    }
}
