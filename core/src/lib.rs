//! `hatang-core` owns the inventory model and everything that is a pure function of an inventory:
//! loading YAML into typed objects with positions, semantic validation, statistics, the JSON Schema
//! and its Markdown reference, import of official GSO administrative-unit lists, allocation
//! (IPAM), compilation and rendering of device configurations, failure analysis on the compiled
//! models ([`whatif`]), the drift audit, and the apply transaction's state machine, journal and
//! audit record ([`apply`]).
//!
//! It must not open network connections, spawn processes or depend on an async runtime; the only
//! I/O it does is reading the inventory files it is asked to load. Effects belong in
//! `hatang-driver` (devices) and `hatang-operator` (Kubernetes).

pub mod apply;
pub mod audit;
pub mod capacity;
pub mod compile;
pub mod diag;
pub mod import;
pub mod ipam;
pub mod load;
pub mod model;
pub mod names;
pub mod render;
pub mod schema;
pub mod stats;
pub mod text;
pub mod validate;
pub mod whatif;

pub use diag::{Diagnostic, Location, ObjectRef, Severity, Subject};
pub use load::{LoadOptions, Loaded, load_paths};
pub use model::{Inventory, Kind};

use std::path::PathBuf;

/// An inventory loaded and validated: objects, sources and every problem, sorted.
pub struct Checked {
    /// The loaded files and objects.
    pub loaded: Loaded,
    /// Loader and validation problems together, by file and line.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// Number of errors.
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// Number of warnings.
    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

/// Loads `paths` and validates what loaded, as `hatang validate` does.
pub fn check(
    paths: &[PathBuf],
    load_options: &LoadOptions,
    validate_options: &validate::ValidateOptions,
) -> Result<Checked, load::LoadError> {
    let mut loaded = load_paths(paths, load_options)?;
    let mut diagnostics = std::mem::take(&mut loaded.diagnostics);
    diagnostics.extend(validate::validate(
        &loaded.inventory,
        &loaded.locator(),
        validate_options,
    ));
    diag::sort(&mut diagnostics);
    Ok(Checked {
        loaded,
        diagnostics,
    })
}
