//! The routing graph: one router per compiled device with an AS, one eBGP session per circuit
//! whose two ends both configured the other, and for each direction of a session the prefixes
//! that can cross it — the sender's export list met with the receiver's accept list, with the
//! receiver's local preference and the sender's prepends. Route selection runs on this graph only,
//! so whatever policy `compile` gives the templates is the policy analysed.

use std::collections::HashMap;

use ipnet::IpNet;

use super::prefix::{PrefixId, Prefixes};
use crate::compile::DeviceModel;
use crate::model::{DataCenterTier, Inventory, SiteRole};

/// Index of a router.
pub type RouterId = u32;
/// Index of a session (one per circuit carrying eBGP).
pub type SessionId = u32;
/// Index of a site.
pub type SiteId = u32;
/// Index of a data center.
pub type DcId = u32;

/// One routing device.
#[derive(Debug, Clone)]
pub struct Router {
    /// Device name.
    pub name: String,
    /// Its AS (the loop check compares these).
    pub asn: u32,
    /// BGP router id: the last tie-break between equal routes.
    pub router_id: u32,
    /// Its site.
    pub site: SiteId,
    /// Prefixes it originates (always installed while it runs: `network` over a blackhole).
    pub originates: Vec<PrefixId>,
}

/// One direction of a session: `from` sends, `to` receives.
#[derive(Debug, Clone)]
pub struct Arc {
    /// The session.
    pub session: SessionId,
    /// Sender.
    pub from: RouterId,
    /// Receiver.
    pub to: RouterId,
    /// Local preference the receiver sets.
    pub local_pref: u32,
    /// AS-path length the route gains crossing it: the sender's AS once plus its prepends.
    pub added_len: u32,
    /// Prefixes both lists let through, sorted.
    pub permits: Vec<PrefixId>,
}

/// One site.
#[derive(Debug, Clone)]
pub struct Site {
    /// Site name.
    pub name: String,
    /// Human name.
    pub display_name: String,
    /// Whether it is a commune office (the offices whose reach is analysed).
    pub commune_office: bool,
    /// The data center this site is, if it is one.
    pub data_center: Option<DcId>,
    /// Routers at the site.
    pub routers: Vec<RouterId>,
}

/// One data center.
#[derive(Debug, Clone)]
pub struct DataCenter {
    /// Name.
    pub name: String,
    /// Tier.
    pub tier: DataCenterTier,
    /// Its site.
    pub site: Option<SiteId>,
}

/// A service: one prefix of the address plan, with the address communes reach it at.
#[derive(Debug, Clone)]
pub struct Service {
    /// Key in the address plan (the data center it belongs to).
    pub name: String,
    /// The prefix.
    pub prefix: IpNet,
    /// The interned prefix, when some router originates it.
    pub id: Option<PrefixId>,
}

/// A circuit, as far as failures go.
#[derive(Debug, Clone)]
pub struct Circuit {
    /// Name.
    pub name: String,
    /// The session it carries, if both ends route.
    pub session: Option<SessionId>,
}

/// The routing graph of an estate.
#[derive(Debug)]
pub struct Network {
    /// Routers, by device name order.
    pub routers: Vec<Router>,
    /// Sites, by name order.
    pub sites: Vec<Site>,
    /// Data centers, by name order.
    pub data_centers: Vec<DataCenter>,
    /// Circuits, by name order.
    pub circuits: Vec<Circuit>,
    /// Services, by name.
    pub services: Vec<Service>,
    /// Interned prefixes.
    pub prefixes: Prefixes,
    /// Both directions of every session: arc `2s` is a→b, `2s+1` is b→a.
    pub arcs: Vec<Arc>,
    /// Arcs into each router.
    pub arcs_in: Vec<Vec<u32>>,
    /// Routers originating each prefix.
    pub originators: Vec<Vec<RouterId>>,
    /// Arcs each prefix can cross.
    pub carriers: Vec<Vec<u32>>,
    /// The circuit of each session.
    pub session_circuits: Vec<u32>,
    router_by_name: HashMap<String, RouterId>,
    site_by_name: HashMap<String, SiteId>,
    dc_by_name: HashMap<String, DcId>,
    circuit_by_name: HashMap<String, u32>,
}

impl Network {
    /// The graph of `models` (compiled from `inv`).
    pub fn new(inv: &Inventory, models: &[DeviceModel]) -> Network {
        let (mut sites, data_centers) = places(inv);
        let site_by_name: HashMap<String, SiteId> = index(sites.iter().map(|s| &s.name));
        let dc_by_name = index(data_centers.iter().map(|d| &d.name));
        let site_of: HashMap<&str, &str> = inv
            .devices
            .iter()
            .map(|d| (d.name(), d.spec.site.as_str()))
            .collect();

        let mut prefixes = Prefixes::default();
        let mut routing: Vec<&DeviceModel> = models.iter().filter(|m| m.asn.is_some()).collect();
        routing.sort_by(|a, b| a.name.cmp(&b.name));
        let mut routers = Vec::with_capacity(routing.len());
        for m in &routing {
            let Some(&site) = site_of
                .get(m.name.as_str())
                .and_then(|s| site_by_name.get(*s))
            else {
                continue;
            };
            let originates = m
                .originate
                .iter()
                .filter_map(|p| p.parse::<IpNet>().ok())
                .map(|p| prefixes.intern(p))
                .collect();
            sites[site as usize].routers.push(routers.len() as RouterId);
            routers.push(Router {
                name: m.name.clone(),
                asn: m.asn.unwrap_or_default(),
                router_id: u32::from(m.router_id),
                site,
                originates,
            });
        }
        prefixes.seal();
        let router_by_name: HashMap<String, RouterId> = index(routers.iter().map(|r| &r.name));
        // Edge routers have a neighbour per commune: look sessions up by (device, circuit).
        let neighbor_of: HashMap<(&str, &str), &crate::compile::Neighbor> = routing
            .iter()
            .flat_map(|m| {
                m.neighbors
                    .iter()
                    .map(move |n| ((m.name.as_str(), n.circuit.as_str()), n))
            })
            .collect();
        let neighbor = |device: &str, circuit: &str, peer: &str| {
            neighbor_of
                .get(&(device, circuit))
                .copied()
                .filter(|n| n.peer == peer)
        };

        let mut circuit_names: Vec<&str> = inv.circuits.iter().map(|c| c.name()).collect();
        circuit_names.sort_unstable();
        let mut circuits: Vec<Circuit> = circuit_names
            .iter()
            .map(|n| Circuit {
                name: (*n).to_owned(),
                session: None,
            })
            .collect();
        let circuit_by_name: HashMap<String, u32> = index(circuits.iter().map(|c| &c.name));
        let mut arcs = Vec::new();
        let mut session_circuits = Vec::new();
        for c in &inv.circuits {
            let (a, z) = (c.spec.a.device.as_str(), c.spec.z.device.as_str());
            let (Some(&ra), Some(&rz)) = (router_by_name.get(a), router_by_name.get(z)) else {
                continue;
            };
            // A session needs both ends configured towards each other over this circuit.
            let (Some(na), Some(nz)) = (neighbor(a, c.name(), z), neighbor(z, c.name(), a)) else {
                continue;
            };
            let session = (arcs.len() / 2) as SessionId;
            circuits[circuit_by_name[c.name()] as usize].session = Some(session);
            session_circuits.push(circuit_by_name[c.name()]);
            arcs.push(arc(&prefixes, session, (ra, na), (rz, nz)));
            arcs.push(arc(&prefixes, session, (rz, nz), (ra, na)));
        }
        let Lookups {
            arcs_in,
            carriers,
            originators,
        } = Lookups::of(&routers, &arcs, prefixes.len());
        let services = services(inv, &prefixes);
        Network {
            routers,
            sites,
            data_centers,
            circuits,
            services,
            prefixes,
            arcs,
            arcs_in,
            originators,
            carriers,
            session_circuits,
            router_by_name,
            site_by_name,
            dc_by_name,
            circuit_by_name,
        }
    }

    /// The router named `name`.
    pub fn router(&self, name: &str) -> Option<RouterId> {
        self.router_by_name.get(name).copied()
    }

    /// The site named `name`.
    pub fn site(&self, name: &str) -> Option<SiteId> {
        self.site_by_name.get(name).copied()
    }

    /// The data center named `name`.
    pub fn data_center(&self, name: &str) -> Option<DcId> {
        self.dc_by_name.get(name).copied()
    }

    /// The circuit named `name`.
    pub fn circuit(&self, name: &str) -> Option<u32> {
        self.circuit_by_name.get(name).copied()
    }

    /// The data center a router stands in, if any.
    pub fn dc_of(&self, r: RouterId) -> Option<DcId> {
        self.sites[self.routers[r as usize].site as usize].data_center
    }

    /// Whether arc `a` lets prefix `p` through.
    pub fn permits(&self, a: u32, p: PrefixId) -> bool {
        self.arcs[a as usize].permits.binary_search(&p).is_ok()
    }
}

/// What route selection looks up by router and by prefix.
struct Lookups {
    arcs_in: Vec<Vec<u32>>,
    carriers: Vec<Vec<u32>>,
    originators: Vec<Vec<RouterId>>,
}

impl Lookups {
    fn of(routers: &[Router], arcs: &[Arc], prefixes: usize) -> Lookups {
        let mut arcs_in = vec![Vec::new(); routers.len()];
        let mut carriers = vec![Vec::new(); prefixes];
        for (i, a) in arcs.iter().enumerate() {
            arcs_in[a.to as usize].push(i as u32);
            for &p in &a.permits {
                carriers[p as usize].push(i as u32);
            }
        }
        let mut originators = vec![Vec::new(); prefixes];
        for (i, r) in routers.iter().enumerate() {
            for &p in &r.originates {
                originators[p as usize].push(i as RouterId);
            }
        }
        Lookups {
            arcs_in,
            carriers,
            originators,
        }
    }
}

/// Sites and data centers of `inv`, each by name, with each data center's site marked.
fn places(inv: &Inventory) -> (Vec<Site>, Vec<DataCenter>) {
    let mut sites: Vec<Site> = inv
        .sites
        .iter()
        .map(|s| Site {
            name: s.name().to_owned(),
            display_name: s.spec.display_name.clone(),
            commune_office: s.spec.role == SiteRole::CommuneOffice,
            data_center: None,
            routers: Vec::new(),
        })
        .collect();
    sites.sort_by(|a, b| a.name.cmp(&b.name));
    let site_by_name: HashMap<String, SiteId> = index(sites.iter().map(|s| &s.name));
    let mut data_centers: Vec<DataCenter> = inv
        .data_centers
        .iter()
        .map(|d| DataCenter {
            name: d.name().to_owned(),
            tier: d.spec.tier,
            site: site_by_name.get(&d.spec.site).copied(),
        })
        .collect();
    data_centers.sort_by(|a, b| a.name.cmp(&b.name));
    for (i, dc) in data_centers.iter().enumerate() {
        if let Some(s) = dc.site {
            sites[s as usize].data_center = Some(i as DcId);
        }
    }
    (sites, data_centers)
}

/// The services of the address plan, with their interned prefixes.
fn services(inv: &Inventory, prefixes: &Prefixes) -> Vec<Service> {
    inv.address_plans
        .first()
        .map(|plan| {
            plan.spec
                .services
                .iter()
                .map(|(name, prefix)| {
                    let prefix = IpNet::V6(prefix.net());
                    Service {
                        name: name.clone(),
                        prefix,
                        id: prefixes.id(prefix),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Name → position.
fn index<'a>(names: impl Iterator<Item = &'a String>) -> HashMap<String, u32> {
    names
        .enumerate()
        .map(|(i, n)| (n.clone(), i as u32))
        .collect()
}

/// The arc `from → to`: what the sender exports and the receiver accepts.
fn arc(
    prefixes: &Prefixes,
    session: SessionId,
    (from, sender): (RouterId, &crate::compile::Neighbor),
    (to, receiver): (RouterId, &crate::compile::Neighbor),
) -> Arc {
    let export = list(prefixes, &sender.export);
    let accept = list(prefixes, &receiver.accept);
    let permits: Vec<PrefixId> = export
        .iter()
        .copied()
        .filter(|p| accept.binary_search(p).is_ok())
        .collect();
    Arc {
        session,
        from,
        to,
        local_pref: receiver.local_pref,
        added_len: 1 + sender.prepend.len() as u32,
        permits,
    }
}

/// The interned prefixes a rendered prefix list lets through, sorted.
fn list(prefixes: &Prefixes, entries: &[String]) -> Vec<PrefixId> {
    let mut out = Vec::new();
    for e in entries {
        if let Ok(net) = e.parse::<IpNet>() {
            prefixes.permitted(net, &mut out);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Small graphs built by hand for the unit tests of the modules that run on them.
#[cfg(test)]
pub(crate) mod sketch {
    use super::*;

    /// A session for [`network`]: (a, b, local preference a sets, local preference b sets,
    /// prepends a adds towards b, prepends b adds towards a, prefixes a→b, prefixes b→a).
    pub(crate) type Link<'a> = (
        &'a str,
        &'a str,
        u32,
        u32,
        u32,
        u32,
        &'a [&'a str],
        &'a [&'a str],
    );

    /// A network of `routers` (name, site, originated prefixes), one site per distinct site name
    /// (sites named `dc-*` are data centers, `dc-main` the main one; others commune offices),
    /// AS numbers and router ids in router order, and `links`.
    pub(crate) fn network(routers: &[(&str, &str, &[&str])], links: &[Link<'_>]) -> Network {
        let mut prefixes = Prefixes::default();
        let mut site_names: Vec<&str> = routers.iter().map(|r| r.1).collect();
        site_names.sort_unstable();
        site_names.dedup();
        let mut data_centers = Vec::new();
        let mut sites: Vec<Site> = site_names
            .iter()
            .map(|s| {
                let dc = s.starts_with("dc-").then(|| {
                    data_centers.push(DataCenter {
                        name: (*s).to_owned(),
                        tier: if *s == "dc-main" {
                            DataCenterTier::Main
                        } else {
                            DataCenterTier::Backup
                        },
                        site: None,
                    });
                    (data_centers.len() - 1) as DcId
                });
                Site {
                    name: (*s).to_owned(),
                    display_name: s.to_uppercase(),
                    commune_office: dc.is_none(),
                    data_center: dc,
                    routers: Vec::new(),
                }
            })
            .collect();
        for (i, s) in sites.iter().enumerate() {
            if let Some(d) = s.data_center {
                data_centers[d as usize].site = Some(i as SiteId);
            }
        }
        let mut out = Vec::new();
        for (i, (name, site, originates)) in routers.iter().enumerate() {
            let site = site_names.binary_search(site).unwrap() as SiteId;
            sites[site as usize].routers.push(i as RouterId);
            out.push(Router {
                name: (*name).to_owned(),
                asn: 65000 + i as u32,
                router_id: i as u32 + 1,
                site,
                originates: originates
                    .iter()
                    .map(|p| prefixes.intern(p.parse().unwrap()))
                    .collect(),
            });
        }
        prefixes.seal();
        let router_by_name: HashMap<String, RouterId> = index(out.iter().map(|r| &r.name));
        let ids = |ps: &[&str]| -> Vec<PrefixId> {
            let mut v: Vec<PrefixId> = ps
                .iter()
                .filter_map(|p| prefixes.id(p.parse().unwrap()))
                .collect();
            v.sort_unstable();
            v
        };
        let mut arcs = Vec::new();
        let mut circuits = Vec::new();
        for (s, (a, b, lp_a, lp_b, pre_a, pre_b, ab, ba)) in links.iter().enumerate() {
            let (ra, rb) = (router_by_name[*a], router_by_name[*b]);
            let s = s as SessionId;
            arcs.push(Arc {
                session: s,
                from: ra,
                to: rb,
                local_pref: *lp_b,
                added_len: 1 + pre_a,
                permits: ids(ab),
            });
            arcs.push(Arc {
                session: s,
                from: rb,
                to: ra,
                local_pref: *lp_a,
                added_len: 1 + pre_b,
                permits: ids(ba),
            });
            circuits.push(Circuit {
                name: format!("{a}-{b}"),
                session: Some(s),
            });
        }
        let Lookups {
            arcs_in,
            carriers,
            originators,
        } = Lookups::of(&out, &arcs, prefixes.len());
        let services = vec![Service {
            name: "portal".into(),
            prefix: "3fff:10::/48".parse().unwrap(),
            id: prefixes.id("3fff:10::/48".parse().unwrap()),
        }];
        Network {
            site_by_name: index(sites.iter().map(|s| &s.name)),
            dc_by_name: index(data_centers.iter().map(|d| &d.name)),
            circuit_by_name: index(circuits.iter().map(|c| &c.name)),
            session_circuits: (0..circuits.len() as u32).collect(),
            routers: out,
            sites,
            data_centers,
            circuits,
            services,
            prefixes,
            arcs,
            arcs_in,
            originators,
            carriers,
            router_by_name,
        }
    }
}
