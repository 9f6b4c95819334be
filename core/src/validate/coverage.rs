//! Coverage: every commune office that is not excluded has a primary and a backup circuit, or
//! a primary circuit to an aggregation router with two paths round the metro ring (a finding
//! when not: the estate falls short, the inventory is still sound).

use std::collections::{HashMap, HashSet};

use super::{Index, Report, at, obj};
use crate::diag::{Diagnostic, FindingKind, Subject};
use crate::metro::MetroNetwork;
use crate::model::{CircuitRole, DataCenterTier, Inventory, Kind, Medium, RegionLevel, SiteRole};

/// Circuits touching one site, by role.
#[derive(Debug, Default, Clone)]
pub(crate) struct SiteCircuits<'a> {
    pub primary: Vec<(Medium, Option<&'a str>)>,
    pub backup: Vec<(Medium, Option<&'a str>)>,
}

/// For each site with a device at either end of a circuit, that circuit's role, medium and provider.
pub(crate) fn circuits_by_site<'a>(
    inv: &'a Inventory,
    ix: &Index<'a>,
) -> HashMap<&'a str, SiteCircuits<'a>> {
    let mut out: HashMap<&str, SiteCircuits<'_>> = HashMap::new();
    for c in &inv.circuits {
        let mut sites = HashSet::new();
        for end in [&c.spec.a, &c.spec.z] {
            if let Some(dev) = ix.devices.get(end.device.as_str()) {
                sites.insert(dev.spec.site.as_str());
            }
        }
        for site in sites {
            let entry = out.entry(site).or_default();
            let item = (c.spec.medium, c.spec.provider.as_deref());
            match c.spec.role {
                CircuitRole::Primary => entry.primary.push(item),
                CircuitRole::Backup => entry.backup.push(item),
                // A trunk of the metro network is no access circuit of a site: the paths it
                // gives are judged by `metro.rs`.
                CircuitRole::Metro => {}
            }
        }
    }
    out
}

/// Primary circuits lead towards the main data center, backup circuits towards the backup one;
/// a circuit between the two data centers (DCI) is exempt.
fn direction(inv: &Inventory, ix: &Index<'_>, report: &mut Report<'_>) {
    let tiers: HashMap<&str, DataCenterTier> = inv
        .data_centers
        .iter()
        .map(|d| (d.spec.site.as_str(), d.spec.tier))
        .collect();
    let tier_of = |device: &str| {
        ix.devices
            .get(device)
            .and_then(|d| tiers.get(d.spec.site.as_str()).copied())
    };
    for c in &inv.circuits {
        let (ta, tz) = (tier_of(&c.spec.a.device), tier_of(&c.spec.z.device));
        let (end, dc_device, tier) = match (ta, tz) {
            (Some(_), Some(_)) | (None, None) => continue,
            (Some(t), None) => ("a", &c.spec.a.device, t),
            (None, Some(t)) => ("z", &c.spec.z.device, t),
        };
        let wrong = match (c.spec.role, tier) {
            (CircuitRole::Primary, DataCenterTier::Backup) => Some(("primary", "backup", "main")),
            (CircuitRole::Backup, DataCenterTier::Main) => Some(("backup", "main", "backup")),
            _ => None,
        };
        if let Some((role, lands, should)) = wrong {
            report.push(
                c.origin,
                at!["spec", "role"],
                obj(Kind::Circuit, c),
                Diagnostic::error(
                    "circuit-direction",
                    format!("{role} circuit lands in the {lands} data center"),
                )
                .hint(format!("{role} circuits lead towards the {should} data center; swap the roles or the ends"))
                .subject(Subject::object(Kind::Device, dc_device)),
            );
            report.also("the data-center end", c.origin, at!["spec", end, "device"]);
        }
    }
}

pub(super) fn check(
    inv: &Inventory,
    ix: &Index<'_>,
    networks: &[MetroNetwork<'_>],
    report: &mut Report<'_>,
) {
    direction(inv, ix, report);
    let links = circuits_by_site(inv, ix);
    // The ring is the second path of a site attached to a router that has two ways round.
    let on_the_ring: HashSet<&str> = crate::metro::attachments(inv, networks)
        .into_iter()
        .filter(|a| a.two_paths)
        .map(|a| a.site)
        .collect();
    let empty = SiteCircuits::default();
    let mut offices_by_region: HashSet<&str> = HashSet::new();
    for s in &inv.sites {
        if s.spec.role != SiteRole::CommuneOffice {
            continue;
        }
        offices_by_region.insert(s.spec.region.as_str());
        if ix.site_excluded(&s.spec).is_some() {
            continue;
        }
        let l = links.get(s.name()).unwrap_or(&empty);
        let code = ix
            .regions
            .get(s.spec.region.as_str())
            .map(|r| format!("GSO {}", r.spec.code))
            .unwrap_or_else(|| "unknown code".to_owned());
        // The ring is the second path of an office on a router with two ways round.
        let backup_missing = l.backup.is_empty() && !on_the_ring.contains(s.name());
        let kind = match (l.primary.is_empty(), backup_missing) {
            (false, false) => None,
            (true, true) => Some(FindingKind::NoWanLink),
            (true, false) => Some(FindingKind::MissingPrimaryCircuit),
            (false, true) => Some(FindingKind::MissingBackupCircuit),
        };
        if let Some(kind) = kind {
            let missing = match kind {
                FindingKind::NoWanLink => "no primary and no backup circuit",
                FindingKind::MissingPrimaryCircuit => "no primary circuit",
                _ => "no backup circuit",
            };
            // A shortfall of the estate, not a malformed inventory: figures stay available.
            report.push(
                s.origin,
                at!["metadata", "name"],
                obj(Kind::Site, s),
                Diagnostic::finding(
                    kind,
                    format!(
                        "commune office `{}` ({}, {code}) has {missing}",
                        s.spec.display_name, s.spec.region,
                    ),
                )
                .hint("add the missing Circuit, or set spec.excluded with a reason on the site or its region")
                .subject(Subject::object(Kind::Region, &s.spec.region)),
            );
            continue;
        }
        let shared = l.primary.iter().any(|p| l.backup.contains(p));
        if shared {
            report.push(
                s.origin,
                at!["metadata", "name"],
                obj(Kind::Site, s),
                Diagnostic::warning(
                    "no-path-diversity",
                    format!(
                        "primary and backup circuits of `{}` use the same medium and provider",
                        s.spec.display_name
                    ),
                )
                .hint("a backup over the same provider and medium fails with the primary"),
            );
        }
    }
    for r in &inv.regions {
        if r.spec.level == RegionLevel::Commune
            && r.spec.excluded.is_none()
            && !offices_by_region.contains(r.name())
            && !inv.sites.is_empty()
        {
            report.push(
                r.origin,
                at!["metadata", "name"],
                obj(Kind::Region, r),
                Diagnostic::warning(
                    "coverage-gap",
                    format!(
                        "{} `{}` (GSO {}) has no commune-office site",
                        r.spec.region_type.as_str(),
                        r.spec.display_name,
                        r.spec.code
                    ),
                )
                .hint("add its UBND office Site, or set spec.excluded with a reason"),
            );
        }
    }
}
