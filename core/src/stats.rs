//! Figures auditors and engineers ask for: counts, commune coverage, rack and power use, leases.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::Serialize;

use crate::capacity::occupied_units;
use crate::diag::Location;
use crate::model::{DataCenterModel, DataCenterTier, Inventory, Kind, RegionLevel, SiteRole};
use crate::validate::{Index, SiteCircuits, circuits_by_site, rack_loads};

/// Everything `hatang stats` prints.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Objects per kind.
    pub objects: BTreeMap<&'static str, usize>,
    /// Regions per level.
    pub regions_by_level: BTreeMap<String, usize>,
    /// Sites per role.
    pub sites_by_role: BTreeMap<&'static str, usize>,
    /// Devices per role.
    pub devices_by_role: BTreeMap<&'static str, usize>,
    /// Circuits per medium.
    pub circuits_by_medium: BTreeMap<&'static str, usize>,
    /// The data-center model the city declares (by its DataCenters' tiers).
    pub data_center_model: DataCenterModel,
    /// Commune-office coverage.
    pub coverage: Coverage,
    /// The metro networks (MAN): their routers, trunks and the sites attached to them.
    pub metro: Vec<MetroUse>,
    /// Rack and power use per data center.
    pub data_centers: Vec<DataCenterUse>,
    /// Leases per tenant.
    pub tenants: Vec<TenantLeases>,
    /// Information systems per security level.
    pub systems_by_security_level: BTreeMap<u8, usize>,
}

/// How many commune offices have both circuits.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    /// Commune-level regions in the inventory.
    pub commune_regions: usize,
    /// Commune-office sites.
    pub commune_offices: usize,
    /// Offices (not excluded) with a primary and a backup circuit, or a primary circuit to an
    /// aggregation router with two paths round the metro ring (also counted in `overTheRing`).
    pub dual_homed: usize,
    /// Offices of `dualHomed` whose second path is the metro ring, not a backup circuit.
    pub over_the_ring: usize,
    /// Offices (not excluded) missing a primary or a backup circuit.
    pub incomplete: usize,
    /// Share of non-excluded offices that are dual-homed, in percent.
    pub percent: f64,
    /// Excluded offices, and excluded commune-level regions without an office, with reasons.
    pub excluded: Vec<Excluded>,
    /// The offices counted in `incomplete`, each with what it lacks and where it is defined.
    pub incomplete_offices: Vec<IncompleteOffice>,
}

/// A commune office missing a circuit.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IncompleteOffice {
    /// Site name.
    pub name: String,
    /// Human name.
    pub display_name: String,
    /// The GSO code of its region, when the region exists.
    pub gso_code: Option<String>,
    /// The circuit roles it lacks: `primary`, `backup` or both.
    pub missing: Vec<&'static str>,
    /// Where the site is defined (the start of its document).
    pub location: Location,
}

/// One metro network: how many routers and trunks, and who has two paths to the data center.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetroUse {
    /// The network's routers at a data-center site (where the ring joins the data center).
    pub data_center_routers: Vec<String>,
    /// Aggregation routers on it.
    pub aggregation_routers: usize,
    /// Aggregation routers that keep a path to the data center whichever metro circuit fails.
    pub aggregation_with_two_paths: usize,
    /// Metro circuits (trunks).
    pub circuits: usize,
    /// Sites attached to its aggregation routers by an access circuit.
    pub attached_sites: usize,
    /// Attached sites whose router has two paths (the ring protects everything beyond their
    /// access circuit).
    pub attached_with_two_paths: usize,
    /// Attached sites per role.
    pub attached_by_role: BTreeMap<&'static str, usize>,
}

/// An excluded unit and why.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Excluded {
    /// Object name.
    pub name: String,
    /// Human name.
    pub display_name: String,
    /// Why.
    pub reason: String,
}

/// Rack and power use of one data center.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataCenterUse {
    /// Object name.
    pub name: String,
    /// Human name.
    pub display_name: String,
    /// main or backup.
    pub tier: DataCenterTier,
    /// DR peer (none for a single data center).
    pub peer: Option<String>,
    /// Number of racks.
    pub racks: usize,
    /// Rack units in total.
    pub units_total: u32,
    /// Rack units taken by devices and current or future leases.
    pub units_used: u32,
    /// Sum of rack power budgets, kW.
    pub power_budget_kw: f64,
    /// Power drawn or reserved, kW.
    pub power_used_kw: f64,
}

/// One tenant's leases.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantLeases {
    /// Tenant object name.
    pub tenant: String,
    /// Human name.
    pub display_name: String,
    /// Its leases.
    pub leases: Vec<LeaseLine>,
}

/// One lease in a report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaseLine {
    /// Lease object name.
    pub name: String,
    /// Data center.
    pub data_center: String,
    /// Racks and units, e.g. `A03 U1–U20`.
    pub space: Vec<String>,
    /// Reserved power, kW.
    pub power_kw: f64,
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: Option<NaiveDate>,
    /// Temporary lease.
    pub temporary: bool,
    /// Days left on `today` (negative when ended).
    pub days_left: Option<i64>,
}

/// Computes the statistics of `inv` as of `today`.
pub fn compute(inv: &Inventory, today: NaiveDate) -> Stats {
    let ix = Index::new(inv);
    let mut objects = BTreeMap::new();
    for &k in Kind::ALL {
        objects.insert(k.as_str(), inv.count(k));
    }
    let mut regions_by_level = BTreeMap::new();
    for r in &inv.regions {
        *regions_by_level
            .entry(format!("{:?}", r.spec.level).to_lowercase())
            .or_insert(0) += 1;
    }
    let mut sites_by_role = BTreeMap::new();
    for s in &inv.sites {
        *sites_by_role.entry(s.spec.role.as_str()).or_insert(0) += 1;
    }
    let mut devices_by_role = BTreeMap::new();
    for d in &inv.devices {
        *devices_by_role.entry(d.spec.role.as_str()).or_insert(0) += 1;
    }
    let mut circuits_by_medium = BTreeMap::new();
    for c in &inv.circuits {
        *circuits_by_medium
            .entry(c.spec.medium.as_str())
            .or_insert(0) += 1;
    }
    let mut systems_by_security_level = BTreeMap::new();
    for s in &inv.information_systems {
        *systems_by_security_level
            .entry(s.spec.security_level)
            .or_insert(0) += 1;
    }
    Stats {
        objects,
        regions_by_level,
        sites_by_role,
        devices_by_role,
        circuits_by_medium,
        data_center_model: DataCenterModel::declared(inv.data_centers.iter().map(|d| &d.spec.tier)),
        coverage: coverage(inv, &ix),
        metro: metro(inv, &ix),
        data_centers: data_centers(inv, &ix, today),
        tenants: tenants(inv, today),
        systems_by_security_level,
    }
}

fn coverage(inv: &Inventory, ix: &Index<'_>) -> Coverage {
    coverage_of(inv, ix, &circuits_by_site(inv, ix))
}

/// Coverage from circuits already sorted by site (the report shares them with its metrics).
pub(crate) fn coverage_of(
    inv: &Inventory,
    ix: &Index<'_>,
    links: &std::collections::HashMap<&str, SiteCircuits<'_>>,
) -> Coverage {
    let networks = crate::metro::networks(inv);
    let on_the_ring: BTreeSet<&str> = crate::metro::attachments(inv, &networks)
        .into_iter()
        .filter(|a| a.two_paths)
        .map(|a| a.site)
        .collect();
    let mut c = Coverage {
        commune_regions: inv
            .regions
            .iter()
            .filter(|r| r.spec.level == RegionLevel::Commune)
            .count(),
        commune_offices: 0,
        dual_homed: 0,
        over_the_ring: 0,
        incomplete: 0,
        percent: 0.0,
        excluded: Vec::new(),
        incomplete_offices: Vec::new(),
    };
    for s in inv
        .sites
        .iter()
        .filter(|s| s.spec.role == SiteRole::CommuneOffice)
    {
        c.commune_offices += 1;
        if let Some(reason) = ix.site_excluded(&s.spec) {
            c.excluded.push(Excluded {
                name: s.name().to_owned(),
                display_name: s.spec.display_name.clone(),
                reason,
            });
            continue;
        }
        let (primary, backup) = links.get(s.name()).map_or((false, false), |l| {
            (!l.primary.is_empty(), !l.backup.is_empty())
        });
        if primary && backup {
            c.dual_homed += 1;
            continue;
        }
        if primary && on_the_ring.contains(s.name()) {
            c.dual_homed += 1;
            c.over_the_ring += 1;
            continue;
        }
        c.incomplete += 1;
        let missing = [("primary", primary), ("backup", backup)]
            .into_iter()
            .filter(|(_, has)| !has)
            .map(|(role, _)| role)
            .collect();
        c.incomplete_offices.push(IncompleteOffice {
            name: s.name().to_owned(),
            display_name: s.spec.display_name.clone(),
            gso_code: ix
                .regions
                .get(s.spec.region.as_str())
                .map(|r| r.spec.code.clone()),
            missing,
            location: Location {
                file: inv
                    .files
                    .get(s.origin.file as usize)
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                line: s.origin.line,
                column: s.origin.column,
            },
        });
    }
    // A unit excluded with no office at all (an island zone with nothing to connect) is
    // listed too, with its reason, though no site counts it.
    let with_office: BTreeSet<&str> = inv
        .sites
        .iter()
        .filter(|s| s.spec.role == SiteRole::CommuneOffice)
        .map(|s| s.spec.region.as_str())
        .collect();
    for r in &inv.regions {
        if let Some(e) = &r.spec.excluded
            && r.spec.level == RegionLevel::Commune
            && !with_office.contains(r.name())
        {
            c.excluded.push(Excluded {
                name: r.name().to_owned(),
                display_name: r.spec.display_name.clone(),
                reason: e.reason.clone(),
            });
        }
    }
    let counted = c.dual_homed + c.incomplete;
    c.percent = if counted == 0 {
        0.0
    } else {
        100.0 * c.dual_homed as f64 / counted as f64
    };
    c
}

fn metro(inv: &Inventory, ix: &Index<'_>) -> Vec<MetroUse> {
    let networks = crate::metro::networks(inv);
    let attachments = crate::metro::attachments(inv, &networks);
    networks
        .iter()
        .map(|n| {
            // A site attached twice (to two routers) counts once, with two paths if either has.
            let mut sites: BTreeMap<&str, bool> = BTreeMap::new();
            for a in attachments
                .iter()
                .filter(|a| n.aggregation.contains_key(a.router))
            {
                *sites.entry(a.site).or_default() |= a.two_paths;
            }
            let mut attached_by_role = BTreeMap::new();
            for site in sites.keys() {
                if let Some(s) = ix.sites.get(site) {
                    *attached_by_role.entry(s.spec.role.as_str()).or_insert(0) += 1;
                }
            }
            MetroUse {
                data_center_routers: n
                    .data_center_routers
                    .iter()
                    .map(|d| (*d).to_owned())
                    .collect(),
                aggregation_routers: n.aggregation.len(),
                aggregation_with_two_paths: n.aggregation.keys().filter(|r| n.two_paths(r)).count(),
                circuits: n.circuits.len(),
                attached_sites: sites.len(),
                attached_with_two_paths: sites.values().filter(|t| **t).count(),
                attached_by_role,
            }
        })
        .collect()
}

fn data_centers(inv: &Inventory, ix: &Index<'_>, today: NaiveDate) -> Vec<DataCenterUse> {
    let loads = rack_loads(inv, ix, today);
    let mut per_dc = Vec::new();
    for dc in &inv.data_centers {
        // Current and future leases hold their units.
        let used = occupied_units(inv, dc, |l| l.end.is_none_or(|e| e >= today));
        let racks: Vec<_> = dc.spec.racks().map(|(_, r)| r).collect();
        per_dc.push(DataCenterUse {
            name: dc.name().to_owned(),
            display_name: dc.spec.display_name.clone(),
            tier: dc.spec.tier,
            peer: dc.spec.peer.clone(),
            racks: racks.len(),
            units_total: racks.iter().map(|r| r.height_u).sum(),
            units_used: racks
                .iter()
                .map(|r| used.get(r.name.as_str()).map_or(0, |b| b.count_ones()))
                .sum(),
            power_budget_kw: racks.iter().map(|r| r.power_kw).sum(),
            power_used_kw: racks
                .iter()
                .map(|r| {
                    loads
                        .get(&(dc.name(), r.name.as_str()))
                        .copied()
                        .unwrap_or(0.0)
                })
                .sum(),
        });
    }
    per_dc
}

fn tenants(inv: &Inventory, today: NaiveDate) -> Vec<TenantLeases> {
    let mut out: Vec<TenantLeases> = inv
        .tenants
        .iter()
        .map(|t| TenantLeases {
            tenant: t.name().to_owned(),
            display_name: t.spec.display_name.clone(),
            leases: Vec::new(),
        })
        .collect();
    for l in &inv.colo_leases {
        let line = LeaseLine {
            name: l.name().to_owned(),
            data_center: l.spec.data_center.clone(),
            space: l
                .spec
                .space
                .iter()
                .map(|s| match (s.from_u, s.to_u) {
                    (Some(f), Some(t)) => format!("{} U{f}–U{t}", s.rack),
                    _ => format!("{} (whole rack)", s.rack),
                })
                .collect(),
            power_kw: l.spec.power_kw,
            start: l.spec.start,
            end: l.spec.end,
            temporary: l.spec.temporary,
            days_left: l.spec.end.map(|e| (e - today).num_days()),
        };
        match out.iter_mut().find(|t| t.tenant == l.spec.tenant) {
            Some(t) => t.leases.push(line),
            None => out.push(TenantLeases {
                tenant: l.spec.tenant.clone(),
                display_name: String::new(),
                leases: vec![line],
            }),
        }
    }
    out.retain(|t| !t.leases.is_empty());
    out
}
