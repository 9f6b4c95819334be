//! Loading inventories: files and directories of multi-document YAML into a typed [`Inventory`].
//!
//! Every problem becomes a [`Diagnostic`] with file, line and column; loading goes on past a bad
//! document so that one run reports everything. Files are parsed in parallel and merged in path
//! order, so the result does not depend on thread timing.

pub mod de;
mod decode;
mod files;
pub mod locate;
pub mod yaml;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::diag::{Diagnostic, Location, ObjectRef};
use crate::model::{Inventory, Kind};

pub use files::{LoadError, discover};
pub use locate::{Locator, Seg};
pub use yaml::YamlLimits;

/// Largest inventory file loaded unless the caller says otherwise (32 MiB): far above any
/// hand-written file, small enough that a stray dump is refused before it is parsed.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Limits and switches for loading.
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    /// Largest file accepted, in bytes.
    pub max_file_bytes: u64,
    /// Limits applied while parsing YAML.
    pub yaml: YamlLimits,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            yaml: YamlLimits::default(),
        }
    }
}

/// A source file kept in memory so later stages can point into it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path as given or found.
    pub path: PathBuf,
    /// The file's text (empty when it could not be read as UTF-8).
    pub text: String,
}

/// What loading produced: the objects that decoded, and every problem found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Decoded objects.
    pub inventory: Inventory,
    /// The texts of the files read, indexed like [`Inventory::files`].
    pub sources: Vec<SourceFile>,
    /// Problems, in file order.
    pub diagnostics: Vec<Diagnostic>,
    /// The options the files were loaded with (the locator re-parses with the same limits).
    pub options: LoadOptions,
}

impl Loaded {
    /// Whether any problem is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// A locator over the loaded sources, to turn object paths into file positions.
    pub fn locator(&self) -> Locator<'_> {
        Locator::new(&self.sources, self.options.yaml)
    }
}

/// Loads every inventory file under `paths` (files or directories).
pub fn load_paths(paths: &[PathBuf], options: &LoadOptions) -> Result<Loaded, LoadError> {
    let files = discover(paths)?;
    Ok(load_files(files, options))
}

/// Loads the given files (in this order).
pub fn load_files(files: Vec<PathBuf>, options: &LoadOptions) -> Loaded {
    let per_file: Vec<(SourceFile, decode::FileResult)> = files
        .into_par_iter()
        .enumerate()
        .map(|(index, path)| {
            let (text, mut diags) = files::read_text(&path, options.max_file_bytes);
            let mut result = match &text {
                Some(text) => decode::decode_file(index as u32, &path, text, options.yaml),
                None => decode::FileResult::default(),
            };
            diags.append(&mut result.diagnostics);
            result.diagnostics = diags;
            (
                SourceFile {
                    path,
                    text: text.unwrap_or_default(),
                },
                result,
            )
        })
        .collect();

    let mut loaded = Loaded {
        options: *options,
        ..Loaded::default()
    };
    for (source, result) in per_file {
        loaded.inventory.files.push(source.path.clone());
        loaded.sources.push(source);
        loaded.diagnostics.extend(result.diagnostics);
        for object in result.objects {
            loaded.inventory.push(object);
        }
    }
    let dups = duplicate_names(&loaded);
    loaded.diagnostics.extend(dups);
    loaded
}

/// Loads documents from an in-memory text, as if read from `path` (tests, stdin).
pub fn load_str(path: &Path, text: &str, options: &LoadOptions) -> Loaded {
    let result = decode::decode_file(0, path, text, options.yaml);
    let mut loaded = Loaded {
        options: *options,
        ..Loaded::default()
    };
    loaded.inventory.files.push(path.to_owned());
    loaded.sources.push(SourceFile {
        path: path.to_owned(),
        text: text.to_owned(),
    });
    loaded.diagnostics = result.diagnostics;
    for object in result.objects {
        loaded.inventory.push(object);
    }
    let dups = duplicate_names(&loaded);
    loaded.diagnostics.extend(dups);
    loaded
}

fn duplicate_names(loaded: &Loaded) -> Vec<Diagnostic> {
    let locator = loaded.locator();
    let mut diags = Vec::new();
    for &kind in Kind::ALL {
        let mut seen: HashMap<(Option<&str>, &str), crate::model::Origin> = HashMap::new();
        for (name, namespace, origin) in loaded.inventory.identities(kind) {
            if let Some(first) = seen.get(&(namespace, name)) {
                diags.push(
                    Diagnostic::error(
                        "duplicate-name",
                        format!("{kind} `{name}` is defined more than once"),
                    )
                    .at(locator.locate(origin, &locate::path(["metadata", "name"])))
                    .object(ObjectRef::new(kind, name).in_namespace(namespace))
                    .related(
                        "first defined here",
                        locator.locate(*first, &locate::path(["metadata", "name"])),
                    )
                    .hint("names must be unique within a kind; rename or remove one of them"),
                );
            } else {
                seen.insert((namespace, name), origin);
            }
        }
    }
    diags
}

/// Location of a whole file (line 1, column 1), for file-level problems.
pub(crate) fn file_location(path: &Path) -> Location {
    Location {
        file: path.display().to_string(),
        line: 1,
        column: 1,
    }
}
