//! `commune-offices-on-government-network`: commune offices (not excluded) with a circuit over
//! the government's dedicated data network (mạng truyền số liệu chuyên dùng).

use super::{Context, Measure, Scope};
use crate::model::{Kind, Medium};

pub(super) fn measure(ctx: &Context<'_>, scope: &Scope, m: &mut Measure) {
    for s in ctx.counted_offices(scope) {
        let on = ctx.circuits_of(s.name()).is_some_and(|c| {
            c.primary
                .iter()
                .chain(&c.backup)
                .any(|(medium, _)| *medium == Medium::GovernmentDataNetwork)
        });
        let reason = (!on).then(|| "no circuit over the government data network".to_owned());
        m.count(ctx, Kind::Site, s, &s.spec.display_name, reason);
    }
}

#[cfg(test)]
mod tests {
    use super::super::Metric;
    use super::super::testing::{failing, inventory, measure};

    #[test]
    fn only_the_dedicated_network_counts() {
        let m = measure(
            &inventory(""),
            Metric::CommuneOfficesGovernmentNetwork,
            "city",
        );
        assert_eq!((m.passed, failing(&m)), (1, vec!["office-a", "office-c"]));
    }
}
