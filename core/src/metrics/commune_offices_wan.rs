//! `commune-offices-with-wan`: commune offices (not excluded) with at least one circuit.

use super::{Context, Measure, Scope};
use crate::model::Kind;

pub(super) fn measure(ctx: &Context<'_>, scope: &Scope, m: &mut Measure) {
    for s in ctx.counted_offices(scope) {
        let linked = ctx
            .circuits_of(s.name())
            .is_some_and(|c| !c.primary.is_empty() || !c.backup.is_empty());
        let reason = (!linked).then(|| "no circuit".to_owned());
        m.count(ctx, Kind::Site, s, &s.spec.display_name, reason);
    }
}

#[cfg(test)]
mod tests {
    use super::super::Metric;
    use super::super::testing::{failing, inventory, measure};

    #[test]
    fn an_office_with_any_circuit_counts() {
        let m = measure(&inventory(""), Metric::CommuneOfficesWan, "city");
        assert_eq!((m.passed, failing(&m)), (2, vec!["office-c"]));
        let m = measure(&inventory(""), Metric::CommuneOfficesWan, "region:ward-b");
        assert_eq!((m.passed, m.failing.len()), (1, 0));
    }
}
