//! What `whatif` tells: per commune office after the named failures (`WhatIf`), and the single
//! points of failure (`Spof`). Names, not indices; camelCase JSON.

use serde::Serialize;

use super::failure::{Element, ElementName};
use super::graph::Network;
use super::reach::{Office, Reach};
use super::spof::OfficeFindings;
use crate::model::DataCenterTier;

/// One service of the address plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceInfo {
    /// Its key in the address plan.
    pub name: String,
    /// Its prefix.
    pub prefix: String,
}

/// How one office reaches one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceReach {
    /// The service.
    pub service: String,
    /// Whether it is reached (route there and back).
    pub reached: bool,
    /// The data center it is reached through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_center: Option<String>,
    /// That data center's tier (`main`, `backup`, `single`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<&'static str>,
}

/// One office after the failures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OfficeReach {
    /// Site name.
    pub site: String,
    /// Human name.
    pub display_name: String,
    /// Each service, in address-plan order.
    pub services: Vec<ServiceReach>,
    /// Services it no longer reaches.
    pub lost: Vec<String>,
    /// Services it reaches only through a backup-tier data center.
    pub via_backup: Vec<String>,
    /// Whether anything differs from the intact network.
    pub changed: bool,
}

/// Counts over all offices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WhatIfSummary {
    /// Commune offices analysed.
    pub offices: usize,
    /// Offices that lose every service.
    pub cut_off: usize,
    /// Offices that lose some but not all services.
    pub lose_some: usize,
    /// Offices that reach some service only through a backup data center.
    pub via_backup: usize,
    /// Offices whose reach differs from the intact network.
    pub changed: usize,
}

/// The answer to `--fail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WhatIf {
    /// What was failed.
    pub failed: Vec<ElementName>,
    /// The services.
    pub services: Vec<ServiceInfo>,
    /// Every commune office, by site name.
    pub offices: Vec<OfficeReach>,
    /// Counts.
    pub summary: WhatIfSummary,
}

/// One office that loses services when one element fails.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OfficeLoss {
    /// Site name.
    pub site: String,
    /// Human name.
    pub display_name: String,
    /// The services lost.
    pub lost: Vec<String>,
}

/// One element whose failure alone cuts offices off.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SinglePoint {
    /// The element.
    pub element: ElementName,
    /// The offices it cuts off, by site name.
    pub offices: Vec<OfficeLoss>,
}

/// An office that reaches services through one data center only.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SingleDataCenter {
    /// Site name.
    pub site: String,
    /// Human name.
    pub display_name: String,
    /// The data center whose failure loses it services.
    pub data_center: String,
    /// Those services.
    pub lost: Vec<String>,
}

/// How much was analysed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Analysed {
    /// Commune offices.
    pub offices: usize,
    /// Elements in the estate: routing devices, circuits, sites, data centers.
    pub elements: usize,
    /// (office, element) failures solved; every other pair cannot change that office's routes.
    pub failures: usize,
}

/// The answer to `--spof`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Spof {
    /// Elements whose failure alone cuts some office off a service, by kind and name.
    pub points: Vec<SinglePoint>,
    /// Offices that reach services through one data center only (its failure loses them).
    pub single_data_center: Vec<SingleDataCenter>,
    /// Offices that do not reach some service even with nothing failed.
    pub already_lost: Vec<OfficeLoss>,
    /// How much was analysed.
    pub analysed: Analysed,
}

fn tier(t: DataCenterTier) -> &'static str {
    match t {
        DataCenterTier::Main => "main",
        DataCenterTier::Backup => "backup",
        DataCenterTier::Single => "single",
    }
}

/// The services of `net`.
pub fn services(net: &Network) -> Vec<ServiceInfo> {
    net.services
        .iter()
        .map(|s| ServiceInfo {
            name: s.name.clone(),
            prefix: s.prefix.to_string(),
        })
        .collect()
}

/// One office's reach, compared with the intact network.
pub fn office_reach(
    net: &Network,
    office: &Office,
    now: &[Reach],
    intact: &[Reach],
) -> OfficeReach {
    let site = &net.sites[office.site as usize];
    let services: Vec<ServiceReach> = net
        .services
        .iter()
        .zip(now)
        .map(|(s, r)| {
            let dc = match r {
                Reach::Via(Some(d)) => Some(&net.data_centers[*d as usize]),
                _ => None,
            };
            ServiceReach {
                service: s.name.clone(),
                reached: *r != Reach::Lost,
                data_center: dc.map(|d| d.name.clone()),
                tier: dc.map(|d| tier(d.tier)),
            }
        })
        .collect();
    OfficeReach {
        site: site.name.clone(),
        display_name: site.display_name.clone(),
        lost: services
            .iter()
            .filter(|s| !s.reached)
            .map(|s| s.service.clone())
            .collect(),
        via_backup: services
            .iter()
            .filter(|s| s.tier == Some("backup"))
            .map(|s| s.service.clone())
            .collect(),
        services,
        changed: now != intact,
    }
}

/// Counts over `offices`.
pub fn summary(offices: &[OfficeReach]) -> WhatIfSummary {
    let mut s = WhatIfSummary {
        offices: offices.len(),
        ..WhatIfSummary::default()
    };
    for o in offices {
        let n = o.services.len();
        if n > 0 && o.lost.len() == n {
            s.cut_off += 1;
        } else if !o.lost.is_empty() {
            s.lose_some += 1;
        }
        s.via_backup += usize::from(!o.via_backup.is_empty());
        s.changed += usize::from(o.changed);
    }
    s
}

/// Gathers the per-office findings of the search into the report.
pub fn spof(net: &Network, findings: &[(Office, OfficeFindings)]) -> Spof {
    let names = |idx: &[usize]| -> Vec<String> {
        idx.iter().map(|&i| net.services[i].name.clone()).collect()
    };
    let mut by_element: std::collections::BTreeMap<Element, Vec<OfficeLoss>> = Default::default();
    let mut single = Vec::new();
    let mut already = Vec::new();
    let mut failures = 0;
    for (office, f) in findings {
        let site = &net.sites[office.site as usize];
        let loss = |lost: &[usize]| OfficeLoss {
            site: site.name.clone(),
            display_name: site.display_name.clone(),
            lost: names(lost),
        };
        failures += f.failures;
        if !f.lost_already.is_empty() {
            already.push(loss(&f.lost_already));
        }
        for (e, lost) in &f.cut_by {
            by_element.entry(*e).or_default().push(loss(lost));
            if let Element::DataCenter(d) = e {
                single.push(SingleDataCenter {
                    site: site.name.clone(),
                    display_name: site.display_name.clone(),
                    data_center: net.data_centers[*d as usize].name.clone(),
                    lost: names(lost),
                });
            }
        }
    }
    let mut points: Vec<SinglePoint> = by_element
        .into_iter()
        .map(|(e, mut offices)| {
            offices.sort();
            SinglePoint {
                element: e.name(net),
                offices,
            }
        })
        .collect();
    points.sort();
    single.sort();
    already.sort();
    Spof {
        points,
        single_data_center: single,
        already_lost: already,
        analysed: Analysed {
            offices: findings.len(),
            elements: Element::all(net).len(),
            failures,
        },
    }
}
