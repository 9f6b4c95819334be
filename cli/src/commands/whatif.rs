//! `hatang whatif`: failure analysis from the compiled models (`hatang_core::whatif`), printed
//! as text, JSON or Markdown. `--fail` exits 1 when an office loses a service; `--spof` when it
//! finds a single point of failure, an office depending on one data center, or an office that
//! reaches nothing already.

use std::fmt::Write as _;

use anyhow::{Context, Result};

use crate::args::{Output, WhatifArgs};
use crate::exit::{OrUsage, Verdict};
use crate::output::{Stop, Stopped, print_json};
use hatang_core::compile::compile;
use hatang_core::whatif::report::{OfficeLoss, OfficeReach};
use hatang_core::whatif::{self, Element, Network, Spof, Unstable, WhatIf};

/// Offices named per line of text before "and N more".
const NAMED: usize = 8;

pub(super) fn run(args: &WhatifArgs) -> Result<Verdict> {
    let output = args.output.format;
    let p = match super::planned(&args.inventory, output)? {
        Ok(p) => p,
        Err(verdict) => return Ok(verdict),
    };
    let inv = &p.checked.loaded.inventory;
    let models = match compile(inv, &p.allocation.ledger) {
        Ok(m) => m,
        Err(problems) => {
            let stop = Stopped {
                stopped: Stop::CompileFailed,
                message: format!("{} problems compiling device models", problems.len()),
                diagnostics: &problems,
            };
            let sources = &p.checked.loaded.sources;
            return stop.print(output, sources, args.inventory.max_problems);
        }
    };
    let net = Network::new(inv, &models);
    if args.spof {
        match whatif::spof(&net) {
            Ok(s) => finish(args, &s, spof_text(&s), spof_markdown(&s), spof_found(&s)),
            Err(u) => unstable(output, &u),
        }
    } else {
        let failed = args
            .fail
            .iter()
            .map(|f| Element::parse(&net, f))
            .collect::<Result<Vec<_>, _>>()
            .or_usage()?;
        match whatif::what_if(&net, &failed) {
            Ok(w) => {
                let lost = w.offices.iter().any(|o| !o.lost.is_empty());
                finish(args, &w, fail_text(&w), fail_markdown(&w), lost)
            }
            Err(u) => unstable(output, &u),
        }
    }
}

/// Prints (and writes the Markdown), giving exit 1 when `found`.
fn finish<T: serde::Serialize>(
    args: &WhatifArgs,
    value: &T,
    text: String,
    markdown: String,
    found: bool,
) -> Result<Verdict> {
    match args.output.format {
        Output::Json => print_json(value)?,
        Output::Text => print!("{text}"),
    }
    if let Some(f) = &args.markdown {
        std::fs::write(f, markdown).with_context(|| format!("cannot write `{}`", f.display()))?;
    }
    Ok(Verdict::problems_if(found))
}

fn unstable(output: Output, u: &Unstable) -> Result<Verdict> {
    let stop = Stopped {
        stopped: Stop::RoutingUnstable,
        message: u.to_string(),
        diagnostics: &[],
    };
    stop.print(output, &[], 0)
}

fn spof_found(s: &Spof) -> bool {
    !s.points.is_empty() || !s.single_data_center.is_empty() || !s.already_lost.is_empty()
}

/// `names` as a list, the first [`NAMED`] of them.
fn some(names: &[String]) -> String {
    let mut out = names
        .iter()
        .take(NAMED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > NAMED {
        let _ = write!(out, " and {} more", names.len() - NAMED);
    }
    out
}

fn office(o: &OfficeReach) -> String {
    format!("{} ({})", o.display_name, o.site)
}

fn fail_text(w: &WhatIf) -> String {
    let mut o = String::new();
    let failed: Vec<String> = w.failed.iter().map(|e| e.to_string()).collect();
    match failed.is_empty() {
        true => o.push_str("With nothing failed:\n"),
        false => {
            let _ = writeln!(o, "What if {} fail:", failed.join(", "));
        }
    }
    for r in w.offices.iter().filter(|r| r.changed || !r.lost.is_empty()) {
        let mut parts = Vec::new();
        if !r.lost.is_empty() {
            parts.push(format!("LOSES {}", r.lost.join(", ")));
        }
        if !r.via_backup.is_empty() {
            parts.push(format!(
                "via the backup data center: {}",
                r.via_backup.join(", ")
            ));
        }
        if parts.is_empty() {
            parts.push("reaches every service, through another path".into());
        }
        let _ = writeln!(o, "  {}: {}", office(r), parts.join("; "));
    }
    let s = &w.summary;
    let _ = writeln!(
        o,
        "{} commune offices: {} cut off, {} lose some services, {} reach services only through a backup data center, {} changed.",
        s.offices, s.cut_off, s.lose_some, s.via_backup, s.changed
    );
    o
}

fn fail_markdown(w: &WhatIf) -> String {
    let mut o = String::new();
    let failed: Vec<String> = w.failed.iter().map(|e| format!("`{e}`")).collect();
    match failed.is_empty() {
        true => o.push_str("# With nothing failed\n\n"),
        false => {
            let _ = writeln!(o, "# What if {} fail\n", failed.join(", "));
        }
    }
    let s = &w.summary;
    let _ = writeln!(
        o,
        "{} commune offices: **{} cut off**, {} lose some services, {} reach services only through a backup data center, {} changed.\n",
        s.offices, s.cut_off, s.lose_some, s.via_backup, s.changed
    );
    let _ = write!(o, "| office | site |");
    for svc in &w.services {
        let _ = write!(o, " {} |", svc.name);
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "|---|---|{}", "---|".repeat(w.services.len()));
    for r in w.offices.iter().filter(|r| r.changed || !r.lost.is_empty()) {
        let _ = write!(o, "| {} | `{}` |", r.display_name, r.site);
        for svc in &r.services {
            let cell = match (&svc.data_center, svc.reached) {
                (_, false) => "**lost**".to_owned(),
                (Some(dc), true) => format!("via {dc} ({})", svc.tier.unwrap_or("")),
                (None, true) => "reached".to_owned(),
            };
            let _ = write!(o, " {cell} |");
        }
        let _ = writeln!(o);
    }
    o
}

fn loss_names(offices: &[OfficeLoss]) -> Vec<String> {
    offices
        .iter()
        .map(|l| format!("{} ({})", l.display_name, l.site))
        .collect()
}

fn spof_text(s: &Spof) -> String {
    let mut o = String::new();
    let a = &s.analysed;
    let _ = writeln!(
        o,
        "Single points of failure: {} commune offices, {} elements, {} single failures analysed.",
        a.offices, a.elements, a.failures
    );
    if s.points.is_empty() {
        let _ = writeln!(o, "  none: no single element cuts an office off a service");
    }
    for p in &s.points {
        let _ = writeln!(
            o,
            "  {} cuts off {} office{}: {}",
            p.element,
            p.offices.len(),
            if p.offices.len() == 1 { "" } else { "s" },
            some(&loss_names(&p.offices))
        );
    }
    if !s.single_data_center.is_empty() {
        let _ = writeln!(
            o,
            "Offices reaching services through one data center only: {}",
            s.single_data_center.len()
        );
        let names: Vec<String> = s
            .single_data_center
            .iter()
            .map(|d| format!("{} ({}) on {}", d.display_name, d.site, d.data_center))
            .collect();
        let _ = writeln!(o, "  {}", some(&names));
    }
    if !s.already_lost.is_empty() {
        let _ = writeln!(
            o,
            "Offices that miss services with nothing failed: {}",
            some(&loss_names(&s.already_lost))
        );
    }
    o
}

fn spof_markdown(s: &Spof) -> String {
    let mut o = String::new();
    let a = &s.analysed;
    let _ = writeln!(o, "# Single points of failure\n");
    let _ = writeln!(
        o,
        "{} commune offices, {} elements, {} single failures analysed.\n",
        a.offices, a.elements, a.failures
    );
    let _ = writeln!(o, "| element | offices cut off | services lost |");
    let _ = writeln!(o, "|---|---|---|");
    for p in &s.points {
        let mut lost: Vec<String> = p.offices.iter().flat_map(|l| l.lost.clone()).collect();
        lost.sort();
        lost.dedup();
        let _ = writeln!(
            o,
            "| `{}` | {} | {} |",
            p.element,
            some(&loss_names(&p.offices)),
            lost.join(", ")
        );
    }
    if !s.single_data_center.is_empty() {
        let _ = writeln!(
            o,
            "\n## Offices reaching services through one data center only\n"
        );
        let _ = writeln!(o, "| office | site | data center | services |");
        let _ = writeln!(o, "|---|---|---|---|");
        for d in &s.single_data_center {
            let _ = writeln!(
                o,
                "| {} | `{}` | {} | {} |",
                d.display_name,
                d.site,
                d.data_center,
                d.lost.join(", ")
            );
        }
    }
    if !s.already_lost.is_empty() {
        let _ = writeln!(o, "\n## Offices that miss services with nothing failed\n");
        for l in &s.already_lost {
            let _ = writeln!(
                o,
                "- {} (`{}`): {}",
                l.display_name,
                l.site,
                l.lost.join(", ")
            );
        }
    }
    o
}
