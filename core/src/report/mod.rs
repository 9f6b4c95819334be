//! The auditor's report: every plan target with its value, status and failing objects, the DR
//! table, leases ending soon, pool use, capacity, findings and (when given) drift. Building it
//! is pure: [`build`] takes an inventory already loaded and validated, computes every metric
//! from one shared [`Context`] and returns a [`Report`] value; the renderers (`markdown`,
//! `csv`, `html`; JSON is the value's serde form) only format it.

pub mod csv;
pub mod drift;
pub mod history;
pub mod html;
mod labels;
pub mod markdown;
mod svg;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::capacity;
use crate::diag::{Diagnostic, FindingKind, Location, Severity};
use crate::ipam::Ledger;
use crate::ipam::report::Utilization;
use crate::metrics::{Context, Failing, Metric, Scope};
use crate::model::{DataCenterModel, Inventory};
use crate::stats;

pub use drift::{DriftSummary, parse_audit};
pub use history::{HistoryPoint, TargetHistory};

/// What the report says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    /// The inventory path(s) as given.
    pub inventory: String,
    /// The Git commit the inventory is at, when it is in a repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The day everything is judged on.
    pub judged_on: NaiveDate,
    /// The hatang version that wrote the report.
    pub tool_version: String,
}

/// What [`build`] needs besides the inventory.
pub struct Inputs<'a> {
    /// The header.
    pub header: Header,
    /// Loader and validation diagnostics (no errors: a malformed inventory gets no report).
    pub diagnostics: &'a [Diagnostic],
    /// The ledger, for allocated IPv6 prefixes.
    pub ledger: Option<&'a Ledger>,
    /// Pool use, when the caller planned allocations.
    pub pools: Vec<Utilization>,
    /// Leases ending within this many days are listed.
    pub lease_window_days: i64,
    /// The drift audit, when one is given.
    pub drift: Option<DriftSummary>,
    /// Earlier runs' reports, for the change since the last run and the trend.
    pub history: Vec<HistoryPoint>,
}

/// Where a target stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The value reaches the target.
    Met,
    /// Below the target, the deadline still ahead.
    NotMet,
    /// Below the target after the deadline.
    Overdue,
    /// Nothing in scope to count.
    NoData,
}

impl Status {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Met => "met",
            Status::NotMet => "not-met",
            Status::Overdue => "overdue",
            Status::NoData => "no-data",
        }
    }

    /// Vietnamese label with the English beside it.
    pub fn label(self) -> &'static str {
        match self {
            Status::Met => "Đạt (met)",
            Status::NotMet => "Chưa đạt (not met)",
            Status::Overdue => "Quá hạn (overdue)",
            Status::NoData => "Không có số liệu (no data)",
        }
    }

    /// The status of `value` against `target` on `today` with `deadline`.
    pub fn judge(value: Option<f64>, target: f64, deadline: NaiveDate, today: NaiveDate) -> Status {
        match value {
            None => Status::NoData,
            // A tolerance for the float arithmetic of shares: 80 % of 10 offices is met at 8.
            Some(v) if v + 1e-9 >= target => Status::Met,
            Some(_) if today > deadline => Status::Overdue,
            Some(_) => Status::NotMet,
        }
    }
}

/// One plan target, measured.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetRow {
    /// The PlanTarget's name.
    pub name: String,
    /// The target as the plan states it.
    pub display_name: String,
    /// Document number.
    pub document: String,
    /// Document date.
    pub document_date: NaiveDate,
    /// Clause.
    pub clause: String,
    /// Metric.
    pub metric: Metric,
    /// What the metric counts (Vietnamese).
    pub metric_vi: &'static str,
    /// What the metric counts (English).
    pub metric_en: &'static str,
    /// Scope as written.
    pub scope: String,
    /// Target, percent.
    pub target_percent: f64,
    /// Deadline.
    pub deadline: NaiveDate,
    /// Value now, percent (none when nothing is counted).
    pub value_percent: Option<f64>,
    /// Objects passing.
    pub passed: usize,
    /// Objects counted.
    pub total: usize,
    /// Met, not met, overdue or no data.
    pub status: Status,
    /// Objects failing, with reasons and places.
    pub failing: Vec<Failing>,
    /// Where the target is defined.
    pub location: Location,
    /// Change of the value since the previous run in the history, percentage points.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<f64>,
    /// Earlier values (from the history) and this one, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trend: Vec<(NaiveDate, f64)>,
    /// The plan's note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One information system in the DR table.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrRow {
    /// System name.
    pub name: String,
    /// Human name.
    pub display_name: String,
    /// Owner tenant.
    pub owner: String,
    /// Security level.
    pub level: u8,
    /// Hosting data center.
    pub data_center: String,
    /// Replica data center (and rack, in a single data center).
    pub replica: Option<String>,
    /// RPO, minutes.
    pub rpo_minutes: Option<u32>,
    /// RTO, minutes.
    pub rto_minutes: Option<u32>,
    /// Last failover drill.
    pub last_drill: Option<NaiveDate>,
    /// Whether the level was approved, and when.
    pub approved_on: Option<NaiveDate>,
    /// Whether an off-site backup copy exists.
    pub off_site_backup: bool,
    /// Why the replica does not protect it (level 3+), if it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shortfall: Option<String>,
}

/// A lease ending within the window.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaseRow {
    /// Lease name.
    pub name: String,
    /// Tenant.
    pub tenant: String,
    /// Data center.
    pub data_center: String,
    /// Last day.
    pub end: NaiveDate,
    /// Days left (negative: ended).
    pub days_left: i64,
    /// Temporary lease.
    pub temporary: bool,
    /// Power reserved, kW.
    pub power_kw: f64,
}

/// One data center's space and power in the report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CapacityRow {
    /// Data center.
    pub name: String,
    /// Human name.
    pub display_name: String,
    /// main, backup or single.
    pub tier: &'static str,
    /// Rack units in total.
    pub units_total: u32,
    /// Rack units free today.
    pub units_free: u32,
    /// Power budget, kW.
    pub power_budget_kw: f64,
    /// Power used or reserved, kW.
    pub power_used_kw: f64,
    /// The feed with the least headroom under 2N, and its headroom, kW.
    pub tightest_feed: Option<(String, f64)>,
}

/// Findings by kind, and each one.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Findings {
    /// How many of each kind.
    pub by_kind: BTreeMap<FindingKind, usize>,
    /// Warnings (not findings) counted apart.
    pub warnings: usize,
    /// Every finding.
    pub items: Vec<Diagnostic>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// What, when, by which tool.
    pub header: Header,
    /// The city's data-center model.
    pub data_center_model: DataCenterModel,
    /// Plan targets.
    pub targets: Vec<TargetRow>,
    /// Commune coverage as `hatang stats` gives it.
    pub coverage: stats::Coverage,
    /// DR table.
    pub dr: Vec<DrRow>,
    /// Leases ending within the window (or ended).
    pub leases: Vec<LeaseRow>,
    /// The window, days.
    pub lease_window_days: i64,
    /// Pool use.
    pub pools: Vec<Utilization>,
    /// Space and power per data center.
    pub capacity: Vec<CapacityRow>,
    /// Findings.
    pub findings: Findings,
    /// Drift audit summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<DriftSummary>,
}

/// Builds the report of `inventory` (loaded and valid).
pub fn build(inventory: &Inventory, inputs: Inputs<'_>) -> Report {
    let today = inputs.header.judged_on;
    let ctx = Context::new(inventory, inputs.ledger, today);
    let targets = targets(&ctx, &inputs.history);
    let coverage = stats::coverage_of(inventory, &ctx.index, &ctx.circuits);
    Report {
        data_center_model: DataCenterModel::declared(
            inventory.data_centers.iter().map(|d| &d.spec.tier),
        ),
        targets,
        coverage,
        dr: dr_table(&ctx),
        leases: leases(inventory, today, inputs.lease_window_days),
        lease_window_days: inputs.lease_window_days,
        pools: inputs.pools,
        capacity: capacity_rows(inventory, today),
        findings: findings(inputs.diagnostics),
        drift: inputs.drift,
        header: inputs.header,
    }
}

fn targets(ctx: &Context<'_>, history: &[HistoryPoint]) -> Vec<TargetRow> {
    let today = ctx.today;
    let mut rows = Vec::with_capacity(ctx.inventory.plan_targets.len());
    for t in &ctx.inventory.plan_targets {
        // Validation refused unknown metrics and scopes; a report is only built when valid.
        let Some(metric) = Metric::parse(&t.spec.metric) else {
            continue;
        };
        let Ok(scope) = Scope::for_metric(metric, &t.spec.scope) else {
            continue;
        };
        let m = metric.measure(ctx, &scope);
        let value = m.percent();
        let past = history::past_values(history, t.name(), today);
        let change = match (value, past.last()) {
            (Some(v), Some((_, before))) => Some(v - before),
            _ => None,
        };
        let mut trend = past;
        if let Some(v) = value
            && !trend.is_empty()
        {
            trend.push((today, v));
        }
        rows.push(TargetRow {
            name: t.name().to_owned(),
            display_name: t.spec.display_name.clone(),
            document: t.spec.document.number.clone(),
            document_date: t.spec.document.date,
            clause: t.spec.clause.clone(),
            metric,
            metric_vi: metric.label_vi(),
            metric_en: metric.label_en(),
            scope: t.spec.scope.clone(),
            target_percent: t.spec.target_percent,
            deadline: t.spec.deadline,
            value_percent: value,
            passed: m.passed,
            total: m.total(),
            status: Status::judge(value, t.spec.target_percent, t.spec.deadline, today),
            failing: m.failing,
            location: ctx.location(t.origin),
            change,
            trend,
            note: t.spec.note.clone(),
        });
    }
    rows
}

fn dr_table(ctx: &Context<'_>) -> Vec<DrRow> {
    let model = DataCenterModel::declared(ctx.inventory.data_centers.iter().map(|d| &d.spec.tier));
    let mut rows: Vec<DrRow> = ctx
        .inventory
        .information_systems
        .iter()
        .map(|s| {
            let dr = s.spec.dr.as_ref();
            DrRow {
                name: s.name().to_owned(),
                display_name: s.spec.display_name.clone(),
                owner: s.spec.owner.clone(),
                level: s.spec.security_level,
                data_center: match &s.spec.rack {
                    Some(r) => format!("{} / {r}", s.spec.data_center),
                    None => s.spec.data_center.clone(),
                },
                replica: dr.map(|d| match &d.replica_rack {
                    Some(r) => format!("{} / {r}", d.replica_data_center),
                    None => d.replica_data_center.clone(),
                }),
                rpo_minutes: dr.map(|d| d.rpo_minutes),
                rto_minutes: dr.map(|d| d.rto_minutes),
                last_drill: dr.and_then(|d| d.last_drill),
                approved_on: s.spec.approval.as_ref().map(|a| a.date),
                off_site_backup: s.spec.backup.as_ref().is_some_and(|b| b.off_site),
                shortfall: (s.spec.security_level >= 3)
                    .then(|| crate::metrics::replica_shortfall(ctx, model, &s.spec))
                    .flatten(),
            }
        })
        .collect();
    rows.sort_by(|a, b| b.level.cmp(&a.level).then_with(|| a.name.cmp(&b.name)));
    rows
}

fn leases(inv: &Inventory, today: NaiveDate, window: i64) -> Vec<LeaseRow> {
    let mut rows: Vec<LeaseRow> = inv
        .colo_leases
        .iter()
        .filter_map(|l| {
            let end = l.spec.end?;
            let days_left = (end - today).num_days();
            (days_left <= window).then(|| LeaseRow {
                name: l.name().to_owned(),
                tenant: l.spec.tenant.clone(),
                data_center: l.spec.data_center.clone(),
                end,
                days_left,
                temporary: l.spec.temporary,
                power_kw: l.spec.power_kw,
            })
        })
        .collect();
    rows.sort_by(|a, b| a.end.cmp(&b.end).then_with(|| a.name.cmp(&b.name)));
    rows
}

fn capacity_rows(inv: &Inventory, today: NaiveDate) -> Vec<CapacityRow> {
    capacity::compute(inv, today, Some(today))
        .data_centers
        .into_iter()
        .map(|d| CapacityRow {
            tightest_feed: d
                .feeds
                .iter()
                .min_by(|a, b| a.headroom_kw.total_cmp(&b.headroom_kw))
                .map(|f| (f.name.clone(), f.headroom_kw)),
            name: d.name,
            display_name: d.display_name,
            tier: d.tier.as_str(),
            units_total: d.units_total,
            units_free: d.units_free,
            power_budget_kw: d.power_budget_kw,
            power_used_kw: d.power_used_kw,
        })
        .collect()
}

fn findings(diagnostics: &[Diagnostic]) -> Findings {
    let mut by_kind = BTreeMap::new();
    let mut items = Vec::new();
    let mut warnings = 0;
    for d in diagnostics {
        match d.severity {
            Severity::Finding => {
                if let Some(k) = d.finding_kind() {
                    *by_kind.entry(k).or_insert(0) += 1;
                }
                items.push(d.clone());
            }
            Severity::Warning => warnings += 1,
            Severity::Error => {}
        }
    }
    Findings {
        by_kind,
        warnings,
        items,
    }
}

/// A percentage as the report prints it: one decimal, or `—` when there is none.
pub fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{v:.1} %"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_target_is_met_not_met_or_overdue() {
        let today = day("2025-06-01");
        assert_eq!(
            Status::judge(Some(80.0), 80.0, day("2020-01-01"), today),
            Status::Met
        );
        assert_eq!(
            Status::judge(Some(79.9), 80.0, day("2026-01-01"), today),
            Status::NotMet
        );
        assert_eq!(
            Status::judge(Some(79.9), 80.0, day("2025-05-31"), today),
            Status::Overdue
        );
        assert_eq!(
            Status::judge(Some(79.9), 80.0, today, today),
            Status::NotMet
        );
        assert_eq!(Status::judge(None, 80.0, today, today), Status::NoData);
        // 4 of 5 is 80 % even when the division is not exact.
        assert_eq!(
            Status::judge(Some(100.0 * 4.0 / 5.0), 80.0, today, today),
            Status::Met
        );
    }
}
