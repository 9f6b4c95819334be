//! `systems-with-approved-level`: information systems whose security level was approved (a
//! date and an approving body in `spec.approval`).

use super::{Context, Measure, Scope};
use crate::model::Kind;

pub(super) fn measure(ctx: &Context<'_>, scope: &Scope, m: &mut Measure) {
    for s in ctx.systems_in_scope(scope) {
        let reason = match &s.spec.approval {
            None => Some(format!("level {} never approved", s.spec.security_level)),
            Some(a) if a.date > ctx.today => {
                Some(format!("approval dated {} is in the future", a.date))
            }
            Some(_) => None,
        };
        m.count(
            ctx,
            Kind::InformationSystem,
            s,
            &s.spec.display_name,
            reason,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::Metric;
    use super::super::testing::{failing, inventory, measure};

    #[test]
    fn only_approved_levels_count() {
        let inv = inventory(super::super::testing_systems::SYSTEMS);
        let m = measure(&inv, Metric::SystemsApprovedLevel, "city");
        assert_eq!((m.passed, failing(&m)), (1, vec!["replicated", "same-dc"]));
        let m = measure(&inv, Metric::SystemsApprovedLevel, "tenant-kind:agency");
        assert_eq!(m.total(), 0);
    }
}
