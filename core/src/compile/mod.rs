//! Compile: each device's desired state from the inventory and the planned ledger — interfaces
//! and addresses, eBGP sessions over the /127 of every circuit, route policy preferring the main
//! data center, prefix filters, loopback, syslog towards the SOC collectors, NTP; on the metro
//! network (MAN, `metro` circuits), the same preference both ways round so BGP takes the shortest.
//!
//! Pure: the same inventory and ledger give the same models. Templates turn models into
//! configuration text (`crate::render`).

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use crate::diag::{Diagnostic, ObjectRef};
use crate::ipam::Ledger;
use crate::ipam::report::interface_addresses;
use crate::ipam::schema::{asn_key, loopback_key, site_key};
use crate::model::{
    CircuitEnd, CircuitRole, CircuitSpec, DataCenterTier, DeviceRole, DeviceSpec, Inventory, Kind,
    Object, Platform, SiteRole, SiteSpec,
};

/// Local preference for routes learned over a primary circuit (the main data center wins).
pub const PRIMARY_LOCAL_PREF: u32 = 200;
/// Local preference for routes learned over a backup circuit.
pub const BACKUP_LOCAL_PREF: u32 = 100;
/// How many times a router prepends its AS towards a backup neighbour.
pub const BACKUP_PREPEND: usize = 2;
/// Local preference for routes learned over a metro circuit: the same on every trunk of the
/// ring, so the AS-path length alone decides and the shorter way round wins.
pub const METRO_LOCAL_PREF: u32 = PRIMARY_LOCAL_PREF;

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
    /// `primary`, `backup` or `metro`.
    pub role: String,
    /// Local preference for routes learned from it.
    pub local_pref: u32,
    /// AS-path prepends towards it (backup circuits only; never on a metro circuit, where the
    /// path length must stay the real distance round the ring).
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
    let estate = Estate::new(inv, ledger);
    let mut problems = Vec::new();
    let out: Vec<DeviceModel> = inv
        .devices
        .iter()
        .filter_map(|d| estate.device_model(d, &mut problems))
        .collect();
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

type DeviceObject = Object<DeviceSpec>;

/// A circuit seen from one of its ends: (circuit, near end, far end).
type End<'a> = (&'a Object<CircuitSpec>, &'a CircuitEnd, &'a CircuitEnd);

/// What every device's model is built from: the inventory's objects by name and the ledger's
/// values, looked up once for the whole estate.
struct Estate<'a> {
    ledger: &'a Ledger,
    regions: HashMap<&'a str, &'a str>,
    sites: HashMap<&'a str, &'a Object<SiteSpec>>,
    devices: HashMap<&'a str, &'a DeviceObject>,
    /// Every service prefix of the address plan.
    services: Vec<String>,
    /// Collectors and time servers, main data center first.
    syslog: Vec<IpAddr>,
    ntp: Vec<IpAddr>,
    /// Interface addresses with prefix length, by (device, interface).
    addresses: HashMap<(String, String), Vec<String>>,
    /// The first address of each interface, by (device, interface): a link's far end.
    address_of: HashMap<(String, String), IpAddr>,
    /// What each hub carries for the communes behind it.
    behind: HashMap<&'a str, Vec<String>>,
    /// Circuit ends by device: edge routers terminate thousands of circuits.
    ends: HashMap<&'a str, Vec<End<'a>>>,
    /// What travels on each metro network, by device on it: the service prefixes and
    /// everything its aggregation routers originate and carry (a ring is one network).
    metro: HashMap<&'a str, std::rc::Rc<Vec<String>>>,
}

impl<'a> Estate<'a> {
    fn new(inv: &'a Inventory, ledger: &'a Ledger) -> Self {
        let mut dcs: Vec<_> = inv.data_centers.iter().collect();
        dcs.sort_by_key(|d| (d.spec.tier != DataCenterTier::Main, d.name().to_owned()));
        let mut addresses: HashMap<(String, String), Vec<String>> = HashMap::new();
        let mut address_of = HashMap::new();
        for ia in interface_addresses(ledger) {
            address_of.insert((ia.device.clone(), ia.interface.clone()), ia.address);
            addresses
                .entry((ia.device, ia.interface))
                .or_default()
                .push(format!("{}/{}", ia.address, ia.prefix_len));
        }
        let mut estate = Estate {
            ledger,
            regions: inv
                .regions
                .iter()
                .map(|r| (r.name(), r.spec.code.as_str()))
                .collect(),
            sites: inv.sites.iter().map(|s| (s.name(), s)).collect(),
            devices: inv.devices.iter().map(|d| (d.name(), d)).collect(),
            services: inv
                .address_plans
                .first()
                .map(|p| p.spec.services.values().map(|v| v.to_string()).collect())
                .unwrap_or_default(),
            syslog: dcs
                .iter()
                .flat_map(|d| d.spec.soc_collectors.iter().map(|a| a.0))
                .collect(),
            ntp: dcs
                .iter()
                .flat_map(|d| d.spec.ntp_servers.iter().map(|a| a.0))
                .collect(),
            addresses,
            address_of,
            behind: HashMap::new(),
            ends: circuit_ends(inv),
            metro: HashMap::new(),
        };
        estate.behind = estate.carried_behind(inv);
        estate.metro = estate.metro_prefixes(inv);
        estate
    }

    /// The ledger's live (not held) value of `key`.
    fn value(&self, key: &str) -> Option<String> {
        self.ledger
            .entries
            .get(key)
            .filter(|e| e.held.is_none())
            .map(|e| e.value.to_string())
    }

    /// The site prefix of a branch site; data centers have none (they announce services).
    fn site_prefix(&self, site: &str) -> Option<String> {
        let s = self.sites.get(site)?;
        if s.spec.role == SiteRole::Datacenter {
            return None;
        }
        self.value(&site_key(
            self.regions.get(s.spec.region.as_str()).copied(),
            s.spec.role,
            s.name(),
        ))
    }

    /// What a device originates.
    fn originate(&self, d: &DeviceObject) -> Vec<String> {
        match d.spec.role {
            DeviceRole::Cpe | DeviceRole::Hub | DeviceRole::Aggregation => {
                self.site_prefix(&d.spec.site).into_iter().collect()
            }
            // Every data-center edge announces every service prefix (anycast DR): routers prefer
            // the main data center by local preference and fall back to the backup one.
            DeviceRole::WanEdge | DeviceRole::Core => self.services.clone(),
            _ => Vec::new(),
        }
    }

    /// What each hub or aggregation router carries towards the data centers: the prefixes of
    /// the communes and agencies behind it.
    fn carried_behind(&self, inv: &'a Inventory) -> HashMap<&'a str, Vec<String>> {
        let mut behind: HashMap<&'a str, Vec<String>> = HashMap::new();
        for c in inv
            .circuits
            .iter()
            .filter(|c| c.spec.role != CircuitRole::Metro)
        {
            for (near, far) in [(&c.spec.a, &c.spec.z), (&c.spec.z, &c.spec.a)] {
                let (Some(n), Some(f)) = (
                    self.devices.get(near.device.as_str()),
                    self.devices.get(far.device.as_str()),
                ) else {
                    continue;
                };
                if matches!(n.spec.role, DeviceRole::Hub | DeviceRole::Aggregation)
                    && f.spec.role == DeviceRole::Cpe
                {
                    behind
                        .entry(n.name())
                        .or_default()
                        .extend(self.originate(f));
                }
            }
        }
        behind
    }

    /// What travels on each metro network, for every device on one: the networks are the
    /// connected groups of devices joined by `metro` circuits; on each, the service prefixes
    /// and what its aggregation routers announce (sorted, once per network).
    fn metro_prefixes(&self, inv: &'a Inventory) -> HashMap<&'a str, std::rc::Rc<Vec<String>>> {
        let mut out = HashMap::new();
        for network in crate::metro::networks(inv) {
            let mut prefixes = self.services.clone();
            for device in &network.devices {
                if let Some(d) = self.devices.get(device)
                    && d.spec.role == DeviceRole::Aggregation
                {
                    prefixes.extend(self.announced(d));
                }
            }
            prefixes.sort();
            prefixes.dedup();
            let prefixes = std::rc::Rc::new(prefixes);
            for device in network.devices {
                out.insert(device, prefixes.clone());
            }
        }
        out
    }

    /// What a device originates and carries.
    fn announced(&self, d: &DeviceObject) -> Vec<String> {
        let mut v = self.originate(d);
        v.extend(self.behind.get(d.name()).cloned().unwrap_or_default());
        v
    }

    /// One device's model, or `None` (with a problem) when the ledger lacks its loopback.
    fn device_model(
        &self,
        d: &DeviceObject,
        problems: &mut Vec<Diagnostic>,
    ) -> Option<DeviceModel> {
        let name = d.name();
        let asn = self.value(&asn_key(name)).and_then(|v| v.parse().ok());
        let Some(loopback) = self.value(&loopback_key(name)) else {
            problems.push(
                Diagnostic::error(
                    "not-allocated",
                    format!("device `{name}` has no loopback in the ledger"),
                )
                .object(ObjectRef::new(Kind::Device, name))
                .hint("run `hatang plan` first"),
            );
            return None;
        };
        let mut neighbors: Vec<Neighbor> = match asn {
            Some(asn) => self
                .ends
                .get(name)
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(|&end| self.neighbor(d, asn, end, problems))
                .collect(),
            None => Vec::new(),
        };
        neighbors.sort_by_key(|n| n.address);
        let mut carries = self.behind.get(name).cloned().unwrap_or_default();
        carries.sort();
        carries.dedup();
        Some(DeviceModel {
            name: name.to_owned(),
            platform: d.spec.platform,
            role: d.spec.role,
            asn,
            router_id: router_id(&loopback),
            interfaces: self.interfaces(d, loopback),
            neighbors,
            originate: self.originate(d),
            carries,
            syslog: self.syslog.clone(),
            ntp: self.ntp.clone(),
        })
    }

    /// `lo` first, then the declared interfaces by name, each with its ledger addresses.
    fn interfaces(&self, d: &DeviceObject, loopback: String) -> Vec<InterfaceModel> {
        let mut lo_addresses = vec![loopback];
        // The service address of a data center lives on its WAN edge's loopback (what communes reach).
        if d.spec.role == DeviceRole::WanEdge {
            lo_addresses.extend(self.services.iter().filter_map(|svc| {
                let net = svc.parse::<ipnet::Ipv6Net>().ok()?;
                Some(format!(
                    "{}/128",
                    Ipv6Addr::from(u128::from(net.network()) + 1)
                ))
            }));
        }
        let mut interfaces: BTreeMap<String, InterfaceModel> = BTreeMap::new();
        interfaces.insert(
            " lo".into(),
            InterfaceModel {
                name: "lo".into(),
                description: "loopback".into(),
                addresses: lo_addresses,
            },
        );
        for iface in &d.spec.interfaces {
            let addresses = self
                .addresses
                .get(&(d.name().to_owned(), iface.name.clone()))
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
        interfaces.into_values().collect()
    }

    /// The eBGP session of `d` (AS `asn`) over one circuit end; `None` when the peer is not a
    /// routing device, or (with a problem) when the link has no addresses yet.
    fn neighbor(
        &self,
        d: &DeviceObject,
        asn: u32,
        (c, near, far): End<'_>,
        problems: &mut Vec<Diagnostic>,
    ) -> Option<Neighbor> {
        let peer = self.devices.get(far.device.as_str())?;
        let remote_asn = self
            .value(&asn_key(peer.name()))
            .and_then(|v| v.parse().ok())?;
        let Some(address) = self
            .address_of
            .get(&(far.device.clone(), far.interface.clone()))
        else {
            problems.push(
                Diagnostic::error(
                    "not-allocated",
                    format!("circuit `{}` has no link addresses in the ledger", c.name()),
                )
                .object(ObjectRef::of(Kind::Circuit, c))
                .hint("run `hatang plan` first"),
            );
            return None;
        };
        let role = c.spec.role;
        let (accept, export) = match role {
            CircuitRole::Metro => self.metro_policy(d),
            CircuitRole::Primary | CircuitRole::Backup => self.prefix_policy(d, peer),
        };
        let (local_pref, prepend) = match role {
            CircuitRole::Primary => (PRIMARY_LOCAL_PREF, Vec::new()),
            CircuitRole::Backup => (BACKUP_LOCAL_PREF, vec![asn; BACKUP_PREPEND]),
            CircuitRole::Metro => (METRO_LOCAL_PREF, Vec::new()),
        };
        Some(Neighbor {
            address: *address,
            interface: near.interface.clone(),
            remote_asn,
            peer: peer.name().to_owned(),
            circuit: c.name().to_owned(),
            role: role.as_str().into(),
            local_pref,
            prepend,
            accept,
            export,
            policy_name: format!(
                "{}-{}",
                role.as_str().to_uppercase(),
                peer.name().to_uppercase()
            ),
        })
    }

    /// (accepted, exported) prefixes on a metro circuit: the same both ways, everything that
    /// travels on the device's metro network, so either way round can carry it. Loops are
    /// impossible: every router has its own AS, and eBGP drops a path that holds its own AS.
    fn metro_policy(&self, d: &DeviceObject) -> (Vec<String>, Vec<String>) {
        let prefixes = self
            .metro
            .get(d.name())
            .map(|p| p.as_ref().clone())
            .unwrap_or_default();
        (prefixes.clone(), prefixes)
    }

    /// (accepted, exported) prefixes of `d` towards `peer`, sorted. Upstream (towards the data
    /// centers) a router accepts the service prefixes and sends what it originates and carries;
    /// downstream it accepts exactly what the branch originates or carries, and sends the
    /// service prefixes.
    fn prefix_policy(&self, d: &DeviceObject, peer: &DeviceObject) -> (Vec<String>, Vec<String>) {
        let upstream = rank(peer.spec.role) > rank(d.spec.role)
            || (rank(peer.spec.role) >= 2 && rank(d.spec.role) >= 2);
        let (mut accept, mut export) = if upstream {
            (self.services.clone(), self.announced(d))
        } else {
            (self.announced(peer), self.services.clone())
        };
        accept.sort();
        accept.dedup();
        export.sort();
        export.dedup();
        (accept, export)
    }
}

/// Circuit ends by device, each seen from that device.
fn circuit_ends(inv: &Inventory) -> HashMap<&str, Vec<End<'_>>> {
    let mut ends: HashMap<&str, Vec<End<'_>>> = HashMap::new();
    for c in &inv.circuits {
        ends.entry(c.spec.a.device.as_str())
            .or_default()
            .push((c, &c.spec.a, &c.spec.z));
        ends.entry(c.spec.z.device.as_str())
            .or_default()
            .push((c, &c.spec.z, &c.spec.a));
    }
    ends
}

/// The BGP router id: the low 32 bits of the loopback, so it is unique and stable (never 0).
fn router_id(loopback: &str) -> Ipv4Addr {
    let address: Ipv6Addr = loopback
        .split('/')
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(Ipv6Addr::UNSPECIFIED);
    Ipv4Addr::from((u128::from(address) as u32).max(1))
}

/// Position in the hierarchy: branches below hubs below data-center routers.
fn rank(role: DeviceRole) -> u8 {
    match role {
        DeviceRole::Cpe => 0,
        DeviceRole::Hub | DeviceRole::Aggregation => 1,
        _ => 2,
    }
}
