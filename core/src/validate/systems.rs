//! Information systems: security level 1–5; level 3 and above replicate to the other data center.

use super::{Index, Report, at, obj};
use crate::diag::{Diagnostic, Subject};
use crate::model::{Inventory, Kind};

pub(super) fn check(inv: &Inventory, ix: &Index<'_>, report: &mut Report<'_>) {
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
        if level < 3 {
            continue;
        }
        match &s.spec.dr {
            None => report.push(
                s.origin,
                at!["spec", "securityLevel"],
                o,
                Diagnostic::error(
                    "dr-required",
                    format!(
                        "`{}` has security level {level} but no DR policy",
                        s.spec.display_name
                    ),
                )
                .hint("level 3 and above need spec.dr with a replica in the other data center"),
            ),
            Some(dr) if dr.replica_data_center == s.spec.data_center => report.push(
                s.origin,
                at!["spec", "dr", "replicaDataCenter"],
                o,
                Diagnostic::error(
                    "dr-same-datacenter",
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
                    && host.spec.peer != dr.replica_data_center
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
                                host.spec.peer
                            ),
                        )
                        .subject(Subject::object(Kind::DataCenter, &dr.replica_data_center))
                        .subject(Subject::object(Kind::DataCenter, host.name()))
                        .subject(Subject::object(Kind::DataCenter, &host.spec.peer)),
                    );
                }
            }
        }
    }
}
