//! `hatang report`: gathers what the pure report needs (the checked inventory, its ledger and
//! pool use, the Git commit, an audit file, the history), has `hatang_core::report` build and
//! render it, and writes it.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::args::{AuditReportArgs, Output, ReportFormat};
use crate::exit::{Verdict, usage_error};
use hatang_core::ipam::{self, Ledger};
use hatang_core::report::{self, Header, HistoryPoint, Inputs};

pub(super) fn run(args: &AuditReportArgs) -> Result<Verdict> {
    let inventory = &args.inventory;
    let checked = super::check(inventory)?;
    if checked.errors() > 0 {
        let output = match args.format {
            ReportFormat::Json => Output::Json,
            _ => Output::Text,
        };
        let message = format!(
            "{} errors: a malformed inventory gets no report (findings alone never stop it)",
            checked.errors()
        );
        return crate::output::invalid_inventory(&checked, output, inventory.max_problems, message);
    }
    let today = super::today(inventory.today);
    let drift = match &args.audit {
        None => None,
        Some(path) => Some(read_audit(path)?),
    };
    let history = match &args.history {
        None => Vec::new(),
        Some(dir) => read_history(dir)?,
    };
    let ledger = read_ledger(&inventory.paths)?;
    // Pool use needs an allocation over the whole inventory and the commit a `git` process:
    // both run beside the metrics instead of before them (the report's cost over `validate`).
    let built = std::thread::scope(|scope| {
        let pools = scope.spawn(|| pool_use(&checked, ledger.as_ref(), today));
        let commit = scope.spawn(|| git_commit(&inventory.paths[0]));
        let mut built = report::build(
            &checked.loaded.inventory,
            Inputs {
                header: Header {
                    inventory: inventory
                        .paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(" "),
                    commit: None,
                    judged_on: today,
                    tool_version: env!("CARGO_PKG_VERSION").to_owned(),
                },
                diagnostics: &checked.diagnostics,
                ledger: ledger.as_ref(),
                pools: Vec::new(),
                lease_window_days: args.lease_window,
                drift,
                history,
            },
        );
        built.pools = pools.join().unwrap_or_default();
        built.header.commit = commit.join().unwrap_or_default();
        built
    });
    if let Some(dir) = &args.history {
        write_history(dir, &HistoryPoint::of(&built))?;
    }
    let text = match args.format {
        ReportFormat::Html => report::html::render(&built),
        ReportFormat::Md => report::markdown::render(&built),
        ReportFormat::Csv => report::csv::render(&built),
        ReportFormat::Json => serde_json::to_string_pretty(&built)? + "\n",
    };
    match &args.out {
        Some(path) => crate::ledger_file::write_atomically(path, &text)?,
        None => {
            use std::io::Write;
            std::io::stdout().write_all(text.as_bytes())?;
        }
    }
    Ok(Verdict::Ok)
}

/// The ledger beside a single inventory directory, when there is one.
fn read_ledger(paths: &[PathBuf]) -> Result<Option<Ledger>> {
    let [dir] = paths else { return Ok(None) };
    let path = crate::ledger_file::ledger_path(dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", path.display())),
    };
    match Ledger::parse(&path, &text) {
        Ok(l) => Ok(Some(l)),
        Err(d) => Err(usage_error!("the ledger cannot be read: {d}")),
    }
}

/// Pool use as `hatang ipam utilization` gives it: the allocation planned in memory on top of
/// the ledger (nothing is written). Empty, with a note, when it cannot be planned.
fn pool_use(
    checked: &hatang_core::Checked,
    ledger: Option<&Ledger>,
    today: chrono::NaiveDate,
) -> Vec<ipam::report::Utilization> {
    if checked.loaded.inventory.address_plans.is_empty() {
        return Vec::new();
    }
    match ipam::allocate(
        &checked.loaded.inventory,
        ledger.cloned().unwrap_or_default(),
        &checked.loaded.locator(),
        today,
    ) {
        Ok(a) => ipam::report::utilization(&a.pools),
        Err(problems) => {
            eprintln!(
                "hatang: note: pool use left out: {} allocation problems (see `hatang plan`)",
                problems.len()
            );
            Vec::new()
        }
    }
}

/// The commit the inventory is at, `-dirty` when it has uncommitted changes; none outside Git.
fn git_commit(path: &Path) -> Option<String> {
    let dir = if path.is_dir() { path } else { path.parent()? };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let commit = git(&["rev-parse", "HEAD"])?;
    let dirty = git(&["status", "--porcelain", "--", "."]).is_some_and(|s| !s.is_empty());
    Some(if dirty {
        format!("{commit}-dirty")
    } else {
        commit
    })
}

fn read_audit(path: &Path) -> Result<report::DriftSummary> {
    let text = std::fs::read_to_string(path).map_err(|e| crate::exit::input(path, e))?;
    report::parse_audit(&text).map_err(|e| {
        usage_error!(
            "`{}` is not the JSON `hatang audit -o json` writes: {e}",
            path.display()
        )
    })
}

/// Every `<date>.json` of the history directory (none when it does not exist yet).
fn read_history(dir: &Path) -> Result<Vec<HistoryPoint>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(crate::exit::input(dir, e)),
    };
    let mut points = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| crate::exit::input(&path, e))?;
        let point: HistoryPoint = serde_json::from_str(&text)
            .map_err(|e| usage_error!("`{}` is not a report history file: {e}", path.display()))?;
        points.push(point);
    }
    Ok(points)
}

fn write_history(dir: &Path, point: &HistoryPoint) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let text = serde_json::to_string_pretty(point)? + "\n";
    crate::ledger_file::write_atomically(&dir.join(point.file_name()), &text)
}
