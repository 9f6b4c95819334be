//! Semantic validation: everything a schema cannot say. Every rule runs on every object and all
//! problems are returned together, errors and warnings apart.

mod addressing;
mod control;
mod coverage;
mod datacenters;
mod deviations;
mod identity;
mod leases;
mod power;
mod racks;
mod refs;
mod systems;

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::diag::{self, Diagnostic, ObjectRef};
use crate::load::{Locator, Seg};
use crate::model::{
    DataCenterSpec, DeviceSpec, Inventory, Kind, Object, Origin, RegionSpec, SiteSpec, TenantSpec,
};

/// Builds a path into a document: `at!["spec", "a", "device"]`, `at!["spec", "racks", 3usize]`.
macro_rules! at {
    ($($seg:expr),* $(,)?) => { vec![$($crate::load::Seg::from($seg)),*] };
}
pub(crate) use at;

/// Settings that make validation reproducible.
#[derive(Debug, Clone, Copy)]
pub struct ValidateOptions {
    /// The day leases and accepted deviations are judged against (expired, expiring).
    pub today: NaiveDate,
    /// Warn about leases that end within this many days.
    pub lease_warning_days: i64,
    /// Warn about accepted deviations that expire within this many days.
    pub deviation_warning_days: i64,
}

impl ValidateOptions {
    /// Options for judging on `today`.
    pub fn on(today: NaiveDate) -> Self {
        ValidateOptions {
            today,
            lease_warning_days: 90,
            deviation_warning_days: 14,
        }
    }
}

/// Validates `inventory`; positions are resolved through `locator`. Sorted by file and line.
pub fn validate(
    inventory: &Inventory,
    locator: &Locator<'_>,
    options: &ValidateOptions,
) -> Vec<Diagnostic> {
    let index = Index::new(inventory);
    let mut report = Report {
        locator,
        out: Vec::new(),
    };
    identity::check(inventory, &mut report);
    refs::check(inventory, &index, &mut report);
    datacenters::check(inventory, &mut report);
    racks::check(inventory, &index, options, &mut report);
    power::check(inventory, &index, options, &mut report);
    leases::check(inventory, &index, options, &mut report);
    deviations::check(inventory, options, &mut report);
    coverage::check(inventory, &index, &mut report);
    systems::check(inventory, &index, &mut report);
    addressing::check(inventory, &index, &mut report);
    control::check(inventory, &mut report);
    let mut out = report.out;
    diag::sort(&mut out);
    out
}

/// Objects by name, for reference checks.
pub(crate) struct Index<'a> {
    pub(crate) regions: HashMap<&'a str, &'a Object<RegionSpec>>,
    pub sites: HashMap<&'a str, &'a Object<SiteSpec>>,
    pub data_centers: HashMap<&'a str, &'a Object<DataCenterSpec>>,
    pub devices: HashMap<&'a str, &'a Object<DeviceSpec>>,
    pub tenants: HashMap<&'a str, &'a Object<TenantSpec>>,
    /// (device, interface) pairs that exist; edge routers carry thousands of interfaces.
    pub interfaces: std::collections::HashSet<(&'a str, &'a str)>,
}

fn by_name<S>(objects: &[Object<S>]) -> HashMap<&str, &Object<S>> {
    let mut map = HashMap::with_capacity(objects.len());
    for o in objects {
        // First definition wins; duplicates are reported by the loader.
        map.entry(o.name()).or_insert(o);
    }
    map
}

impl<'a> Index<'a> {
    pub(crate) fn new(inv: &'a Inventory) -> Self {
        Index {
            regions: by_name(&inv.regions),
            sites: by_name(&inv.sites),
            data_centers: by_name(&inv.data_centers),
            devices: by_name(&inv.devices),
            tenants: by_name(&inv.tenants),
            interfaces: inv
                .devices
                .iter()
                .flat_map(|d| {
                    d.spec
                        .interfaces
                        .iter()
                        .map(move |i| (d.name(), i.name.as_str()))
                })
                .collect(),
        }
    }

    /// Whether a site is outside coverage targets (itself or its region, or a region above it).
    pub(crate) fn site_excluded(&self, site: &SiteSpec) -> Option<String> {
        if let Some(e) = &site.excluded {
            return Some(e.reason.clone());
        }
        let mut region = self.regions.get(site.region.as_str());
        let mut hops = 0;
        while let Some(r) = region {
            if let Some(e) = &r.spec.excluded {
                return Some(e.reason.clone());
            }
            hops += 1;
            if hops > 8 {
                break;
            }
            region = r.spec.parent.as_deref().and_then(|p| self.regions.get(p));
        }
        None
    }
}

/// Collects diagnostics, resolving each one's position when it is reported.
pub(crate) struct Report<'l> {
    locator: &'l Locator<'l>,
    out: Vec<Diagnostic>,
}

impl Report<'_> {
    /// Reports `diag` at `path` inside the object at `origin`, concerning `object`.
    pub(crate) fn push(
        &mut self,
        origin: Origin,
        path: Vec<Seg>,
        object: ObjectRef,
        diag: Diagnostic,
    ) {
        let location = self.locator.locate(origin, &path);
        self.out.push(diag.at(location).object(object));
    }

    /// Adds a related place to the last diagnostic.
    pub(crate) fn also(&mut self, message: &str, origin: Origin, path: Vec<Seg>) {
        let location = self.locator.locate(origin, &path);
        if let Some(last) = self.out.last_mut() {
            last.related.push(diag::Related {
                message: message.to_owned(),
                location,
            });
        }
    }
}

/// The identity of `o`, an object of `kind`, for [`Report::push`].
pub(crate) fn obj<S>(kind: Kind, o: &Object<S>) -> ObjectRef {
    ObjectRef::of(kind, o)
}

pub(crate) use coverage::circuits_by_site;
pub(crate) use power::{feed_loads, rack_loads};
