//! What an inventory asks to be allocated: one request per stable identity, with any static pin.

use std::sync::Arc;

use ipnet::IpNet;
use rayon::prelude::*;

use super::hash::{FastMap, FastSet};
use super::value::AllocValue;
use crate::load::Seg;
use crate::model::{DeviceRole, DeviceSpec, Inventory, Object, Origin, SiteRole};
use crate::validate::at;

/// Which pool a request draws from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PoolRef {
    /// Site prefixes from the IPv6 roots.
    SiteV6,
    /// Site prefixes from the IPv4 roots.
    SiteV4,
    /// A /64 inside the site prefix allocated under this key (shared by the site's segments).
    Segment(Arc<str>),
    /// /128 loopbacks.
    Loopback,
    /// /127 point-to-point links.
    PointToPoint,
    /// Private AS numbers.
    Asn,
    /// VLAN ids.
    Vlan,
}

impl PoolRef {
    /// Whether `name` is this pool's name in the ledger (without building it).
    pub fn is_named(&self, name: &str) -> bool {
        match self {
            PoolRef::SiteV6 => name == "site-v6",
            PoolRef::SiteV4 => name == "site-v4",
            PoolRef::Segment(site) => name.strip_prefix("segment:") == Some(&**site),
            PoolRef::Loopback => name == "loopback",
            PoolRef::PointToPoint => name == "p2p",
            PoolRef::Asn => name == "asn",
            PoolRef::Vlan => name == "vlan",
        }
    }

    /// The pool's name in the ledger.
    pub fn name(&self) -> String {
        match self {
            PoolRef::SiteV6 => "site-v6".into(),
            PoolRef::SiteV4 => "site-v4".into(),
            PoolRef::Segment(site) => cat(&["segment:", site]),
            PoolRef::Loopback => "loopback".into(),
            PoolRef::PointToPoint => "p2p".into(),
            PoolRef::Asn => "asn".into(),
            PoolRef::Vlan => "vlan".into(),
        }
    }
}

/// The object a request belongs to, as written in the ledger (`Kind/name`); borrowed from the
/// inventory so that planning a large inventory does not build a string per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner<'a> {
    /// `Site`, `Device`, `Circuit`, `ColoLease`.
    pub kind: &'static str,
    /// The object's name.
    pub name: &'a str,
}

impl Owner<'_> {
    /// Whether `written` (a ledger entry's owner) names this object.
    pub fn is(&self, written: &str) -> bool {
        written.len() == self.kind.len() + 1 + self.name.len()
            && written.starts_with(self.kind)
            && written.as_bytes()[self.kind.len()] == b'/'
            && written.ends_with(self.name)
    }
}

impl std::fmt::Display for Owner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

/// Where in its owner a pin is written; the path is built only when an error points at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinAt {
    /// Not pinned.
    Nowhere,
    /// `spec.ipv6Prefix` of a Site.
    SiteV6,
    /// `spec.ipv4Prefix` of a Site.
    SiteV4,
    /// `spec.loopback` of a Device.
    Loopback,
    /// `spec.asn` of a Device.
    Asn,
    /// `spec.interfaces[i].addresses` of a Device.
    InterfaceAddresses(usize),
    /// `spec.a` of a Circuit (its ends' addresses pin the link).
    CircuitEnd,
}

impl PinAt {
    /// The path inside the owner.
    pub fn path(self) -> Vec<Seg> {
        match self {
            PinAt::Nowhere => Vec::new(),
            PinAt::SiteV6 => at!["spec", "ipv6Prefix"],
            PinAt::SiteV4 => at!["spec", "ipv4Prefix"],
            PinAt::Loopback => at!["spec", "loopback"],
            PinAt::Asn => at!["spec", "asn"],
            PinAt::InterfaceAddresses(i) => at!["spec", "interfaces", i, "addresses"],
            PinAt::CircuitEnd => at!["spec", "a"],
        }
    }
}

/// One value an object needs.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// Stable identity (`site/commune-00004`, `loopback/cpe-00004`, …).
    pub key: String,
    /// Where the value comes from.
    pub pool: PoolRef,
    /// The owner.
    pub owner: Owner<'a>,
    /// Where the owner is written (for pin errors).
    pub origin: Origin,
    /// Where the pin is written inside the owner ([`PinAt::Nowhere`] when not pinned).
    pub pin_at: PinAt,
    /// A static pin from the inventory.
    pub pin: Option<AllocValue>,
}

impl<'a> Request<'a> {
    fn new(
        key: String,
        pool: PoolRef,
        owner: Owner<'a>,
        origin: Origin,
        pin: Option<AllocValue>,
        pin_at: PinAt,
    ) -> Self {
        Request {
            key,
            pool,
            owner,
            origin,
            pin_at: if pin.is_some() {
                pin_at
            } else {
                PinAt::Nowhere
            },
            pin,
        }
    }
}

/// The ledger key of a site's prefix: communes by GSO code (it survives renaming the site),
/// other sites by name.
pub fn site_key(inv_region_code: Option<&str>, role: SiteRole, site: &str) -> String {
    match (role, inv_region_code) {
        (SiteRole::CommuneOffice, Some(code)) => cat(&["site/commune-", code]),
        _ => cat(&["site/", site]),
    }
}

/// Every request of `inv`, sorted by key.
///
/// A nationwide inventory asks for some 64,000 values and reading it is bound by memory
/// latency, so the independent parts are built side by side (rayon keeps their order; the
/// result does not depend on the number of threads).
pub fn requests(inv: &Inventory, dual_stack: bool, has_vlans: bool) -> Vec<Request<'_>> {
    let ((sites, site_keys), (ends, circuits)) = rayon::join(
        || site_requests(inv, dual_stack),
        || {
            let ends = circuit_ends(inv);
            (ends, circuit_requests(inv))
        },
    );
    let devices: Vec<Request> = inv
        .devices
        .par_iter()
        .with_min_len(512)
        .fold(Vec::new, |mut out, d| {
            device_requests(d, &site_keys, &ends, &mut out);
            out
        })
        .reduce(Vec::new, |mut a, mut b| {
            a.append(&mut b);
            a
        });
    let mut out = sites;
    out.reserve(devices.len() + circuits.len() + inv.colo_leases.len());
    out.extend(devices);
    out.extend(circuits);
    if has_vlans {
        for l in &inv.colo_leases {
            out.push(Request::new(
                format!(
                    "vlan/{}/{}",
                    l.metadata.namespace.as_deref().unwrap_or("-"),
                    l.name()
                ),
                PoolRef::Vlan,
                Owner {
                    kind: "ColoLease",
                    name: l.name(),
                },
                l.origin,
                None,
                PinAt::Nowhere,
            ));
        }
    }
    sort_by_key(out)
}

/// Site prefix requests, and each branch site's key by site name (the pool of its segments).
fn site_requests(inv: &Inventory, dual_stack: bool) -> (Vec<Request<'_>>, FastMap<&str, Arc<str>>) {
    let regions: FastMap<&str, &str> = inv
        .regions
        .iter()
        .map(|r| (r.name(), r.spec.code.as_str()))
        .collect();
    let mut keys: FastMap<&str, Arc<str>> =
        FastMap::with_capacity_and_hasher(inv.sites.len(), Default::default());
    let mut out = Vec::with_capacity(inv.sites.len() * if dual_stack { 2 } else { 1 });
    for s in &inv.sites {
        if s.spec.role == SiteRole::Datacenter {
            continue;
        }
        let key = site_key(
            regions.get(s.spec.region.as_str()).copied(),
            s.spec.role,
            s.name(),
        );
        let owner = Owner {
            kind: "Site",
            name: s.name(),
        };
        if dual_stack {
            out.push(Request::new(
                cat(&["site-v4/", &key["site/".len()..]]),
                PoolRef::SiteV4,
                owner,
                s.origin,
                s.spec
                    .ipv4_prefix
                    .map(|p| AllocValue::Prefix(IpNet::V4(p.0))),
                PinAt::SiteV4,
            ));
        }
        keys.insert(s.name(), Arc::from(key.as_str()));
        out.push(Request::new(
            key,
            PoolRef::SiteV6,
            owner,
            s.origin,
            s.spec
                .ipv6_prefix
                .map(|p| AllocValue::Prefix(IpNet::V6(p.0))),
            PinAt::SiteV6,
        ));
    }
    (out, keys)
}

/// Interfaces that are circuit ends, as (device, interface).
fn circuit_ends(inv: &Inventory) -> FastSet<(&str, &str)> {
    let mut ends = FastSet::with_capacity_and_hasher(inv.circuits.len() * 2, Default::default());
    for c in &inv.circuits {
        for end in [&c.spec.a, &c.spec.z] {
            ends.insert((end.device.as_str(), end.interface.as_str()));
        }
    }
    ends
}

/// A device's loopback and ASN, and a segment per office LAN: every interface of a branch
/// router that is not a circuit end.
fn device_requests<'a>(
    d: &'a Object<DeviceSpec>,
    site_keys: &FastMap<&str, Arc<str>>,
    circuit_ends: &FastSet<(&str, &str)>,
    out: &mut Vec<Request<'a>>,
) {
    let owner = Owner {
        kind: "Device",
        name: d.name(),
    };
    out.push(Request::new(
        cat(&["loopback/", d.name()]),
        PoolRef::Loopback,
        owner,
        d.origin,
        d.spec
            .loopback
            .map(|a| AllocValue::Prefix(IpNet::from(a.0))),
        PinAt::Loopback,
    ));
    let routed = matches!(
        d.spec.role,
        DeviceRole::Core | DeviceRole::WanEdge | DeviceRole::Cpe | DeviceRole::Hub
    );
    if routed {
        out.push(Request::new(
            cat(&["asn/", d.name()]),
            PoolRef::Asn,
            owner,
            d.origin,
            d.spec.asn.map(AllocValue::Number),
            PinAt::Asn,
        ));
    }
    if !matches!(d.spec.role, DeviceRole::Cpe | DeviceRole::Hub) {
        return;
    }
    let Some(site_key) = site_keys.get(d.spec.site.as_str()) else {
        return;
    };
    for (i, iface) in d.spec.interfaces.iter().enumerate() {
        if circuit_ends.contains(&(d.name(), iface.name.as_str())) {
            continue;
        }
        out.push(Request::new(
            cat(&["segment/", d.name(), ":", &iface.name]),
            PoolRef::Segment(Arc::clone(site_key)),
            owner,
            d.origin,
            v6_network(&iface.addresses),
            PinAt::InterfaceAddresses(i),
        ));
    }
}

/// A /127 per circuit. Its pin is the network of the first IPv6 address of an end's interface
/// (the first interface of that name on the device), indexed once: a DC edge router has an
/// interface per circuit, so searching its list per circuit would be quadratic.
fn circuit_requests(inv: &Inventory) -> Vec<Request<'_>> {
    let mut end_pins: FastMap<(&str, &str), AllocValue> = FastMap::default();
    let addressed = inv
        .devices
        .iter()
        .any(|d| d.spec.interfaces.iter().any(|i| !i.addresses.is_empty()));
    // By name, the last device of a name counting (as for every other lookup by name).
    let devices: FastMap<&str, &Object<DeviceSpec>> = if addressed {
        inv.devices.iter().map(|d| (d.name(), d)).collect()
    } else {
        FastMap::default()
    };
    for (&name, d) in &devices {
        if d.spec.interfaces.iter().all(|i| i.addresses.is_empty()) {
            continue;
        }
        let mut seen = FastSet::default();
        for iface in &d.spec.interfaces {
            if seen.insert(iface.name.as_str())
                && let Some(pin) = v6_network(&iface.addresses)
            {
                end_pins.insert((name, iface.name.as_str()), pin);
            }
        }
    }
    inv.circuits
        .iter()
        .map(|c| {
            let (a, z) = (&c.spec.a, &c.spec.z);
            let pin = if end_pins.is_empty() {
                None
            } else {
                [a, z].iter().find_map(|end| {
                    end_pins
                        .get(&(end.device.as_str(), end.interface.as_str()))
                        .copied()
                })
            };
            Request::new(
                cat(&[
                    "p2p/",
                    &a.device,
                    ":",
                    &a.interface,
                    "--",
                    &z.device,
                    ":",
                    &z.interface,
                ]),
                PoolRef::PointToPoint,
                Owner {
                    kind: "Circuit",
                    name: c.name(),
                },
                c.origin,
                pin,
                PinAt::CircuitEnd,
            )
        })
        .collect()
}

/// Sorts requests by key, stably, comparing mostly the first 24 bytes of each key held inline
/// (keys are long and share prefixes; sorting the requests themselves chases a pointer per
/// comparison and moves large structs).
fn sort_by_key(out: Vec<Request<'_>>) -> Vec<Request<'_>> {
    let head = |key: &str| {
        let mut b = [0u8; 24];
        let n = key.len().min(24);
        b[..n].copy_from_slice(&key.as_bytes()[..n]);
        (
            u128::from_be_bytes(b[..16].try_into().expect("16 bytes")),
            u64::from_be_bytes(b[16..].try_into().expect("8 bytes")),
        )
    };
    let mut order: Vec<(u128, u64, u32)> = out
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (a, b) = head(&r.key);
            (a, b, i as u32)
        })
        .collect();
    // Zero padding sorts a key before its extensions, as `str` does; equal heads fall back on
    // the whole keys, then on the original position (stable). The order is total, so a stable
    // sort gives the same result on any number of threads; it finds the runs requests come in (each kind of request in
    // inventory order, often sorted already).
    order.par_sort_by(|x, y| {
        (x.0, x.1)
            .cmp(&(y.0, y.1))
            .then_with(|| out[x.2 as usize].key.cmp(&out[y.2 as usize].key))
            .then(x.2.cmp(&y.2))
    });
    let mut slots: Vec<Option<Request>> = out.into_iter().map(Some).collect();
    order
        .into_iter()
        .map(|(_, _, i)| slots[i as usize].take().expect("each request once"))
        .collect()
}

/// The parts joined, in a string of exactly their length (`format!` is several times slower,
/// and a large inventory builds a few hundred thousand of these).
fn cat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        out.push_str(p);
    }
    out
}

/// The network of the first IPv6 interface address, as a pin.
fn v6_network(addresses: &[crate::model::InterfaceAddress]) -> Option<AllocValue> {
    addresses
        .iter()
        .find(|a| matches!(a.0, IpNet::V6(_)))
        .map(|a| AllocValue::Prefix(a.0.trunc()))
}
