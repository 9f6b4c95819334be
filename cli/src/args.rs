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
    max_term_width = 100,
    after_help = crate::exit::HELP
)]
pub(crate) struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Problems printed in text output unless `--max-problems` says otherwise.
pub(crate) const DEFAULT_MAX_PROBLEMS: usize = 200;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    /// For people: tables and source snippets.
    Text,
    /// For machines: one JSON document on stdout (camelCase names; see the README).
    Json,
}

/// `-o`, on the commands that print their results both ways.
#[derive(Debug, Clone, Copy, Args)]
pub(crate) struct OutputArgs {
    /// Output format. With json, stdout holds one JSON document, also when the command finds
    /// problems (exit 1); errors (exit 2, 3) are told on stderr only.
    #[arg(long = "output", short = 'o', value_enum, default_value_t = Output::Text)]
    pub format: Output,
}

/// An inventory and how to print what is found in it.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// The inventory.
    #[command(flatten)]
    pub inventory: InventoryArgs,
    /// How to print.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Formats of `hatang report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    /// One self-contained HTML page.
    Html,
    /// Markdown.
    Md,
    /// JSON (camelCase, the report's whole content).
    Json,
    /// CSV: one row per target and per failing object.
    Csv,
}

/// `hatang report`.
#[derive(Debug, Args)]
pub(crate) struct AuditReportArgs {
    /// The inventory; `--today` is the day targets, leases and audits are judged on.
    #[command(flatten)]
    pub inventory: InventoryArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// Write the report to FILE (replaced atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// A drift audit to summarize, as `hatang audit -o json` writes it.
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,
    /// List leases ending within this many days (and those ended).
    #[arg(long, value_name = "DAYS", default_value_t = 90)]
    pub lease_window: i64,
    /// Keep each run's target values in DIR/<date>.json and show the change since the previous
    /// run and a trend per target.
    #[arg(long, value_name = "DIR")]
    pub history: Option<PathBuf>,
}

/// `hatang validate`.
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// The inventory and how to print.
    #[command(flatten)]
    pub report: ReportArgs,
    /// Fail (exit 1) on findings of this kind, or of every kind with `all`; repeatable. Kinds:
    /// missing-primary-circuit, missing-backup-circuit, no-wan-link, system-without-replica,
    /// replica-not-separate, lease-expired, level-not-approved.
    #[arg(long, value_name = "KIND|all", value_parser = parse_deny)]
    pub deny: Vec<Deny>,
}

/// Which findings `validate --deny` fails on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deny {
    /// Every finding.
    All,
    /// Findings of one kind.
    Kind(hatang_core::FindingKind),
}

impl Deny {
    /// Whether a finding of `kind` is denied.
    pub(crate) fn covers(self, kind: hatang_core::FindingKind) -> bool {
        match self {
            Deny::All => true,
            Deny::Kind(k) => k == kind,
        }
    }
}

fn parse_deny(s: &str) -> Result<Deny, hatang_core::diag::UnknownFindingKind> {
    if s == "all" {
        return Ok(Deny::All);
    }
    s.parse().map(Deny::Kind)
}

/// `hatang capacity`.
#[derive(Debug, Args)]
pub(crate) struct CapacityArgs {
    /// The inventory; `--today` is the day space is judged on.
    #[command(flatten)]
    pub inventory: InventoryArgs,
    /// List what frees up as leases end up to this day (YYYY-MM-DD); all ends when not given.
    #[arg(long, value_name = "DATE")]
    pub until: Option<NaiveDate>,
    /// Also write the capacity report as Markdown to this file.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// How to print.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check an inventory: syntax, schema, references, capacity, coverage and DR rules.
    ///
    /// Every problem is reported in one run, with file, line and column. Errors (a malformed
    /// inventory) exit 1. Findings (the estate falls short of policy: a commune office without
    /// a backup circuit, a level-3 system without a replica, an expired lease, a level never
    /// approved) are shown as warnings and exit 0, unless `--deny KIND` or `--deny all` names
    /// them: then they exit 1, for CI gates.
    Validate(ValidateArgs),
    /// Print figures: objects by kind and role, commune coverage (naming the offices missing a
    /// circuit), rack and power use per data center, leases per tenant with end dates.
    ///
    /// Findings never stop it; fails (exit 1) only on an invalid (malformed) inventory.
    Stats(ReportArgs),
    /// Write the auditor's report: every PlanTarget with its value now, target, deadline,
    /// status (met, not met, overdue) and the objects that fail it (file:line); the DR table;
    /// leases ending soon; pool use; capacity; findings; drift from `--audit`.
    ///
    /// Formats: a self-contained HTML page (inline SVG charts, sortable tables, a print
    /// stylesheet), Markdown, JSON or CSV. Findings and unmet targets are reported, never
    /// refused: exit 0 on any valid inventory, 1 on an invalid one.
    Report(AuditReportArgs),
    /// Print rack and power capacity per data center, room and rack: free unit ranges, power
    /// used and headroom per rack and per feed (2N), each lease's power share per rack, and
    /// what frees up as leases end (see docs/capacity.md).
    ///
    /// Fails (exit 1) on an invalid inventory, printing its errors.
    Capacity(CapacityArgs),
    /// Show the allocations the inventory needs (added, kept, held, released) and write them to
    /// the ledger `allocations.lock.yaml` beside it.
    ///
    /// Values in the ledger never move. Values of removed objects are held for the plan's
    /// holdDays before they are released. Exit code 1 on an invalid inventory, a pin conflict,
    /// an exhausted pool, or (with --locked) any needed ledger change.
    Plan(PlanArgs),
    /// Render every device's configuration from the inventory and its planned ledger.
    ///
    /// Writes OUT/<device>/<file> (FRR: frr.conf and system.conf; IOS-XE: config). Templates
    /// are built in; `--templates DIR` overrides them with DIR/<platform>/<file>.hbs.
    Render(RenderArgs),
    /// Save every device's running configuration (fetched over SSH, with the same login and
    /// trust as `audit`) as OUT/<device>.conf, the layout `audit --saved` reads, with
    /// OUT/manifest.json (device, time, sha256, fetched or failed). Each file is replaced
    /// atomically; a device that fails keeps its previous file and is marked failed.
    ///
    /// Exit code 1 when any device could not be fetched (the others are written).
    Backup(BackupArgs),
    /// Failure analysis, offline from the compiled models: which commune offices lose which
    /// services, and which reach them only through a backup data center, when the named
    /// devices, circuits, sites or data centers fail (`--fail KIND/NAME`, repeatable, all at
    /// once; none: the intact estate); or every single point of failure (`--spof`).
    ///
    /// Routes are chosen as the rendered FRR configurations choose them: prefix lists, local
    /// preference (primary 200, backup 100), AS-path prepends and loop rejection. An office
    /// reaches a service when it has a route to it and the data center has one back. Exit code
    /// 1 when a failure cuts an office off a service, or `--spof` finds a single point of
    /// failure or an office that depends on one data center (see docs/whatif.md).
    Whatif(WhatifArgs),
    /// Compare every device's running configuration (fetched over SSH) with the rendered one.
    ///
    /// Both are normalized (comments, `!`, `exit`, version lines and blank lines dropped; line
    /// order within blocks ignored) and each deviation is classified as missing, unexpected or
    /// changed. Deviations the inventory accepts (Device `spec.acceptedDeviations`, with owner,
    /// reason and expiry) are listed apart; once expired they are drift again. Host keys must be
    /// pinned (inventory `spec.management.sshHostKey`, the lab overlay) or in a known_hosts
    /// file: unknown or changed keys refuse the device. Exit code 1 on drift that is not
    /// accepted or when a device could not be audited.
    Audit(AuditArgs),
    /// Apply the rendered configurations to the devices as one transaction.
    ///
    /// Backs up every device's running and saved configuration, uploads each candidate and lets
    /// the device check it (one rejection stops everything before any change), commits device by
    /// device, verifies within --verify-timeout that the running configurations equal the
    /// candidates and the expected BGP sessions and routes are up, then saves; on any failure
    /// after a change every touched device is rolled back to its backup. A journal is written
    /// before each step (`--recover JOURNAL` completes a killed run) and an audit record after.
    /// Exit code 0 committed (or checked, with --dry-run), 1 stopped or rolled back.
    Apply(ApplyArgs),
    /// Address management: show, tree, utilization, find, release, export, renumber.
    #[command(subcommand)]
    Ipam(Ipam),
    /// A network lab of the inventory on this machine (needs root): each device an FRR router
    /// in its own network namespace with an sshd on its management address, each circuit a veth
    /// pair between the inventory's interfaces.
    #[command(subcommand)]
    Lab(Lab),
    /// Print the JSON Schema of inventory documents (for yaml-language-server and other editors).
    ///
    /// The schema is JSON already: there is no `-o`.
    Schema,
    /// Create inventory documents from official lists.
    #[command(subcommand)]
    Import(Import),
    /// Print a shell completion script.
    ///
    /// The script is for the shell: there is no `-o`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Where the inventory is and how to judge it.
#[derive(Debug, Args)]
pub(crate) struct InventoryArgs {
    /// Inventory files or directories (searched recursively for *.yaml and *.yml).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Judge lease dates and accepted deviations as of this day (YYYY-MM-DD) instead of today.
    #[arg(long, value_name = "DATE")]
    pub today: Option<NaiveDate>,
    /// Largest inventory file accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = hatang_core::load::DEFAULT_MAX_FILE_BYTES)]
    pub max_file_size: u64,
    /// Print at most this many problems in text output (all are counted).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_PROBLEMS)]
    pub max_problems: usize,
}

impl InventoryArgs {
    /// `paths` judged as of `today`, with the default limits (for commands that do not offer
    /// them: `apply`, `ipam renumber`).
    pub(crate) fn with_defaults(paths: Vec<PathBuf>, today: Option<NaiveDate>) -> InventoryArgs {
        InventoryArgs {
            paths,
            today,
            max_file_size: hatang_core::load::DEFAULT_MAX_FILE_BYTES,
            max_problems: DEFAULT_MAX_PROBLEMS,
        }
    }
}

/// Import sources.
#[derive(Debug, Subcommand)]
pub(crate) enum Import {
    /// Region documents (province, districts, communes) from a GSO administrative-unit CSV, in
    /// the layout before the 2025 reform (with districts) or after it (without).
    ///
    /// Prints (or writes) inventory YAML: there is no `-o`.
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

/// `hatang plan` options.
#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    /// The inventory.
    #[command(flatten)]
    pub inventory: InventoryArgs,
    /// Fail (exit 1) instead of writing when the ledger would change (for CI).
    #[arg(long)]
    pub locked: bool,
    /// Show the changes without writing the ledger.
    #[arg(long)]
    pub dry_run: bool,
    /// Print at most this many changes in text output.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub max_changes: usize,
    /// What rendered configurations are compared with: the last successful apply recorded
    /// under --state-dir (nothing is compared when there is none), or the devices themselves
    /// (fetched over SSH with the options below).
    #[arg(long, value_enum, default_value_t = Against::LastApplied)]
    pub against: Against,
    /// Directory of templates overriding the built-in ones (`<platform>/<file>.hbs`).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Where apply runs are recorded. Default: <inventory>/.hatang/applies.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// How to reach the devices (for --against live).
    #[command(flatten)]
    pub ssh: SshArgs,
    /// Compare the inventory with the custom resources in the Kubernetes cluster of KUBECONFIG
    /// instead (what `apply --cluster` would create or update); the ledger is not touched.
    #[arg(long, conflicts_with_all = ["locked", "dry_run", "against", "state_dir"])]
    pub cluster: bool,
    /// How to print.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// What `hatang plan` compares rendered configurations with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Against {
    /// The candidates of the newest committed apply of each device.
    LastApplied,
    /// The running configurations, fetched over SSH (compared order-insensitively).
    Live,
}

/// How to reach devices over SSH (shared by `apply` and `plan --against live`).
#[derive(Debug, Args)]
pub(crate) struct SshArgs {
    /// A lab state directory (`hatang lab up`): its overlay gives addresses, ports and pinned
    /// host keys, and its login key, user and known_hosts are used unless given below.
    #[arg(long, value_name = "DIR")]
    pub lab_state: Option<PathBuf>,
    /// known_hosts file with the devices' host keys (for devices without a pinned key).
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,
    /// Private key to log in with (OpenSSH format, unencrypted).
    #[arg(long, short = 'i', value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// Also try the keys of the ssh-agent at $SSH_AUTH_SOCK.
    #[arg(long)]
    pub agent: bool,
    /// User to log in as. Default: root (or the lab's user).
    #[arg(long)]
    pub user: Option<String>,
    /// Trust devices whose host key is not known at all (and append their keys to
    /// --known-hosts when given). A changed key is refused regardless.
    #[arg(long)]
    pub accept_new: bool,
    /// Devices worked on at once.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub concurrency: usize,
    /// Seconds allowed to connect and log in, and again for each command on a device.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
}

/// `hatang apply` options.
#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    /// The inventory directory (not needed with --recover).
    #[arg(required_unless_present = "recover")]
    pub paths: Vec<PathBuf>,
    /// Judge lease dates as of this day (YYYY-MM-DD) instead of today.
    #[arg(long, value_name = "DATE")]
    pub today: Option<NaiveDate>,
    /// Apply only to these devices (comma-separated or repeated).
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub devices: Vec<String>,
    /// Back up and check only: nothing is changed.
    #[arg(long)]
    pub dry_run: bool,
    /// Complete the transaction of a killed run from its journal: roll back the devices it
    /// touched, or finish a commit that was verified.
    #[arg(long, value_name = "JOURNAL", conflicts_with_all = ["dry_run", "devices"])]
    pub recover: Option<PathBuf>,
    /// Seconds verification may wait for the expected BGP sessions and routes.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub verify_timeout: u64,
    /// Where runs are recorded (journal, backups, audit record). Default:
    /// <inventory>/.hatang/applies.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Directory of templates overriding the built-in ones (`<platform>/<file>.hbs`).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// How to reach the devices.
    #[command(flatten)]
    pub ssh: SshArgs,
    /// Apply the inventory to the Kubernetes cluster of KUBECONFIG as custom resources
    /// (server-side apply, field manager `hatang`) for the operator, instead of to devices.
    #[arg(long, conflicts_with_all = ["recover", "dry_run", "devices", "state_dir"])]
    pub cluster: bool,
    /// How to print.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportFormat {
    /// One row per ledger entry.
    Csv,
    /// One JSON document.
    Json,
    /// Reverse-DNS zone files (ip6.arpa, nibble boundaries), one per site prefix and block.
    Zone,
}

/// Renumbering policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RenumberPolicy {
    /// The predecessor with the most sub-allocations keeps its prefix.
    Largest,
    /// The predecessor with the lowest GSO code keeps its prefix.
    First,
}

/// `hatang ipam` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Ipam {
    /// List every allocation (as planned on top of the ledger).
    Show(ReportArgs),
    /// The prefix tree: roots, site prefixes, segments, infrastructure blocks.
    ///
    /// Text only (`ipam show -o json` lists the same allocations for machines).
    Tree(InventoryArgs),
    /// Use of every pool in its own units (/48s, /64s, /127s, ASNs), with exhaustion warnings
    /// and room for more communes.
    Utilization(ReportArgs),
    /// Which object owns an address or prefix.
    Find {
        /// The inventory.
        #[command(flatten)]
        inventory: InventoryArgs,
        /// Address or prefix to look up.
        #[arg(long, short = 'a', value_name = "ADDRESS")]
        address: String,
        /// How to print.
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Free held values now instead of waiting for the hold time.
    Release {
        /// The inventory.
        #[command(flatten)]
        inventory: InventoryArgs,
        /// Ledger keys to release (they must be held: their objects are gone).
        #[arg(long = "key", value_name = "KEY")]
        keys: Vec<String>,
        /// Release every held value.
        #[arg(long)]
        all_held: bool,
        /// How to print.
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Export allocations as CSV, JSON or DNS zone files (forward and reverse).
    ///
    /// `--format` says what is written: there is no `-o`.
    Export {
        /// The inventory.
        #[command(flatten)]
        inventory: InventoryArgs,
        /// Format.
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Output directory for zone files, or file for CSV/JSON (standard output if absent).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The forward zone's domain (`interface.device.DOMAIN.`), instead of the address plan's
        /// `spec.dns.domain`.
        #[arg(long)]
        domain: Option<String>,
    },
    /// Plan the renumbering of merged and split communes (RFC 4192 make-before-break).
    Renumber(RenumberArgs),
}

/// `hatang render` options.
#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    /// The inventory.
    #[command(flatten)]
    pub inventory: InventoryArgs,
    /// Directory to write the configurations into.
    #[arg(long)]
    pub out: PathBuf,
    /// How the files are laid out under OUT.
    #[arg(long, value_enum, default_value_t = Layout::Devices)]
    pub layout: Layout,
    /// Directory of templates overriding the built-in ones (`<platform>/<file>.hbs`).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// How to print.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `hatang whatif`.
#[derive(Debug, Args)]
pub(crate) struct WhatifArgs {
    /// The inventory (its ledger beside it is planned in memory, not written).
    #[command(flatten)]
    pub inventory: InventoryArgs,
    /// What fails, as KIND/NAME with KIND device, circuit, site or datacenter; repeat for
    /// several failures at once. Without `--fail` or `--spof`: the intact estate.
    #[arg(long, value_name = "KIND/NAME", conflicts_with = "spof")]
    pub fail: Vec<String>,
    /// Fail every device, circuit, site and data center alone and list those that cut a
    /// commune office off, and the offices that depend on one data center.
    #[arg(long)]
    pub spof: bool,
    /// Also write the result as Markdown to this file.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// How to print.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `hatang lab` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Lab {
    /// Start the lab, or complete a partly started one (idempotent): namespaces, circuits,
    /// management bridge, FRR (watchfrr, zebra, bgpd, staticd) and sshd per device, SSH keys,
    /// known_hosts and the overlay with pinned host keys.
    ///
    /// Exit code 1 on an invalid inventory or when the lab does not come up (it may then be
    /// partly up: `hatang lab down` removes it).
    Up(LabArgs),
    /// Stop every process of the lab and remove its namespaces, links, FRR directories and
    /// state, also after a failed `up` and when nothing runs. Exit code 1 if something is left.
    Down(LabArgs),
    /// Show which namespaces, interfaces, FRR daemons and sshd run. Exit code 0 when the whole
    /// lab is up, 1 otherwise.
    Status(LabArgs),
}

/// Which lab.
#[derive(Debug, Args)]
pub(crate) struct LabArgs {
    /// The inventory.
    #[command(flatten)]
    pub inventory: InventoryArgs,
    /// Lab name, at most 8 characters: namespaces are `<name>-<device>`, host links
    /// `<name>-mgmt` and `<name>-m<i>`. Default: the inventory directory's name.
    #[arg(long)]
    pub name: Option<String>,
    /// State directory: keys, known_hosts, overlay, sshd configs and pid files.
    /// Default: /run/hatang-lab/<name>.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Devices started or stopped at once.
    #[arg(long, value_name = "N", default_value_t = hatang_lab::UpOptions::default().workers)]
    pub jobs: usize,
    /// Seconds each router and sshd may take to answer.
    #[arg(long, value_name = "SECONDS", default_value_t = hatang_lab::UpOptions::default().timeout.as_secs())]
    pub timeout: u64,
    /// How to print.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `hatang backup` options.
#[derive(Debug, Args)]
pub(crate) struct BackupArgs {
    /// The inventory.
    #[command(flatten)]
    pub inventory: InventoryArgs,
    /// Directory to save the configurations and the manifest into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// How to reach the devices.
    #[command(flatten)]
    pub ssh: SshArgs,
    /// Back up only these devices (repeatable).
    #[arg(long = "device", value_name = "NAME")]
    pub devices: Vec<String>,
    /// How to print.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// How `render --out` lays its files out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Layout {
    /// OUT/<device>/<file> (FRR: frr.conf and system.conf; IOS-XE: config).
    Devices,
    /// OUT/<device>.conf with each FRR device's frr.conf: the layout `hatang backup` writes and
    /// `audit --saved` reads.
    Saved,
}

/// `hatang audit` options.
#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    /// The inventory.
    #[command(flatten)]
    pub inventory: InventoryArgs,
    /// Directory of templates overriding the built-in ones (`<platform>/<file>.hbs`).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// How to reach the devices (not needed with --saved).
    #[command(flatten)]
    pub ssh: SshArgs,
    /// Audit only these devices (repeatable).
    #[arg(long = "device", value_name = "NAME")]
    pub devices: Vec<String>,
    /// Read each device's running configuration from DIR/<device>.conf (saved earlier by a
    /// backup tool, or `vtysh -c 'show running-config' > DIR/<device>.conf`) instead of
    /// fetching it over SSH.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["lab_state", "identity", "agent", "accept_new"])]
    pub saved: Option<PathBuf>,
    /// Also write the report as Markdown to this file.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Also write the report as JUnit XML to this file (one test case per device).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// How to print.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `hatang ipam renumber` options.
#[derive(Debug, Args)]
pub(crate) struct RenumberArgs {
    /// Merge list (GSO layout: old_province_code,…,new_commune_name).
    #[arg(long)]
    pub map: PathBuf,
    /// Inventory before the change (its ledger holds the old prefixes).
    #[arg(long)]
    pub from: PathBuf,
    /// Inventory after the change.
    #[arg(long)]
    pub to: PathBuf,
    /// Which predecessor's prefix a merged commune inherits.
    #[arg(long, value_enum, default_value_t = RenumberPolicy::Largest)]
    pub policy: RenumberPolicy,
    /// Day the new units take effect.
    #[arg(long, default_value = "2025-07-01")]
    pub effective: NaiveDate,
    /// Days predecessor prefixes stay as secondary prefixes before they are released.
    #[arg(long, default_value_t = 180)]
    pub drain_days: u32,
    /// Write the new inventory's ledger seeded with inherited and draining prefixes, then
    /// allocate what is still missing.
    #[arg(long)]
    pub write_ledger: bool,
    /// With --write-ledger: replace the new inventory's ledger even when it holds entries the
    /// seeded one would drop or change (allocations made since, hold dates).
    #[arg(long, requires = "write_ledger")]
    pub force: bool,
    /// Also write the plan as CSV to this file.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Judge dates as of this day instead of today.
    #[arg(long, value_name = "DATE")]
    pub today: Option<NaiveDate>,
    /// How to print.
    #[command(flatten)]
    pub output: OutputArgs,
}
