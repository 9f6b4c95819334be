//! `sites-ipv6-ready`: sites (other than the data centers themselves) with an IPv6 site prefix,
//! pinned in the inventory or allocated in the ledger.

use super::{Context, Measure, Scope};
use crate::model::{Kind, SiteRole};

pub(super) fn measure(ctx: &Context<'_>, scope: &Scope, m: &mut Measure) {
    for s in &ctx.inventory.sites {
        if s.spec.role == SiteRole::Datacenter
            || ctx.index.site_excluded(&s.spec).is_some()
            || !ctx.site_in_scope(&s.spec, scope)
        {
            continue;
        }
        let ready = s.spec.ipv6_prefix.is_some() || ctx.ipv6_allocated.contains(s.name());
        let reason = (!ready).then(|| "no IPv6 site prefix (pinned or in the ledger)".to_owned());
        m.count(ctx, Kind::Site, s, &s.spec.display_name, reason);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{failing, inventory, today};
    use super::super::{Context, Metric, Scope};
    use crate::ipam::Ledger;

    #[test]
    fn a_pinned_or_allocated_prefix_makes_a_site_ready() {
        let inv = inventory("");
        let ctx = Context::new(&inv, None, today());
        let m = Metric::SitesIpv6Ready.measure(&ctx, &Scope::City);
        assert_eq!((m.passed, failing(&m)), (1, vec!["office-a", "office-c"]));
        let text = "version: 1\nentries:\n  - {key: \"site/commune-00001\", pool: \"site-v6\", \
                    value: \"2001:db8:a::/48\", owner: \"Site/office-a\"}\n";
        let ledger = Ledger::parse(std::path::Path::new("l.yaml"), text).unwrap();
        let ctx = Context::new(&inv, Some(&ledger), today());
        let m = Metric::SitesIpv6Ready.measure(&ctx, &Scope::City);
        assert_eq!((m.passed, failing(&m)), (2, vec!["office-c"]));
    }
}
