//! `hatang render`: device configurations from the inventory and its planned ledger.

use std::path::Path;

use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::Serialize;

use crate::args::{InventoryArgs, Layout, Output, RenderArgs};
use crate::exit::{OrUsage, Verdict};
use crate::ledger_file::write_replacing;
use crate::output::{Stop, Stopped, print_json};
use hatang_core::compile::compile;
use hatang_core::render::{RenderedFile, Templates, render_devices};
use hatang_core::{Diagnostic, Kind, ObjectRef};

/// Every device's rendered configuration, with the inventory it came from.
pub(super) struct Desired {
    /// The checked inventory (and its planned allocations).
    pub planned: super::Planned,
    /// Compiled models, one per device.
    pub models: Vec<hatang_core::compile::DeviceModel>,
    /// Rendered files.
    pub files: Vec<RenderedFile>,
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
    let (files, failed) = rendered(&models, &templates)?;
    if !failed.is_empty() {
        let stop = Stopped {
            stopped: Stop::RenderFailed,
            message: format!(
                "{} devices cannot be rendered: nothing was written or applied",
                failed.len()
            ),
            diagnostics: &failed,
        };
        return Ok(Err(stop.print(output, &[], inventory.max_problems)?));
    }
    Ok(Ok(Desired {
        planned: p,
        models,
        files,
    }))
}

/// Every device's files, or what keeps each device that cannot be rendered from it (a
/// platform without templates, a template that fails on its model), one problem per device.
/// Fails as a whole only when a template does not parse.
fn rendered(
    models: &[hatang_core::compile::DeviceModel],
    templates: &Templates,
) -> Result<(Vec<RenderedFile>, Vec<Diagnostic>)> {
    let mut files = Vec::new();
    let mut failed = Vec::new();
    for (m, r) in models.iter().zip(render_devices(models, templates)?) {
        let device = ObjectRef::new(Kind::Device, &m.name);
        match r {
            Ok(Some(f)) => files.extend(f),
            Ok(None) => failed.push(
                Diagnostic::error(
                    "no-templates",
                    format!(
                        "device `{}`: no templates for its platform `{}`",
                        m.name,
                        m.platform.as_str()
                    ),
                )
                .object(device)
                .hint(
                    "give the platform's templates with --templates DIR, or change spec.platform",
                ),
            ),
            Err(e) => failed.push(Diagnostic::error("render-failed", e.to_string()).object(device)),
        }
    }
    Ok((files, failed))
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
struct Rendered {
    /// The output directory.
    out: String,
    /// Devices rendered.
    devices: usize,
    /// Files written under `out`: `<device>/<file>`, or `<device>.conf` with `--layout saved`.
    files: Vec<String>,
}

pub(super) fn run(args: &RenderArgs) -> Result<Verdict> {
    let output = args.output.format;
    let Desired { models, files, .. } =
        match desired(&args.inventory, args.templates.as_deref(), output)? {
            Ok(d) => d,
            Err(verdict) => return Ok(verdict),
        };
    let files: Vec<(String, &RenderedFile)> = files
        .iter()
        .filter_map(|f| placed(args.layout, f).map(|rel| (rel, f)))
        .collect();
    files.par_iter().try_for_each(|(rel, f)| -> Result<()> {
        let path = args.out.join(rel);
        let dir = path.parent().unwrap_or(&args.out);
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
        write_replacing(&path, &f.text, false)
    })?;
    let devices = models.len();
    match output {
        Output::Json => print_json(&Rendered {
            out: args.out.display().to_string(),
            devices,
            files: files.iter().map(|(rel, _)| rel.clone()).collect(),
        })?,
        Output::Text => println!(
            "rendered {} files for {devices} devices into {}",
            files.len(),
            args.out.display()
        ),
    }
    Ok(Verdict::Ok)
}

/// Where a rendered file goes under OUT in `layout`, if it is written at all: with `saved`,
/// only FRR's `frr.conf`, as `<device>.conf` (what `hatang backup` saves and `audit --saved`
/// reads).
fn placed(layout: Layout, f: &RenderedFile) -> Option<String> {
    match layout {
        Layout::Devices => Some(format!("{}/{}", f.device, f.file)),
        Layout::Saved => (f.file == "frr.conf").then(|| format!("{}.conf", f.device)),
    }
}
