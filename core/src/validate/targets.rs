//! Plan targets: the metric is in the catalogue, the scope is one the metric takes and names
//! something that exists, the value is a percentage.

use super::{Index, Report, at, obj};
use crate::diag::Diagnostic;
use crate::metrics::{Metric, Scope, ScopeError, catalogue_hint};
use crate::model::{Inventory, Kind};

pub(super) fn check(inv: &Inventory, ix: &Index<'_>, report: &mut Report<'_>) {
    for t in &inv.plan_targets {
        let o = obj(Kind::PlanTarget, t);
        let Some(metric) = Metric::parse(&t.spec.metric) else {
            report.push(
                t.origin,
                at!["spec", "metric"],
                o,
                Diagnostic::error(
                    "unknown-metric",
                    format!("`{}` is not a metric of the catalogue", t.spec.metric),
                )
                .hint(catalogue_hint()),
            );
            continue;
        };
        match Scope::for_metric(metric, &t.spec.scope) {
            Err(e) => {
                let scopes: Vec<&str> = metric.scopes().iter().map(|s| s.syntax()).collect();
                let hint = match e {
                    ScopeError::TenantKind(_) => {
                        "tenant kinds: department, agency, district, commune-committee, external"
                            .to_owned()
                    }
                    _ => format!("`{}` takes: {}", metric.name(), scopes.join(", ")),
                };
                report.push(
                    t.origin,
                    at!["spec", "scope"],
                    o.clone(),
                    Diagnostic::error("unknown-scope", e.to_string()).hint(hint),
                );
            }
            Ok(Scope::Region(name)) if !ix.regions.contains_key(name.as_str()) => report.push(
                t.origin,
                at!["spec", "scope"],
                o.clone(),
                Diagnostic::error(
                    "unknown-scope",
                    format!("scope names region `{name}`, which does not exist"),
                ),
            ),
            Ok(_) => {}
        }
        let v = t.spec.target_percent;
        if !(0.0..=100.0).contains(&v) {
            report.push(
                t.origin,
                at!["spec", "targetPercent"],
                o,
                Diagnostic::error(
                    "bad-target",
                    format!("target {v} % is not a percentage (0–100)"),
                ),
            );
        }
    }
}
