//! `hatang lab up|down|status`: thin wrapper over `hatang_lab`.

use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::args::{Lab, LabArgs, Output};
use crate::exit::{OrUsage, Verdict};
use crate::output::{Stop, Stopped, print_json};
use hatang_core::Checked;
use hatang_lab::{self as lab, LabOptions, LabPlan, LabStatus, Readiness, UpOptions, UpReport};

pub(super) fn run(cmd: Lab) -> Result<Verdict> {
    if !lab::sys::is_root() {
        return Err(crate::exit::usage_error!(
            "`hatang lab` needs root: it creates network namespaces, veth links and a \
             bridge, and starts FRR and sshd (run it with sudo)"
        ));
    }
    match cmd {
        Lab::Up(args) => up(&args),
        Lab::Down(args) => down(&args),
        Lab::Status(args) => status(&args),
    }
}

fn options(args: &LabArgs) -> Result<LabOptions> {
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| lab::plan::default_name(&args.inventory.paths[0]));
    let mut options = LabOptions::new(&name);
    if let Some(dir) = &args.state_dir {
        options.state_dir = std::path::absolute(dir)
            .with_context(|| format!("state directory {}", dir.display()))
            .or_usage()?;
    }
    Ok(options)
}

/// Why the inventory gives no lab.
enum NoPlan {
    /// It has errors.
    Invalid(Box<Checked>),
    /// It cannot run as a lab (no devices, other platforms, interface names Linux refuses …).
    Unfit(Vec<lab::PlanError>),
}

impl NoPlan {
    fn message(&self) -> String {
        match self {
            NoPlan::Invalid(checked) => format!(
                "{} errors in the inventory: fix them before starting a lab",
                checked.errors()
            ),
            NoPlan::Unfit(errors) => errors
                .iter()
                .map(|e| format!("error: {e}"))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    /// Prints why (the inventory's diagnostics, as `output` says) and gives the verdict.
    fn print(&self, output: Output, max: usize) -> Result<Verdict> {
        match self {
            NoPlan::Invalid(checked) => {
                crate::output::invalid_inventory(checked, output, max, self.message())
            }
            NoPlan::Unfit(_) => {
                let stop = Stopped {
                    stopped: Stop::LabPlanFailed,
                    message: self.message(),
                    diagnostics: &[],
                };
                match output {
                    Output::Json => stop.print(output, &[], max),
                    Output::Text => {
                        println!("{}", stop.message);
                        Ok(Verdict::Problems)
                    }
                }
            }
        }
    }
}

/// The inventory's lab plan, or why there is none.
fn inventory_plan(
    args: &LabArgs,
    options: &LabOptions,
) -> Result<std::result::Result<LabPlan, NoPlan>> {
    let checked = super::check(&args.inventory)?;
    if checked.errors() > 0 {
        return Ok(Err(NoPlan::Invalid(Box::new(checked))));
    }
    Ok(lab::plan(&checked.loaded.inventory, options).map_err(NoPlan::Unfit))
}

/// The step `HATANG_LAB_FAIL_AFTER` names, to test cleanup after a failed `up`: only with the
/// `fault-injection` feature, never in a release.
#[cfg(feature = "fault-injection")]
fn fail_after() -> Result<Option<lab::Step>> {
    const FAIL_AFTER: &str = "HATANG_LAB_FAIL_AFTER";
    match std::env::var(FAIL_AFTER) {
        Ok(s) => Ok(Some(
            lab::Step::parse(&s)
                .with_context(|| {
                    format!(
                        "{FAIL_AFTER}={s}: not a step (state, namespaces, links, management, frr, sshd)"
                    )
                })
                .or_usage()?,
        )),
        Err(_) => Ok(None),
    }
}

/// No step: this build cannot inject faults.
#[cfg(not(feature = "fault-injection"))]
fn fail_after() -> Result<Option<lab::Step>> {
    Ok(None)
}

fn up(args: &LabArgs) -> Result<Verdict> {
    let output = args.output.format;
    let options = options(args)?;
    let plan = match inventory_plan(args, &options)? {
        Ok(p) => p,
        Err(why) => return why.print(output, args.inventory.max_problems),
    };
    let up_options = UpOptions {
        workers: args.jobs.max(1),
        timeout: Duration::from_secs(args.timeout),
        fail_after: fail_after()?,
    };
    match lab::up(&plan, &up_options) {
        Ok(report) => {
            match output {
                Output::Json => print_json(&report)?,
                Output::Text => print_up(&plan, &report),
            }
            Ok(Verdict::Ok)
        }
        Err(e) => {
            let message = format!(
                "lab `{}` did not come up: {e}\n\
                 It may be partly up: `hatang lab status` shows what runs, `hatang lab down` \
                 removes it.",
                plan.name
            );
            if output == Output::Json {
                print_json(&Stopped {
                    stopped: Stop::LabNotUp,
                    message: message.clone(),
                    diagnostics: &[],
                })?;
            }
            eprintln!("hatang: {message}");
            Ok(Verdict::Problems)
        }
    }
}

fn print_up(plan: &LabPlan, report: &UpReport) {
    println!(
        "lab `{}` is {} ({:.1} s): {} devices, {} circuits",
        report.lab,
        if report.unchanged() {
            "already up"
        } else {
            "up"
        },
        report.seconds,
        report.devices,
        report.circuits
    );
    for s in &report.steps {
        println!(
            "  {:<11} {:>3} created {:>3} kept  {:>6.2} s",
            s.step.as_str(),
            s.created,
            s.kept,
            s.seconds
        );
    }
    println!();
    println!("  {:<20} {:<28} management", "device", "namespace");
    for n in &plan.nodes {
        println!(
            "  {:<20} {:<28} {}",
            n.device,
            n.namespace,
            n.known_hosts_name()
        );
    }
    if let Some(n) = plan.nodes.first() {
        println!();
        println!(
            "ssh:     ssh -i {} -o UserKnownHostsFile={} -o StrictHostKeyChecking=yes root@{}",
            report.identity_file.display(),
            report.known_hosts.display(),
            n.management.address
        );
        println!(
            "router:  vtysh -N {ns}      shell: ip netns exec {ns} bash",
            ns = n.namespace
        );
    }
    println!(
        "overlay: {} (management endpoints and pinned host keys)",
        report.overlay.display()
    );
}

/// `hatang lab down -o json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Down<'a> {
    /// Nothing of the lab is left.
    clean: bool,
    reports: &'a [lab::DownReport],
}

fn down(args: &LabArgs) -> Result<Verdict> {
    let output = args.output.format;
    let options = options(args)?;
    // What `up` saved, and what the inventory says now: both are removed. The inventory may be
    // gone or broken by now; the saved plan is enough then.
    let mut plans: Vec<LabPlan> = lab::read_saved_plan(&options.state_dir)
        .into_iter()
        .collect();
    let why = match inventory_plan(args, &options) {
        Ok(Ok(p)) => {
            if !plans.contains(&p) {
                plans.push(p)
            }
            None
        }
        Ok(Err(why)) => Some(why.message()),
        Err(e) => Some(format!("{e:#}")),
    };
    match why {
        Some(why) if plans.is_empty() => {
            let stop = Stopped {
                stopped: Stop::LabPlanFailed,
                message: format!(
                    "{why}\nno saved lab state in {} either: nothing to go by",
                    options.state_dir.display()
                ),
                diagnostics: &[],
            };
            return match output {
                Output::Json => stop.print(output, &[], 0),
                Output::Text => {
                    println!("{}", stop.message);
                    Ok(Verdict::Problems)
                }
            };
        }
        Some(why) => eprintln!("warning: {why}; using the lab's saved plan"),
        None => {}
    }
    let reports: Vec<_> = plans
        .iter()
        .map(|p| lab::down(p, args.jobs.max(1)))
        .collect();
    let clean = reports.iter().all(|r| r.clean());
    match output {
        Output::Json => print_json(&Down {
            clean,
            reports: &reports,
        })?,
        Output::Text => print_down(&options.name, &reports),
    }
    Ok(Verdict::problems_if(!clean))
}

fn print_down(name: &str, reports: &[lab::DownReport]) {
    let sum = |f: fn(&lab::DownReport) -> usize| reports.iter().map(f).sum::<usize>();
    let seconds: f64 = reports.iter().map(|r| r.seconds).sum();
    println!(
        "lab `{name}` is down ({seconds:.1} s): {} processes stopped, {} namespaces and {} host links deleted, {} directories and files removed",
        sum(|r| r.processes),
        sum(|r| r.namespaces),
        sum(|r| r.host_links),
        sum(|r| r.files),
    );
    for r in reports {
        for e in &r.errors {
            println!("  error: {e}");
        }
        for l in &r.leftovers {
            println!("  still there: {l}");
        }
    }
}

fn status(args: &LabArgs) -> Result<Verdict> {
    let output = args.output.format;
    let options = options(args)?;
    let plan = match lab::read_saved_plan(&options.state_dir) {
        Some(p) => p,
        None => match inventory_plan(args, &options)? {
            Ok(p) => p,
            Err(why) => return why.print(output, args.inventory.max_problems),
        },
    };
    let s = lab::status(&plan, args.jobs.max(1));
    match output {
        Output::Json => print_json(&s)?,
        Output::Text => print_status(&s),
    }
    Ok(Verdict::problems_if(s.readiness != Readiness::Up))
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn print_status(s: &LabStatus) {
    let word = match s.readiness {
        Readiness::Up => "up",
        Readiness::Partial => "partly up",
        Readiness::Down => "down",
    };
    println!(
        "lab `{}` is {word} (state {}: {}, bridge: {})",
        s.lab,
        s.state_dir.display(),
        if s.state { "present" } else { "absent" },
        yes(s.bridge)
    );
    println!(
        "  {:<20} {:<28} {:<5} {:<6} {:<22} {:<5} {:<4} management",
        "device", "namespace", "netns", "links", "frr", "sshd", "ssh"
    );
    for n in &s.nodes {
        let down: Vec<&str> = n
            .frr
            .iter()
            .filter(|(_, up)| !**up)
            .map(|(d, _)| d.as_str())
            .collect();
        let frr = if down.is_empty() {
            "up".to_owned()
        } else if down.len() == n.frr.len() {
            "down".to_owned()
        } else {
            format!("down: {}", down.join(","))
        };
        println!(
            "  {:<20} {:<28} {:<5} {:<6} {:<22} {:<5} {:<4} {}",
            n.device,
            n.namespace,
            yes(n.netns),
            format!("{}/{}", n.interfaces, n.interfaces_planned),
            frr,
            yes(n.sshd),
            yes(n.ssh),
            n.address
        );
    }
}
