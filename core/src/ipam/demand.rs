//! What an inventory asks to be allocated: one request per stable identity, with any static pin.

use ipnet::IpNet;

use super::hash::{FastMap, FastSet};
use super::value::AllocValue;
use crate::load::Seg;
use crate::model::{DeviceRole, Inventory, Origin, SiteRole};
use crate::validate::at;

/// Which pool a request draws from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PoolRef {
    /// Site prefixes from the IPv6 roots.
    SiteV6,
    /// Site prefixes from the IPv4 roots.
    SiteV4,
    /// A /64 inside the site prefix allocated under this key.
    Segment(String),
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
            PoolRef::Segment(site) => name.strip_prefix("segment:") == Some(site.as_str()),
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
    /// Path of the pin inside the owner, when pinned (empty otherwise).
    pub pin_path: Vec<Seg>,
    /// A static pin from the inventory.
    pub pin: Option<AllocValue>,
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
pub fn requests(inv: &Inventory, dual_stack: bool, has_vlans: bool) -> Vec<Request<'_>> {
    let regions: FastMap<&str, &str> = inv
        .regions
        .iter()
        .map(|r| (r.name(), r.spec.code.as_str()))
        .collect();
    // Site name to the index of its prefix request in `out` (whose key it is).
    let mut site_keys: FastMap<&str, usize> =
        FastMap::with_capacity_and_hasher(inv.sites.len(), Default::default());
    let mut out = Vec::with_capacity(
        inv.sites.len() * 2 + inv.devices.len() * 3 + inv.circuits.len() + inv.colo_leases.len(),
    );
    for s in &inv.sites {
        if s.spec.role == SiteRole::Datacenter {
            continue;
        }
        let key = site_key(
            regions.get(s.spec.region.as_str()).copied(),
            s.spec.role,
            s.name(),
        );
        site_keys.insert(s.name(), out.len());
        out.push(with_pin_path(
            Request {
                key,
                pool: PoolRef::SiteV6,
                owner: Owner {
                    kind: "Site",
                    name: s.name(),
                },
                origin: s.origin,
                pin_path: Vec::new(),
                pin: s
                    .spec
                    .ipv6_prefix
                    .map(|p| AllocValue::Prefix(IpNet::V6(p.0))),
            },
            || at!["spec", "ipv6Prefix"],
        ));
        if dual_stack {
            out.push(with_pin_path(
                Request {
                    key: cat(&["site-v4/", &out[out.len() - 1].key["site/".len()..]]),
                    pool: PoolRef::SiteV4,
                    owner: Owner {
                        kind: "Site",
                        name: s.name(),
                    },
                    origin: s.origin,
                    pin_path: Vec::new(),
                    pin: s
                        .spec
                        .ipv4_prefix
                        .map(|p| AllocValue::Prefix(IpNet::V4(p.0))),
                },
                || at!["spec", "ipv4Prefix"],
            ));
        }
    }

    // Interfaces that are circuit ends, by device name.
    let mut circuit_ends: FastSet<(&str, &str)> =
        FastSet::with_capacity_and_hasher(inv.circuits.len() * 2, Default::default());
    for c in &inv.circuits {
        for end in [&c.spec.a, &c.spec.z] {
            circuit_ends.insert((end.device.as_str(), end.interface.as_str()));
        }
    }

    for d in &inv.devices {
        let owner = Owner {
            kind: "Device",
            name: d.name(),
        };
        out.push(with_pin_path(
            Request {
                key: cat(&["loopback/", d.name()]),
                pool: PoolRef::Loopback,
                owner,
                origin: d.origin,
                pin_path: Vec::new(),
                pin: d
                    .spec
                    .loopback
                    .map(|a| AllocValue::Prefix(IpNet::from(a.0))),
            },
            || at!["spec", "loopback"],
        ));
        if matches!(
            d.spec.role,
            DeviceRole::Core | DeviceRole::WanEdge | DeviceRole::Cpe | DeviceRole::Hub
        ) {
            out.push(with_pin_path(
                Request {
                    key: cat(&["asn/", d.name()]),
                    pool: PoolRef::Asn,
                    owner,
                    origin: d.origin,
                    pin_path: Vec::new(),
                    pin: d.spec.asn.map(AllocValue::Number),
                },
                || at!["spec", "asn"],
            ));
        }
        // Office LANs: every interface of a branch router that is not a circuit end.
        let Some(&site_request) = site_keys.get(d.spec.site.as_str()) else {
            continue;
        };
        if !matches!(d.spec.role, DeviceRole::Cpe | DeviceRole::Hub) {
            continue;
        }
        for (i, iface) in d.spec.interfaces.iter().enumerate() {
            if circuit_ends.contains(&(d.name(), iface.name.as_str())) {
                continue;
            }
            let site_key = out[site_request].key.clone();
            out.push(with_pin_path(
                Request {
                    key: cat(&["segment/", d.name(), ":", &iface.name]),
                    pool: PoolRef::Segment(site_key),
                    owner,
                    origin: d.origin,
                    pin_path: Vec::new(),
                    pin: v6_network(&iface.addresses),
                },
                || at!["spec", "interfaces", i, "addresses"],
            ));
        }
    }

    // Pins of circuit ends: the network of the first IPv6 address of the end's interface (the
    // first interface of that name on the device). Indexed once: a DC edge router has an
    // interface per circuit, so searching its list per circuit would be quadratic.
    let mut end_pins: FastMap<(&str, &str), AllocValue> = FastMap::default();
    let addressed = inv
        .devices
        .iter()
        .any(|d| d.spec.interfaces.iter().any(|i| !i.addresses.is_empty()));
    // By name, the last device of a name counting (as for every other lookup by name).
    let devices: FastMap<&str, &crate::model::Object<crate::model::DeviceSpec>> = if addressed {
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
    for c in &inv.circuits {
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
        out.push(with_pin_path(
            Request {
                key: cat(&[
                    "p2p/",
                    &a.device,
                    ":",
                    &a.interface,
                    "--",
                    &z.device,
                    ":",
                    &z.interface,
                ]),
                pool: PoolRef::PointToPoint,
                owner: Owner {
                    kind: "Circuit",
                    name: c.name(),
                },
                origin: c.origin,
                pin_path: Vec::new(),
                pin,
            },
            || at!["spec", "a"],
        ));
    }

    if has_vlans {
        for l in &inv.colo_leases {
            out.push(Request {
                key: format!(
                    "vlan/{}/{}",
                    l.metadata.namespace.as_deref().unwrap_or("-"),
                    l.name()
                ),
                pool: PoolRef::Vlan,
                owner: Owner {
                    kind: "ColoLease",
                    name: l.name(),
                },
                origin: l.origin,
                pin_path: vec![],
                pin: None,
            });
        }
    }
    sort_by_key(out)
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
    // sort gives the same result; it finds the runs requests come in (each kind of request in
    // inventory order, often sorted already).
    order.sort_by(|x, y| {
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

/// Sets the path of the pin, only when there is one: it is only ever used to point at a pin, and
/// building it for every request of a large inventory costs several allocations each.
fn with_pin_path<'a>(mut r: Request<'a>, path: impl FnOnce() -> Vec<Seg>) -> Request<'a> {
    if r.pin.is_some() {
        r.pin_path = path();
    }
    r
}

/// The network of the first IPv6 interface address, as a pin.
fn v6_network(addresses: &[crate::model::InterfaceAddress]) -> Option<AllocValue> {
    addresses
        .iter()
        .find(|a| matches!(a.0, IpNet::V6(_)))
        .map(|a| AllocValue::Prefix(a.0.trunc()))
}
