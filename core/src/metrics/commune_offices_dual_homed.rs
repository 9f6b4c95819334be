//! `commune-offices-dual-homed`: commune offices (not excluded) with a primary and a backup
//! circuit, the figure `hatang stats` gives as coverage.

use super::{Context, Measure, Scope};
use crate::model::Kind;

pub(super) fn measure(ctx: &Context<'_>, scope: &Scope, m: &mut Measure) {
    for s in ctx.counted_offices(scope) {
        let (primary, backup) = ctx.circuits_of(s.name()).map_or((false, false), |c| {
            (!c.primary.is_empty(), !c.backup.is_empty())
        });
        let reason = match (primary, backup) {
            (true, true) => None,
            (true, false) => Some("no backup circuit"),
            (false, true) => Some("no primary circuit"),
            (false, false) => Some("no primary and no backup circuit"),
        };
        m.count(
            ctx,
            Kind::Site,
            s,
            &s.spec.display_name,
            reason.map(str::to_owned),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::Metric;
    use super::super::testing::{failing, inventory, measure};

    #[test]
    fn both_circuits_are_needed_and_excluded_offices_do_not_count() {
        let m = measure(&inventory(""), Metric::CommuneOfficesDualHomed, "city");
        assert_eq!((m.passed, failing(&m)), (1, vec!["office-b", "office-c"]));
        assert_eq!(m.failing[0].reason, "no backup circuit");
        assert_eq!(m.failing[0].location.file, "t.yaml");
        let excluded = inventory(
            "apiVersion: hatang.io/v1alpha1\nkind: Site\nmetadata: {name: office-d}\n\
             spec: {displayName: UBND Đặc khu D, role: commune-office, region: ward-c, \
             excluded: {reason: island}}",
        );
        let m = measure(&excluded, Metric::CommuneOfficesDualHomed, "city");
        assert_eq!(m.total(), 3);
    }
}
