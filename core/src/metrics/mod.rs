//! The metric catalogue: what a city plan's target can measure, one module per metric. Each
//! metric sorts the objects it is about (in a target's scope) into passing and failing, with
//! the reason each failing one fails, so a report can show the figure and the evidence.
//!
//! Metrics are computed from the inventory alone (and the ledger, for allocated prefixes): one
//! [`Context`] is built per report and shared by every target, so no rule runs twice.

mod commune_gov_network;
mod commune_offices_dual_homed;
mod commune_offices_wan;
mod devices_syslog_soc;
mod sites_ipv6_ready;
mod systems_approved_level;
mod systems_dr_replica;
mod systems_offsite_backup;
mod tenants_connected;
mod tenants_four_layer;
mod units_firewall;

use std::collections::{HashMap, HashSet};

pub(crate) use systems_dr_replica::shortfall as replica_shortfall;

use chrono::NaiveDate;
use serde::Serialize;

use crate::diag::{Location, ObjectRef};
use crate::ipam::Ledger;
use crate::model::{
    InformationSystemSpec, Inventory, Kind, Object, Origin, SiteRole, SiteSpec, TenantKind,
};
use crate::validate::{Index, SiteCircuits, circuits_by_site};

macro_rules! catalogue {
    ($($variant:ident => $name:literal, $module:ident, $scopes:expr, $vi:literal, $en:literal;)*) => {
        /// A metric of the catalogue.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum Metric { $(#[doc = $en] $variant,)* }

        impl Metric {
            /// Every metric, in catalogue order.
            pub const ALL: &'static [Metric] = &[$(Metric::$variant,)*];

            /// The name targets write in `spec.metric`.
            pub fn name(self) -> &'static str {
                match self { $(Metric::$variant => $name,)* }
            }

            /// The metric named `name`.
            pub fn parse(name: &str) -> Option<Metric> {
                match name { $($name => Some(Metric::$variant),)* _ => None }
            }

            /// What the metric counts, in Vietnamese.
            pub fn label_vi(self) -> &'static str {
                match self { $(Metric::$variant => $vi,)* }
            }

            /// What the metric counts, in English.
            pub fn label_en(self) -> &'static str {
                match self { $(Metric::$variant => $en,)* }
            }

            /// The scopes a target of this metric may name.
            pub fn scopes(self) -> &'static [ScopeSort] {
                match self { $(Metric::$variant => $scopes,)* }
            }

            /// Measures the metric over `scope`.
            pub fn measure(self, ctx: &Context<'_>, scope: &Scope) -> Measure {
                let mut m = Measure::default();
                match self { $(Metric::$variant => $module::measure(ctx, scope, &mut m),)* }
                m
            }
        }
    };
}

const SITES: &[ScopeSort] = &[ScopeSort::City, ScopeSort::Region];
const TENANTS: &[ScopeSort] = &[ScopeSort::City, ScopeSort::TenantKind];

catalogue! {
    CommuneOfficesWan => "commune-offices-with-wan", commune_offices_wan, SITES,
        "UBND xã, phường có kết nối WAN", "commune offices with a WAN link";
    CommuneOfficesDualHomed => "commune-offices-dual-homed", commune_offices_dual_homed, SITES,
        "UBND xã, phường có đường truyền chính và dự phòng", "commune offices with a primary and a backup circuit";
    CommuneOfficesGovernmentNetwork => "commune-offices-on-government-network", commune_gov_network, SITES,
        "UBND xã, phường trên mạng truyền số liệu chuyên dùng", "commune offices on the government data network";
    TenantsConnected => "tenants-connected", tenants_connected, TENANTS,
        "Cơ quan, đơn vị kết nối mạng WAN thành phố", "departments and committees connected to the city WAN";
    SystemsApprovedLevel => "systems-with-approved-level", systems_approved_level, TENANTS,
        "Hệ thống thông tin được phê duyệt cấp độ", "information systems with an approved security level";
    SystemsDrReplica => "systems-with-dr-replica", systems_dr_replica, TENANTS,
        "Hệ thống cấp độ 3 trở lên có bản sao dự phòng thảm họa", "level-3+ systems with a DR replica";
    SystemsOffsiteBackup => "systems-with-offsite-backup", systems_offsite_backup, TENANTS,
        "Hệ thống có bản sao lưu ngoài trung tâm dữ liệu", "systems with an off-site backup copy";
    TenantsFourLayer => "tenants-with-four-layer-model", tenants_four_layer, TENANTS,
        "Cơ quan áp dụng đủ mô hình bảo vệ 4 lớp", "agencies with the 4-layer security model complete";
    SitesIpv6Ready => "sites-ipv6-ready", sites_ipv6_ready, SITES,
        "Điểm kết nối sẵn sàng IPv6", "sites ready for IPv6 (an allocated prefix)";
    DevicesSyslogSoc => "devices-syslog-to-soc", devices_syslog_soc, SITES,
        "Thiết bị gửi nhật ký về SOC", "devices that send syslog to a SOC collector";
    UnitsFirewall => "units-with-firewall", units_firewall, SITES,
        "Đơn vị trên mạng chuyên dùng có tường lửa", "units on the dedicated network with a firewall";
}

/// The sorts of scope a target can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScopeSort {
    /// `city`: everything the metric is about.
    City,
    /// `region:NAME`: sites in a region or below it.
    Region,
    /// `tenant-kind:KIND[,KIND…]`: tenants (or systems by their owner) of these kinds.
    TenantKind,
}

impl ScopeSort {
    /// How a target writes it.
    pub fn syntax(self) -> &'static str {
        match self {
            ScopeSort::City => "city",
            ScopeSort::Region => "region:NAME",
            ScopeSort::TenantKind => "tenant-kind:KIND[,KIND…]",
        }
    }
}

/// A target's scope, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Everything.
    City,
    /// Sites in the region (by name) or any region below it.
    Region(String),
    /// Tenants of these kinds (systems: by their owner's kind).
    TenantKinds(Vec<TenantKind>),
}

/// Why a scope cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// Not one of the forms.
    #[error("`{0}` is not a scope")]
    Unknown(String),
    /// A tenant kind that does not exist.
    #[error("`{0}` is not a tenant kind")]
    TenantKind(String),
    /// A form the metric does not take.
    #[error("metric `{metric}` does not take a {sort} scope")]
    NotForMetric {
        /// The metric's name.
        metric: &'static str,
        /// The form given.
        sort: &'static str,
    },
}

impl Scope {
    /// Parses `city`, `region:NAME` or `tenant-kind:KIND[,KIND…]`.
    pub fn parse(s: &str) -> Result<Scope, ScopeError> {
        if s == "city" {
            return Ok(Scope::City);
        }
        if let Some(name) = s.strip_prefix("region:").filter(|n| !n.is_empty()) {
            return Ok(Scope::Region(name.to_owned()));
        }
        if let Some(kinds) = s.strip_prefix("tenant-kind:") {
            return kinds
                .split(',')
                .map(|k| {
                    TenantKind::parse(k.trim()).ok_or_else(|| ScopeError::TenantKind(k.to_owned()))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Scope::TenantKinds);
        }
        Err(ScopeError::Unknown(s.to_owned()))
    }

    /// The sort of scope this is.
    pub fn sort(&self) -> ScopeSort {
        match self {
            Scope::City => ScopeSort::City,
            Scope::Region(_) => ScopeSort::Region,
            Scope::TenantKinds(_) => ScopeSort::TenantKind,
        }
    }

    /// Parses `s` and checks that `metric` takes it.
    pub fn for_metric(metric: Metric, s: &str) -> Result<Scope, ScopeError> {
        let scope = Scope::parse(s)?;
        if metric.scopes().contains(&scope.sort()) {
            Ok(scope)
        } else {
            Err(ScopeError::NotForMetric {
                metric: metric.name(),
                sort: scope.sort().syntax(),
            })
        }
    }
}

/// The catalogue as a hint: every metric with the scopes it takes.
pub fn catalogue_hint() -> String {
    let lines: Vec<String> = Metric::ALL
        .iter()
        .map(|m| {
            let scopes: Vec<&str> = m.scopes().iter().map(|s| s.syntax()).collect();
            format!("{} ({})", m.name(), scopes.join(" | "))
        })
        .collect();
    format!("metrics: {}", lines.join(", "))
}

/// An object that fails a metric, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Failing {
    /// The object.
    pub object: ObjectRef,
    /// Its name with diacritics.
    pub display_name: String,
    /// Where it is defined (the start of its document).
    pub location: Location,
    /// Why it fails.
    pub reason: String,
}

/// A metric's result over a scope.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Measure {
    /// Objects counted that pass.
    pub passed: usize,
    /// Objects counted that fail, with the reason.
    pub failing: Vec<Failing>,
}

impl Measure {
    /// Objects counted.
    pub fn total(&self) -> usize {
        self.passed + self.failing.len()
    }

    /// The share passing, in percent; none when nothing is counted.
    pub fn percent(&self) -> Option<f64> {
        let total = self.total();
        (total > 0).then(|| 100.0 * self.passed as f64 / total as f64)
    }

    /// Counts `object` as passing, or failing for `reason`.
    pub(crate) fn count<S>(
        &mut self,
        ctx: &Context<'_>,
        kind: Kind,
        object: &Object<S>,
        display_name: &str,
        reason: Option<String>,
    ) {
        match reason {
            None => self.passed += 1,
            Some(reason) => self.failing.push(Failing {
                object: ObjectRef::of(kind, object),
                display_name: display_name.to_owned(),
                location: ctx.location(object.origin),
                reason,
            }),
        }
    }
}

/// What every metric needs, computed once per report.
pub struct Context<'a> {
    /// The inventory.
    pub inventory: &'a Inventory,
    /// The day judged.
    pub today: NaiveDate,
    pub(crate) index: Index<'a>,
    pub(crate) circuits: HashMap<&'a str, SiteCircuits<'a>>,
    /// Sites holding an IPv6 site prefix in the ledger (not held for release).
    ipv6_allocated: HashSet<&'a str>,
    /// Region name → its parent, for region scopes.
    parents: HashMap<&'a str, &'a str>,
}

impl<'a> Context<'a> {
    /// The context for judging `inventory` on `today`, with its ledger when there is one.
    pub fn new(inventory: &'a Inventory, ledger: Option<&'a Ledger>, today: NaiveDate) -> Self {
        let index = Index::new(inventory);
        let circuits = circuits_by_site(inventory, &index);
        let ipv6_allocated = ledger
            .map(|l| {
                l.entries
                    .values()
                    .filter(|e| e.pool == "site-v6" && e.held.is_none())
                    .filter_map(|e| e.owner.strip_prefix("Site/"))
                    .collect()
            })
            .unwrap_or_default();
        let parents = inventory
            .regions
            .iter()
            .filter_map(|r| Some((r.name(), r.spec.parent.as_deref()?)))
            .collect();
        Context {
            inventory,
            today,
            index,
            circuits,
            ipv6_allocated,
            parents,
        }
    }

    /// Where an object's document starts.
    pub fn location(&self, origin: Origin) -> Location {
        Location {
            file: self
                .inventory
                .files
                .get(origin.file as usize)
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            line: origin.line,
            column: origin.column,
        }
    }

    /// Whether `region` is `ancestor` or lies below it.
    fn region_within(&self, mut region: &'a str, ancestor: &str) -> bool {
        for _ in 0..8 {
            if region == ancestor {
                return true;
            }
            match self.parents.get(region) {
                Some(p) => region = p,
                None => return false,
            }
        }
        false
    }

    /// Whether a site is in `scope` (site metrics).
    pub(crate) fn site_in_scope(&self, site: &SiteSpec, scope: &Scope) -> bool {
        match scope {
            Scope::Region(r) => self.region_within(&site.region, r),
            Scope::City | Scope::TenantKinds(_) => true,
        }
    }

    /// Whether a tenant of `kind` is in `scope` (tenant and system metrics).
    pub(crate) fn tenant_kind_in_scope(&self, kind: Option<TenantKind>, scope: &Scope) -> bool {
        match scope {
            Scope::TenantKinds(kinds) => kind.is_some_and(|k| kinds.contains(&k)),
            Scope::City | Scope::Region(_) => true,
        }
    }

    /// Commune offices counted by coverage targets: not excluded, in scope.
    pub(crate) fn counted_offices(
        &self,
        scope: &Scope,
    ) -> impl Iterator<Item = &'a Object<SiteSpec>> {
        let inventory = self.inventory;
        inventory.sites.iter().filter(move |s| {
            s.spec.role == SiteRole::CommuneOffice
                && self.index.site_excluded(&s.spec).is_none()
                && self.site_in_scope(&s.spec, scope)
        })
    }

    /// Information systems whose owner is in `scope`.
    pub(crate) fn systems_in_scope(
        &self,
        scope: &Scope,
    ) -> impl Iterator<Item = &'a Object<InformationSystemSpec>> {
        let inventory = self.inventory;
        let scope = scope.clone();
        inventory.information_systems.iter().filter(move |s| {
            let owner = self
                .index
                .tenants
                .get(s.spec.owner.as_str())
                .map(|t| t.spec.kind);
            self.tenant_kind_in_scope(owner, &scope)
        })
    }

    /// The circuits of a site, by role.
    pub(crate) fn circuits_of(&self, site: &str) -> Option<&SiteCircuits<'a>> {
        self.circuits.get(site)
    }
}

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
pub(crate) mod testing_systems;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_fit_their_metrics() {
        assert_eq!(Scope::parse("city"), Ok(Scope::City));
        assert_eq!(
            Scope::parse("tenant-kind:department, district"),
            Ok(Scope::TenantKinds(vec![
                TenantKind::Department,
                TenantKind::District
            ]))
        );
        assert_eq!(
            Scope::parse("tenant-kind:ministry"),
            Err(ScopeError::TenantKind("ministry".into()))
        );
        assert_eq!(
            Scope::parse("everything"),
            Err(ScopeError::Unknown("everything".into()))
        );
        assert!(matches!(
            Scope::for_metric(Metric::CommuneOfficesWan, "tenant-kind:department"),
            Err(ScopeError::NotForMetric { .. })
        ));
        assert!(Scope::for_metric(Metric::TenantsConnected, "tenant-kind:department").is_ok());
    }

    #[test]
    fn every_metric_is_named_once_and_in_the_hint() {
        let hint = catalogue_hint();
        for m in Metric::ALL {
            assert_eq!(Metric::parse(m.name()), Some(*m));
            assert!(hint.contains(m.name()), "{hint}");
        }
    }
}
