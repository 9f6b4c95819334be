//! The single-point-of-failure search. A naive search recomputes the whole network once per
//! element (~42,000 elements nationwide, each a run over every router). Instead each commune
//! office is analysed on its own scopes: for each service, the routers that can feed the service
//! prefix to the office's routers (its CPE, its hubs or ring, the data-center edges, where the
//! search stops because an edge's own route never depends on anyone), and for the office's
//! prefix, the routers it spreads to. Nothing outside those scopes can change the office's
//! routes (it cannot send either prefix into them), so only elements inside are failed, each on
//! a graph of a handful of routers; data-center elements are among them for every office.
//! `tests/whatif.rs` checks the result equals failing every element on the whole network.
//!
//! The office's own site and the devices standing at it are not counted: an office whose router
//! is down is down whatever the network does.

use rayon::prelude::*;

use super::failure::{Element, down_of};
use super::graph::{DcId, Network};
use super::reach::{Office, Reach, offices, reach};
use super::scope::Scope;
use super::select::{Down, Solver, Unstable};

/// What the search found for one office.
#[derive(Debug, Clone, Default)]
pub struct OfficeFindings {
    /// Services it does not reach with nothing failed (indices into `net.services`).
    pub lost_already: Vec<usize>,
    /// Elements whose failure alone loses it services it reached (with those services).
    pub cut_by: Vec<(Element, Vec<usize>)>,
    /// How many single failures were analysed for it.
    pub failures: usize,
}

/// Every office's findings (by `reach::offices` order).
pub fn search(net: &Network) -> Result<Vec<(Office, OfficeFindings)>, Unstable> {
    offices(net)
        .into_par_iter()
        .map_init(Solver::default, |solver, office| {
            let findings = office_findings(net, &office, solver)?;
            Ok((office, findings))
        })
        .collect()
}

/// The scopes of one office: one per service, then the office's own prefix.
struct Scopes {
    services: Vec<Option<Scope>>,
    home: Option<Scope>,
}

fn office_findings(
    net: &Network,
    office: &Office,
    solver: &mut Solver,
) -> Result<OfficeFindings, Unstable> {
    let scopes = Scopes {
        services: net
            .services
            .iter()
            .map(|s| s.id.map(|p| Scope::upstream(net, p, &office.routers)))
            .collect(),
        home: office.home.map(|h| Scope::downstream(net, h)),
    };
    let baseline = evaluate(net, office, &scopes, &Down::none(), solver)?;
    let mut findings = OfficeFindings {
        lost_already: lost(&baseline),
        ..OfficeFindings::default()
    };
    for e in candidates(net, office, &scopes) {
        let now = evaluate(net, office, &scopes, &down_of(net, &[e]), solver)?;
        findings.failures += 1;
        let newly: Vec<usize> = (0..now.len())
            .filter(|&i| now[i] == Reach::Lost && baseline[i] != Reach::Lost)
            .collect();
        if !newly.is_empty() {
            findings.cut_by.push((e, newly));
        }
    }
    Ok(findings)
}

/// Indices of lost services.
fn lost(reaches: &[Reach]) -> Vec<usize> {
    (0..reaches.len())
        .filter(|&i| reaches[i] == Reach::Lost)
        .collect()
}

/// The office's reach of each service with `down` failed, from runs on its scopes.
fn evaluate(
    net: &Network,
    office: &Office,
    scopes: &Scopes,
    down: &Down,
    solver: &mut Solver,
) -> Result<Vec<Reach>, Unstable> {
    let back = match &scopes.home {
        Some(scope) => {
            solver.run(net, scope, down)?;
            (0..scope.routers.len())
                .filter(|&i| solver.best(i as u32).is_some())
                .map(|i| scope.routers[i])
                .collect()
        }
        None => Vec::new(),
    };
    let mut out = Vec::with_capacity(scopes.services.len());
    for scope in &scopes.services {
        out.push(match scope {
            Some(scope) => {
                solver.run(net, scope, down)?;
                reach(
                    net,
                    office,
                    |r| scope.local(r).and_then(|i| solver.best(i)),
                    |e| back.binary_search(&e).is_ok(),
                )
            }
            None => Reach::Lost,
        });
    }
    Ok(out)
}

/// The elements that can change the office's routes: the routers, sessions, sites and data
/// centers of its scopes, less the office's own site and devices.
fn candidates(net: &Network, office: &Office, scopes: &Scopes) -> Vec<Element> {
    let all = scopes.services.iter().flatten().chain(scopes.home.iter());
    let mut routers = Vec::new();
    let mut sessions = Vec::new();
    for scope in all {
        routers.extend_from_slice(&scope.routers);
        sessions.extend(scope.sessions(net));
    }
    routers.sort_unstable();
    routers.dedup();
    sessions.sort_unstable();
    sessions.dedup();
    let mut out: Vec<Element> = Vec::new();
    let mut sites = Vec::new();
    let mut dcs: Vec<DcId> = Vec::new();
    for &r in &routers {
        let site = net.routers[r as usize].site;
        if site == office.site {
            continue;
        }
        out.push(Element::Device(r));
        sites.push(site);
        dcs.extend(net.sites[site as usize].data_center);
    }
    out.extend(
        sessions
            .iter()
            .map(|&s| Element::Circuit(net.session_circuits[s as usize])),
    );
    sites.sort_unstable();
    sites.dedup();
    out.extend(sites.into_iter().map(Element::Site));
    dcs.sort_unstable();
    dcs.dedup();
    out.extend(dcs.into_iter().map(Element::DataCenter));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::whatif::graph::sketch::network;

    const S: &str = "3fff:10::/48";
    const HOME: &str = "3fff:100::/48";

    #[test]
    fn a_single_homed_office_depends_on_its_circuit_and_data_center_but_not_on_itself() {
        let net = network(
            &[
                ("em", "dc-main", &[S]),
                ("eb", "dc-backup", &[S]),
                ("c", "office", &[HOME]),
            ],
            &[
                ("em", "c", 200, 200, 0, 0, &[S], &[HOME]),
                ("eb", "em", 200, 200, 0, 0, &[S], &[S]),
            ],
        );
        let found = search(&net).unwrap();
        assert_eq!(found.len(), 1);
        let (_, f) = &found[0];
        assert!(f.lost_already.is_empty());
        let names: Vec<String> = f
            .cut_by
            .iter()
            .map(|(e, _)| e.name(&net).to_string())
            .collect();
        assert_eq!(
            names,
            [
                "device/em",
                "circuit/em-c",
                "site/dc-main",
                "datacenter/dc-main"
            ]
        );
        // The backup edge is outside the office's scopes: nothing it does reaches the office.
        let (office, _) = &found[0];
        let scopes = Scopes {
            services: vec![Some(Scope::upstream(&net, 0, &office.routers))],
            home: office.home.map(|h| Scope::downstream(&net, h)),
        };
        let candidates = candidates(&net, office, &scopes);
        assert!(!candidates.contains(&Element::Device(net.router("eb").unwrap())));
        assert!(!candidates.contains(&Element::Device(net.router("c").unwrap())));
        assert!(!candidates.contains(&Element::Site(net.site("office").unwrap())));
    }
}
