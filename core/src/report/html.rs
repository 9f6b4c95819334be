//! The report as one self-contained HTML page: inline styles (with a print stylesheet), inline
//! SVG charts and a few lines of our own script to sort tables by a column. Nothing is loaded
//! from anywhere else, so the file can be mailed, archived and printed to PDF as it is.

use std::fmt::Write;

use super::labels as l;
use super::markdown::FAILING_LISTED;
use super::{Report, TargetRow, percent, svg};

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
body{font-family:system-ui,"Segoe UI",Roboto,"Noto Sans",sans-serif;margin:2rem;color:#212121;line-height:1.4}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f5f5f5}th.sortable{cursor:pointer}th.sortable::after{content:" ⇅";color:#999}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.status{font-weight:600;white-space:nowrap}.met{color:#2e7d32}.not-met{color:#ef6c00}
.overdue{color:#c62828}.no-data{color:#757575}.loc{font-family:monospace;font-size:.8rem;color:#555}
dl.header{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:600}
details{margin:.3rem 0}summary{cursor:pointer}
@media print{body{margin:1cm;font-size:10pt}th.sortable::after{content:""}details{display:block}
details>summary{list-style:none}details:not([open])>*:not(summary){display:block}
h2{page-break-after:avoid}tr{page-break-inside:avoid}.noprint{display:none}}
"#;

/// Sorts a table by the clicked column: numbers by `data-sort` when present, else by text.
const SCRIPT: &str = r#"
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.classList.add("sortable");
    th.addEventListener("click", function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var dir = th.dataset.dir === "asc" ? -1 : 1;
      th.dataset.dir = dir === 1 ? "asc" : "desc";
      function key(row) {
        var cell = row.cells[col];
        var v = cell.dataset.sort;
        return v !== undefined ? parseFloat(v) : cell.textContent.trim();
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (typeof x === "number" && typeof y === "number") return dir * (x - y);
        return dir * String(x).localeCompare(String(y), "vi");
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"#;

fn table_head(out: &mut String, id: &str, columns: &[&str]) {
    let _ = write!(out, r#"<table class="sortable" id="{id}"><thead><tr>"#);
    for c in columns {
        let _ = write!(out, "<th>{}</th>", escape(c));
    }
    out.push_str("</tr></thead><tbody>");
}

fn td(out: &mut String, text: &str) {
    let _ = write!(out, "<td>{}</td>", escape(text));
}

fn td_num(out: &mut String, sort: f64, text: &str) {
    let _ = write!(
        out,
        r#"<td class="num" data-sort="{sort}">{}</td>"#,
        escape(text)
    );
}

/// The report as an HTML page.
pub fn render(r: &Report) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let h = &r.header;
    let _ = write!(
        out,
        r#"<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{title} — {inv}</title><style>{STYLE}</style></head><body><h1>{title}</h1><dl class="header">"#,
        title = escape(l::TITLE),
        inv = escape(&h.inventory),
    );
    let mut dl = |k: &str, v: &str| {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(v));
    };
    dl(l::INVENTORY, &h.inventory);
    if let Some(c) = &h.commit {
        dl(l::COMMIT, c);
    }
    dl(l::JUDGED_ON, &h.judged_on.to_string());
    dl(l::TOOL, &format!("hatang {}", h.tool_version));
    out.push_str("</dl>");

    targets(&mut out, r);
    coverage(&mut out, r);
    dr(&mut out, r);
    leases(&mut out, r);
    pools(&mut out, r);
    capacity(&mut out, r);
    findings(&mut out, r);
    drift(&mut out, r);
    let _ = writeln!(out, "<script>{SCRIPT}</script></body></html>");
    out
}

fn targets(out: &mut String, r: &Report) {
    let _ = write!(out, "<h2>{}</h2>", escape(l::TARGETS));
    if r.targets.is_empty() {
        let _ = write!(
            out,
            "<p>{}</p>",
            escape("Không có chỉ tiêu (no PlanTarget in the inventory)")
        );
        return;
    }
    out.push_str(&svg::targets_chart(&r.targets));
    table_head(out, "targets", &l::TARGET_COLUMNS);
    for t in &r.targets {
        target_row(out, t);
    }
    out.push_str("</tbody></table>");
}

fn target_row(out: &mut String, t: &TargetRow) {
    let _ = write!(
        out,
        r#"<tr class="target" data-target="{}" data-status="{}">"#,
        escape(&t.name),
        t.status.as_str()
    );
    let _ = write!(
        out,
        r#"<td>{}<br><span class="loc">{} · {}</span></td>"#,
        escape(&t.display_name),
        escape(&t.name),
        escape(&t.location.to_string())
    );
    td(out, &format!("{}, {}", t.document, t.document_date));
    td(out, &t.clause);
    td(
        out,
        &format!("{} ({}) — {}", t.metric_vi, t.metric_en, t.scope),
    );
    let mut value = format!("{} ({}/{})", percent(t.value_percent), t.passed, t.total);
    if let Some(c) = t.change {
        let _ = write!(value, " {c:+.1} đ.p. (pp)");
    }
    let _ = write!(
        out,
        r#"<td class="num" data-sort="{}">{}{}</td>"#,
        t.value_percent.unwrap_or(-1.0),
        escape(&value),
        svg::sparkline(&t.trend)
    );
    td_num(out, t.target_percent, &format!("{} %", t.target_percent));
    td(out, &t.deadline.to_string());
    let _ = write!(
        out,
        r#"<td class="status {}">{}</td>"#,
        t.status.as_str(),
        escape(t.status.label())
    );
    if t.failing.is_empty() {
        td(out, l::NONE);
    } else {
        let _ = write!(
            out,
            "<td data-sort=\"{}\"><details><summary>{} {}</summary><ul>",
            t.failing.len(),
            t.failing.len(),
            escape("đối tượng (objects)")
        );
        for f in t.failing.iter().take(FAILING_LISTED) {
            let _ = write!(
                out,
                r#"<li>{} <span class="loc">{} · {}</span> — {}</li>"#,
                escape(&f.display_name),
                escape(&f.object.to_string()),
                escape(&f.location.to_string()),
                escape(&f.reason)
            );
        }
        if t.failing.len() > FAILING_LISTED {
            let _ = write!(
                out,
                "<li>… {} (and {} more: JSON, CSV)</li>",
                t.failing.len() - FAILING_LISTED,
                t.failing.len() - FAILING_LISTED
            );
        }
        out.push_str("</ul></details></td>");
    }
    out.push_str("</tr>");
}

fn coverage(out: &mut String, r: &Report) {
    let c = &r.coverage;
    let counted = c.dual_homed + c.incomplete;
    let _ = write!(
        out,
        r#"<h2>{}</h2><p id="coverage-figure"><strong>{}/{counted}</strong> ({:.1} %) {}</p>"#,
        escape(l::COVERAGE),
        c.dual_homed,
        c.percent,
        escape("có đường truyền chính và dự phòng (with primary and backup)")
    );
    out.push_str(&svg::coverage_bar(
        c.dual_homed,
        c.incomplete,
        c.excluded.len(),
    ));
    if !c.incomplete_offices.is_empty() {
        out.push_str("<ul id=\"incomplete-offices\">");
        for o in c.incomplete_offices.iter().take(FAILING_LISTED * 4) {
            let _ = write!(
                out,
                r#"<li>{} <span class="loc">{} · GSO {} · {}</span> — {} {}</li>"#,
                escape(&o.display_name),
                escape(&o.name),
                escape(o.gso_code.as_deref().unwrap_or("?")),
                escape(&o.location.to_string()),
                escape("thiếu (missing)"),
                escape(&o.missing.join(" + "))
            );
        }
        if c.incomplete_offices.len() > FAILING_LISTED * 4 {
            let _ = write!(
                out,
                "<li>… {} more</li>",
                c.incomplete_offices.len() - FAILING_LISTED * 4
            );
        }
        out.push_str("</ul>");
    }
    for e in &c.excluded {
        let _ = write!(
            out,
            "<p>{} <span class=\"loc\">{}</span>: {} — {}</p>",
            escape(&e.display_name),
            escape(&e.name),
            escape("loại trừ (excluded)"),
            escape(&e.reason)
        );
    }
}

fn dr(out: &mut String, r: &Report) {
    let _ = write!(out, "<h2>{}</h2>", escape(l::DR));
    table_head(out, "dr", &l::DR_COLUMNS);
    for s in &r.dr {
        out.push_str("<tr>");
        let _ = write!(
            out,
            r#"<td>{}<br><span class="loc">{}</span></td>"#,
            escape(&s.display_name),
            escape(&s.name)
        );
        td_num(out, f64::from(s.level), &s.level.to_string());
        td(
            out,
            &s.approved_on
                .map_or_else(|| l::NO.to_owned(), |d| d.to_string()),
        );
        td(out, &s.data_center);
        let mut replica = s.replica.clone().unwrap_or_else(|| l::NONE.to_owned());
        if let Some(why) = &s.shortfall {
            let _ = write!(replica, " — {why}");
        }
        let class = if s.shortfall.is_some() {
            " class=\"overdue\""
        } else {
            ""
        };
        let _ = write!(out, "<td{class}>{}</td>", escape(&replica));
        for v in [s.rpo_minutes, s.rto_minutes] {
            match v {
                Some(v) => td_num(out, f64::from(v), &v.to_string()),
                None => td_num(out, -1.0, l::NONE),
            }
        }
        td(
            out,
            &s.last_drill
                .map_or_else(|| l::NONE.to_owned(), |d| d.to_string()),
        );
        td(out, if s.off_site_backup { l::YES } else { l::NO });
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

fn leases(out: &mut String, r: &Report) {
    let _ = write!(
        out,
        "<h2>{} — {} {}</h2>",
        escape(l::LEASES),
        r.lease_window_days,
        escape("ngày (days)")
    );
    if r.leases.is_empty() {
        let _ = write!(out, "<p>{}</p>", l::NONE);
        return;
    }
    table_head(out, "leases", &l::LEASE_COLUMNS);
    for x in &r.leases {
        let class = if x.days_left < 0 {
            " class=\"overdue\""
        } else {
            ""
        };
        let _ = write!(out, "<tr{class}>");
        td(out, &x.name);
        td(out, &x.tenant);
        td(out, &x.data_center);
        td(out, &x.end.to_string());
        td_num(out, x.days_left as f64, &x.days_left.to_string());
        td_num(out, x.power_kw, &format!("{:.1}", x.power_kw));
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

fn pools(out: &mut String, r: &Report) {
    let _ = write!(out, "<h2>{}</h2>", escape(l::POOLS));
    if r.pools.is_empty() {
        let _ = write!(out, "<p>{}</p>", l::NONE);
        return;
    }
    table_head(out, "pools", &l::POOL_COLUMNS);
    for p in &r.pools {
        out.push_str("<tr>");
        td(out, &p.pool);
        td(out, &p.unit);
        let used = p.used + p.reserved;
        td_num(out, used as f64, &used.to_string());
        td_num(out, p.total as f64, &p.total.to_string());
        td_num(out, p.percent, &format!("{:.2} %", p.percent));
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

fn capacity(out: &mut String, r: &Report) {
    let _ = write!(out, "<h2>{}</h2>", escape(l::CAPACITY));
    table_head(out, "capacity", &l::CAPACITY_COLUMNS);
    for d in &r.capacity {
        out.push_str("<tr>");
        let _ = write!(
            out,
            r#"<td>{}<br><span class="loc">{}</span></td>"#,
            escape(&d.display_name),
            escape(&d.name)
        );
        td(out, d.tier);
        td_num(
            out,
            f64::from(d.units_free),
            &format!("{}/{}", d.units_free, d.units_total),
        );
        td_num(
            out,
            d.power_used_kw,
            &format!("{:.1}/{:.1}", d.power_used_kw, d.power_budget_kw),
        );
        match &d.tightest_feed {
            Some((f, h)) => {
                td(out, f);
                td_num(out, *h, &format!("{h:.1}"));
            }
            None => {
                td(out, l::NONE);
                td_num(out, 0.0, l::NONE);
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

fn findings(out: &mut String, r: &Report) {
    let f = &r.findings;
    let _ = write!(out, "<h2>{}</h2>", escape(l::FINDINGS));
    let kinds: Vec<String> = f.by_kind.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    let _ = write!(
        out,
        "<p id=\"findings-summary\">{} · {} {}</p>",
        escape(&if kinds.is_empty() {
            l::NONE.to_owned()
        } else {
            kinds.join(", ")
        }),
        f.warnings,
        escape("cảnh báo (warnings)")
    );
    if f.items.is_empty() {
        return;
    }
    out.push_str("<details><summary>");
    let _ = write!(out, "{} {}", f.items.len(), escape("phát hiện (findings)"));
    out.push_str("</summary><ul>");
    for d in f.items.iter().take(FAILING_LISTED * 4) {
        let at = d
            .location
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let _ = write!(
            out,
            r#"<li><code>{}</code> {} <span class="loc">{}</span></li>"#,
            escape(d.code),
            escape(&d.message),
            escape(&at)
        );
    }
    if f.items.len() > FAILING_LISTED * 4 {
        let _ = write!(
            out,
            "<li>… {} more</li>",
            f.items.len() - FAILING_LISTED * 4
        );
    }
    out.push_str("</ul></details>");
}

fn drift(out: &mut String, r: &Report) {
    let Some(d) = &r.drift else { return };
    let c = &d.counts;
    let _ = write!(
        out,
        "<h2>{}</h2><p id=\"drift-summary\">{}</p>",
        escape(l::DRIFT),
        escape(&format!(
            "Thiết bị (devices) {}: sạch (clean) {}, chấp nhận (accepted) {}, sai lệch (drift) {}, lỗi (failed) {}, bỏ qua (skipped) {}; {} sai lệch (deviations)",
            c.devices, c.clean, c.accepted, c.drift, c.failed, c.skipped, c.deviations
        ))
    );
    if d.devices.is_empty() {
        return;
    }
    table_head(
        out,
        "drift",
        &[
            "Thiết bị (Device)",
            "Trạng thái (Status)",
            "Sai lệch (Deviations)",
        ],
    );
    for x in &d.devices {
        out.push_str("<tr>");
        td(out, &x.device);
        td(out, &x.status);
        td_num(out, x.deviations as f64, &x.deviations.to_string());
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_in_inventory_text_is_escaped() {
        assert_eq!(
            escape("<b a=\"1\">&'"),
            "&lt;b a=&quot;1&quot;&gt;&amp;&#39;"
        );
        assert_eq!(escape("Xã Bạch Long Vĩ"), "Xã Bạch Long Vĩ");
    }
}
