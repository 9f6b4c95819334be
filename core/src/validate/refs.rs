//! Every reference to another object resolves, to an object of the right sort.

use super::{Index, Report, at, obj};
use crate::diag::Diagnostic;
use crate::load::Seg;
use crate::model::{Inventory, Origin, RegionLevel, SiteRole};
use crate::names::closest;

fn dangling<'a>(
    report: &mut Report<'_>,
    origin: Origin,
    path: Vec<Seg>,
    object: String,
    target_kind: &str,
    name: &str,
    known: impl Iterator<Item = &'a str>,
) {
    let mut d = Diagnostic::error(
        "dangling-reference",
        format!("refers to {target_kind} `{name}`, which does not exist"),
    );
    if let Some(c) = closest(name, known) {
        d = d.hint(format!("did you mean `{c}`?"));
    } else {
        d = d.hint(format!(
            "define a {target_kind} named `{name}` or fix the name"
        ));
    }
    report.push(origin, path, object, d);
}

pub(super) fn check(inv: &Inventory, ix: &Index<'_>, report: &mut Report<'_>) {
    for r in &inv.regions {
        let Some(parent) = &r.spec.parent else {
            if r.spec.level != RegionLevel::Province {
                report.push(
                    r.origin,
                    at!["spec", "level"],
                    obj("Region", r),
                    Diagnostic::error(
                        "missing-parent",
                        format!("{:?} region has no parent", r.spec.level).to_lowercase(),
                    )
                    .hint("set spec.parent to the province (or district, before 2025)"),
                );
            }
            continue;
        };
        match ix.regions.get(parent.as_str()) {
            None => dangling(
                report,
                r.origin,
                at!["spec", "parent"],
                obj("Region", r),
                "Region",
                parent,
                ix.regions.keys().copied(),
            ),
            Some(p) if p.spec.level >= r.spec.level => report.push(
                r.origin,
                at!["spec", "parent"],
                obj("Region", r),
                Diagnostic::error(
                    "bad-parent",
                    format!(
                        "parent `{parent}` is at level {:?}, not above {:?}",
                        p.spec.level, r.spec.level
                    ),
                ),
            ),
            Some(_) => {}
        }
    }
    for s in &inv.sites {
        if !ix.regions.contains_key(s.spec.region.as_str()) {
            dangling(
                report,
                s.origin,
                at!["spec", "region"],
                obj("Site", s),
                "Region",
                &s.spec.region,
                ix.regions.keys().copied(),
            );
        }
    }
    for dc in &inv.data_centers {
        match ix.sites.get(dc.spec.site.as_str()) {
            None => dangling(
                report,
                dc.origin,
                at!["spec", "site"],
                obj("DataCenter", dc),
                "Site",
                &dc.spec.site,
                ix.sites.keys().copied(),
            ),
            Some(site) if site.spec.role != SiteRole::Datacenter => report.push(
                dc.origin,
                at!["spec", "site"],
                obj("DataCenter", dc),
                Diagnostic::error(
                    "wrong-site-role",
                    format!(
                        "site `{}` has role {}, not datacenter",
                        site.name(),
                        site.spec.role.as_str()
                    ),
                ),
            ),
            Some(_) => {}
        }
        if !ix.data_centers.contains_key(dc.spec.peer.as_str()) {
            dangling(
                report,
                dc.origin,
                at!["spec", "peer"],
                obj("DataCenter", dc),
                "DataCenter",
                &dc.spec.peer,
                ix.data_centers.keys().copied(),
            );
        }
    }
    for d in &inv.devices {
        if !ix.sites.contains_key(d.spec.site.as_str()) {
            dangling(
                report,
                d.origin,
                at!["spec", "site"],
                obj("Device", d),
                "Site",
                &d.spec.site,
                ix.sites.keys().copied(),
            );
        }
        if let Some(rack) = &d.spec.rack {
            match ix.data_centers.get(rack.data_center.as_str()) {
                None => dangling(
                    report,
                    d.origin,
                    at!["spec", "rack", "dataCenter"],
                    obj("Device", d),
                    "DataCenter",
                    &rack.data_center,
                    ix.data_centers.keys().copied(),
                ),
                Some(dc) => {
                    if dc.spec.rack(&rack.rack).is_none() {
                        dangling(
                            report,
                            d.origin,
                            at!["spec", "rack", "rack"],
                            obj("Device", d),
                            &format!("rack in DataCenter `{}`", dc.name()),
                            &rack.rack,
                            dc.spec.racks().map(|(_, r)| r.name.as_str()),
                        );
                    }
                    if dc.spec.site != d.spec.site {
                        report.push(
                            d.origin,
                            at!["spec", "rack", "dataCenter"],
                            obj("Device", d),
                            Diagnostic::error(
                                "rack-site-mismatch",
                                format!("device is at site `{}` but racked in DataCenter `{}` (site `{}`)", d.spec.site, dc.name(), dc.spec.site),
                            ),
                        );
                    }
                }
            }
        }
    }
    for c in &inv.circuits {
        for (end_name, end) in [("a", &c.spec.a), ("z", &c.spec.z)] {
            match ix.devices.get(end.device.as_str()) {
                None => dangling(
                    report,
                    c.origin,
                    at!["spec", end_name, "device"],
                    obj("Circuit", c),
                    "Device",
                    &end.device,
                    ix.devices.keys().copied(),
                ),
                Some(dev) => {
                    if !ix
                        .interfaces
                        .contains(&(dev.name(), end.interface.as_str()))
                    {
                        dangling(
                            report,
                            c.origin,
                            at!["spec", end_name, "interface"],
                            obj("Circuit", c),
                            &format!("interface of Device `{}`", dev.name()),
                            &end.interface,
                            dev.spec.interfaces.iter().map(|i| i.name.as_str()),
                        );
                    }
                }
            }
        }
        if c.spec.a.device == c.spec.z.device {
            report.push(
                c.origin,
                at!["spec", "z", "device"],
                obj("Circuit", c),
                Diagnostic::error(
                    "loop-circuit",
                    "both ends of the circuit are on the same device",
                ),
            );
        }
    }
    for t in &inv.tenants {
        if let Some(site) = &t.spec.site
            && !ix.sites.contains_key(site.as_str())
        {
            dangling(
                report,
                t.origin,
                at!["spec", "site"],
                obj("Tenant", t),
                "Site",
                site,
                ix.sites.keys().copied(),
            );
        }
    }
    for l in &inv.colo_leases {
        match ix.tenants.get(l.spec.tenant.as_str()) {
            None => dangling(
                report,
                l.origin,
                at!["spec", "tenant"],
                obj("ColoLease", l),
                "Tenant",
                &l.spec.tenant,
                ix.tenants.keys().copied(),
            ),
            Some(t) => {
                if let (Some(tn), Some(ln)) = (&t.spec.namespace, &l.metadata.namespace)
                    && tn != ln
                {
                    report.push(
                        l.origin,
                        at!["metadata", "namespace"],
                        obj("ColoLease", l),
                        Diagnostic::error(
                            "wrong-namespace",
                            format!(
                                "lease is in namespace `{ln}` but tenant `{}` lives in `{tn}`",
                                t.name()
                            ),
                        )
                        .hint("a tenant's leases live in the tenant's namespace"),
                    );
                }
            }
        }
        if !ix.data_centers.contains_key(l.spec.data_center.as_str()) {
            dangling(
                report,
                l.origin,
                at!["spec", "dataCenter"],
                obj("ColoLease", l),
                "DataCenter",
                &l.spec.data_center,
                ix.data_centers.keys().copied(),
            );
        }
    }
    for s in &inv.information_systems {
        if !ix.tenants.contains_key(s.spec.owner.as_str()) {
            dangling(
                report,
                s.origin,
                at!["spec", "owner"],
                obj("InformationSystem", s),
                "Tenant",
                &s.spec.owner,
                ix.tenants.keys().copied(),
            );
        }
        if !ix.data_centers.contains_key(s.spec.data_center.as_str()) {
            dangling(
                report,
                s.origin,
                at!["spec", "dataCenter"],
                obj("InformationSystem", s),
                "DataCenter",
                &s.spec.data_center,
                ix.data_centers.keys().copied(),
            );
        }
        if let Some(dr) = &s.spec.dr
            && !ix
                .data_centers
                .contains_key(dr.replica_data_center.as_str())
        {
            dangling(
                report,
                s.origin,
                at!["spec", "dr", "replicaDataCenter"],
                obj("InformationSystem", s),
                "DataCenter",
                &dr.replica_data_center,
                ix.data_centers.keys().copied(),
            );
        }
    }
    for p in &inv.address_plans {
        for name in p.spec.services.keys() {
            if !ix.data_centers.contains_key(name.as_str()) {
                dangling(
                    report,
                    p.origin,
                    at!["spec", "services", name.as_str()],
                    obj("AddressPlan", p),
                    "DataCenter",
                    name,
                    ix.data_centers.keys().copied(),
                );
            }
        }
    }
}
