//! Whether a commune office reaches a service, and through which data center: one of its
//! routers has a route to the service prefix, and the router that route ends at (a data-center
//! edge announcing the service) has a route back to the office's own prefix — a ping needs both.
//! [`whole_network`] runs selection for every prefix on the whole graph (the `--fail` path and
//! the brute-force reference); `spof` runs the same selection on each office's scopes.

use rayon::prelude::*;

use super::graph::{DcId, Network, RouterId, SiteId};
use super::prefix::PrefixId;
use super::scope::Scope;
use super::select::{Down, Route, Solver, Unstable};

/// One commune office as the analysis sees it.
#[derive(Debug, Clone)]
pub struct Office {
    /// Its site.
    pub site: SiteId,
    /// Its routers.
    pub routers: Vec<RouterId>,
    /// The prefix replies come back to (the first IPv6 prefix its routers originate).
    pub home: Option<PrefixId>,
}

/// How an office reaches one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Not at all.
    Lost,
    /// Through this data center (`None`: a service router outside any data center).
    Via(Option<DcId>),
}

/// Every commune office, by site order.
pub fn offices(net: &Network) -> Vec<Office> {
    net.sites
        .iter()
        .enumerate()
        .filter(|(_, s)| s.commune_office)
        .map(|(i, s)| Office {
            site: i as SiteId,
            routers: s.routers.clone(),
            home: s
                .routers
                .iter()
                .flat_map(|r| &net.routers[*r as usize].originates)
                .copied()
                .find(|p| net.prefixes.net(*p).addr().is_ipv6()),
        })
        .collect()
}

/// How `office` reaches a service, given the best route to the service at each router and
/// whether a router has a route back to the office.
pub fn reach(
    net: &Network,
    office: &Office,
    to_service: impl Fn(RouterId) -> Option<Route>,
    back_home: impl Fn(RouterId) -> bool,
) -> Reach {
    for &r in &office.routers {
        if let Some(route) = to_service(r)
            && back_home(route.origin)
        {
            return Reach::Via(net.dc_of(route.origin));
        }
    }
    Reach::Lost
}

/// Every office's reach of every service (services in `net.services` order) with `down` failed,
/// from selection on the whole graph.
pub fn whole_network(net: &Network, down: &Down) -> Result<Vec<Vec<Reach>>, Unstable> {
    let mut solver = Solver::default();
    let mut to_service: Vec<Option<Vec<Option<Route>>>> = Vec::new();
    for s in &net.services {
        to_service.push(match s.id {
            Some(p) => Some(global_best(
                &mut solver,
                net,
                &Scope::downstream(net, p),
                down,
            )?),
            None => None,
        });
    }
    offices(net)
        .par_iter()
        .map_init(Solver::default, |solver, office| {
            let back = routed(solver, net, office.home, down)?;
            Ok(to_service
                .iter()
                .map(|best| match best {
                    Some(best) => reach(
                        net,
                        office,
                        |r| best[r as usize],
                        |e| back.binary_search(&e).is_ok(),
                    ),
                    None => Reach::Lost,
                })
                .collect())
        })
        .collect()
}

/// The routers with a route to `prefix` (sorted), from a run on its downstream scope.
pub fn routed(
    solver: &mut Solver,
    net: &Network,
    prefix: Option<PrefixId>,
    down: &Down,
) -> Result<Vec<RouterId>, Unstable> {
    let Some(p) = prefix else {
        return Ok(Vec::new());
    };
    let scope = Scope::downstream(net, p);
    solver.run(net, &scope, down)?;
    Ok(scope
        .routers
        .iter()
        .enumerate()
        .filter(|(i, _)| solver.best(*i as u32).is_some())
        .map(|(_, r)| *r)
        .collect())
}

/// Best routes by router id after a run on `scope`.
fn global_best(
    solver: &mut Solver,
    net: &Network,
    scope: &Scope,
    down: &Down,
) -> Result<Vec<Option<Route>>, Unstable> {
    solver.run(net, scope, down)?;
    let mut best = vec![None; net.routers.len()];
    for (i, r) in scope.routers.iter().enumerate() {
        best[*r as usize] = solver.best(i as u32);
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::whatif::graph::sketch::network;

    const S: &str = "3fff:10::/48";
    const HOME: &str = "3fff:100::/48";

    #[test]
    fn a_route_there_without_one_back_is_no_reach() {
        // The main edge sends the service but does not accept the office's prefix; the backup
        // edge does both.
        let net = network(
            &[
                ("em", "dc-main", &[S]),
                ("eb", "dc-backup", &[S]),
                ("c", "office", &[HOME]),
            ],
            &[
                ("em", "c", 200, 200, 0, 0, &[S], &[]),
                ("eb", "c", 100, 100, 2, 2, &[S], &[HOME]),
            ],
        );
        let office = &offices(&net)[0];
        assert_eq!(office.home, net.prefixes.id(HOME.parse().unwrap()));
        let reach = whole_network(&net, &Down::none()).unwrap();
        // The office's best route leads to the main edge, which cannot answer.
        assert_eq!(reach, vec![vec![Reach::Lost]]);
        let down = Down {
            routers: vec![net.router("em").unwrap()],
            sessions: vec![],
        };
        let reach = whole_network(&net, &down).unwrap();
        assert_eq!(reach, vec![vec![Reach::Via(net.data_center("dc-backup"))]]);
    }
}
