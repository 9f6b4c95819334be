//! Lease dates: temporary leases end, ends follow starts, expiring leases are flagged in time.

use super::{Index, Report, ValidateOptions, at, obj};
use crate::diag::{Diagnostic, FindingKind, Subject, codes};
use crate::model::{Inventory, Kind};

pub(super) fn check(
    inv: &Inventory,
    _ix: &Index<'_>,
    opts: &ValidateOptions,
    report: &mut Report<'_>,
) {
    for l in &inv.colo_leases {
        let o = obj(Kind::ColoLease, l);
        if l.spec.power_kw < 0.0 || !l.spec.power_kw.is_finite() {
            report.push(
                l.origin,
                at!["spec", "powerKw"],
                o.clone(),
                Diagnostic::error("bad-power", "powerKw must be a non-negative number"),
            );
        }
        match l.spec.end {
            None if l.spec.temporary => report.push(
                l.origin,
                at!["spec", "temporary"],
                o,
                Diagnostic::error(
                    "temporary-without-end",
                    "a temporary lease needs an end date",
                )
                .hint("set spec.end to the day the tenant moves to its own room"),
            ),
            None => {}
            Some(end) if end < l.spec.start => report.push(
                l.origin,
                at!["spec", "end"],
                o,
                Diagnostic::error(
                    "end-before-start",
                    format!("lease ends on {end}, before it starts on {}", l.spec.start),
                ),
            ),
            Some(end) if end < opts.today => report.push(
                l.origin,
                at!["spec", "end"],
                o,
                Diagnostic::finding(
                    FindingKind::LeaseExpired,
                    format!("lease of `{}` ended on {end}", l.spec.tenant),
                )
                .hint("renew it (move spec.end) or remove it so its space and power are released")
                .subject(Subject::object(Kind::Tenant, &l.spec.tenant)),
            ),
            Some(end) => {
                let days = (end - opts.today).num_days();
                if days <= opts.lease_warning_days {
                    report.push(
                        l.origin,
                        at!["spec", "end"],
                        o,
                        Diagnostic::warning(
                            codes::LEASE_EXPIRING,
                            format!("lease of `{}` ends on {end}, in {days} days", l.spec.tenant),
                        )
                        .hint("agree a renewal or the tenant's move before the end date")
                        .subject(Subject::object(Kind::Tenant, &l.spec.tenant)),
                    );
                }
            }
        }
    }
}
