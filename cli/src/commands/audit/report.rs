//! The audit report as text, Markdown and JUnit XML. Accepted deviations are shown apart from
//! drift, each with who accepted it, why and until when; drift whose acceptance expired says so.

use super::{DeviceAudit, Report, Status, Unused};
use hatang_core::audit::{Acceptance, Deviation, DeviationKind};

/// `accepted by noc-hanoi until 2026-12-31 (CR-118): reason`, or `acceptance by … expired on …`.
pub(super) fn acceptance(a: &Acceptance) -> String {
    let ticket = a
        .ticket
        .as_deref()
        .map(|t| format!(" ({t})"))
        .unwrap_or_default();
    if a.expired {
        format!(
            "acceptance by {} expired on {}{ticket}: {}",
            a.owner, a.expires, a.reason
        )
    } else {
        format!(
            "accepted by {} until {}{ticket}: {}",
            a.owner, a.expires, a.reason
        )
    }
}

/// `unexpected [interface eth1]: `shutdown``, as the audit prints deviations.
fn entry(u: &Unused) -> String {
    let at = if u.block.is_empty() {
        String::new()
    } else {
        format!(" [{}]", u.block.join(" > "))
    };
    format!("{}{at}: `{}`", u.kind.as_str(), u.line)
}

fn unused_line(u: &Unused) -> String {
    let state = if u.acceptance.expired {
        "expired on"
    } else {
        "until"
    };
    format!(
        "unused acceptance #{} {} (by {} {state} {}): the device does not deviate so; remove or correct it",
        u.acceptance.index,
        entry(u),
        u.acceptance.owner,
        u.acceptance.expires
    )
}

fn drift_line(x: &Deviation) -> String {
    match &x.acceptance {
        Some(a) => format!("{x} ({})", acceptance(a)),
        None => x.to_string(),
    }
}

pub(super) fn headline(d: &DeviceAudit) -> String {
    let accepted = match d.accepted.len() {
        0 => String::new(),
        1 => "1 deviation accepted".to_owned(),
        n => format!("{n} deviations accepted"),
    };
    match d.status {
        Status::Clean => "clean".to_owned(),
        Status::Accepted => format!("accepted: {accepted}"),
        Status::Drift => {
            let n = |k: DeviationKind| d.deviations.iter().filter(|x| x.kind == k).count();
            let mut line = format!(
                "drift: {} changed, {} missing, {} unexpected",
                n(DeviationKind::Changed),
                n(DeviationKind::Missing),
                n(DeviationKind::Unexpected)
            );
            if !accepted.is_empty() {
                line.push_str(&format!("; {accepted}"));
            }
            line
        }
        Status::Failed => match (&d.error, &d.note) {
            (Some(e), _) if e.is_host_key() => format!("REFUSED: {e}"),
            (Some(e), _) => format!("failed: {e}"),
            (None, Some(n)) => format!("failed: {n}"),
            (None, None) => "failed".to_owned(),
        },
        Status::Skipped => format!("skipped: {}", d.note.as_deref().unwrap_or("")),
    }
}

fn totals(r: &Report) -> String {
    let s = &r.summary;
    let mut line = format!(
        "{} devices: {} clean, {} accepted, {} drifted ({} deviations), {} failed, {} skipped",
        s.devices, s.clean, s.accepted, s.drift, s.deviations, s.failed, s.skipped
    );
    if s.accepted_deviations + s.expired_acceptances + s.unused_acceptances > 0 {
        line.push_str(&format!(
            "; acceptances: {} in force, {} expired, {} unused",
            s.accepted_deviations, s.expired_acceptances, s.unused_acceptances
        ));
    }
    line
}

pub(super) fn text(r: &Report) -> String {
    let mut out = String::new();
    let width = r.devices.iter().map(|d| d.device.len()).max().unwrap_or(0);
    for d in &r.devices {
        out.push_str(&format!("{:width$}  {}\n", d.device, headline(d)));
        if let (Status::Clean | Status::Accepted | Status::Drift, Some(n)) = (d.status, &d.note) {
            out.push_str(&format!("{:width$}  note: {n}\n", ""));
        }
        for x in &d.deviations {
            out.push_str(&format!("{:width$}    {}\n", "", drift_line(x)));
        }
        for x in &d.accepted {
            let by = x.acceptance.as_ref().map(acceptance).unwrap_or_default();
            out.push_str(&format!("{:width$}    accepted {x} — {by}\n", ""));
        }
        for u in &d.unused_acceptances {
            out.push_str(&format!("{:width$}    {}\n", "", unused_line(u)));
        }
    }
    if let Some(s) = &r.saved {
        match &s.backup_taken_at {
            Some(t) => out.push_str(&format!(
                "compared against the backup of {t} in {}\n",
                s.dir
            )),
            None => out.push_str(&format!(
                "compared against the files in {} (no backup manifest)\n",
                s.dir
            )),
        }
    }
    out.push_str(&format!("audit: {}\n", totals(r)));
    out
}

fn cell(t: &str) -> String {
    t.replace('|', "\\|").replace('\n', " ")
}

fn code(t: Option<&str>) -> String {
    t.map(|t| format!("`{}`", cell(t))).unwrap_or_default()
}

pub(super) fn markdown(r: &Report) -> String {
    let mut out = format!(
        "# hatang audit\n\n{}.\n\n| device | status |\n|---|---|\n",
        totals(r)
    );
    for d in &r.devices {
        out.push_str(&format!("| {} | {} |\n", d.device, cell(&headline(d))));
    }
    for d in &r.devices {
        if d.deviations.is_empty() && d.accepted.is_empty() && d.unused_acceptances.is_empty() {
            continue;
        }
        out.push_str(&format!("\n## {}\n", d.device));
        if !d.deviations.is_empty() {
            out.push_str("\n| kind | block | running | desired | note |\n|---|---|---|---|---|\n");
            for x in &d.deviations {
                out.push_str(&format!(
                    "| {} | {} | {} | {} | {} |\n",
                    x.kind.as_str(),
                    cell(&x.context.join(" > ")),
                    code(x.running.as_deref()),
                    code(x.desired.as_deref()),
                    x.acceptance
                        .as_ref()
                        .map(|a| cell(&acceptance(a)))
                        .unwrap_or_default(),
                ));
            }
        }
        if !d.accepted.is_empty() {
            out.push_str(
                "\n### Accepted deviations\n\n\
                 | kind | block | running | desired | owner | reason | expires | ticket |\n\
                 |---|---|---|---|---|---|---|---|\n",
            );
            for x in &d.accepted {
                let Some(a) = &x.acceptance else { continue };
                out.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
                    x.kind.as_str(),
                    cell(&x.context.join(" > ")),
                    code(x.running.as_deref()),
                    code(x.desired.as_deref()),
                    cell(&a.owner),
                    cell(&a.reason),
                    a.expires,
                    cell(a.ticket.as_deref().unwrap_or("")),
                ));
            }
        }
        if !d.unused_acceptances.is_empty() {
            out.push_str("\n### Unused acceptances\n\n");
            for u in &d.unused_acceptances {
                out.push_str(&format!("- {}\n", cell(&unused_line(u))));
            }
        }
    }
    out
}

fn xml(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(super) fn junit(r: &Report) -> String {
    let s = &r.summary;
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuite name=\"hatang audit\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n",
        s.devices, s.drift, s.failed, s.skipped
    );
    for d in &r.devices {
        let time = d.millis.unwrap_or(0) as f64 / 1000.0;
        out.push_str(&format!(
            "  <testcase classname=\"audit\" name=\"{}\" time=\"{time:.3}\">",
            xml(&d.device)
        ));
        match d.status {
            Status::Clean | Status::Accepted => {}
            Status::Drift => {
                let body: Vec<String> = d.deviations.iter().map(drift_line).collect();
                out.push_str(&format!(
                    "<failure message=\"{}\">{}</failure>",
                    xml(&headline(d)),
                    xml(&body.join("\n"))
                ));
            }
            Status::Failed => out.push_str(&format!("<error message=\"{}\"/>", xml(&headline(d)))),
            Status::Skipped => {
                out.push_str(&format!("<skipped message=\"{}\"/>", xml(&headline(d))))
            }
        }
        // Accepted deviations pass, but stay visible in the test report.
        let mut notes: Vec<String> = d
            .accepted
            .iter()
            .map(|x| {
                let by = x.acceptance.as_ref().map(acceptance).unwrap_or_default();
                format!("accepted {x} — {by}")
            })
            .collect();
        notes.extend(d.unused_acceptances.iter().map(unused_line));
        if !notes.is_empty() {
            out.push_str(&format!(
                "<system-out>{}</system-out>",
                xml(&notes.join("\n"))
            ));
        }
        out.push_str("</testcase>\n");
    }
    out.push_str("</testsuite>\n");
    out
}
