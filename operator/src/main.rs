//! `hatang-operator`: prints or writes the generated manifests, and runs the controllers.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use hatang_operator::manifests;

#[derive(Parser)]
#[command(
    name = "hatang-operator",
    version,
    about = "Kubernetes operator for hatang resources"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the CustomResourceDefinitions as one YAML stream, or write them under --out.
    Crd {
        /// Directory to write `crds/*.yaml` into (the manifests directory).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write every generated manifest (CRDs, RBAC, operator, kustomization, samples).
    Manifests {
        /// The manifests directory.
        #[arg(long, default_value = "manifests")]
        out: PathBuf,
        /// Inventory to render as sample resources under `samples/`.
        #[arg(long, default_value = "inventories/lab")]
        samples: PathBuf,
        /// Do not write: fail when a file differs from what would be written.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Crd { out: None } => {
            let crds = hatang_operator::crd::all()?;
            print!("{}", manifests::yaml_stream(&crds)?);
            Ok(())
        }
        Command::Crd { out: Some(dir) } => {
            let files = manifests::install()?
                .into_iter()
                .filter(|(p, _)| p.starts_with("crds"))
                .collect();
            write(&dir, files, false)
        }
        Command::Manifests {
            out,
            samples,
            check,
        } => {
            let mut files = manifests::install()?;
            files.extend(manifests::samples(&load(&samples)?)?);
            write(&out, files, check)
        }
    }
}

fn load(path: &Path) -> Result<hatang_core::Inventory> {
    let loaded = hatang_core::load_paths(&[path.to_owned()], &Default::default())
        .with_context(|| format!("loading {}", path.display()))?;
    if loaded.has_errors() {
        bail!(
            "{} does not load cleanly; run `hatang validate {}`",
            path.display(),
            path.display()
        );
    }
    Ok(loaded.inventory)
}

fn write(
    dir: &Path,
    files: std::collections::BTreeMap<PathBuf, String>,
    check: bool,
) -> Result<()> {
    let mut stale = Vec::new();
    for (rel, text) in files {
        let path = dir.join(&rel);
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() == Some(text.as_str()) {
            continue;
        }
        if check {
            stale.push(rel.display().to_string());
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    if !stale.is_empty() {
        bail!(
            "stale: {} (regenerate with `cargo run -p hatang-operator -- manifests`)",
            stale.join(", ")
        );
    }
    Ok(())
}
