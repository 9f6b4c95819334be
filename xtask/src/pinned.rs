//! The nationwide inventory with every value pinned to what its ledger holds: the brownfield
//! benchmark (`hatang plan target/nationwide-pinned`), a city importing its existing addressing.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use serde::Serialize;

use hatang_core::ipam::{self, Ledger, brownfield};
use hatang_core::model::{API_VERSION, Inventory, Manifest, Object};
use hatang_core::{LoadOptions, load_paths};

use crate::generate::Files;

/// Rewrites the generated files under `dir` (written from `files`) with every value pinned: the
/// inventory is loaded, planned on an empty ledger (what `hatang plan` would write first) and
/// each object written again with the ledger's values as pins.
pub(crate) fn pin_generated(dir: &Path, files: &Files) -> Result<()> {
    let loaded = load_paths(&[dir.to_owned()], &LoadOptions::default())?;
    if loaded.has_errors() {
        bail!(
            "{}: the generated inventory does not load cleanly",
            dir.display()
        );
    }
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).expect("valid date");
    let ledger = ipam::allocate(
        &loaded.inventory,
        Ledger::default(),
        &loaded.locator(),
        today,
    )
    .map_err(|problems| anyhow::anyhow!("planning failed: {} problems", problems.len()))?
    .ledger;
    let mut inventory = loaded.inventory;
    brownfield::pin_all(&mut inventory, &ledger);
    // The generated files hold regions, sites, devices and circuits; the hand-written data
    // centers and address plan pin nothing and stay as they are.
    for (rel, _) in files.iter().filter(|(rel, _)| rel.starts_with("generated")) {
        let path = dir.join(rel);
        let Some(file) = inventory.files.iter().position(|f| f == &path) else {
            continue;
        };
        let text = documents(&inventory, u32::try_from(file)?)?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The objects loaded from file `file`, in their order there, as YAML documents.
fn documents(inv: &Inventory, file: u32) -> Result<String> {
    let mut docs: Vec<(u32, String)> = Vec::new();
    push_kind(&mut docs, "Region", &inv.regions, file)?;
    push_kind(&mut docs, "Site", &inv.sites, file)?;
    push_kind(&mut docs, "Device", &inv.devices, file)?;
    push_kind(&mut docs, "Circuit", &inv.circuits, file)?;
    docs.sort_by_key(|(doc, _)| *doc);
    Ok(docs.into_iter().map(|(_, text)| text).collect())
}

fn push_kind<S: Serialize + Clone>(
    docs: &mut Vec<(u32, String)>,
    kind: &str,
    objects: &[Object<S>],
    file: u32,
) -> Result<()> {
    for o in objects.iter().filter(|o| o.origin.file == file) {
        let manifest = Manifest {
            api_version: API_VERSION.to_owned(),
            kind: kind.to_owned(),
            metadata: o.metadata.clone(),
            spec: o.spec.clone(),
        };
        let yaml = serde_saphyr::to_string(&manifest).context("serialising YAML")?;
        docs.push((o.origin.doc, format!("---\n{yaml}")));
    }
    Ok(())
}

/// Where `nationwide --pinned` writes by default.
pub(crate) fn default_dir(root: &Path) -> PathBuf {
    root.join("target/nationwide-pinned")
}
