//! The report as Markdown: the same sections as the HTML page, tables only.

use std::fmt::Write;

use super::labels as l;
use super::{Report, Status, percent};

/// Failing objects listed per target; the rest are counted (the JSON and CSV list them all).
pub const FAILING_LISTED: usize = 50;

/// Escapes what would break a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn row(out: &mut String, cells: &[String]) {
    let cells: Vec<String> = cells.iter().map(|c| cell(c)).collect();
    let _ = writeln!(out, "| {} |", cells.join(" | "));
}

fn head(out: &mut String, columns: &[&str]) {
    let _ = writeln!(out, "| {} |", columns.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(columns.len()));
}

/// The report as Markdown.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let h = &r.header;
    let _ = writeln!(out, "# {}\n", l::TITLE);
    let _ = writeln!(out, "- {}: `{}`", l::INVENTORY, h.inventory);
    if let Some(c) = &h.commit {
        let _ = writeln!(out, "- {}: `{c}`", l::COMMIT);
    }
    let _ = writeln!(out, "- {}: {}", l::JUDGED_ON, h.judged_on);
    let _ = writeln!(out, "- {}: hatang {}\n", l::TOOL, h.tool_version);

    let _ = writeln!(out, "## {}\n", l::TARGETS);
    head(&mut out, &l::TARGET_COLUMNS);
    for t in &r.targets {
        let mut value = format!("{} ({}/{})", percent(t.value_percent), t.passed, t.total);
        if let Some(c) = t.change {
            let _ = write!(value, ", {c:+.1} đ.p. (pp)");
        }
        row(
            &mut out,
            &[
                format!("{} (`{}`, {})", t.display_name, t.name, t.location),
                format!("{}, {}", t.document, t.document_date),
                t.clause.clone(),
                format!("{} ({}), {}", t.metric_vi, t.metric_en, t.scope),
                value,
                format!("{} %", t.target_percent),
                t.deadline.to_string(),
                t.status.label().to_owned(),
                failing_summary(t),
            ],
        );
    }
    for t in r
        .targets
        .iter()
        .filter(|t| !t.failing.is_empty() && t.status != Status::Met)
    {
        let _ = writeln!(
            out,
            "\n### {} — {} (`{}`)\n",
            t.display_name,
            t.status.label(),
            t.name
        );
        for f in t.failing.iter().take(FAILING_LISTED) {
            let _ = writeln!(
                out,
                "- {} `{}` — {} ({})",
                cell(&f.display_name),
                f.object,
                f.reason,
                f.location
            );
        }
        if t.failing.len() > FAILING_LISTED {
            let _ = writeln!(
                out,
                "- … và {} đối tượng khác (and {} more)",
                t.failing.len() - FAILING_LISTED,
                t.failing.len() - FAILING_LISTED
            );
        }
    }

    coverage(&mut out, r);
    dr(&mut out, r);
    leases(&mut out, r);
    pools(&mut out, r);
    capacity(&mut out, r);
    findings(&mut out, r);
    drift(&mut out, r);
    out
}

/// The failing count, and the first few names.
pub(crate) fn failing_summary(t: &super::TargetRow) -> String {
    if t.failing.is_empty() {
        return l::NONE.to_owned();
    }
    let names: Vec<&str> = t
        .failing
        .iter()
        .take(3)
        .map(|f| f.object.name.as_str())
        .collect();
    let more = if t.failing.len() > 3 { ", …" } else { "" };
    format!("{}: {}{more}", t.failing.len(), names.join(", "))
}

fn coverage(out: &mut String, r: &Report) {
    let c = &r.coverage;
    let counted = c.dual_homed + c.incomplete;
    let _ = writeln!(out, "\n## {}\n", l::COVERAGE);
    let _ = writeln!(
        out,
        "Có đường truyền chính và dự phòng (with primary and backup): **{}/{counted}** ({:.1} %); \
         thiếu (missing a circuit): {}; loại trừ (excluded): {}.\n",
        c.dual_homed,
        c.percent,
        c.incomplete,
        c.excluded.len()
    );
    for o in &c.incomplete_offices {
        let _ = writeln!(
            out,
            "- {} (`{}`, GSO {}) — thiếu (missing) {} — {}",
            o.display_name,
            o.name,
            o.gso_code.as_deref().unwrap_or("?"),
            o.missing.join(" + "),
            o.location
        );
    }
    for e in &c.excluded {
        let _ = writeln!(
            out,
            "- {} (`{}`): loại trừ (excluded) — {}",
            e.display_name, e.name, e.reason
        );
    }
}

fn dr(out: &mut String, r: &Report) {
    let _ = writeln!(out, "\n## {}\n", l::DR);
    head(out, &l::DR_COLUMNS);
    for s in &r.dr {
        let opt = |v: Option<u32>| v.map_or_else(|| l::NONE.to_owned(), |v| v.to_string());
        let mut replica = s.replica.clone().unwrap_or_else(|| l::NONE.to_owned());
        if let Some(why) = &s.shortfall {
            let _ = write!(replica, " — {why}");
        }
        row(
            out,
            &[
                format!("{} (`{}`)", s.display_name, s.name),
                s.level.to_string(),
                s.approved_on
                    .map_or_else(|| l::NO.to_owned(), |d| d.to_string()),
                s.data_center.clone(),
                replica,
                opt(s.rpo_minutes),
                opt(s.rto_minutes),
                s.last_drill
                    .map_or_else(|| l::NONE.to_owned(), |d| d.to_string()),
                if s.off_site_backup { l::YES } else { l::NO }.to_owned(),
            ],
        );
    }
}

fn leases(out: &mut String, r: &Report) {
    let _ = writeln!(
        out,
        "\n## {} — {} ngày (days)\n",
        l::LEASES,
        r.lease_window_days
    );
    if r.leases.is_empty() {
        let _ = writeln!(out, "{}", l::NONE);
        return;
    }
    head(out, &l::LEASE_COLUMNS);
    for x in &r.leases {
        row(
            out,
            &[
                x.name.clone(),
                x.tenant.clone(),
                x.data_center.clone(),
                x.end.to_string(),
                x.days_left.to_string(),
                format!("{:.1}", x.power_kw),
            ],
        );
    }
}

fn pools(out: &mut String, r: &Report) {
    let _ = writeln!(out, "\n## {}\n", l::POOLS);
    if r.pools.is_empty() {
        let _ = writeln!(out, "{}", l::NONE);
        return;
    }
    head(out, &l::POOL_COLUMNS);
    for p in &r.pools {
        row(
            out,
            &[
                p.pool.clone(),
                p.unit.clone(),
                (p.used + p.reserved).to_string(),
                p.total.to_string(),
                format!("{:.2} %", p.percent),
            ],
        );
    }
}

fn capacity(out: &mut String, r: &Report) {
    let _ = writeln!(out, "\n## {}\n", l::CAPACITY);
    head(out, &l::CAPACITY_COLUMNS);
    for d in &r.capacity {
        let (feed, headroom) = d
            .tightest_feed
            .as_ref()
            .map_or((l::NONE.to_owned(), l::NONE.to_owned()), |(f, h)| {
                (f.clone(), format!("{h:.1}"))
            });
        row(
            out,
            &[
                format!("{} (`{}`)", d.display_name, d.name),
                d.tier.to_owned(),
                format!("{}/{}", d.units_free, d.units_total),
                format!("{:.1}/{:.1}", d.power_used_kw, d.power_budget_kw),
                feed,
                headroom,
            ],
        );
    }
}

fn findings(out: &mut String, r: &Report) {
    let f = &r.findings;
    let _ = writeln!(out, "\n## {}\n", l::FINDINGS);
    if f.by_kind.is_empty() {
        let _ = writeln!(out, "{} ({} cảnh báo / warnings)", l::NONE, f.warnings);
        return;
    }
    let kinds: Vec<String> = f.by_kind.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    let _ = writeln!(
        out,
        "{} ({} cảnh báo / warnings)\n",
        kinds.join(", "),
        f.warnings
    );
    for d in f.items.iter().take(FAILING_LISTED) {
        let at = d
            .location
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let _ = writeln!(out, "- `{}` {} — {at}", d.code, cell(&d.message));
    }
    if f.items.len() > FAILING_LISTED {
        let _ = writeln!(out, "- … ({} more)", f.items.len() - FAILING_LISTED);
    }
}

fn drift(out: &mut String, r: &Report) {
    let Some(d) = &r.drift else { return };
    let c = &d.counts;
    let _ = writeln!(out, "\n## {}\n", l::DRIFT);
    let _ = writeln!(
        out,
        "Thiết bị (devices) {}: sạch (clean) {}, chấp nhận (accepted) {}, sai lệch (drift) {}, lỗi (failed) {}, bỏ qua (skipped) {}; {} sai lệch (deviations).\n",
        c.devices, c.clean, c.accepted, c.drift, c.failed, c.skipped, c.deviations
    );
    for x in &d.devices {
        let _ = writeln!(
            out,
            "- `{}`: {} ({} deviations)",
            x.device, x.status, x.deviations
        );
    }
}
