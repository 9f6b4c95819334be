//! Project chores, run as `cargo run -p xtask -- <task>`:
//!
//! - `examples --data DIR`: regenerate the generated parts of `inventories/*` from the GSO lists.
//! - `nationwide --data DIR --out DIR [--pinned]`: write the nationwide benchmark inventory;
//!   with `--pinned`, every value pinned to what its ledger holds (default out:
//!   `target/nationwide-pinned`), as a city importing its existing addressing writes it.
//! - `bench-fleet --devices N --out DIR [--data DIR]`: write the audit benchmark's lab inventory
//!   of exactly N devices (scripts/bench-audit.sh).
//! - `docs`: regenerate `docs/inventory.md` and `docs/inventory.schema.json`.

mod cities;
mod fleet;
mod generate;
mod pinned;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| -> Option<PathBuf> {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(PathBuf::from)
    };
    let root = workspace_root();
    let data = flag("--data").unwrap_or_else(|| root.join("../shared/data"));
    match args.first().map(String::as_str) {
        Some("examples") => {
            for city in cities::all() {
                let dir = root.join("inventories").join(city.dir);
                let files = generate::city(&city, &data)?;
                write_generated(&dir, &files)?;
                println!("{}: {} generated files", dir.display(), files.len());
            }
            copy_merge_list(&root, &data)
        }
        Some("nationwide") => {
            let pin = args.iter().any(|a| a == "--pinned");
            let out = flag("--out").unwrap_or_else(|| match pin {
                true => pinned::default_dir(&root),
                false => root.join("target/nationwide"),
            });
            let files = generate::nationwide(&data)?;
            write_generated(&out, &files)?;
            if pin {
                pinned::pin_generated(&out, &files)?;
            }
            println!("{}: {} files", out.display(), files.len());
            Ok(())
        }
        Some("bench-fleet") => {
            let out = flag("--out").unwrap_or_else(|| root.join("target/bench-fleet"));
            let devices = match args.iter().position(|a| a == "--devices") {
                Some(i) => args
                    .get(i + 1)
                    .and_then(|n| n.parse().ok())
                    .context("--devices needs a number")?,
                None => 200,
            };
            let files = fleet::bench_fleet(&data, devices)?;
            write_generated(&out, &files)?;
            println!(
                "{}: {devices} devices, {} files",
                out.display(),
                files.len()
            );
            Ok(())
        }
        Some("docs") => {
            let docs = root.join("docs");
            std::fs::write(
                docs.join("inventory.md"),
                hatang_core::schema::inventory_reference(),
            )?;
            let schema = serde_json::to_string_pretty(&hatang_core::schema::inventory_schema())?;
            std::fs::write(docs.join("inventory.schema.json"), schema + "\n")?;
            println!("wrote docs/inventory.md and docs/inventory.schema.json");
            Ok(())
        }
        _ => {
            bail!(
                "usage: xtask examples [--data DIR] | nationwide [--data DIR] [--out DIR] [--pinned] \
                 | bench-fleet [--devices N] [--data DIR] [--out DIR] | docs"
            )
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .to_owned()
}

/// The GSO province code of Hà Nội, whose merge rows the example renumbering uses.
const HANOI: u32 = 1;

/// Copies the Hà Nội rows of the 2025 merge list into the repository, so that the renumbering
/// example and its tests never read `../shared` at run time.
fn copy_merge_list(root: &Path, data: &Path) -> Result<()> {
    let src = data.join("vn-commune-merge-2025.csv");
    let text =
        std::fs::read_to_string(&src).with_context(|| format!("reading {}", src.display()))?;
    let rows =
        hatang_core::ipam::renumber::filter_map_text(&src, &text, HANOI).map_err(|errors| {
            let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow::anyhow!("{}", all.join("\n"))
        })?;
    let out = root.join("inventories/hanoi/renumbering/merge-2025-hanoi.csv");
    std::fs::create_dir_all(out.parent().expect("has a parent"))?;
    std::fs::write(&out, &rows).with_context(|| format!("writing {}", out.display()))?;
    println!("{}: {} merge rows", out.display(), rows.lines().count() - 1);
    Ok(())
}

/// Replaces the generated subtrees (`generated/`) of an inventory, leaving hand-written files alone.
fn write_generated(dir: &Path, files: &[(PathBuf, String)]) -> Result<()> {
    let generated = dir.join("generated");
    if generated.exists() {
        std::fs::remove_dir_all(&generated)
            .with_context(|| format!("cleaning {}", generated.display()))?;
    }
    for (rel, text) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
