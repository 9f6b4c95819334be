//! `hatang render`: device configurations from the inventory and its planned ledger.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use rayon::prelude::*;

use crate::args::{InventoryArgs, RenderArgs};
use crate::ledger_file::write_replacing;
use hatang_core::compile::compile;
use hatang_core::render::{RenderedFile, Templates, render};

/// Every device's rendered configuration, with the inventory it came from.
pub struct Desired {
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
/// overriding the built-in ones); on failure prints why and gives the exit code. Shared by
/// `render` and `audit`.
pub fn desired(
    inventory: &InventoryArgs,
    templates_dir: Option<&Path>,
) -> Result<std::result::Result<Desired, ExitCode>> {
    let Ok(p) = super::planned(inventory)? else {
        return Ok(Err(ExitCode::from(1)));
    };
    if !p.allocation.changes.is_empty() {
        eprintln!(
            "hatang: the ledger needs {} changes; run `hatang plan` first so configurations match the committed allocations",
            p.allocation.changes.len()
        );
        return Ok(Err(ExitCode::from(1)));
    }
    let models = match compile(&p.checked.loaded.inventory, &p.allocation.ledger) {
        Ok(m) => m,
        Err(problems) => {
            for d in problems {
                println!("{d}\n");
            }
            return Ok(Err(ExitCode::from(1)));
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

/// The built-in templates, overridden by `dir/<platform>/<file>.hbs` when given.
pub fn templates(templates_dir: Option<&Path>) -> Result<Templates> {
    Ok(match templates_dir {
        Some(dir) => Templates::with_overrides(dir)?,
        None => Templates::builtin(),
    })
}

pub fn run(args: &RenderArgs) -> Result<ExitCode> {
    let Desired {
        models,
        files,
        skipped,
        ..
    } = match desired(&args.inventory, args.templates.as_deref())? {
        Ok(d) => d,
        Err(code) => return Ok(code),
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
    println!(
        "rendered {} files for {} devices into {}",
        files.len(),
        models.len() - skipped.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
