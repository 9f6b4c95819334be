//! Every reference to another object resolves, to an object of the right sort.
//!
//! The references by name are one table ([`uses`]): which kind holds the reference, at which
//! field, and which kind it must name. Each is checked the same way, and those whose target must
//! also be of the right sort (a parent region above its child, a data center's site with the
//! datacenter role, …) are checked afterwards, once the target is known to exist.

use super::{Index, Report, at, obj};
use crate::diag::{Diagnostic, ObjectRef, Subject};
use crate::load::Seg;
use crate::model::{Inventory, Kind, Object, ObjectMeta, Origin, RegionLevel, SiteRole};
use crate::names::closest;

/// One reference by name, as the table yields it. Paths and object identities are built only
/// for a reference that does not resolve.
struct Use<'a> {
    /// Kind of the object holding the reference.
    holder: Kind,
    meta: &'a ObjectMeta,
    origin: Origin,
    /// The field, from the document's root.
    field: &'static [&'static str],
    /// A key under `field` (a map keyed by the name), if the name is a key.
    key: Option<&'a str>,
    /// The kind the name must belong to.
    target: Kind,
    name: &'a str,
}

impl Use<'_> {
    fn path(&self) -> Vec<Seg> {
        let mut path: Vec<Seg> = self.field.iter().map(|s| Seg::from(*s)).collect();
        path.extend(self.key.map(Seg::from));
        path
    }

    fn holder(&self) -> ObjectRef {
        ObjectRef::new(self.holder, &self.meta.name).in_namespace(self.meta.namespace.as_deref())
    }
}

/// Adds a row of the table: every `holder` object of `objects` refers, at `field`, to the
/// `target` object `name(spec)` names (if any).
fn row<'a, S>(
    out: &mut Vec<Use<'a>>,
    objects: &'a [Object<S>],
    holder: Kind,
    field: &'static [&'static str],
    target: Kind,
    name: impl Fn(&'a S) -> Option<&'a str>,
) {
    out.extend(objects.iter().filter_map(|o| {
        Some(Use {
            holder,
            meta: &o.metadata,
            origin: o.origin,
            field,
            key: None,
            target,
            name: name(&o.spec)?,
        })
    }));
}

/// Every reference by name in the inventory: one row per field that names another object.
#[rustfmt::skip]
fn uses(inv: &Inventory) -> Vec<Use<'_>> {
    use Kind::*;
    let mut out = Vec::new();
    let o = &mut out;
    // row(out, the holders, their kind, the field, the kind it names, the name in a spec)
    row(o, &inv.regions,             Region,            &["spec", "parent"],                   Region,     |s| s.parent.as_deref());
    row(o, &inv.sites,               Site,              &["spec", "region"],                   Region,     |s| Some(&s.region));
    row(o, &inv.data_centers,        DataCenter,        &["spec", "site"],                     Site,       |s| Some(&s.site));
    row(o, &inv.data_centers,        DataCenter,        &["spec", "peer"],                     DataCenter, |s| Some(&s.peer));
    row(o, &inv.devices,             Device,            &["spec", "site"],                     Site,       |s| Some(&s.site));
    row(o, &inv.devices,             Device,            &["spec", "rack", "dataCenter"],       DataCenter, |s| s.rack.as_ref().map(|r| r.data_center.as_str()));
    row(o, &inv.circuits,            Circuit,           &["spec", "a", "device"],              Device,     |s| Some(&s.a.device));
    row(o, &inv.circuits,            Circuit,           &["spec", "z", "device"],              Device,     |s| Some(&s.z.device));
    row(o, &inv.tenants,             Tenant,            &["spec", "site"],                     Site,       |s| s.site.as_deref());
    row(o, &inv.colo_leases,         ColoLease,         &["spec", "tenant"],                   Tenant,     |s| Some(&s.tenant));
    row(o, &inv.colo_leases,         ColoLease,         &["spec", "dataCenter"],               DataCenter, |s| Some(&s.data_center));
    row(o, &inv.information_systems, InformationSystem, &["spec", "owner"],                    Tenant,     |s| Some(&s.owner));
    row(o, &inv.information_systems, InformationSystem, &["spec", "dataCenter"],               DataCenter, |s| Some(&s.data_center));
    row(o, &inv.information_systems, InformationSystem, &["spec", "dr", "replicaDataCenter"],  DataCenter, |s| s.dr.as_ref().map(|d| d.replica_data_center.as_str()));
    // The service blocks are keyed by data center.
    for p in &inv.address_plans {
        out.extend(p.spec.services.keys().map(|name| Use {
            holder: AddressPlan,
            meta: &p.metadata,
            origin: p.origin,
            field: &["spec", "services"],
            key: Some(name),
            target: DataCenter,
            name,
        }));
    }
    out
}

/// Whether `ix` has a `kind` object called `name`.
fn exists(ix: &Index<'_>, kind: Kind, name: &str) -> bool {
    match kind {
        Kind::Region => ix.regions.contains_key(name),
        Kind::Site => ix.sites.contains_key(name),
        Kind::DataCenter => ix.data_centers.contains_key(name),
        Kind::Device => ix.devices.contains_key(name),
        Kind::Tenant => ix.tenants.contains_key(name),
        other => unreachable!("no reference names a {other}"),
    }
}

/// The names `ix` has of `kind`, for suggestions.
fn names<'a>(ix: &'a Index<'_>, kind: Kind) -> Vec<&'a str> {
    match kind {
        Kind::Region => ix.regions.keys().copied().collect(),
        Kind::Site => ix.sites.keys().copied().collect(),
        Kind::DataCenter => ix.data_centers.keys().copied().collect(),
        Kind::Device => ix.devices.keys().copied().collect(),
        Kind::Tenant => ix.tenants.keys().copied().collect(),
        other => unreachable!("no reference names a {other}"),
    }
}

/// A reference to something that does not exist: `target` describes what was looked for
/// (`Site`, `rack in DataCenter `x``), `known` what there is to suggest instead.
fn dangling<'a>(
    target: &str,
    name: &str,
    known: impl Iterator<Item = &'a str>,
    subject: Subject,
) -> Diagnostic {
    let d = Diagnostic::error(
        "dangling-reference",
        format!("refers to {target} `{name}`, which does not exist"),
    )
    .subject(subject);
    match closest(name, known) {
        Some(c) => d.hint(format!("did you mean `{c}`?")),
        None => d.hint(format!("define a {target} named `{name}` or fix the name")),
    }
}

pub(super) fn check(inv: &Inventory, ix: &Index<'_>, report: &mut Report<'_>) {
    for u in uses(inv) {
        if !exists(ix, u.target, u.name) {
            let d = dangling(
                u.target.as_str(),
                u.name,
                names(ix, u.target).into_iter(),
                Subject::object(u.target, u.name),
            );
            report.push(u.origin, u.path(), u.holder(), d);
        }
    }
    region_parents(inv, ix, report);
    data_center_sites(inv, ix, report);
    device_racks(inv, ix, report);
    circuit_ends(inv, ix, report);
    lease_namespaces(inv, ix, report);
}

/// Every region but a province has a parent, at a level above its own.
fn region_parents(inv: &Inventory, ix: &Index<'_>, report: &mut Report<'_>) {
    for r in &inv.regions {
        let Some(parent) = &r.spec.parent else {
            if r.spec.level != RegionLevel::Province {
                report.push(
                    r.origin,
                    at!["spec", "level"],
                    obj(Kind::Region, r),
                    Diagnostic::error(
                        "missing-parent",
                        format!("{:?} region has no parent", r.spec.level).to_lowercase(),
                    )
                    .hint("set spec.parent to the province (or district, before 2025)"),
                );
            }
            continue;
        };
        if let Some(p) = ix.regions.get(parent.as_str())
            && p.spec.level >= r.spec.level
        {
            report.push(
                r.origin,
                at!["spec", "parent"],
                obj(Kind::Region, r),
                Diagnostic::error(
                    "bad-parent",
                    format!(
                        "parent `{parent}` is at level {:?}, not above {:?}",
                        p.spec.level, r.spec.level
                    ),
                )
                .subject(Subject::object(Kind::Region, parent)),
            );
        }
    }
}

/// A data center's site has the datacenter role.
fn data_center_sites(inv: &Inventory, ix: &Index<'_>, report: &mut Report<'_>) {
    for dc in &inv.data_centers {
        if let Some(site) = ix.sites.get(dc.spec.site.as_str())
            && site.spec.role != SiteRole::Datacenter
        {
            report.push(
                dc.origin,
                at!["spec", "site"],
                obj(Kind::DataCenter, dc),
                Diagnostic::error(
                    "wrong-site-role",
                    format!(
                        "site `{}` has role {}, not datacenter",
                        site.name(),
                        site.spec.role.as_str()
                    ),
                )
                .subject(Subject::object(Kind::Site, site.name())),
            );
        }
    }
}

/// A racked device names a rack of its data center, which is at the device's site.
fn device_racks(inv: &Inventory, ix: &Index<'_>, report: &mut Report<'_>) {
    for d in &inv.devices {
        let Some(rack) = &d.spec.rack else { continue };
        let Some(dc) = ix.data_centers.get(rack.data_center.as_str()) else {
            continue;
        };
        if dc.spec.rack(&rack.rack).is_none() {
            report.push(
                d.origin,
                at!["spec", "rack", "rack"],
                obj(Kind::Device, d),
                dangling(
                    &format!("rack in DataCenter `{}`", dc.name()),
                    &rack.rack,
                    dc.spec.racks().map(|(_, r)| r.name.as_str()),
                    Subject::rack(dc.name(), &rack.rack),
                ),
            );
        }
        if dc.spec.site != d.spec.site {
            report.push(
                d.origin,
                at!["spec", "rack", "dataCenter"],
                obj(Kind::Device, d),
                Diagnostic::error(
                    "rack-site-mismatch",
                    format!(
                        "device is at site `{}` but racked in DataCenter `{}` (site `{}`)",
                        d.spec.site,
                        dc.name(),
                        dc.spec.site
                    ),
                )
                .subject(Subject::object(Kind::DataCenter, dc.name()))
                .subject(Subject::object(Kind::Site, &dc.spec.site)),
            );
        }
    }
}

/// Each end of a circuit is an interface of its device, and the two ends are on two devices.
fn circuit_ends(inv: &Inventory, ix: &Index<'_>, report: &mut Report<'_>) {
    for c in &inv.circuits {
        for (end_name, end) in [("a", &c.spec.a), ("z", &c.spec.z)] {
            let Some(dev) = ix.devices.get(end.device.as_str()) else {
                continue;
            };
            if !ix
                .interfaces
                .contains(&(dev.name(), end.interface.as_str()))
            {
                report.push(
                    c.origin,
                    at!["spec", end_name, "interface"],
                    obj(Kind::Circuit, c),
                    dangling(
                        &format!("interface of Device `{}`", dev.name()),
                        &end.interface,
                        dev.spec.interfaces.iter().map(|i| i.name.as_str()),
                        Subject::Interface {
                            device: dev.name().to_owned(),
                            interface: end.interface.clone(),
                        },
                    ),
                );
            }
        }
        if c.spec.a.device == c.spec.z.device {
            report.push(
                c.origin,
                at!["spec", "z", "device"],
                obj(Kind::Circuit, c),
                Diagnostic::error(
                    "loop-circuit",
                    "both ends of the circuit are on the same device",
                )
                .subject(Subject::object(Kind::Device, &c.spec.a.device)),
            );
        }
    }
}

/// A lease lives in its tenant's namespace.
fn lease_namespaces(inv: &Inventory, ix: &Index<'_>, report: &mut Report<'_>) {
    for l in &inv.colo_leases {
        let Some(t) = ix.tenants.get(l.spec.tenant.as_str()) else {
            continue;
        };
        if let (Some(tn), Some(ln)) = (&t.spec.namespace, &l.metadata.namespace)
            && tn != ln
        {
            report.push(
                l.origin,
                at!["metadata", "namespace"],
                obj(Kind::ColoLease, l),
                Diagnostic::error(
                    "wrong-namespace",
                    format!(
                        "lease is in namespace `{ln}` but tenant `{}` lives in `{tn}`",
                        t.name()
                    ),
                )
                .hint("a tenant's leases live in the tenant's namespace")
                .subject(Subject::object(Kind::Tenant, t.name())),
            );
        }
    }
}
