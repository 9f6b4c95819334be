//! Output: diagnostics with source snippets for people (colour only on a terminal), JSON
//! documents for machines, and what a command prints when it stops at problems in its input.

use std::io::IsTerminal;

use anyhow::Result;
use serde::Serialize;

use crate::args::Output;
use crate::exit::Verdict;
use hatang_core::Checked;
use hatang_core::diag::{Diagnostic, Location, Severity};
use hatang_core::load::SourceFile;

/// Prints `value` as the one JSON document of stdout.
pub(crate) fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Why a command stopped before doing its work (exit code 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Stop {
    /// The inventory has errors.
    InvalidInventory,
    /// The ledger file cannot be parsed.
    InvalidLedger,
    /// A pin conflicts, a pool is exhausted: nothing was allocated.
    AllocationFailed,
    /// The ledger on disk lags the inventory: `hatang plan` first.
    StaleLedger,
    /// The inventory cannot be compiled into device configurations.
    CompileFailed,
    /// The merge list of `ipam renumber` has errors.
    InvalidMergeList,
    /// The inventory cannot be run as a lab.
    LabPlanFailed,
    /// The lab did not come up (it may be partly up).
    LabNotUp,
    /// Route selection has no stable state for some prefix (`hatang whatif`).
    RoutingUnstable,
}

/// A command stopping at problems in its input: the diagnostics, then one line saying what was
/// not done; with `-o json` the same as one document.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Stopped<'a> {
    /// Why.
    pub stopped: Stop,
    /// What was not done, for people.
    pub message: String,
    /// The problems.
    pub diagnostics: &'a [Diagnostic],
}

impl Stopped<'_> {
    /// Prints the stop (diagnostics with snippets from `sources`, at most `max` in text) and
    /// gives the verdict. A stop without diagnostics is said on stderr, as a note about the run.
    pub(crate) fn print(
        &self,
        output: Output,
        sources: &[SourceFile],
        max: usize,
    ) -> Result<Verdict> {
        match output {
            Output::Json => print_json(self)?,
            Output::Text if self.diagnostics.is_empty() => eprintln!("hatang: {}", self.message),
            Output::Text => {
                print_diagnostics_from(sources, self.diagnostics, max);
                println!("{}", self.message);
            }
        }
        Ok(Verdict::Problems)
    }
}

/// Stops at an invalid inventory: its errors (and warnings), then `message`.
pub(crate) fn invalid_inventory(
    checked: &Checked,
    output: Output,
    max: usize,
    message: String,
) -> Result<Verdict> {
    Stopped {
        stopped: Stop::InvalidInventory,
        message,
        diagnostics: &checked.diagnostics,
    }
    .print(output, &checked.loaded.sources, max)
}

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// Prints up to `max` of an inventory's diagnostics with the source line they point at.
pub(crate) fn print_diagnostics(checked: &Checked, max: usize) {
    print_diagnostics_from(&checked.loaded.sources, &checked.diagnostics, max);
}

/// Prints up to `max` diagnostics, with the line of `sources` each points at.
pub(crate) fn print_diagnostics_from(
    sources: &[SourceFile],
    diagnostics: &[Diagnostic],
    max: usize,
) {
    let style = Style {
        on: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    for d in diagnostics.iter().take(max) {
        print_one(sources, d, &style);
    }
    if diagnostics.len() > max {
        println!(
            "… and {} more (raise --max-problems or use --output json)\n",
            diagnostics.len() - max
        );
    }
}

fn print_one(sources: &[SourceFile], d: &Diagnostic, style: &Style) {
    let (word, colour) = match d.severity {
        Severity::Error => ("error", "1;31"),
        Severity::Warning => ("warning", "1;33"),
    };
    let head = style.paint(colour, &format!("{word}[{}]", d.code));
    match &d.object {
        Some(o) => println!("{head}: {} ({o})", d.message),
        None => println!("{head}: {}", d.message),
    }
    if let Some(loc) = &d.location {
        println!("  {} {loc}", style.paint("1;34", "-->"));
        snippet(sources, loc, style);
    }
    for r in &d.related {
        println!(
            "  {} {}: {}",
            style.paint("1;34", "-->"),
            r.location,
            r.message
        );
    }
    if let Some(h) = &d.hint {
        println!("  {} {h}", style.paint("1;36", "hint:"));
    }
    println!();
}

fn snippet(sources: &[SourceFile], loc: &Location, style: &Style) {
    let Some(source) = sources
        .iter()
        .find(|s| s.path.display().to_string() == loc.file)
    else {
        return;
    };
    let Some(line) = source.text.lines().nth(loc.line.saturating_sub(1) as usize) else {
        return;
    };
    let number = loc.line.to_string();
    let pad = " ".repeat(number.len());
    let bar = style.paint("1;34", "|");
    println!("  {pad} {bar}");
    println!("  {} {bar} {line}", style.paint("1;34", &number));
    let caret_at: String = line
        .chars()
        .take(loc.column.saturating_sub(1) as usize)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    println!("  {pad} {bar} {caret_at}{}", style.paint("1;31", "^"));
}
