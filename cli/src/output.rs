//! Human output: diagnostics with source snippets, colour only on a terminal.

use std::io::IsTerminal;

use hatang_core::Checked;
use hatang_core::diag::{Diagnostic, Location, Severity};

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

/// Prints up to `max` diagnostics with the source line they point at.
pub fn print_diagnostics(checked: &Checked, max: usize) {
    let style = Style {
        on: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    for d in checked.diagnostics.iter().take(max) {
        print_one(checked, d, &style);
    }
    if checked.diagnostics.len() > max {
        println!(
            "… and {} more (raise --max-problems or use --output json)\n",
            checked.diagnostics.len() - max
        );
    }
}

fn print_one(checked: &Checked, d: &Diagnostic, style: &Style) {
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
        snippet(checked, loc, style);
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

fn snippet(checked: &Checked, loc: &Location, style: &Style) {
    let Some(source) = checked
        .loaded
        .sources
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
