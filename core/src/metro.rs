//! The metro network (MAN): which devices and `metro` circuits form each ring or mesh, and, for
//! every aggregation router on one, the metro circuits it cannot lose — those whose failure
//! alone cuts it off from every data-center router. On a ring there are none: each aggregation
//! router has two ways round to the data center. Pure: validation (`metro-single-path`),
//! `hatang stats` and the compiler read the same analysis.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::{CircuitRole, DeviceRole, Inventory, SiteRole};

/// One metro network: devices joined by `metro` circuits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetroNetwork<'a> {
    /// Every device on it, sorted by name.
    pub devices: Vec<&'a str>,
    /// Its metro circuits, by name.
    pub circuits: Vec<&'a str>,
    /// Its routers at a data-center site (where the ring joins the data center).
    pub data_center_routers: Vec<&'a str>,
    /// Its aggregation routers, each with the metro circuits whose loss alone cuts it off from
    /// every data-center router (empty: two paths). A network without a data-center router
    /// lists every circuit for each of its aggregation routers.
    pub aggregation: BTreeMap<&'a str, Vec<&'a str>>,
}

impl MetroNetwork<'_> {
    /// Whether the aggregation router `router` keeps a path to the data center whichever
    /// single metro circuit fails.
    pub fn two_paths(&self, router: &str) -> bool {
        self.aggregation
            .get(router)
            .is_some_and(|cuts| cuts.is_empty() && !self.data_center_routers.is_empty())
    }
}

/// A site attached to the metro network: an access circuit from one of its devices to an
/// aggregation router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment<'a> {
    /// The attached site (an agency, a commune office, …).
    pub site: &'a str,
    /// The aggregation router its access circuit lands on.
    pub router: &'a str,
    /// The access circuit.
    pub circuit: &'a str,
    /// Whether that router has two paths to the data center (no single metro circuit cuts it
    /// off), so the site does too beyond its access circuit.
    pub two_paths: bool,
}

/// Every access circuit (not `metro`) between an aggregation router and a device of another
/// site, sorted by site and circuit.
pub fn attachments<'a>(inv: &'a Inventory, networks: &[MetroNetwork<'a>]) -> Vec<Attachment<'a>> {
    let devices: HashMap<&str, (DeviceRole, &str)> = inv
        .devices
        .iter()
        .map(|d| (d.name(), (d.spec.role, d.spec.site.as_str())))
        .collect();
    let two_paths = |router: &str| networks.iter().any(|n| n.two_paths(router));
    let mut out = Vec::new();
    for c in inv
        .circuits
        .iter()
        .filter(|c| c.spec.role != CircuitRole::Metro)
    {
        for (near, far) in [(&c.spec.a, &c.spec.z), (&c.spec.z, &c.spec.a)] {
            let (Some((near_role, near_site)), Some((_, far_site))) = (
                devices.get(near.device.as_str()),
                devices.get(far.device.as_str()),
            ) else {
                continue;
            };
            if *near_role == DeviceRole::Aggregation && near_site != far_site {
                out.push(Attachment {
                    site: far_site,
                    router: near.device.as_str(),
                    circuit: c.name(),
                    two_paths: two_paths(&near.device),
                });
            }
        }
    }
    out.sort_by(|a, b| (a.site, a.circuit).cmp(&(b.site, b.circuit)));
    out
}

/// A metro circuit as the analysis sees it: (name, a device, z device).
type Trunk<'a> = (&'a str, &'a str, &'a str);

/// Every metro network of the inventory, in the order of its first device's name.
pub fn networks(inv: &Inventory) -> Vec<MetroNetwork<'_>> {
    let trunks: Vec<Trunk<'_>> = inv
        .circuits
        .iter()
        .filter(|c| c.spec.role == CircuitRole::Metro)
        .map(|c| (c.name(), c.spec.a.device.as_str(), c.spec.z.device.as_str()))
        .collect();
    let sites: HashMap<&str, SiteRole> =
        inv.sites.iter().map(|s| (s.name(), s.spec.role)).collect();
    let devices: HashMap<&str, (DeviceRole, Option<SiteRole>)> = inv
        .devices
        .iter()
        .map(|d| {
            (
                d.name(),
                (d.spec.role, sites.get(d.spec.site.as_str()).copied()),
            )
        })
        .collect();
    let mut out = Vec::new();
    for group in components(&trunks, None) {
        let members: BTreeSet<&str> = group.iter().copied().collect();
        let circuits: Vec<&str> = trunks
            .iter()
            .filter(|(_, a, _)| members.contains(a))
            .map(|(name, _, _)| *name)
            .collect();
        let at_data_center = |d: &&str| {
            devices
                .get(d)
                .is_some_and(|(_, site)| *site == Some(SiteRole::Datacenter))
        };
        let data_center_routers: Vec<&str> = group.iter().copied().filter(at_data_center).collect();
        let aggregation = group
            .iter()
            .copied()
            .filter(|d| {
                devices
                    .get(d)
                    .is_some_and(|(r, _)| *r == DeviceRole::Aggregation)
            })
            .map(|router| {
                let cuts = if data_center_routers.is_empty() {
                    circuits.clone()
                } else {
                    Vec::new()
                };
                (router, cuts)
            })
            .collect();
        let mut network = MetroNetwork {
            devices: group,
            circuits,
            data_center_routers,
            aggregation,
        };
        if !network.data_center_routers.is_empty() {
            single_points(&trunks, &mut network);
        }
        out.push(network);
    }
    out
}

/// Fills in, for each aggregation router, the circuits whose loss cuts it off: only a bridge
/// (a circuit on no cycle) can, so each bridge is removed in turn and the side it leaves
/// without a data-center router is cut by it. A ring has no bridge and costs one search.
fn single_points<'a>(trunks: &[Trunk<'a>], network: &mut MetroNetwork<'a>) {
    let members: BTreeSet<&str> = network.devices.iter().copied().collect();
    let own: Vec<Trunk<'a>> = trunks
        .iter()
        .copied()
        .filter(|(_, a, _)| members.contains(a))
        .collect();
    for bridge in bridges(&own) {
        let (name, _, _) = own[bridge];
        for side in components(&own, Some(bridge)) {
            if side.iter().any(|d| network.data_center_routers.contains(d)) {
                continue;
            }
            for device in side {
                if let Some(cuts) = network.aggregation.get_mut(device) {
                    cuts.push(name);
                }
            }
        }
    }
    for cuts in network.aggregation.values_mut() {
        cuts.sort_unstable();
    }
}

/// Groups of devices joined by `trunks` (all but `without`), each sorted, by first device.
fn components<'a>(trunks: &[Trunk<'a>], without: Option<usize>) -> Vec<Vec<&'a str>> {
    let mut neighbours: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (i, (_, a, z)) in trunks.iter().enumerate() {
        neighbours.entry(a).or_default();
        neighbours.entry(z).or_default();
        if Some(i) != without {
            neighbours.entry(a).or_default().push(z);
            neighbours.entry(z).or_default().push(a);
        }
    }
    let mut seen = BTreeSet::new();
    let mut groups = Vec::new();
    for &start in neighbours.keys() {
        if !seen.insert(start) {
            continue;
        }
        let mut group = vec![start];
        let mut todo = vec![start];
        while let Some(device) = todo.pop() {
            for &next in &neighbours[device] {
                if seen.insert(next) {
                    group.push(next);
                    todo.push(next);
                }
            }
        }
        group.sort_unstable();
        groups.push(group);
    }
    groups
}

/// Indexes of the trunks that lie on no cycle (bridges), by an iterative depth-first search
/// (Tarjan's low-link), so a long chain cannot overflow the stack. Parallel circuits between
/// the same two routers are a cycle: each is told apart by its index, not its ends.
fn bridges(trunks: &[Trunk<'_>]) -> Vec<usize> {
    let mut adjacent: BTreeMap<&str, Vec<(&str, usize)>> = BTreeMap::new();
    for (i, (_, a, z)) in trunks.iter().enumerate() {
        adjacent.entry(a).or_default().push((z, i));
        adjacent.entry(z).or_default().push((a, i));
    }
    let mut order: HashMap<&str, usize> = HashMap::new();
    let mut low: HashMap<&str, usize> = HashMap::new();
    let mut out = Vec::new();
    for &root in adjacent.keys() {
        if order.contains_key(root) {
            continue;
        }
        // (device, the trunk it was reached by, next neighbour to look at)
        let mut stack: Vec<(&str, Option<usize>, usize)> = vec![(root, None, 0)];
        order.insert(root, order.len());
        low.insert(root, order[root]);
        while let Some(&mut (device, via, ref mut next)) = stack.last_mut() {
            if let Some(&(peer, trunk)) = adjacent[device].get(*next) {
                *next += 1;
                if Some(trunk) == via {
                    continue;
                }
                match order.get(peer) {
                    Some(&seen) => {
                        let l = low[device].min(seen);
                        low.insert(device, l);
                    }
                    None => {
                        let n = order.len();
                        order.insert(peer, n);
                        low.insert(peer, n);
                        stack.push((peer, Some(trunk), 0));
                    }
                }
                continue;
            }
            stack.pop();
            if let (Some(trunk), Some(&(parent, _, _))) = (via, stack.last()) {
                let l = low[parent].min(low[device]);
                low.insert(parent, l);
                if low[device] > order[parent] {
                    out.push(trunk);
                }
            }
        }
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trunks(edges: &[(&'static str, &'static str)]) -> Vec<Trunk<'static>> {
        edges
            .iter()
            .enumerate()
            .map(|(i, (a, z))| {
                let name: &'static str = Box::leak(format!("c{i}").into_boxed_str());
                (name, *a, *z)
            })
            .collect()
    }

    #[test]
    fn a_ring_has_no_bridge() {
        let t = trunks(&[("e1", "a1"), ("a1", "a2"), ("a2", "e2"), ("e2", "e1")]);
        assert_eq!(bridges(&t), Vec::<usize>::new());
    }

    #[test]
    fn a_spur_and_a_chain_are_bridges() {
        // ring e1-a1-a2-e1, a spur a2-a3, a chain a3-a4
        let t = trunks(&[
            ("e1", "a1"),
            ("a1", "a2"),
            ("a2", "e1"),
            ("a2", "a3"),
            ("a3", "a4"),
        ]);
        assert_eq!(bridges(&t), vec![3, 4]);
    }

    #[test]
    fn parallel_circuits_are_a_cycle() {
        let t = trunks(&[("e1", "a1"), ("e1", "a1"), ("a1", "a2")]);
        assert_eq!(bridges(&t), vec![2]);
    }

    #[test]
    fn components_without_a_trunk_split() {
        let t = trunks(&[("e1", "a1"), ("a1", "a2")]);
        assert_eq!(components(&t, None), vec![vec!["a1", "a2", "e1"]]);
        assert_eq!(components(&t, Some(1)), vec![vec!["a1", "e1"], vec!["a2"]]);
    }
}
