//! Metro network (MAN): metro circuits join routers (aggregation, wan-edge, core), every
//! aggregation router keeps a path to the data center whichever single metro circuit fails, and
//! a site declaring `uplink: metro` is attached to an aggregation router.

use std::collections::HashSet;

use super::{Index, Report, at, obj};
use crate::diag::{Diagnostic, Subject};
use crate::metro::MetroNetwork;
use crate::model::{CircuitRole, DeviceRole, Inventory, Kind, UplinkPolicy};

/// Roles a metro circuit may join: the routers of the ring, never a branch's CPE or a switch.
fn on_the_ring(role: DeviceRole) -> bool {
    matches!(
        role,
        DeviceRole::Aggregation | DeviceRole::WanEdge | DeviceRole::Core
    )
}

pub(super) fn check(
    inv: &Inventory,
    ix: &Index<'_>,
    networks: &[MetroNetwork<'_>],
    report: &mut Report<'_>,
) {
    ends(inv, ix, report);
    uplinks(inv, networks, report);
    let mut on_a_network = HashSet::new();
    for network in networks {
        on_a_network.extend(network.devices.iter().copied());
        for (router, cuts) in &network.aggregation {
            let Some(d) = ix.devices.get(router) else {
                continue;
            };
            if network.data_center_routers.is_empty() {
                report.push(
                    d.origin,
                    at!["metadata", "name"],
                    obj(Kind::Device, d),
                    Diagnostic::error(
                        "metro-single-path",
                        format!(
                            "aggregation router `{router}` is on a metro network that reaches no data-center router"
                        ),
                    )
                    .hint("add a metro circuit from the ring to a wan-edge or core router of a data center"),
                );
                continue;
            }
            if cuts.is_empty() {
                continue;
            }
            let mut diag = Diagnostic::error(
                "metro-single-path",
                format!(
                    "aggregation router `{router}` loses every data center when metro circuit {} fails",
                    cuts.iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            )
            .hint("close the ring: add a metro circuit so the router has a second way to the data center");
            for c in cuts {
                diag = diag.subject(Subject::object(Kind::Circuit, c));
            }
            report.push(
                d.origin,
                at!["metadata", "name"],
                obj(Kind::Device, d),
                diag,
            );
        }
    }
    for d in &inv.devices {
        if d.spec.role == DeviceRole::Aggregation && !on_a_network.contains(d.name()) {
            report.push(
                d.origin,
                at!["spec", "role"],
                obj(Kind::Device, d),
                Diagnostic::error(
                    "metro-single-path",
                    format!("aggregation router `{}` has no metro circuit", d.name()),
                )
                .hint("connect it to two ring neighbours with circuits of role `metro`"),
            );
        }
    }
}

/// A site declaring `uplink: metro` has an access circuit to an aggregation router.
fn uplinks(inv: &Inventory, networks: &[MetroNetwork<'_>], report: &mut Report<'_>) {
    let attached: HashSet<&str> = crate::metro::attachments(inv, networks)
        .into_iter()
        .map(|a| a.site)
        .collect();
    for s in &inv.sites {
        if s.spec.uplink == UplinkPolicy::Metro && !attached.contains(s.name()) {
            report.push(
                s.origin,
                at!["spec", "uplink"],
                obj(Kind::Site, s),
                Diagnostic::error(
                    "metro-uplink",
                    format!(
                        "site `{}` declares a metro uplink but no circuit joins it to an aggregation router",
                        s.name()
                    ),
                )
                .hint("add an access circuit from the site's router to an aggregation router of the ring"),
            );
        }
    }
}

/// Both ends of every metro circuit are routers of the ring.
fn ends(inv: &Inventory, ix: &Index<'_>, report: &mut Report<'_>) {
    for c in inv
        .circuits
        .iter()
        .filter(|c| c.spec.role == CircuitRole::Metro)
    {
        for (end, e) in [("a", &c.spec.a), ("z", &c.spec.z)] {
            let Some(d) = ix.devices.get(e.device.as_str()) else {
                continue; // refs.rs reports it
            };
            if !on_the_ring(d.spec.role) {
                report.push(
                    c.origin,
                    at!["spec", end, "device"],
                    obj(Kind::Circuit, c),
                    Diagnostic::error(
                        "metro-end",
                        format!(
                            "metro circuit ends on `{}`, a {} device",
                            e.device,
                            d.spec.role.as_str()
                        ),
                    )
                    .hint("metro circuits join aggregation, wan-edge or core routers; attach a branch with a primary circuit")
                    .subject(Subject::object(Kind::Device, &e.device)),
                );
            }
        }
    }
}
