//! One function per subcommand.

mod apply;
mod audit;
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

use std::process::ExitCode;

use anyhow::Result;
use clap::CommandFactory;

use crate::args::{Cli, Command, InventoryArgs};
use hatang_core::validate::ValidateOptions;
use hatang_core::{Checked, LoadOptions};

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Validate(args) => validate::run(&args, cli.output),
        Command::Stats(args) => stats::run(&args, cli.output),
        Command::Plan(args) if args.cluster => cluster::plan(&args.inventory, cli.output),
        Command::Plan(args) => plan::run(&args, cli.output),
        Command::Render(args) => render::run(&args),
        Command::Audit(args) => audit::run(&args, cli.output),
        Command::Apply(args) if args.cluster => cluster::apply(
            &InventoryArgs {
                paths: args.paths.clone(),
                today: args.today,
                max_file_size: 32 * 1024 * 1024,
                max_problems: 200,
            },
            cli.output,
        ),
        Command::Apply(args) => apply::run(&args, cli.output),
        Command::Ipam(cmd) => ipam::run(cmd, cli.output),
        Command::Lab(cmd) => lab::run(cmd, cli.output),
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&hatang_core::schema::inventory_schema())?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(import) => import::run(import),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "hatang", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Loads and validates the inventory named by `args`.
fn check(args: &InventoryArgs) -> Result<Checked> {
    let today = args
        .today
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let load = LoadOptions {
        max_file_bytes: args.max_file_size,
        ..LoadOptions::default()
    };
    Ok(hatang_core::check(
        &args.paths,
        &load,
        &ValidateOptions::on(today),
    )?)
}

fn today(args: &InventoryArgs) -> chrono::NaiveDate {
    args.today
        .unwrap_or_else(|| chrono::Local::now().date_naive())
}

/// An inventory with its allocations planned on top of its ledger (the lock held).
pub struct Planned {
    pub checked: Checked,
    pub allocation: hatang_core::ipam::Allocation,
    pub lock: crate::ledger_file::LedgerLock,
}

/// Loads, validates and plans `args`; on failure prints why and gives the exit code.
pub fn planned(args: &InventoryArgs) -> Result<std::result::Result<Planned, ExitCode>> {
    let checked = check(args)?;
    if checked.errors() > 0 {
        crate::output::print_diagnostics(&checked, args.max_problems);
        println!(
            "{} errors: fix the inventory before planning",
            checked.errors()
        );
        return Ok(Err(ExitCode::from(1)));
    }
    if args.paths.len() != 1 {
        anyhow::bail!("planning takes one inventory directory (its ledger lives beside it)");
    }
    let path = crate::ledger_file::ledger_path(&args.paths[0]);
    let lock = crate::ledger_file::LedgerLock::acquire(&path)?;
    let before = match lock.read()? {
        Ok(l) => l,
        Err(d) => {
            println!("{d}");
            return Ok(Err(ExitCode::from(1)));
        }
    };
    let allocation = match hatang_core::ipam::allocate(
        &checked.loaded.inventory,
        before,
        &checked.loaded.locator(),
        today(args),
    ) {
        Ok(a) => a,
        Err(problems) => {
            let shown = Checked {
                loaded: checked.loaded,
                diagnostics: problems,
            };
            crate::output::print_diagnostics(&shown, args.max_problems);
            println!(
                "{} allocation errors: nothing was written",
                shown.diagnostics.len()
            );
            return Ok(Err(ExitCode::from(1)));
        }
    };
    Ok(Ok(Planned {
        checked,
        allocation,
        lock,
    }))
}
