//! `tenants-with-four-layer-model`: tenants with all four layers of the security model in
//! place: in-house team, monitoring provider, an independent audit in the last 12 months and a
//! connection to national monitoring.

use super::{Context, Measure, Scope};
use crate::model::{FourLayerModel, Kind};

pub(super) fn measure(ctx: &Context<'_>, scope: &Scope, m: &mut Measure) {
    for t in &ctx.inventory.tenants {
        if !ctx.tenant_kind_in_scope(Some(t.spec.kind), scope) {
            continue;
        }
        let reason = match &t.spec.security {
            None => Some("no 4-layer record (spec.security)".to_owned()),
            Some(s) if s.complete_on(ctx.today) => None,
            Some(s) => Some(missing_layers(s, ctx.today)),
        };
        m.count(ctx, Kind::Tenant, t, &t.spec.display_name, reason);
    }
}

/// The layers that are missing, named.
fn missing_layers(s: &FourLayerModel, today: chrono::NaiveDate) -> String {
    let mut missing = Vec::new();
    if !s.in_house_team {
        missing.push("in-house team".to_owned());
    }
    if s.monitoring_provider.is_none() {
        missing.push("monitoring provider".to_owned());
    }
    match s.last_independent_audit {
        None => missing.push("independent audit".to_owned()),
        Some(d) if !s.audit_current_on(today) => {
            missing.push(format!("independent audit stale (last {d})"))
        }
        Some(_) => {}
    }
    if !s.national_monitoring {
        missing.push("national monitoring".to_owned());
    }
    format!("missing: {}", missing.join(", "))
}

#[cfg(test)]
mod tests {
    use super::super::Metric;
    use super::super::testing::{failing, inventory, measure};

    const TENANTS: &str = "apiVersion: hatang.io/v1alpha1\nkind: Tenant\nmetadata: {name: full}\n\
        spec: {displayName: Sở Đủ, kind: department, security: {inHouseTeam: true, \
        monitoringProvider: VNPT, lastIndependentAudit: 2024-09-01, nationalMonitoring: true}}\n---\n\
        apiVersion: hatang.io/v1alpha1\nkind: Tenant\nmetadata: {name: stale}\n\
        spec: {displayName: Sở Cũ, kind: department, security: {inHouseTeam: true, \
        monitoringProvider: VNPT, lastIndependentAudit: 2024-05-01, nationalMonitoring: true}}\n---\n\
        apiVersion: hatang.io/v1alpha1\nkind: Tenant\nmetadata: {name: none}\n\
        spec: {displayName: Ban, kind: agency}";

    #[test]
    fn an_audit_older_than_twelve_months_is_stale() {
        let inv = inventory(TENANTS);
        let m = measure(&inv, Metric::TenantsFourLayer, "city");
        assert_eq!((m.passed, failing(&m)), (1, vec!["stale", "none"]));
        assert_eq!(
            m.failing[0].reason,
            "missing: independent audit stale (last 2024-05-01)"
        );
        let m = measure(&inv, Metric::TenantsFourLayer, "tenant-kind:agency");
        assert_eq!(m.total(), 1);
    }
}
