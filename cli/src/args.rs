//! Command-line grammar.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Infrastructure as code for a city's data centers, WAN and address plan.
///
/// hatang reads declarative inventories (Kubernetes-style YAML documents: Region, Site,
/// DataCenter, Device, Circuit, AddressPlan, Tenant, ColoLease, InformationSystem), checks them,
/// and reports on them.
#[derive(Debug, Parser)]
#[command(
    name = "hatang",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Output format.
    #[arg(long, short, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// For people: tables and source snippets.
    Text,
    /// For machines: one JSON document on stdout.
    Json,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check an inventory: syntax, schema, references, capacity, coverage and DR rules.
    ///
    /// Every problem is reported in one run, with file, line and column. Exit code 1 when any
    /// error is found; warnings alone exit 0.
    Validate(InventoryArgs),
    /// Print figures: objects by kind and role, commune coverage, rack and power use per data
    /// center, leases per tenant with end dates.
    ///
    /// Fails (exit 1) on an invalid inventory, printing its errors.
    Stats(InventoryArgs),
    /// Print the JSON Schema of inventory documents (for yaml-language-server and other editors).
    Schema,
    /// Create inventory documents from official lists.
    #[command(subcommand)]
    Import(Import),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Where the inventory is and how to judge it.
#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// Inventory files or directories (searched recursively for *.yaml and *.yml).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Judge lease dates as of this day (YYYY-MM-DD) instead of today.
    #[arg(long, value_name = "DATE")]
    pub today: Option<NaiveDate>,
    /// Largest inventory file accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 32 * 1024 * 1024)]
    pub max_file_size: u64,
    /// Print at most this many problems in text output (all are counted).
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub max_problems: usize,
}

/// Import sources.
#[derive(Debug, Subcommand)]
pub enum Import {
    /// Region documents (province, districts, communes) from a GSO administrative-unit CSV, in
    /// the layout before the 2025 reform (with districts) or after it (without).
    Regions {
        /// The CSV file as downloaded.
        #[arg(long)]
        csv: PathBuf,
        /// Keep only this province (GSO code, e.g. 1 for Hà Nội, 31 for Hải Phòng).
        #[arg(long)]
        province: Option<u32>,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}
