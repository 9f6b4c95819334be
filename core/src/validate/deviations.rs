//! Accepted deviations (`Device.spec.acceptedDeviations`): each names who answers for it and
//! why, can match something the audit reports, is listed once, and is flagged when it has
//! expired (the audit counts it as drift again) or is about to.
//!
//! Whether an entry matches the device's running configuration is only known when the device
//! is audited: `hatang audit` reports entries that matched nothing as unused.

use std::collections::HashMap;

use super::{Report, ValidateOptions, at, obj};
use crate::audit::{collapse, ignored};
use crate::diag::Diagnostic;
use crate::model::{Inventory, Kind};

pub(super) fn check(inv: &Inventory, opts: &ValidateOptions, report: &mut Report<'_>) {
    for d in &inv.devices {
        let mut seen = HashMap::new();
        for (i, a) in d.spec.accepted_deviations.iter().enumerate() {
            let o = obj(Kind::Device, d);
            let here = |field: &'static str| at!["spec", "acceptedDeviations", i, field];
            for (field, value) in [("owner", &a.owner), ("reason", &a.reason)] {
                if value.trim().is_empty() {
                    report.push(
                        d.origin,
                        here(field),
                        o.clone(),
                        Diagnostic::error(
                            "deviation-unexplained",
                            format!("an accepted deviation needs a non-empty {field}"),
                        )
                        .hint("say who answers for the deviation and why the device may differ"),
                    );
                }
            }
            let line = collapse(&a.line);
            if ignored(&line) {
                report.push(
                    d.origin,
                    here("line"),
                    o.clone(),
                    Diagnostic::error(
                        "deviation-never-matches",
                        format!(
                            "the audit ignores the line `{line}` (blank lines, comments, `!`, \
                             `end`, `exit…` and version stamps), so this acceptance can never match"
                        ),
                    )
                    .hint("copy the line as `hatang audit` prints it"),
                );
            }
            let block: Vec<String> = a.block.iter().map(|b| collapse(b)).collect();
            if let Some(first) = seen.insert((a.kind, block, line), i) {
                report.push(
                    d.origin,
                    at!["spec", "acceptedDeviations", i],
                    o.clone(),
                    Diagnostic::error(
                        "duplicate-deviation",
                        format!(
                            "the same {} line is accepted twice (entries {first} and {i})",
                            a.kind.as_str()
                        ),
                    )
                    .hint("keep one entry, with the later expiry if that is what was agreed"),
                );
                report.also(
                    "first accepted here",
                    d.origin,
                    at!["spec", "acceptedDeviations", first],
                );
            }
            let days = (a.expires - opts.today).num_days();
            if days < 0 {
                report.push(
                    d.origin,
                    here("expires"),
                    o,
                    Diagnostic::warning(
                        "deviation-expired",
                        format!(
                            "the acceptance by {} expired on {}: the audit counts this {} line as \
                             drift again",
                            a.owner,
                            a.expires,
                            a.kind.as_str()
                        ),
                    )
                    .hint("fix the device and remove the entry, or renew it (a new expires) if that was agreed"),
                );
            } else if days <= opts.deviation_warning_days {
                report.push(
                    d.origin,
                    here("expires"),
                    o,
                    Diagnostic::warning(
                        "deviation-expiring",
                        format!(
                            "the acceptance by {} ends on {} (in {days} days); from the next day \
                             this {} line is drift",
                            a.owner,
                            a.expires,
                            a.kind.as_str()
                        ),
                    )
                    .hint("plan the fix on the device, or agree a renewal before it ends"),
                );
            }
        }
    }
}
