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
    let checked = super::check(&args.inventory)?;
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
