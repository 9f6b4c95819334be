//! `tenants-connected`: tenants (departments, districts, committees …) whose site has a circuit
//! to the city WAN.

use super::{Context, Measure, Scope};
use crate::model::Kind;

pub(super) fn measure(ctx: &Context<'_>, scope: &Scope, m: &mut Measure) {
    for t in &ctx.inventory.tenants {
        if !ctx.tenant_kind_in_scope(Some(t.spec.kind), scope) {
            continue;
        }
        let reason = match t.spec.site.as_deref() {
            None => Some("no site recorded (spec.site)".to_owned()),
            Some(site) => {
                let linked = ctx
                    .circuits_of(site)
                    .is_some_and(|c| !c.primary.is_empty() || !c.backup.is_empty());
                (!linked).then(|| format!("site `{site}` has no circuit"))
            }
        };
        m.count(ctx, Kind::Tenant, t, &t.spec.display_name, reason);
    }
}

#[cfg(test)]
mod tests {
    use super::super::Metric;
    use super::super::testing::{failing, inventory, measure};

    const TENANTS: &str = "apiVersion: hatang.io/v1alpha1\nkind: Tenant\nmetadata: {name: so-a}\n\
        spec: {displayName: Sở A, kind: department, site: office-a}\n---\n\
        apiVersion: hatang.io/v1alpha1\nkind: Tenant\nmetadata: {name: so-c}\n\
        spec: {displayName: Sở C, kind: department, site: office-c}\n---\n\
        apiVersion: hatang.io/v1alpha1\nkind: Tenant\nmetadata: {name: ubnd-x}\n\
        spec: {displayName: UBND X, kind: commune-committee}";

    #[test]
    fn a_tenant_is_connected_through_its_site() {
        let inv = inventory(TENANTS);
        let m = measure(&inv, Metric::TenantsConnected, "tenant-kind:department");
        assert_eq!((m.passed, failing(&m)), (1, vec!["so-c"]));
        let m = measure(&inv, Metric::TenantsConnected, "city");
        assert_eq!(failing(&m), vec!["so-c", "ubnd-x"]);
    }
}
