//! `systems-with-offsite-backup`: information systems with a backup copy outside their data
//! center (`spec.backup.offSite`).

use super::{Context, Measure, Scope};
use crate::model::Kind;

pub(super) fn measure(ctx: &Context<'_>, scope: &Scope, m: &mut Measure) {
    for s in ctx.systems_in_scope(scope) {
        let reason = match &s.spec.backup {
            None => Some("no backup policy (spec.backup)"),
            Some(b) if !b.off_site => Some("backup copies stay in the data center"),
            Some(_) => None,
        };
        m.count(
            ctx,
            Kind::InformationSystem,
            s,
            &s.spec.display_name,
            reason.map(str::to_owned),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{failing, inventory, measure};
    use super::super::{Metric, testing_systems::SYSTEMS};

    #[test]
    fn a_copy_must_leave_the_data_center() {
        let m = measure(&inventory(SYSTEMS), Metric::SystemsOffsiteBackup, "city");
        assert_eq!((m.passed, failing(&m)), (1, vec!["replicated", "same-dc"]));
        assert_eq!(m.failing[0].reason, "backup copies stay in the data center");
    }
}
