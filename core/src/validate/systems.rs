//! Information systems: security level 1–5 (an error outside it); findings when the level was
//! never approved, or level 3 and above does not replicate to the other data center (in a
//! single-with-redundancy city: to another rack and feed of the same one).

use super::{Index, Report, at, obj};
use crate::diag::{Diagnostic, FindingKind, Subject};
use crate::model::{
    DataCenterModel, DataCenterSpec, DrPolicy, InformationSystemSpec, Inventory, Kind, Object,
};

pub(super) fn check(inv: &Inventory, ix: &Index<'_>, report: &mut Report<'_>) {
    let model = DataCenterModel::declared(inv.data_centers.iter().map(|d| &d.spec.tier));
    for s in &inv.information_systems {
        let o = obj(Kind::InformationSystem, s);
        let level = s.spec.security_level;
        if !(1..=5).contains(&level) {
            report.push(
                s.origin,
                at!["spec", "securityLevel"],
                o,
                Diagnostic::error(
                    "bad-security-level",
                    format!("security level {level} is outside 1–5"),
                ),
            );
            continue;
        }
        if s.spec.approval.is_none() {
            report.push(
                s.origin,
                at!["spec", "securityLevel"],
                o.clone(),
                Diagnostic::finding(
                    FindingKind::LevelNotApproved,
                    format!(
                        "the security level of `{}` was never approved",
                        s.spec.display_name
                    ),
                )
                .hint("record spec.approval (date, body) once the level's dossier is approved"),
            );
        }
        if level < 3 {
            continue;
        }
        match &s.spec.dr {
            None => report.push(
                s.origin,
                at!["spec", "securityLevel"],
                o,
                Diagnostic::finding(
                    FindingKind::SystemWithoutReplica,
                    format!(
                        "`{}` has security level {level} but no DR policy",
                        s.spec.display_name
                    ),
                )
                .hint(match model {
                    DataCenterModel::MainAndBackup => "level 3 and above need spec.dr with a replica in the other data center",
                    DataCenterModel::SingleWithRedundancy => "level 3 and above need spec.dr with a replica on another rack and feed (spec.rack, spec.dr.replicaRack)",
                }),
            ),
            Some(dr) if model == DataCenterModel::SingleWithRedundancy => {
                if let Some(dc) = ix.data_centers.get(s.spec.data_center.as_str()) {
                    replica_placement(s, dr, dc, report);
                }
            }
            Some(dr) if dr.replica_data_center == s.spec.data_center => report.push(
                s.origin,
                at!["spec", "dr", "replicaDataCenter"],
                o,
                Diagnostic::finding(
                    FindingKind::ReplicaNotSeparate,
                    format!(
                        "the DR replica of `{}` is in the same data center as the system",
                        s.spec.display_name
                    ),
                )
                .hint("put the replica in the hosting data center's peer")
                .subject(Subject::object(Kind::DataCenter, &s.spec.data_center)),
            ),
            Some(dr) => {
                if let Some(host) = ix.data_centers.get(s.spec.data_center.as_str())
                    && host.spec.peer.as_deref() != Some(dr.replica_data_center.as_str())
                    && ix
                        .data_centers
                        .contains_key(dr.replica_data_center.as_str())
                {
                    report.push(
                        s.origin,
                        at!["spec", "dr", "replicaDataCenter"],
                        o,
                        Diagnostic::warning(
                            "dr-not-peer",
                            format!(
                                "replica is in `{}`, not in `{}`'s DR peer `{}`",
                                dr.replica_data_center,
                                host.name(),
                                host.spec.peer.as_deref().unwrap_or_default()
                            ),
                        )
                        .subject(Subject::object(Kind::DataCenter, &dr.replica_data_center))
                        .subject(Subject::object(Kind::DataCenter, host.name()))
                        .subject(Subject::object(
                            Kind::DataCenter,
                            host.spec.peer.as_deref().unwrap_or_default(),
                        )),
                    );
                }
            }
        }
    }
}

/// In a single data center: the replica in the same data center, on another rack, and no one
/// feed whose loss takes both racks down.
fn replica_placement(
    s: &Object<InformationSystemSpec>,
    dr: &DrPolicy,
    dc: &Object<DataCenterSpec>,
    report: &mut Report<'_>,
) {
    let o = obj(Kind::InformationSystem, s);
    if dr.replica_data_center != dc.name() {
        report.push(
            s.origin,
            at!["spec", "dr", "replicaDataCenter"],
            o,
            Diagnostic::finding(
                FindingKind::ReplicaNotSeparate,
                format!(
                    "in a single-with-redundancy city the replica of `{}` stays in `{}`, not `{}`",
                    s.spec.display_name,
                    dc.name(),
                    dr.replica_data_center
                ),
            )
            .subject(Subject::object(Kind::DataCenter, dc.name())),
        );
        return;
    }
    let (Some(rack), Some(replica)) = (&s.spec.rack, &dr.replica_rack) else {
        report.push(
            s.origin,
            at!["spec", "dr"],
            o,
            Diagnostic::finding(
                FindingKind::ReplicaNotSeparate,
                format!(
                    "`{}` has security level {} in the single data center but does not say on which racks it and its replica stand",
                    s.spec.display_name, s.spec.security_level
                ),
            )
            .hint("set spec.rack and spec.dr.replicaRack to two racks on separate feeds"),
        );
        return;
    };
    let mut missing = false;
    for (name, path) in [
        (rack, at!["spec", "rack"]),
        (replica, at!["spec", "dr", "replicaRack"]),
    ] {
        if dc.spec.rack(name).is_none() {
            missing = true;
            report.push(
                s.origin,
                path,
                o.clone(),
                Diagnostic::error(
                    "dangling-reference",
                    format!(
                        "refers to rack `{name}`, which does not exist in DataCenter `{}`",
                        dc.name()
                    ),
                )
                .subject(Subject::rack(dc.name(), name)),
            );
        }
    }
    if missing {
        return;
    }
    if rack == replica {
        report.push(
            s.origin,
            at!["spec", "dr", "replicaRack"],
            o,
            Diagnostic::finding(
                FindingKind::ReplicaNotSeparate,
                format!(
                    "the replica of `{}` stands in the same rack `{rack}` as the system",
                    s.spec.display_name
                ),
            )
            .hint("put the replica on another rack, fed by another feed")
            .subject(Subject::rack(dc.name(), rack)),
        );
        return;
    }
    if let Some(feed) = shared_single_feed(&dc.spec, rack, replica) {
        report.push(
            s.origin,
            at!["spec", "dr", "replicaRack"],
            o,
            Diagnostic::finding(
                FindingKind::ReplicaNotSeparate,
                format!(
                    "racks `{rack}` and `{replica}` both hang on feed `{feed}` alone: losing it takes `{}` and its replica down",
                    s.spec.display_name
                ),
            )
            .hint("put the replica on a rack fed by the other feed, or feed both racks from A and B")
            .subject(Subject::rack(dc.name(), rack))
            .subject(Subject::rack(dc.name(), replica))
            .subject(Subject::Feed {
                data_center: dc.name().to_owned(),
                feed: feed.to_owned(),
            }),
        );
    }
}

/// A feed whose loss leaves both racks without power: each rack's feeds are that one feed only.
pub(crate) fn shared_single_feed<'a>(dc: &'a DataCenterSpec, a: &str, b: &str) -> Option<&'a str> {
    let only = |rack: &str| -> Option<&'a str> {
        let feeds = &dc.rack(rack)?.feeds;
        let first = feeds.first()?;
        feeds.iter().all(|f| f == first).then_some(first.as_str())
    };
    match (only(a), only(b)) {
        (Some(x), Some(y)) if x == y => Some(x),
        _ => None,
    }
}
