//! One function per subcommand.

mod import;
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
