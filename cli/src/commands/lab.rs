//! `hatang lab up|down|status`: thin wrapper over `hatang_lab`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::args::{Lab, LabArgs, Output};
use hatang_lab::{
    self as lab, LabOptions, LabPlan, LabStatus, Readiness, Step, UpOptions, UpReport,
};

/// Environment variable that makes `up` fail after a step (tests of cleanup).
const FAIL_AFTER: &str = "HATANG_LAB_FAIL_AFTER";

pub fn run(cmd: Lab, output: Output) -> Result<ExitCode> {
    if !lab::sys::is_root() {
        eprintln!(
            "hatang: `hatang lab` needs root: it creates network namespaces, veth links and a \
             bridge, and starts FRR and sshd (run it with sudo)"
        );
        return Ok(ExitCode::from(2));
    }
    match cmd {
        Lab::Up(args) => up(&args, output),
        Lab::Down(args) => down(&args, output),
        Lab::Status(args) => status(&args, output),
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
            .with_context(|| format!("state directory {}", dir.display()))?;
    }
    Ok(options)
}

/// The inventory's lab plan, or why there is none (diagnostics already printed for `up`).
fn inventory_plan(
    args: &LabArgs,
    options: &LabOptions,
    print: bool,
) -> Result<std::result::Result<LabPlan, String>> {
    let checked = match super::check(&args.inventory) {
        Ok(c) => c,
        Err(e) if !print => return Ok(Err(format!("{e}"))),
        Err(e) => return Err(e),
    };
    if checked.errors() > 0 {
        if print {
            crate::output::print_diagnostics(&checked, args.inventory.max_problems);
        }
        return Ok(Err(format!(
            "{} errors in the inventory: fix them before starting a lab",
            checked.errors()
        )));
    }
    Ok(
        lab::plan(&checked.loaded.inventory, options).map_err(|errors| {
            errors
                .iter()
                .map(|e| format!("error: {e}"))
                .collect::<Vec<_>>()
                .join("\n")
        }),
    )
}

fn up(args: &LabArgs, output: Output) -> Result<ExitCode> {
    let options = options(args)?;
    let plan = match inventory_plan(args, &options, true)? {
        Ok(p) => p,
        Err(why) => {
            println!("{why}");
            return Ok(ExitCode::from(1));
        }
    };
    let fail_after = match std::env::var(FAIL_AFTER) {
        Ok(s) => Some(Step::parse(&s).with_context(|| {
            format!(
                "{FAIL_AFTER}={s}: not a step (state, namespaces, links, management, frr, sshd)"
            )
        })?),
        Err(_) => None,
    };
    let up_options = UpOptions {
        workers: args.jobs.max(1),
        timeout: Duration::from_secs(args.timeout),
        fail_after,
    };
    match lab::up(&plan, &up_options) {
        Ok(report) => {
            match output {
                Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
                Output::Text => print_up(&plan, &report),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!(
                "hatang: lab `{}` did not come up: {e}\n\
                 It may be partly up: `hatang lab status` shows what runs, `hatang lab down` \
                 removes it.",
                plan.name
            );
            Ok(ExitCode::from(1))
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

fn down(args: &LabArgs, output: Output) -> Result<ExitCode> {
    let options = options(args)?;
    // What `up` saved, and what the inventory says now: both are removed.
    let mut plans: Vec<LabPlan> = lab::read_saved_plan(&options.state_dir)
        .into_iter()
        .collect();
    match inventory_plan(args, &options, false)? {
        Ok(p) => {
            if !plans.contains(&p) {
                plans.push(p)
            }
        }
        Err(why) if plans.is_empty() => {
            println!("{why}");
            println!(
                "no saved lab state in {} either: nothing to go by",
                options.state_dir.display()
            );
            return Ok(ExitCode::from(1));
        }
        Err(why) => eprintln!("warning: {why}; using the lab's saved plan"),
    }
    let reports: Vec<_> = plans
        .iter()
        .map(|p| lab::down(p, args.jobs.max(1)))
        .collect();
    let clean = reports.iter().all(|r| r.clean());
    match output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "clean": clean,
                "reports": reports,
            }))?
        ),
        Output::Text => {
            let sum = |f: fn(&lab::DownReport) -> usize| reports.iter().map(f).sum::<usize>();
            let seconds: f64 = reports.iter().map(|r| r.seconds).sum();
            println!(
                "lab `{}` is down ({seconds:.1} s): {} processes stopped, {} namespaces and {} host links deleted, {} directories and files removed",
                options.name,
                sum(|r| r.processes),
                sum(|r| r.namespaces),
                sum(|r| r.host_links),
                sum(|r| r.files),
            );
            for r in &reports {
                for e in &r.errors {
                    println!("  error: {e}");
                }
                for l in &r.leftovers {
                    println!("  still there: {l}");
                }
            }
        }
    }
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn status(args: &LabArgs, output: Output) -> Result<ExitCode> {
    let options = options(args)?;
    let plan = match lab::read_saved_plan(&options.state_dir) {
        Some(p) => p,
        None => match inventory_plan(args, &options, true)? {
            Ok(p) => p,
            Err(why) => {
                println!("{why}");
                return Ok(ExitCode::from(1));
            }
        },
    };
    let s = lab::status(&plan, args.jobs.max(1));
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&s)?),
        Output::Text => print_status(&s),
    }
    Ok(if s.readiness == Readiness::Up {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
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
