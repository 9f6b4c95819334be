//! Inline SVG charts for the HTML page: no script, no external file, printable.

use std::fmt::Write;

use super::html::escape;
use super::{Status, TargetRow};

/// The colour of a status (also used by the page's legend).
pub(crate) fn colour(status: Status) -> &'static str {
    match status {
        Status::Met => "#2e7d32",
        Status::NotMet => "#ef6c00",
        Status::Overdue => "#c62828",
        Status::NoData => "#757575",
    }
}

/// One horizontal bar per target: the value as a bar, the target as a tick.
pub(crate) fn targets_chart(targets: &[TargetRow]) -> String {
    const ROW: u32 = 26;
    const LABEL: u32 = 260;
    const BAR: u32 = 400;
    let height = ROW * targets.len() as u32 + 24;
    let width = LABEL + BAR + 70;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" role="img" aria-label="Chỉ tiêu (targets)" viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">"#
    );
    for (i, t) in targets.iter().enumerate() {
        let y = ROW * i as u32 + 4;
        let v = t.value_percent.unwrap_or(0.0).clamp(0.0, 100.0);
        let w = (v / 100.0 * BAR as f64).round();
        let tick = (LABEL as f64 + t.target_percent.clamp(0.0, 100.0) / 100.0 * BAR as f64).round();
        let mut label: String = t.name.chars().take(38).collect();
        if t.name.chars().count() > 38 {
            label.push('…');
        }
        let _ = write!(
            s,
            r##"<text x="{lx}" y="{ty}" text-anchor="end" font-size="12">{label}</text><rect x="{LABEL}" y="{y}" width="{BAR}" height="16" fill="#eeeeee"/><rect x="{LABEL}" y="{y}" width="{w}" height="16" fill="{c}"><title>{title}</title></rect><line x1="{tick}" x2="{tick}" y1="{y0}" y2="{y1}" stroke="#000" stroke-width="2"/><text x="{vx}" y="{ty}" font-size="12">{value}</text>"##,
            lx = LABEL - 6,
            ty = y + 13,
            label = escape(&label),
            c = colour(t.status),
            title = escape(&format!(
                "{}: {} / {} %",
                t.name,
                super::percent(t.value_percent),
                t.target_percent
            )),
            y0 = y - 2,
            y1 = y + 18,
            vx = LABEL + BAR + 6,
            value = escape(&super::percent(t.value_percent)),
        );
    }
    let _ = write!(
        s,
        r#"<text x="{LABEL}" y="{yb}" font-size="11">0 %</text><text x="{xe}" y="{yb}" font-size="11" text-anchor="end">100 % — │ mục tiêu (target)</text></svg>"#,
        yb = height - 4,
        xe = LABEL + BAR,
    );
    s
}

/// A small trend line of a target's values over the runs in the history.
pub(crate) fn sparkline(points: &[(chrono::NaiveDate, f64)]) -> String {
    if points.len() < 2 {
        return String::new();
    }
    const W: f64 = 120.0;
    const H: f64 = 28.0;
    let step = W / (points.len() - 1) as f64;
    let coords: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, (_, v))| {
            format!(
                "{:.1},{:.1}",
                i as f64 * step,
                H - v.clamp(0.0, 100.0) / 100.0 * H
            )
        })
        .collect();
    let title: Vec<String> = points
        .iter()
        .map(|(d, v)| format!("{d}: {v:.1} %"))
        .collect();
    format!(
        r##"<svg class="trend" viewBox="-2 -2 {w} {h}" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title><polyline fill="none" stroke="#1565c0" stroke-width="2" points="{p}"/></svg>"##,
        w = W + 4.0,
        h = H + 4.0,
        t = escape(&title.join("; ")),
        p = coords.join(" "),
    )
}

/// A stacked bar of the commune offices: dual-homed, missing a circuit, excluded.
pub(crate) fn coverage_bar(dual: usize, incomplete: usize, excluded: usize) -> String {
    let total = (dual + incomplete + excluded).max(1) as f64;
    const W: f64 = 600.0;
    let parts = [
        (dual, "#2e7d32", "chính + dự phòng (primary + backup)"),
        (
            incomplete,
            "#c62828",
            "thiếu đường truyền (missing a circuit)",
        ),
        (excluded, "#9e9e9e", "loại trừ (excluded)"),
    ];
    let mut s = format!(
        r#"<svg class="chart" role="img" aria-label="coverage" viewBox="0 0 {W} 44" width="{W}" height="44" xmlns="http://www.w3.org/2000/svg">"#
    );
    let mut x = 0.0;
    for (n, c, label) in parts {
        let w = n as f64 / total * W;
        let _ = write!(
            s,
            r#"<rect x="{x:.1}" y="0" width="{w:.1}" height="24" fill="{c}"><title>{label}: {n}</title></rect>"#
        );
        x += w;
    }
    let _ = write!(
        s,
        r#"<text x="0" y="40" font-size="12">{dual} chính + dự phòng (primary + backup) · {incomplete} thiếu (missing) · {excluded} loại trừ (excluded)</text></svg>"#
    );
    s
}
