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
    let mut checked = super::check(inventory)?;
    add_pin_problems(&mut checked, inventory)?;
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

/// Adds what `hatang plan` would refuse about pins — outside their pool, colliding, over a value
/// the ledger gives someone else — so that a CI job that only validates catches them. The
/// ledger is the one beside a single inventory directory (`allocations.lock.yaml`); a ledger
/// that cannot be parsed is reported as a problem too. Skipped while the inventory has errors
/// of its own (pins are judged on a loadable inventory, as `plan` does).
fn add_pin_problems(
    checked: &mut hatang_core::Checked,
    args: &crate::args::InventoryArgs,
) -> Result<()> {
    if checked.errors() > 0 {
        return Ok(());
    }
    let ledger = match args.paths.as_slice() {
        [dir] if dir.is_dir() => {
            let path = crate::ledger_file::ledger_path(dir);
            match std::fs::read_to_string(&path) {
                Ok(text) => match hatang_core::ipam::Ledger::parse(&path, &text) {
                    Ok(ledger) => ledger,
                    Err(d) => {
                        checked.diagnostics.push(*d);
                        return Ok(());
                    }
                },
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Default::default(),
                Err(e) => return Err(crate::exit::input(&path, e)),
            }
        }
        _ => Default::default(),
    };
    let problems = hatang_core::ipam::check_pins(
        &checked.loaded.inventory,
        &ledger,
        &checked.loaded.locator(),
        super::today(args.today),
    );
    checked.diagnostics.extend(problems);
    hatang_core::diag::sort(&mut checked.diagnostics);
    Ok(())
}
