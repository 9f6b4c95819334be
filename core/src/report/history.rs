//! History: each run's targets by date (`--history DIR` keeps one JSON file per day), read
//! back for the change since the previous run and a trend. The files are written and read by
//! the CLI; here only their form and the arithmetic.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::Report;

/// One target's value in one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetHistory {
    /// PlanTarget name.
    pub name: String,
    /// Value, percent.
    pub value_percent: Option<f64>,
}

/// One run, as kept in the history directory (`<date>.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPoint {
    /// The day judged.
    pub judged_on: NaiveDate,
    /// The inventory's commit then, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Every target's value.
    pub targets: Vec<TargetHistory>,
}

impl HistoryPoint {
    /// The point a report adds to the history.
    pub fn of(report: &Report) -> HistoryPoint {
        HistoryPoint {
            judged_on: report.header.judged_on,
            commit: report.header.commit.clone(),
            targets: report
                .targets
                .iter()
                .map(|t| TargetHistory {
                    name: t.name.clone(),
                    value_percent: t.value_percent,
                })
                .collect(),
        }
    }

    /// The file name the point is kept under.
    pub fn file_name(&self) -> String {
        format!("{}.json", self.judged_on)
    }
}

/// The values of target `name` in runs before `today`, oldest first.
pub(crate) fn past_values(
    history: &[HistoryPoint],
    name: &str,
    today: NaiveDate,
) -> Vec<(NaiveDate, f64)> {
    let mut out: Vec<(NaiveDate, f64)> = history
        .iter()
        .filter(|p| p.judged_on < today)
        .filter_map(|p| {
            let v = p.targets.iter().find(|t| t.name == name)?.value_percent?;
            Some((p.judged_on, v))
        })
        .collect();
    out.sort_by_key(|(d, _)| *d);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(day: &str, v: Option<f64>) -> HistoryPoint {
        HistoryPoint {
            judged_on: day.parse().unwrap(),
            commit: None,
            targets: vec![TargetHistory {
                name: "t".into(),
                value_percent: v,
            }],
        }
    }

    #[test]
    fn past_values_are_earlier_runs_in_date_order() {
        let h = vec![
            point("2025-03-01", Some(50.0)),
            point("2025-01-01", Some(40.0)),
            point("2025-02-01", None),
            point("2025-06-01", Some(99.0)),
        ];
        let today = "2025-06-01".parse().unwrap();
        let v = past_values(&h, "t", today);
        assert_eq!(
            v,
            vec![
                ("2025-01-01".parse().unwrap(), 40.0),
                ("2025-03-01".parse().unwrap(), 50.0)
            ]
        );
        assert!(past_values(&h, "other", today).is_empty());
    }
}
