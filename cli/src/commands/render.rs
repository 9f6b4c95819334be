//! `hatang render`: device configurations from the inventory and its planned ledger.

use std::path::Path;

use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::Serialize;

use crate::args::{InventoryArgs, Output, RenderArgs};
use crate::exit::{OrUsage, Verdict};
use crate::ledger_file::write_replacing;
use crate::output::{Stop, Stopped, print_json};
use hatang_core::compile::compile;
use hatang_core::render::{RenderedFile, Templates, render};

/// Every device's rendered configuration, with the inventory it came from.
pub(super) struct Desired {
    /// The checked inventory (and its planned allocations).
    pub planned: super::Planned,
    /// Compiled models, one per device.
    pub models: Vec<hatang_core::compile::DeviceModel>,
    /// Rendered files.
    pub files: Vec<RenderedFile>,
    /// Devices on platforms without templates.
    pub skipped: Vec<String>,
}

/// Loads, validates and plans the inventory, compiles and renders it (with `templates`
/// overriding the built-in ones); when something in the way has problems, prints them (as
/// `output` says) and gives the verdict instead. Shared by `render`, `audit` and `apply`.
pub(super) fn desired(
    inventory: &InventoryArgs,
    templates_dir: Option<&Path>,
    output: Output,
) -> Result<std::result::Result<Desired, Verdict>> {
    let p = match super::planned(inventory, output)? {
        Ok(p) => p,
        Err(verdict) => return Ok(Err(verdict)),
    };
    if !p.allocation.changes.is_empty() {
        let stop = Stopped {
            stopped: Stop::StaleLedger,
            message: format!(
                "the ledger needs {} changes; run `hatang plan` first so configurations match the committed allocations",
                p.allocation.changes.len()
            ),
            diagnostics: &[],
        };
        return Ok(Err(stop.print(output, &[], inventory.max_problems)?));
    }
    let models = match compile(&p.checked.loaded.inventory, &p.allocation.ledger) {
        Ok(m) => m,
        Err(problems) => {
            let stop = Stopped {
                stopped: Stop::CompileFailed,
                message: format!(
                    "{} problems compiling device configurations",
                    problems.len()
                ),
                diagnostics: &problems,
            };
            let sources = &p.checked.loaded.sources;
            return Ok(Err(stop.print(output, sources, inventory.max_problems)?));
        }
    };
    let templates = templates(templates_dir)?;
    let (files, skipped) = render(&models, &templates)?;
    Ok(Ok(Desired {
        planned: p,
        models,
        files,
        skipped,
    }))
}

/// The built-in templates, overridden by `dir/<platform>/<file>.hbs` when given (a directory
/// that cannot be read, or a template that does not compile, is a usage error).
pub(super) fn templates(templates_dir: Option<&Path>) -> Result<Templates> {
    Ok(match templates_dir {
        Some(dir) => Templates::with_overrides(dir).or_usage()?,
        None => Templates::builtin(),
    })
}

/// `hatang render -o json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Rendered<'a> {
    /// The output directory.
    out: String,
    /// Devices rendered.
    devices: usize,
    /// Files written, as `<device>/<file>` under `out`.
    files: Vec<String>,
    /// Devices on platforms without templates (not rendered).
    skipped: &'a [String],
}

pub(super) fn run(args: &RenderArgs) -> Result<Verdict> {
    let output = args.output.format;
    let Desired {
        models,
        files,
        skipped,
        ..
    } = match desired(&args.inventory, args.templates.as_deref(), output)? {
        Ok(d) => d,
        Err(verdict) => return Ok(verdict),
    };
    files.par_iter().try_for_each(|f| -> Result<()> {
        let dir = args.out.join(&f.device);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
        write_replacing(&dir.join(&f.file), &f.text, false)
    })?;
    for s in &skipped {
        eprintln!("warning: no templates for the platform of `{s}`; not rendered");
    }
    let devices = models.len() - skipped.len();
    match output {
        Output::Json => print_json(&Rendered {
            out: args.out.display().to_string(),
            devices,
            files: files
                .iter()
                .map(|f| format!("{}/{}", f.device, f.file))
                .collect(),
            skipped: &skipped,
        })?,
        Output::Text => println!(
            "rendered {} files for {devices} devices into {}",
            files.len(),
            args.out.display()
        ),
    }
    Ok(Verdict::Ok)
}
