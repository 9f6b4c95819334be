//! Exactly one main data center, at least one backup, paired as DR peers.

use super::{Report, at, obj};
use crate::diag::{Diagnostic, Subject};
use crate::model::{DataCenterTier, Inventory, Kind};

pub(super) fn check(inv: &Inventory, report: &mut Report<'_>) {
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
    if !backups.iter().any(|b| b.name() == main.spec.peer) {
        report.push(
            main.origin,
            at!["spec", "peer"],
            obj(Kind::DataCenter, main),
            Diagnostic::error(
                "datacenter-pair",
                format!(
                    "main data center's peer `{}` is not a backup data center",
                    main.spec.peer
                ),
            )
            .hint(format!(
                "set peer to one of: {}",
                backups
                    .iter()
                    .map(|b| b.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .subject(Subject::object(Kind::DataCenter, &main.spec.peer)),
        );
    }
    for b in &backups {
        if b.spec.peer != main.name() {
            report.push(
                b.origin,
                at!["spec", "peer"],
                obj(Kind::DataCenter, b),
                Diagnostic::error(
                    "datacenter-pair",
                    format!(
                        "backup data center's peer is `{}`, not the main data center `{}`",
                        b.spec.peer,
                        main.name()
                    ),
                )
                .subject(Subject::object(Kind::DataCenter, &b.spec.peer))
                .subject(Subject::object(Kind::DataCenter, main.name())),
            );
        }
    }
}
