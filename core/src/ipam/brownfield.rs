//! Writing a ledger's values into an inventory as pins: what a city that imports its existing
//! addressing writes (every site prefix, loopback, ASN and interface address fixed by hand).
//!
//! Planning the pinned inventory on that ledger changes nothing and marks every entry pinned;
//! the brownfield benchmarks plan exactly this.

use std::collections::HashMap;

use ipnet::IpNet;

use super::ledger::{Entry, Ledger};
use super::report::interface_addresses;
use super::schema;
use crate::model::{
    InterfaceAddress, Inventory, IpAddress, Ipv4Prefix, Ipv6Prefix, Object, SiteRole, SiteSpec,
};

/// Pins every value `ledger` holds for an object of `inventory` on that object: sites'
/// `ipv6Prefix` and `ipv4Prefix`, devices' `loopback` and `asn`, and the addresses of the
/// interfaces that end circuits or carry office LANs (both ends of each /127, the router's `::1`
/// in each segment). Held entries pin nothing, and interfaces that already have addresses keep
/// them.
pub fn pin_all(inventory: &mut Inventory, ledger: &Ledger) {
    let codes: HashMap<&str, &str> = inventory
        .regions
        .iter()
        .map(|r| (r.name(), r.spec.code.as_str()))
        .collect();
    let active = |key: &str| ledger.entries.get(key).filter(|e| e.held.is_none());
    for site in &mut inventory.sites {
        pin_site(site, &codes, active);
    }
    let mut addresses: HashMap<(String, String), Vec<InterfaceAddress>> = HashMap::new();
    for a in interface_addresses(ledger) {
        if let Ok(net) = IpNet::new(a.address, a.prefix_len) {
            addresses
                .entry((a.device, a.interface))
                .or_default()
                .push(InterfaceAddress(net));
        }
    }
    for d in &mut inventory.devices {
        let name = d.name().to_owned();
        if let Some(IpNet::V6(lo)) = active(&schema::loopback_key(&name)).and_then(prefix) {
            d.spec.loopback = Some(IpAddress(lo.addr().into()));
        }
        if let Some(n) = active(&schema::asn_key(&name)).and_then(|e| e.value.number()) {
            d.spec.asn = Some(n);
        }
        for iface in d
            .spec
            .interfaces
            .iter_mut()
            .filter(|i| i.addresses.is_empty())
        {
            if let Some(a) = addresses.get(&(name.clone(), iface.name.clone())) {
                iface.addresses.clone_from(a);
            }
        }
    }
}

fn pin_site<'e>(
    site: &mut Object<SiteSpec>,
    codes: &HashMap<&str, &str>,
    active: impl Fn(&str) -> Option<&'e Entry>,
) {
    if site.spec.role == SiteRole::Datacenter {
        return;
    }
    let code = codes.get(site.spec.region.as_str()).copied();
    let key = schema::site_key(code, site.spec.role, site.name());
    if let Some(IpNet::V6(p)) = active(&key).and_then(prefix) {
        site.spec.ipv6_prefix = Some(Ipv6Prefix(p));
    }
    if let Some(IpNet::V4(p)) = active(&schema::site_v4_key(&key)).and_then(prefix) {
        site.spec.ipv4_prefix = Some(Ipv4Prefix(p));
    }
}

fn prefix(e: &Entry) -> Option<IpNet> {
    e.value.prefix()
}
