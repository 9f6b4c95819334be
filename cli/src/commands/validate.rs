//! `hatang validate`.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use crate::args::{InventoryArgs, Output};
use crate::output::print_diagnostics;

pub fn run(args: &InventoryArgs, output: Output) -> Result<ExitCode> {
    let checked = super::check(args)?;
    let (errors, warnings) = (checked.errors(), checked.warnings());
    match output {
        Output::Json => {
            let doc = json!({
                "valid": errors == 0,
                "files": checked.loaded.sources.len(),
                "objects": checked.loaded.inventory.len(),
                "errors": errors,
                "warnings": warnings,
                "diagnostics": checked.diagnostics,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Output::Text => {
            print_diagnostics(&checked, args.max_problems);
            let paths: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
            println!(
                "{}: {} objects in {} files — {errors} errors, {warnings} warnings{}",
                paths.join(" "),
                checked.loaded.inventory.len(),
                checked.loaded.sources.len(),
                if errors == 0 { " — valid" } else { "" }
            );
        }
    }
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
