//! One function per subcommand; this module dispatches, and holds the steps several commands
//! share: load + validate ([`check`]), and load + validate + lock + allocate ([`planned`]).

mod apply;
mod audit;
mod backup;
mod capacity;
mod cluster;
mod fleet;
mod import;
mod ipam;
mod lab;
mod plan;
mod plan_configs;
mod render;
mod stats;
mod validate;
mod whatif;

use anyhow::Result;
use chrono::NaiveDate;
use clap::CommandFactory;

use crate::args::{Cli, Command, InventoryArgs, Output};
use crate::exit::{Verdict, usage};
use crate::output::{Stop, Stopped};
use hatang_core::load::LoadError;
use hatang_core::validate::ValidateOptions;
use hatang_core::{Checked, LoadOptions};

/// Runs the command `cli` names.
pub(crate) fn run(cli: Cli) -> Result<Verdict> {
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Stats(args) => stats::run(&args),
        Command::Capacity(args) => capacity::run(&args),
        Command::Plan(args) if args.cluster => cluster::plan(&args.inventory, args.output.format),
        Command::Plan(args) => plan::run(&args),
        Command::Render(args) => render::run(&args),
        Command::Audit(args) => audit::run(&args),
        Command::Backup(args) => backup::run(&args),
        Command::Whatif(args) => whatif::run(&args),
        Command::Apply(args) if args.cluster => cluster::apply(
            &InventoryArgs::with_defaults(args.paths, args.today),
            args.output.format,
        ),
        Command::Apply(args) => apply::run(&args),
        Command::Ipam(cmd) => ipam::run(cmd),
        Command::Lab(cmd) => lab::run(cmd),
        Command::Schema => schema(),
        Command::Import(import) => import::run(import),
        Command::Completions { shell } => completions(shell),
    }
}

/// `hatang schema`.
fn schema() -> Result<Verdict> {
    crate::output::print_json(&hatang_core::schema::inventory_schema())?;
    Ok(Verdict::Ok)
}

/// `hatang completions SHELL`.
fn completions(shell: clap_complete::Shell) -> Result<Verdict> {
    clap_complete::generate(shell, &mut Cli::command(), "hatang", &mut std::io::stdout());
    Ok(Verdict::Ok)
}

/// The day lease dates and accepted deviations are judged on: `--today`, else the local date.
pub(crate) fn today(given: Option<NaiveDate>) -> NaiveDate {
    given.unwrap_or_else(|| chrono::Local::now().date_naive())
}

/// Loads and validates the inventory named by `args`. Paths that name nothing are usage errors;
/// other failures to read are runtime failures.
fn check(args: &InventoryArgs) -> Result<Checked> {
    let load = LoadOptions {
        max_file_bytes: args.max_file_size,
        ..LoadOptions::default()
    };
    hatang_core::check(&args.paths, &load, &ValidateOptions::on(today(args.today))).map_err(|e| {
        let wrong_path = match &e {
            LoadError::Unreadable { source, .. } => crate::exit::names_nothing(source),
            LoadError::Empty(_) => true,
        };
        if wrong_path { usage(e) } else { e.into() }
    })
}

/// An inventory with its allocations planned on top of its ledger (the lock held).
pub(crate) struct Planned {
    pub checked: Checked,
    pub allocation: hatang_core::ipam::Allocation,
    pub lock: crate::ledger_file::LedgerLock,
}

/// Loads, validates and plans `args`; when the inventory, its ledger or the allocation has
/// problems, prints them (as `output` says) and gives the verdict instead.
pub(crate) fn planned(
    args: &InventoryArgs,
    output: Output,
) -> Result<std::result::Result<Planned, Verdict>> {
    let checked = check(args)?;
    if checked.errors() > 0 {
        let message = format!(
            "{} errors: fix the inventory before planning",
            checked.errors()
        );
        return Ok(Err(crate::output::invalid_inventory(
            &checked,
            output,
            args.max_problems,
            message,
        )?));
    }
    if args.paths.len() != 1 {
        return Err(crate::exit::usage_error!(
            "planning takes one inventory directory (its ledger lives beside it)"
        ));
    }
    let path = crate::ledger_file::ledger_path(&args.paths[0]);
    let lock = crate::ledger_file::LedgerLock::acquire(&path)?;
    let before = match lock.read()? {
        Ok(l) => l,
        Err(d) => {
            let stop = Stopped {
                stopped: Stop::InvalidLedger,
                message: format!("`{}` cannot be read as a ledger", path.display()),
                diagnostics: std::slice::from_ref(&*d),
            };
            return Ok(Err(stop.print(output, &[], args.max_problems)?));
        }
    };
    let allocation = match hatang_core::ipam::allocate(
        &checked.loaded.inventory,
        before,
        &checked.loaded.locator(),
        today(args.today),
    ) {
        Ok(a) => a,
        Err(problems) => {
            let stop = Stopped {
                stopped: Stop::AllocationFailed,
                message: format!("{} allocation errors: nothing was written", problems.len()),
                diagnostics: &problems,
            };
            return Ok(Err(stop.print(
                output,
                &checked.loaded.sources,
                args.max_problems,
            )?));
        }
    };
    Ok(Ok(Planned {
        checked,
        allocation,
        lock,
    }))
}
