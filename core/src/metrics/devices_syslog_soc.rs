//! `devices-syslog-to-soc`: devices whose rendered configuration sends syslog to a SOC
//! collector. Every rendered device logs to the collectors of all data centers
//! (`DataCenter.spec.socCollectors`, see compile), so a device passes when the estate has at
//! least one collector, and fails (all of them) when none is declared.

use super::{Context, Measure, Scope};
use crate::model::Kind;

pub(super) fn measure(ctx: &Context<'_>, scope: &Scope, m: &mut Measure) {
    let collectors = ctx
        .inventory
        .data_centers
        .iter()
        .any(|d| !d.spec.soc_collectors.is_empty());
    for d in &ctx.inventory.devices {
        let in_scope = ctx
            .index
            .sites
            .get(d.spec.site.as_str())
            .is_some_and(|s| ctx.site_in_scope(&s.spec, scope));
        if !in_scope {
            continue;
        }
        let reason = (!collectors)
            .then(|| "no DataCenter declares a SOC collector (spec.socCollectors)".to_owned());
        m.count(ctx, Kind::Device, d, d.name(), reason);
    }
}

#[cfg(test)]
mod tests {
    use super::super::Metric;
    use super::super::testing::{inventory, measure};

    #[test]
    fn devices_log_to_soc_only_when_a_collector_exists() {
        let inv = inventory("");
        let m = measure(&inv, Metric::DevicesSyslogSoc, "city");
        assert_eq!((m.passed, m.failing.len()), (5, 0));
        let mut none = inv.clone();
        for d in &mut none.data_centers {
            d.spec.soc_collectors.clear();
        }
        let m = measure(&none, Metric::DevicesSyslogSoc, "region:ward-a");
        assert_eq!((m.passed, m.failing.len()), (0, 1));
    }
}
