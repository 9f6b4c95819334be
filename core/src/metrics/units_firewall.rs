//! `units-with-firewall`: every unit on the dedicated network (a site, other than a data
//! center, with a circuit over the government data network) has a firewall device.

use std::collections::HashSet;

use super::{Context, Measure, Scope};
use crate::model::{DeviceRole, Kind, Medium, SiteRole};

pub(super) fn measure(ctx: &Context<'_>, scope: &Scope, m: &mut Measure) {
    let with_firewall: HashSet<&str> = ctx
        .inventory
        .devices
        .iter()
        .filter(|d| d.spec.role == DeviceRole::Firewall)
        .map(|d| d.spec.site.as_str())
        .collect();
    for s in &ctx.inventory.sites {
        if s.spec.role == SiteRole::Datacenter || !ctx.site_in_scope(&s.spec, scope) {
            continue;
        }
        let on_dedicated = ctx.circuits_of(s.name()).is_some_and(|c| {
            c.primary
                .iter()
                .chain(&c.backup)
                .any(|(medium, _)| *medium == Medium::GovernmentDataNetwork)
        });
        if !on_dedicated {
            continue;
        }
        let reason = (!with_firewall.contains(s.name())).then(|| "no firewall device".to_owned());
        m.count(ctx, Kind::Site, s, &s.spec.display_name, reason);
    }
}

#[cfg(test)]
mod tests {
    use super::super::Metric;
    use super::super::testing::{inventory, measure};

    #[test]
    fn only_units_on_the_dedicated_network_count() {
        let m = measure(&inventory(""), Metric::UnitsFirewall, "city");
        assert_eq!((m.passed, m.failing.len()), (1, 0));
        let inv = inventory("");
        let mut without = inv.clone();
        without.devices.retain(|d| d.name() != "fw-b");
        let m = measure(&without, Metric::UnitsFirewall, "city");
        assert_eq!(m.failing[0].object.name, "office-b");
    }
}
