//! The report as CSV: one table of targets, one row per target followed by one row per object
//! that fails it (RFC 4180 quoting), for spreadsheets.

use std::fmt::Write;

use super::Report;

/// The header line's columns.
pub const COLUMNS: [&str; 14] = [
    "target",
    "document",
    "clause",
    "metric",
    "scope",
    "valuePercent",
    "passed",
    "total",
    "targetPercent",
    "deadline",
    "status",
    "failingObject",
    "reason",
    "location",
];

/// Quotes a field when it needs it.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn line(out: &mut String, fields: &[String]) {
    let fields: Vec<String> = fields.iter().map(|f| field(f)).collect();
    let _ = write!(out, "{}\r\n", fields.join(","));
}

/// The report's targets as CSV.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    line(&mut out, &COLUMNS.map(str::to_owned));
    for t in &r.targets {
        let base = [
            t.name.clone(),
            format!("{} ({})", t.document, t.document_date),
            t.clause.clone(),
            t.metric.name().to_owned(),
            t.scope.clone(),
            t.value_percent
                .map(|v| format!("{v:.2}"))
                .unwrap_or_default(),
            t.passed.to_string(),
            t.total.to_string(),
            t.target_percent.to_string(),
            t.deadline.to_string(),
            t.status.as_str().to_owned(),
        ];
        let mut first = base.to_vec();
        first.extend([String::new(), String::new(), t.location.to_string()]);
        line(&mut out, &first);
        for f in &t.failing {
            let mut row = base.to_vec();
            row.extend([
                f.object.to_string(),
                f.reason.clone(),
                f.location.to_string(),
            ]);
            line(&mut out, &row);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(field("UBND Phường Ba Đình"), "UBND Phường Ba Đình");
        assert_eq!(field("a, b"), "\"a, b\"");
        assert_eq!(field("say \"x\""), "\"say \"\"x\"\"\"");
    }
}
