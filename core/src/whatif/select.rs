//! Route selection for one prefix on a scope, as the rendered FRR configurations decide it:
//! a router's own `network` route wins; otherwise, among the routes its neighbours advertise
//! (their best only, through the sender's export list and the receiver's accept list), a route
//! whose AS path holds the receiver's own AS is rejected, then the highest local preference
//! wins (200 primary, 100 backup), then the shortest AS path (prepends count), then the lowest
//! neighbour router id. FRR would prefer the oldest route before the router id; on such ties
//! `whatif` picks the same router id every time, and says which data center it assumed.
//!
//! The run is event-driven like BGP itself: a router whose best route changes re-advertises, in a
//! first-in first-out order fixed by router and arc ids. On a scope (`scope::Scope`) it makes
//! the same choices, in the same order, for the scope's routers as on the whole network, because
//! nothing outside a scope can send the prefix into it. Policies with no stable state (dispute
//! wheels) are reported, not guessed: a router that changes its choice more than
//! [`MAX_CHANGES`] times stops the run.

use std::collections::VecDeque;

use super::graph::{Network, RouterId, SessionId};
use super::scope::Scope;

/// How often one router may change its best route before the prefix is declared unstable.
pub const MAX_CHANGES: u32 = 64;

/// What has failed: routers and sessions, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Down {
    /// Failed routers, sorted.
    pub routers: Vec<RouterId>,
    /// Failed sessions, sorted.
    pub sessions: Vec<SessionId>,
}

impl Down {
    /// Nothing failed.
    pub fn none() -> Down {
        Down::default()
    }

    /// Sorts and deduplicates (call after pushing).
    pub fn normalise(mut self) -> Down {
        self.routers.sort_unstable();
        self.routers.dedup();
        self.sessions.sort_unstable();
        self.sessions.dedup();
        self
    }

    /// Whether router `r` failed.
    pub fn router(&self, r: RouterId) -> bool {
        self.routers.binary_search(&r).is_ok()
    }

    /// Whether session `s` failed.
    pub fn session(&self, s: SessionId) -> bool {
        self.sessions.binary_search(&s).is_ok()
    }
}

/// A router's best route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Local preference (`u32::MAX` for the router's own route).
    pub local_pref: u32,
    /// AS-path length as this router sees it (0 for its own).
    pub len: u32,
    /// The arc it was learned over; `None` for its own.
    pub via: Option<u32>,
    /// The router that originated it.
    pub origin: RouterId,
    /// This router's AS path (a node of the solver's list).
    path: u32,
    /// The sender's path when it was learned: a fresh node whenever the sender changed its mind.
    learned: u32,
}

/// No stable choice exists for the prefix (the routers would keep changing their minds).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "route selection for {prefix} does not settle: router `{router}` keeps changing its best route"
)]
pub struct Unstable {
    /// The prefix.
    pub prefix: String,
    /// A router that kept changing.
    pub router: String,
}

const NIL: u32 = u32::MAX;

/// Reusable buffers for one thread's runs.
#[derive(Debug, Default)]
pub struct Solver {
    best: Vec<Option<Route>>,
    queued: Vec<bool>,
    changes: Vec<u32>,
    queue: VecDeque<u32>,
    /// AS paths as linked lists: (AS, next).
    paths: Vec<(u32, u32)>,
}

impl Solver {
    /// Runs selection for `scope` with `down` failed; best routes by local index afterwards.
    pub fn run(&mut self, net: &Network, scope: &Scope, down: &Down) -> Result<(), Unstable> {
        let n = scope.routers.len();
        self.best.clear();
        self.best.resize(n, None);
        self.queued.clear();
        self.queued.resize(n, false);
        self.changes.clear();
        self.changes.resize(n, 0);
        self.queue.clear();
        self.paths.clear();
        for i in 0..n {
            let r = scope.routers[i];
            if scope.originates[i] && !down.router(r) {
                let path = self.push_path(net.routers[r as usize].asn, NIL);
                self.best[i] = Some(Route {
                    local_pref: u32::MAX,
                    len: 0,
                    via: None,
                    origin: r,
                    path,
                    learned: NIL,
                });
                self.advertise(scope, i as u32);
            }
        }
        while let Some(x) = self.queue.pop_front() {
            self.queued[x as usize] = false;
            let r = scope.routers[x as usize];
            if scope.originates[x as usize] || down.router(r) {
                continue;
            }
            let chosen = self.choose(net, scope, down, x);
            if chosen.map(key) == self.best[x as usize].map(key) {
                continue;
            }
            self.best[x as usize] = chosen;
            self.changes[x as usize] += 1;
            if self.changes[x as usize] > MAX_CHANGES {
                return Err(Unstable {
                    prefix: net.prefixes.net(scope.prefix).to_string(),
                    router: net.routers[r as usize].name.clone(),
                });
            }
            self.advertise(scope, x);
        }
        Ok(())
    }

    /// The best route of the router at local index `i` after [`Solver::run`].
    pub fn best(&self, i: u32) -> Option<Route> {
        self.best[i as usize]
    }

    /// Whether `asn` is on the path of `route`.
    fn on_path(&self, route: &Route, asn: u32) -> bool {
        let mut at = route.path;
        while at != NIL {
            let (a, next) = self.paths[at as usize];
            if a == asn {
                return true;
            }
            at = next;
        }
        false
    }

    fn push_path(&mut self, asn: u32, next: u32) -> u32 {
        self.paths.push((asn, next));
        (self.paths.len() - 1) as u32
    }

    fn advertise(&mut self, scope: &Scope, x: u32) {
        for &to in &scope.arcs_out[x as usize] {
            if !self.queued[to as usize] {
                self.queued[to as usize] = true;
                self.queue.push_back(to);
            }
        }
    }

    /// The best of what `x`'s neighbours advertise to it now.
    fn choose(&mut self, net: &Network, scope: &Scope, down: &Down, x: u32) -> Option<Route> {
        let me = &net.routers[scope.routers[x as usize] as usize];
        let mut best: Option<(Route, (u32, u32))> = None;
        for &(a, from) in &scope.arcs_in[x as usize] {
            let arc = &net.arcs[a as usize];
            if down.session(arc.session) || down.router(arc.from) {
                continue;
            }
            let Some(offer) = self.best[from as usize] else {
                continue;
            };
            if self.on_path(&offer, me.asn) {
                continue;
            }
            let candidate = Route {
                local_pref: arc.local_pref,
                len: offer.len + arc.added_len,
                via: Some(a),
                origin: offer.origin,
                path: NIL,
                learned: offer.path,
            };
            let tie = (net.routers[arc.from as usize].router_id, a);
            let better = match &best {
                None => true,
                Some((b, btie)) => {
                    (std::cmp::Reverse(candidate.local_pref), candidate.len, tie)
                        < (std::cmp::Reverse(b.local_pref), b.len, *btie)
                }
            };
            if better {
                best = Some((candidate, tie));
            }
        }
        let (mut route, _) = best?;
        route.path = self.push_path(me.asn, route.learned);
        Some(route)
    }
}

/// What makes two routes the same choice: the arc and the sender's route as it was then (so a
/// sender whose path changed is re-advertised, and loop checks further on see the new path).
fn key(r: Route) -> (u32, u32, Option<u32>, RouterId, u32) {
    (r.local_pref, r.len, r.via, r.origin, r.learned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::whatif::graph::sketch::network;

    const S: &str = "3fff:10::/48";

    fn run(net: &Network, down: &Down) -> (Scope, Solver) {
        let p = net.services[0].id.unwrap();
        let scope = Scope::downstream(net, p);
        let mut solver = Solver::default();
        solver.run(net, &scope, down).unwrap();
        (scope, solver)
    }

    fn best(net: &Network, down: &Down, router: &str) -> Option<Route> {
        let (scope, solver) = run(net, down);
        scope
            .local(net.router(router).unwrap())
            .and_then(|i| solver.best(i))
    }

    #[test]
    fn local_preference_beats_a_shorter_path() {
        let net = network(
            &[
                ("em", "dc-main", &[S]),
                ("eb", "dc-backup", &[S]),
                ("h", "hub", &[]),
                ("c", "office", &[]),
            ],
            &[
                ("em", "h", 200, 200, 0, 0, &[S], &[]),
                ("h", "c", 200, 200, 0, 0, &[S], &[]),
                ("eb", "c", 100, 100, 2, 2, &[S], &[]),
            ],
        );
        let r = best(&net, &Down::none(), "c").unwrap();
        assert_eq!(
            (r.local_pref, r.len, r.origin),
            (200, 2, net.router("em").unwrap())
        );
        // Without the hub the backup route (three ASes long with the prepends) is taken.
        let down = Down {
            routers: vec![net.router("h").unwrap()],
            sessions: vec![],
        };
        let r = best(&net, &down, "c").unwrap();
        assert_eq!(
            (r.local_pref, r.len, r.origin),
            (100, 3, net.router("eb").unwrap())
        );
    }

    #[test]
    fn prepends_decide_between_equal_preferences() {
        let net = network(
            &[
                ("e1", "dc-main", &[S]),
                ("e2", "dc-backup", &[S]),
                ("c", "office", &[]),
            ],
            &[
                ("e1", "c", 100, 100, 2, 0, &[S], &[]),
                ("e2", "c", 100, 100, 0, 0, &[S], &[]),
            ],
        );
        let r = best(&net, &Down::none(), "c").unwrap();
        assert_eq!((r.len, r.origin), (1, net.router("e2").unwrap()));
    }

    #[test]
    fn a_path_through_oneself_is_rejected_and_nothing_stale_survives_a_failure() {
        // x and y pass the prefix to each other; when e fails, neither may keep the other's
        // route (it goes through itself), whatever order the withdrawals come in.
        let net = network(
            &[
                ("e", "dc-main", &[S]),
                ("x", "hub", &[]),
                ("y", "office", &[]),
            ],
            &[
                ("e", "x", 200, 200, 0, 0, &[S], &[]),
                ("x", "y", 200, 200, 0, 0, &[S], &[S]),
            ],
        );
        let y = best(&net, &Down::none(), "y").unwrap();
        assert_eq!(y.len, 2);
        let x = best(&net, &Down::none(), "x").unwrap();
        assert_eq!(x.len, 1, "x must not take y's route back through itself");
        let down = Down {
            routers: vec![net.router("e").unwrap()],
            sessions: vec![],
        };
        assert_eq!(best(&net, &down, "x"), None);
        assert_eq!(best(&net, &down, "y"), None);
    }

    #[test]
    fn a_failed_session_carries_nothing() {
        let net = network(
            &[("e", "dc-main", &[S]), ("c", "office", &[])],
            &[("e", "c", 200, 200, 0, 0, &[S], &[])],
        );
        assert!(best(&net, &Down::none(), "c").is_some());
        let down = Down {
            routers: vec![],
            sessions: vec![0],
        };
        assert_eq!(best(&net, &down, "c"), None);
    }

    #[test]
    fn a_list_that_does_not_let_the_prefix_through_stops_it() {
        let net = network(
            &[("e", "dc-main", &[S]), ("c", "office", &[])],
            &[("e", "c", 200, 200, 0, 0, &[], &[])],
        );
        assert_eq!(best(&net, &Down::none(), "c"), None);
    }
}
