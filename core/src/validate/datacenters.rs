//! The city's data-center model, as its DataCenters' tiers declare it: exactly one main data
//! center and at least one backup, paired as DR peers (main-and-backup, the default); or one
//! `single` data center with two WAN edges, two cores and every rack on two feeds
//! (single-with-redundancy).

use std::collections::BTreeSet;

use super::{Report, at, obj};
use crate::diag::{Diagnostic, Subject};
use crate::model::{
    DataCenterModel, DataCenterSpec, DataCenterTier, DeviceRole, Inventory, Kind, Object,
};

pub(super) fn check(inv: &Inventory, report: &mut Report<'_>) {
    match DataCenterModel::declared(inv.data_centers.iter().map(|d| &d.spec.tier)) {
        DataCenterModel::MainAndBackup => main_and_backup(inv, report),
        DataCenterModel::SingleWithRedundancy => single_with_redundancy(inv, report),
    }
}

/// Today's rule for Hà Nội and Hải Phòng: one main, at least one backup, paired.
fn main_and_backup(inv: &Inventory, report: &mut Report<'_>) {
    let mains: Vec<_> = inv
        .data_centers
        .iter()
        .filter(|d| d.spec.tier == DataCenterTier::Main)
        .collect();
    let backups: Vec<_> = inv
        .data_centers
        .iter()
        .filter(|d| d.spec.tier == DataCenterTier::Backup)
        .collect();

    // A bare catalogue of regions is not yet an infrastructure inventory; the pair rule starts
    // with the first site.
    if inv.sites.is_empty() && inv.data_centers.is_empty() {
        return;
    }
    if mains.is_empty() || backups.is_empty() {
        let missing = if mains.is_empty() { "main" } else { "backup" };
        let mut d = Diagnostic::error(
            "datacenter-pair",
            format!("the inventory has no {missing} data center"),
        )
        .hint("declare one DataCenter with tier main and at least one with tier backup, each naming the other as peer");
        if let Some(any) = inv.data_centers.first() {
            report.push(
                any.origin,
                at!["spec", "tier"],
                obj(Kind::DataCenter, any),
                d,
            );
        } else if let Some(path) = inv.files.first() {
            d = d.at(crate::load::file_location(path));
            report.out.push(d);
        } else {
            report.out.push(d);
        }
    }
    for extra in mains.iter().skip(1) {
        report.push(
            extra.origin,
            at!["spec", "tier"],
            obj(Kind::DataCenter, extra),
            Diagnostic::error(
                "datacenter-pair",
                format!(
                    "a second main data center (the first is `{}`)",
                    mains[0].name()
                ),
            )
            .hint("there is exactly one main data center; make this one tier backup")
            .subject(Subject::object(Kind::DataCenter, mains[0].name())),
        );
    }
    let Some(main) = mains.first() else { return };
    for dc in mains
        .iter()
        .chain(&backups)
        .filter(|d| d.spec.peer.is_none())
    {
        report.push(
            dc.origin,
            at!["spec", "tier"],
            obj(Kind::DataCenter, dc),
            Diagnostic::error(
                "datacenter-pair",
                format!("{} data center names no DR peer", dc.spec.tier.as_str()),
            )
            .hint("set spec.peer to its partner; only a single data center (tier single) has none"),
        );
    }
    let main_peer = main.spec.peer.as_deref().unwrap_or_default();
    // Without any backup the missing backup is the one problem to report.
    if main.spec.peer.is_some()
        && !backups.is_empty()
        && !backups.iter().any(|b| b.name() == main_peer)
    {
        report.push(
            main.origin,
            at!["spec", "peer"],
            obj(Kind::DataCenter, main),
            Diagnostic::error(
                "datacenter-pair",
                format!("main data center's peer `{main_peer}` is not a backup data center"),
            )
            .hint(format!(
                "set peer to one of: {}",
                backups
                    .iter()
                    .map(|b| b.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .subject(Subject::object(Kind::DataCenter, main_peer)),
        );
    }
    for b in &backups {
        let Some(peer) = b.spec.peer.as_deref() else {
            continue;
        };
        if peer != main.name() {
            report.push(
                b.origin,
                at!["spec", "peer"],
                obj(Kind::DataCenter, b),
                Diagnostic::error(
                    "datacenter-pair",
                    format!(
                        "backup data center's peer is `{peer}`, not the main data center `{}`",
                        main.name()
                    ),
                )
                .subject(Subject::object(Kind::DataCenter, peer))
                .subject(Subject::object(Kind::DataCenter, main.name())),
            );
        }
    }
}

/// The single-with-redundancy model: one data center, tier `single`, without a peer, redundant
/// within itself.
fn single_with_redundancy(inv: &Inventory, report: &mut Report<'_>) {
    let Some(single) = inv
        .data_centers
        .iter()
        .find(|d| d.spec.tier == DataCenterTier::Single)
    else {
        return;
    };
    for other in inv
        .data_centers
        .iter()
        .filter(|d| d.name() != single.name())
    {
        report.push(
            other.origin,
            at!["spec", "tier"],
            obj(Kind::DataCenter, other),
            Diagnostic::error(
                "datacenter-model",
                format!(
                    "a second data center (tier {}) in a single-with-redundancy city, whose data center is `{}`",
                    other.spec.tier.as_str(),
                    single.name()
                ),
            )
            .hint("a city with a main and a backup data center gives them tiers main and backup, and none single")
            .subject(Subject::object(Kind::DataCenter, single.name())),
        );
    }
    if let Some(peer) = &single.spec.peer {
        report.push(
            single.origin,
            at!["spec", "peer"],
            obj(Kind::DataCenter, single),
            Diagnostic::error(
                "datacenter-model",
                format!("a single data center has no DR peer, but names `{peer}`"),
            )
            .hint("remove spec.peer, or declare the pair with tiers main and backup")
            .subject(Subject::object(Kind::DataCenter, peer)),
        );
    }
    for (role, code) in [
        (DeviceRole::WanEdge, "single-dc-edges"),
        (DeviceRole::Core, "single-dc-cores"),
    ] {
        two_of(inv, single, role, code, report);
    }
    two_feeds(single, report);
}

/// At least two devices of `role` at the data center's site.
fn two_of(
    inv: &Inventory,
    dc: &Object<DataCenterSpec>,
    role: DeviceRole,
    code: &'static str,
    report: &mut Report<'_>,
) {
    let count = inv
        .devices
        .iter()
        .filter(|d| d.spec.role == role && d.spec.site == dc.spec.site)
        .count();
    if count >= 2 {
        return;
    }
    report.push(
        dc.origin,
        at!["spec", "tier"],
        obj(Kind::DataCenter, dc),
        Diagnostic::error(
            code,
            format!(
                "the single data center has {count} {} device{} at site `{}`; it needs two",
                role.as_str(),
                if count == 1 { "" } else { "s" },
                dc.spec.site
            ),
        )
        .hint("the single-with-redundancy model survives the loss of any one device: add a second")
        .subject(Subject::object(Kind::Site, &dc.spec.site)),
    );
}

/// Two power feeds in the facility and two distinct feeds on every rack.
fn two_feeds(dc: &Object<DataCenterSpec>, report: &mut Report<'_>) {
    if dc.spec.power_feeds.len() < 2 {
        report.push(
            dc.origin,
            at!["spec", "powerFeeds"],
            obj(Kind::DataCenter, dc),
            Diagnostic::error(
                "single-dc-feeds",
                format!(
                    "the single data center has {} power feed(s); it needs two (A and B)",
                    dc.spec.power_feeds.len()
                ),
            ),
        );
    }
    for (ri, room) in dc.spec.rooms.iter().enumerate() {
        for (ki, rack) in room.racks.iter().enumerate() {
            let distinct: BTreeSet<&str> = rack.feeds.iter().map(String::as_str).collect();
            if distinct.len() >= 2 {
                continue;
            }
            report.push(
                dc.origin,
                at!["spec", "rooms", ri, "racks", ki, "name"],
                obj(Kind::DataCenter, dc),
                Diagnostic::error(
                    "single-dc-feeds",
                    format!(
                        "rack `{}` is fed by {} feed(s); in the single data center every rack is fed by two",
                        rack.name,
                        distinct.len()
                    ),
                )
                .hint("give the rack feeds: [A, B]")
                .subject(Subject::rack(dc.name(), &rack.name)),
            );
        }
    }
}
