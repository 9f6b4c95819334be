//! What an inventory asks to be allocated: one request per stable identity, with any static pin.

use ipnet::IpNet;

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
    /// The pool's name in the ledger.
    pub fn name(&self) -> String {
        match self {
            PoolRef::SiteV6 => "site-v6".into(),
            PoolRef::SiteV4 => "site-v4".into(),
            PoolRef::Segment(site) => format!("segment:{site}"),
            PoolRef::Loopback => "loopback".into(),
            PoolRef::PointToPoint => "p2p".into(),
            PoolRef::Asn => "asn".into(),
            PoolRef::Vlan => "vlan".into(),
        }
    }
}

/// One value an object needs.
#[derive(Debug, Clone)]
pub struct Request {
    /// Stable identity (`site/commune-00004`, `loopback/cpe-00004`, …).
    pub key: String,
    /// Where the value comes from.
    pub pool: PoolRef,
    /// `Kind/name` of the owner.
    pub owner: String,
    /// Where the owner is written (for pin errors).
    pub origin: Origin,
    /// Path of the pin inside the owner, when pinned.
    pub pin_path: Vec<Seg>,
    /// A static pin from the inventory.
    pub pin: Option<AllocValue>,
}

/// The ledger key of a site's prefix: communes by GSO code (it survives renaming the site),
/// other sites by name.
pub fn site_key(inv_region_code: Option<&str>, role: SiteRole, site: &str) -> String {
    match (role, inv_region_code) {
        (SiteRole::CommuneOffice, Some(code)) => format!("site/commune-{code}"),
        _ => format!("site/{site}"),
    }
}

/// Every request of `inv`, sorted by key.
pub fn requests(inv: &Inventory, dual_stack: bool, has_vlans: bool) -> Vec<Request> {
    let regions: std::collections::HashMap<&str, &str> = inv
        .regions
        .iter()
        .map(|r| (r.name(), r.spec.code.as_str()))
        .collect();
    let mut site_keys = std::collections::HashMap::new();
    let mut out = Vec::new();
    for s in &inv.sites {
        if s.spec.role == SiteRole::Datacenter {
            continue;
        }
        let key = site_key(
            regions.get(s.spec.region.as_str()).copied(),
            s.spec.role,
            s.name(),
        );
        site_keys.insert(s.name(), key.clone());
        out.push(Request {
            key: key.clone(),
            pool: PoolRef::SiteV6,
            owner: format!("Site/{}", s.name()),
            origin: s.origin,
            pin_path: at!["spec", "ipv6Prefix"],
            pin: s
                .spec
                .ipv6_prefix
                .map(|p| AllocValue::Prefix(IpNet::V6(p.0))),
        });
        if dual_stack {
            out.push(Request {
                key: key.replacen("site/", "site-v4/", 1),
                pool: PoolRef::SiteV4,
                owner: format!("Site/{}", s.name()),
                origin: s.origin,
                pin_path: at!["spec", "ipv4Prefix"],
                pin: s
                    .spec
                    .ipv4_prefix
                    .map(|p| AllocValue::Prefix(IpNet::V4(p.0))),
            });
        }
    }

    let mut circuit_ends = std::collections::HashSet::new();
    for c in &inv.circuits {
        circuit_ends.insert((c.spec.a.device.as_str(), c.spec.a.interface.as_str()));
        circuit_ends.insert((c.spec.z.device.as_str(), c.spec.z.interface.as_str()));
    }
    let devices: std::collections::HashMap<&str, &crate::model::Object<crate::model::DeviceSpec>> =
        inv.devices.iter().map(|d| (d.name(), d)).collect();

    for d in &inv.devices {
        let owner = format!("Device/{}", d.name());
        out.push(Request {
            key: format!("loopback/{}", d.name()),
            pool: PoolRef::Loopback,
            owner: owner.clone(),
            origin: d.origin,
            pin_path: at!["spec", "loopback"],
            pin: d
                .spec
                .loopback
                .map(|a| AllocValue::Prefix(IpNet::from(a.0))),
        });
        if matches!(
            d.spec.role,
            DeviceRole::Core | DeviceRole::WanEdge | DeviceRole::Cpe | DeviceRole::Hub
        ) {
            out.push(Request {
                key: format!("asn/{}", d.name()),
                pool: PoolRef::Asn,
                owner: owner.clone(),
                origin: d.origin,
                pin_path: at!["spec", "asn"],
                pin: d.spec.asn.map(AllocValue::Number),
            });
        }
        // Office LANs: every interface of a branch router that is not a circuit end.
        let Some(site_key) = site_keys.get(d.spec.site.as_str()) else {
            continue;
        };
        if !matches!(d.spec.role, DeviceRole::Cpe | DeviceRole::Hub) {
            continue;
        }
        for (i, iface) in d.spec.interfaces.iter().enumerate() {
            if circuit_ends.contains(&(d.name(), iface.name.as_str())) {
                continue;
            }
            out.push(Request {
                key: format!("segment/{}:{}", d.name(), iface.name),
                pool: PoolRef::Segment(site_key.clone()),
                owner: owner.clone(),
                origin: d.origin,
                pin_path: at!["spec", "interfaces", i, "addresses"],
                pin: v6_network(&iface.addresses),
            });
        }
    }

    for c in &inv.circuits {
        let (a, z) = (&c.spec.a, &c.spec.z);
        let pin = [a, z].iter().find_map(|end| {
            devices
                .get(end.device.as_str())
                .and_then(|d| d.spec.interface(&end.interface))
                .and_then(|i| v6_network(&i.addresses))
        });
        out.push(Request {
            key: format!(
                "p2p/{}:{}--{}:{}",
                a.device, a.interface, z.device, z.interface
            ),
            pool: PoolRef::PointToPoint,
            owner: format!("Circuit/{}", c.name()),
            origin: c.origin,
            pin_path: at!["spec", "a"],
            pin,
        });
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
                owner: format!("ColoLease/{}", l.name()),
                origin: l.origin,
                pin_path: vec![],
                pin: None,
            });
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

/// The network of the first IPv6 interface address, as a pin.
fn v6_network(addresses: &[crate::model::InterfaceAddress]) -> Option<AllocValue> {
    addresses
        .iter()
        .find(|a| matches!(a.0, IpNet::V6(_)))
        .map(|a| AllocValue::Prefix(a.0.trunc()))
}
