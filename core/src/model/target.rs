//! PlanTarget: a target a city plan sets, in the plan's own words, with the metric that checks it.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The plan document a target comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlanDocument {
    /// Number and issuer, e.g. `QĐ 4098/QĐ-UBND` or `KH 132/KH-UBND`.
    pub number: String,
    /// Day the document was signed.
    pub date: NaiveDate,
    /// Its title, with diacritics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// A target of a city plan: what share of a metric's objects must pass it, by when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlanTargetSpec {
    /// The target as the plan states it, with diacritics.
    pub display_name: String,
    /// The plan document.
    pub document: PlanDocument,
    /// The clause of the document (section, item), e.g. `mục II.1.a`.
    pub clause: String,
    /// What is measured: a metric of the catalogue (`hatang report` lists them; unknown names
    /// are refused with the catalogue as the hint), e.g. `commune-offices-dual-homed`.
    pub metric: String,
    /// Which objects count: `city` (all), `tenant-kind:KIND[,KIND…]` (tenant metrics: by the
    /// tenant's kind; system metrics: by the owner's kind) or `region:NAME` (site metrics: sites
    /// in that region or below it).
    #[serde(default = "city")]
    pub scope: String,
    /// The share the plan asks for, in percent (0–100).
    #[schemars(range(min = 0, max = 100))]
    pub target_percent: f64,
    /// The day the target must be met.
    pub deadline: NaiveDate,
    /// Anything the plan says beside the figure (a contradiction, a phase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn city() -> String {
    "city".to_owned()
}
