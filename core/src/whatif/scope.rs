//! Which routers and sessions can matter to one prefix: the part of the graph route selection
//! runs on. `downstream` is everything the prefix can spread to from its originators (for a
//! whole-network run); `upstream` is everything that can feed the prefix to a few routers (one
//! commune's), stopping at originators, whose own route never depends on anyone.
//!
//! Both keep routers sorted by id and arcs by id, so a run on a scope makes the same choices, in
//! the same order, as a run on the whole network makes for those routers (see `select`).

use std::collections::HashMap;

use super::graph::{Network, RouterId};
use super::prefix::PrefixId;

/// The routers and arcs one prefix's selection runs on, with local indices.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The prefix.
    pub prefix: PrefixId,
    /// Routers, by id.
    pub routers: Vec<RouterId>,
    /// Whether each router originates the prefix.
    pub originates: Vec<bool>,
    /// Arcs into each router that let the prefix through: (arc id, sender's local index).
    pub arcs_in: Vec<Vec<(u32, u32)>>,
    /// Receivers of each router's routes (local indices), in arc order.
    pub arcs_out: Vec<Vec<u32>>,
}

impl Scope {
    /// Everywhere `p` can spread from its originators.
    pub fn downstream(net: &Network, p: PrefixId) -> Scope {
        let mut seen: Vec<RouterId> = net.originators[p as usize].clone();
        let mut by_sender: HashMap<RouterId, Vec<u32>> = HashMap::new();
        for &a in &net.carriers[p as usize] {
            by_sender
                .entry(net.arcs[a as usize].from)
                .or_default()
                .push(a);
        }
        let mut member: std::collections::HashSet<RouterId> = seen.iter().copied().collect();
        let mut arcs = Vec::new();
        let mut next = 0;
        while next < seen.len() {
            let r = seen[next];
            next += 1;
            for &a in by_sender.get(&r).map(Vec::as_slice).unwrap_or_default() {
                arcs.push(a);
                let to = net.arcs[a as usize].to;
                if member.insert(to) {
                    seen.push(to);
                }
            }
        }
        Scope::build(net, p, seen, arcs)
    }

    /// Everything that can feed `p` to `targets`, stopping at originators.
    pub fn upstream(net: &Network, p: PrefixId, targets: &[RouterId]) -> Scope {
        let mut seen: Vec<RouterId> = targets.to_vec();
        let mut member: std::collections::HashSet<RouterId> = seen.iter().copied().collect();
        let mut arcs = Vec::new();
        let mut next = 0;
        while next < seen.len() {
            let r = seen[next];
            next += 1;
            if net.routers[r as usize].originates.contains(&p) {
                continue;
            }
            for &a in &net.arcs_in[r as usize] {
                if !net.permits(a, p) {
                    continue;
                }
                arcs.push(a);
                let from = net.arcs[a as usize].from;
                if member.insert(from) {
                    seen.push(from);
                }
            }
        }
        Scope::build(net, p, seen, arcs)
    }

    fn build(net: &Network, p: PrefixId, mut routers: Vec<RouterId>, mut arcs: Vec<u32>) -> Scope {
        routers.sort_unstable();
        routers.dedup();
        arcs.sort_unstable();
        arcs.dedup();
        let local: HashMap<RouterId, u32> = routers
            .iter()
            .enumerate()
            .map(|(i, r)| (*r, i as u32))
            .collect();
        let mut arcs_in = vec![Vec::new(); routers.len()];
        let mut arcs_out = vec![Vec::new(); routers.len()];
        for a in arcs {
            let arc = &net.arcs[a as usize];
            let (Some(&from), Some(&to)) = (local.get(&arc.from), local.get(&arc.to)) else {
                continue;
            };
            arcs_in[to as usize].push((a, from));
            arcs_out[from as usize].push(to);
        }
        let originates = routers
            .iter()
            .map(|r| net.routers[*r as usize].originates.contains(&p))
            .collect();
        Scope {
            prefix: p,
            routers,
            originates,
            arcs_in,
            arcs_out,
        }
    }

    /// The local index of router `r`.
    pub fn local(&self, r: RouterId) -> Option<u32> {
        self.routers.binary_search(&r).ok().map(|i| i as u32)
    }

    /// Sessions of the scope's arcs, sorted.
    pub fn sessions(&self, net: &Network) -> Vec<u32> {
        let mut s: Vec<u32> = self
            .arcs_in
            .iter()
            .flatten()
            .map(|(a, _)| net.arcs[*a as usize].session)
            .collect();
        s.sort_unstable();
        s.dedup();
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::whatif::graph::sketch::network;
    use crate::whatif::select::{Down, Solver};

    const S: &str = "3fff:10::/48";

    #[test]
    fn upstream_stops_at_originators_and_chooses_as_the_whole_network_does() {
        // Two offices behind one hub; the data-center edge also feeds another hub's office.
        let net = network(
            &[
                ("em", "dc-main", &[S]),
                ("eb", "dc-backup", &[S]),
                ("h1", "hub-1", &[]),
                ("h2", "hub-2", &[]),
                ("c1", "office-1", &[]),
                ("c2", "office-2", &[]),
                ("c3", "office-3", &[]),
            ],
            &[
                ("em", "h1", 200, 200, 0, 0, &[S], &[]),
                ("eb", "h1", 100, 100, 2, 2, &[S], &[]),
                ("em", "h2", 200, 200, 0, 0, &[S], &[]),
                ("eb", "em", 200, 200, 0, 0, &[S], &[S]),
                ("h1", "c1", 200, 200, 0, 0, &[S], &[]),
                ("h1", "c2", 200, 200, 0, 0, &[S], &[]),
                ("h2", "c3", 200, 200, 0, 0, &[S], &[]),
            ],
        );
        let p = net.services[0].id.unwrap();
        let c1 = net.router("c1").unwrap();
        let up = Scope::upstream(&net, p, &[c1]);
        let names: Vec<&str> = up
            .routers
            .iter()
            .map(|r| net.routers[*r as usize].name.as_str())
            .collect();
        assert_eq!(names, ["em", "eb", "h1", "c1"]);
        assert_eq!(up.sessions(&net), vec![0, 1, 4]);
        let whole = Scope::downstream(&net, p);
        assert_eq!(whole.routers.len(), 7);
        for down in [
            Down::none(),
            Down {
                routers: vec![0],
                sessions: vec![],
            },
            Down {
                routers: vec![],
                sessions: vec![1],
            },
        ] {
            let mut a = Solver::default();
            let mut b = Solver::default();
            a.run(&net, &up, &down).unwrap();
            b.run(&net, &whole, &down).unwrap();
            let seen = |s: &Solver, scope: &Scope, r| {
                s.best(scope.local(r).unwrap())
                    .map(|x| (x.local_pref, x.len, x.via, x.origin))
            };
            for &r in &up.routers {
                assert_eq!(seen(&a, &up, r), seen(&b, &whole, r));
            }
        }
    }
}
