//! `hatang validate`.

use anyhow::Result;
use serde::Serialize;

use crate::args::{Output, ReportArgs};
use crate::exit::Verdict;
use crate::output::{print_diagnostics, print_json};
use hatang_core::Diagnostic;

/// `hatang validate -o json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Validation<'a> {
    valid: bool,
    files: usize,
    objects: usize,
    errors: usize,
    warnings: usize,
    diagnostics: &'a [Diagnostic],
}

pub(super) fn run(args: &ReportArgs) -> Result<Verdict> {
    let mut checked = super::check(&args.inventory)?;
    add_pin_problems(&mut checked, &args.inventory)?;
    let (errors, warnings) = (checked.errors(), checked.warnings());
    match args.output.format {
        Output::Json => print_json(&Validation {
            valid: errors == 0,
            files: checked.loaded.sources.len(),
            objects: checked.loaded.inventory.len(),
            errors,
            warnings,
            diagnostics: &checked.diagnostics,
        })?,
        Output::Text => {
            print_diagnostics(&checked, args.inventory.max_problems);
            let paths: Vec<String> = args
                .inventory
                .paths
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            println!(
                "{}: {} objects in {} files — {errors} errors, {warnings} warnings{}",
                paths.join(" "),
                checked.loaded.inventory.len(),
                checked.loaded.sources.len(),
                if errors == 0 { " — valid" } else { "" }
            );
        }
    }
    Ok(Verdict::problems_if(errors > 0))
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
