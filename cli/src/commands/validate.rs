//! `hatang validate`.

use anyhow::Result;
use serde::Serialize;

use crate::args::{Deny, Output, ValidateArgs};
use crate::exit::Verdict;
use crate::output::{print_diagnostics_from, print_json};
use hatang_core::{Diagnostic, Severity};

/// `hatang validate -o json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Validation<'a> {
    valid: bool,
    files: usize,
    objects: usize,
    errors: usize,
    warnings: usize,
    findings: usize,
    /// Findings `--deny` fails on.
    denied: usize,
    diagnostics: &'a [Diagnostic],
}

/// Whether `--deny` makes `d` fail the run.
fn denied(d: &Diagnostic, deny: &[Deny]) -> bool {
    d.finding_kind()
        .is_some_and(|kind| deny.iter().any(|rule| rule.covers(kind)))
}

pub(super) fn run(args: &ValidateArgs) -> Result<Verdict> {
    let inventory = &args.report.inventory;
    let checked = super::check(inventory)?;
    let (errors, warnings, findings) = (checked.errors(), checked.warnings(), checked.findings());
    let denied_count = checked
        .diagnostics
        .iter()
        .filter(|d| denied(d, &args.deny))
        .count();
    match args.report.output.format {
        Output::Json => print_json(&Validation {
            valid: errors == 0,
            files: checked.loaded.sources.len(),
            objects: checked.loaded.inventory.len(),
            errors,
            warnings,
            findings,
            denied: denied_count,
            diagnostics: &checked.diagnostics,
        })?,
        Output::Text => {
            // Denied findings are printed as the errors they are for this run.
            let shown: Vec<Diagnostic> = checked
                .diagnostics
                .iter()
                .map(|d| {
                    let mut d = d.clone();
                    if denied(&d, &args.deny) {
                        d.severity = Severity::Error;
                    }
                    d
                })
                .collect();
            print_diagnostics_from(&checked.loaded.sources, &shown, inventory.max_problems);
            let paths: Vec<String> = inventory
                .paths
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            let verdict = match (errors, denied_count) {
                (0, 0) => " — valid",
                (0, _) => " — valid, but denied findings fail the run",
                _ => "",
            };
            println!(
                "{}: {} objects in {} files — {errors} errors, {warnings} warnings, {findings} findings{}{verdict}",
                paths.join(" "),
                checked.loaded.inventory.len(),
                checked.loaded.sources.len(),
                if denied_count > 0 {
                    format!(" ({denied_count} denied)")
                } else {
                    String::new()
                },
            );
        }
    }
    Ok(Verdict::problems_if(errors > 0 || denied_count > 0))
}
