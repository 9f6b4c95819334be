//! `hatang audit`: running configurations (over SSH, `hatang_driver::ssh`) against the rendered
//! ones (`hatang_core::audit`). Thin: gathers targets and trust, runs, prints.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::args::{AuditArgs, Output};
use hatang_core::audit::{Deviation, DeviationKind, diff};
use hatang_core::model::Platform;
use hatang_driver::hostkey::{KnownHosts, PublicKey};
use hatang_driver::lab::Overlay;
use hatang_driver::platform;
use hatang_driver::ssh::{self, Auth, SshError, SshOptions, Target};

/// How a device came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Status {
    /// Running = desired.
    Clean,
    /// Deviations found.
    Drift,
    /// Could not be audited (unreachable, refused host key, login or command failure).
    Failed,
    /// No adapter for its platform, or nothing rendered.
    Skipped,
}

#[derive(Debug, Serialize)]
struct DeviceAudit {
    device: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint: Option<String>,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<SshError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    deviations: Vec<Deviation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    millis: Option<u64>,
}

#[derive(Debug, Serialize)]
struct Summary {
    devices: usize,
    clean: usize,
    drift: usize,
    failed: usize,
    skipped: usize,
    deviations: usize,
}

#[derive(Debug, Serialize)]
struct Report {
    summary: Summary,
    devices: Vec<DeviceAudit>,
}

pub fn run(args: &AuditArgs, output: Output) -> Result<ExitCode> {
    let desired = match super::render::desired(&args.inventory, args.templates.as_deref())? {
        Ok(d) => d,
        Err(code) => return Ok(code),
    };
    let overlay =
        match &args.lab_state {
            Some(dir) => {
                let path = dir.join("overlay/hosts.yaml");
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read the lab overlay `{}`", path.display()))?;
                Some(Overlay::parse(&text).map_err(|e| {
                    anyhow::anyhow!("lab overlay `{}` is invalid: {e}", path.display())
                })?)
            }
            None => None,
        };
    let user = args
        .user
        .clone()
        .or_else(|| overlay.as_ref().map(|o| o.user.clone()))
        .unwrap_or_else(|| "root".to_owned());
    let identity = args
        .identity
        .clone()
        .or_else(|| overlay.as_ref().map(|o| o.identity_file.clone()));
    let known_hosts_file = args
        .known_hosts
        .clone()
        .or_else(|| overlay.as_ref().map(|o| o.known_hosts.clone()));
    let mut auth = Vec::new();
    if let Some(i) = identity {
        auth.push(Auth::KeyFile(i));
    }
    if args.agent {
        auth.push(Auth::Agent);
    }
    if auth.is_empty() {
        bail!("no login method: give --identity FILE, --agent or --lab-state DIR");
    }
    let mut known = match &known_hosts_file {
        Some(f) => match std::fs::read_to_string(f) {
            Ok(t) => KnownHosts::parse(&t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && args.accept_new => {
                KnownHosts::default()
            }
            Err(e) => bail!("cannot read known_hosts `{}`: {e}", f.display()),
        },
        None => KnownHosts::default(),
    };

    // One target per rendered FRR device; others are reported as skipped.
    let inventory = &desired.planned.checked.loaded.inventory;
    let specs: BTreeMap<&str, _> = inventory
        .devices
        .iter()
        .map(|d| (d.name(), &d.spec))
        .collect();
    let configs: BTreeMap<&str, &str> = desired
        .files
        .iter()
        .filter(|f| f.file == "frr.conf")
        .map(|f| (f.device.as_str(), f.text.as_str()))
        .collect();
    for d in &args.devices {
        if !specs.contains_key(d.as_str()) {
            bail!("no device `{d}` in the inventory");
        }
    }
    let mut results: BTreeMap<String, DeviceAudit> = BTreeMap::new();
    let mut targets = Vec::new();
    let skip = |device: &str, note: String| DeviceAudit {
        device: device.to_owned(),
        endpoint: None,
        status: Status::Skipped,
        error: None,
        note: Some(note),
        deviations: vec![],
        millis: None,
    };
    for model in &desired.models {
        let name = model.name.as_str();
        if !args.devices.is_empty() && !args.devices.iter().any(|d| d == name) {
            continue;
        }
        if platform::commands(model.platform, "").is_none() || model.platform != Platform::Frr {
            results.insert(
                name.to_owned(),
                skip(
                    name,
                    format!("no audit adapter for platform {:?}", model.platform),
                ),
            );
            continue;
        }
        if !configs.contains_key(name) {
            results.insert(name.to_owned(), skip(name, "nothing rendered".to_owned()));
            continue;
        }
        let lab = overlay
            .as_ref()
            .and_then(|o| o.devices.iter().find(|d| d.name == name));
        let management = specs.get(name).and_then(|s| s.management.as_ref());
        let (host, port, pin) = match (lab, management) {
            (Some(l), _) => (l.address.to_string(), l.port, Some(l.ssh_host_key.clone())),
            (None, Some(m)) => (m.address.to_string(), m.port, m.ssh_host_key.clone()),
            (None, None) => {
                results.insert(
                    name.to_owned(),
                    DeviceAudit {
                        status: Status::Failed,
                        note: Some("no spec.management address".to_owned()),
                        ..skip(name, String::new())
                    },
                );
                continue;
            }
        };
        let target = Target {
            device: name.to_owned(),
            host,
            port,
        };
        // A pinned key is the only one trusted for its device.
        if let Some(pin) = pin {
            let key: PublicKey = pin
                .parse()
                .with_context(|| format!("pinned host key of `{name}`"))?;
            known.forget(&target.known_hosts_name());
            known.pin(&target.known_hosts_name(), key);
        }
        targets.push(target);
    }

    let options = SshOptions {
        user,
        auth,
        known_hosts: Arc::new(known),
        accept_new: args.accept_new,
        connect_timeout: Duration::from_secs(args.timeout),
        command_timeout: Duration::from_secs(args.timeout),
    };
    let show = platform::commands(Platform::Frr, "")
        .expect("FRR adapter")
        .show_running;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let fetched = runtime.block_on(ssh::run_everywhere(
        targets,
        options,
        args.concurrency,
        &show,
    ));

    let mut new_keys = Vec::new();
    for r in fetched {
        let mut audit = DeviceAudit {
            device: r.device.clone(),
            endpoint: Some(r.endpoint.clone()),
            status: Status::Failed,
            error: None,
            note: None,
            deviations: vec![],
            millis: Some(r.millis),
        };
        if let Some(k) = &r.new_host_key {
            new_keys.push(format!("{} {k}", r.endpoint));
            audit.note = Some(format!("new host key accepted: {k}"));
        }
        match r.outcome {
            Err(e) => audit.error = Some(e),
            Ok(out) if !out.success() => {
                audit.error = Some(SshError::Protocol(format!(
                    "`{show}` failed (exit {:?}): {}",
                    out.exit_status,
                    out.stderr.trim()
                )))
            }
            Ok(out) => {
                audit.deviations = diff(configs[r.device.as_str()], &out.stdout);
                audit.status = if audit.deviations.is_empty() {
                    Status::Clean
                } else {
                    Status::Drift
                };
            }
        }
        results.insert(r.device, audit);
    }
    if !new_keys.is_empty()
        && let Some(f) = &args.known_hosts
    {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(f)
            .with_context(|| format!("cannot append to `{}`", f.display()))?;
        for line in &new_keys {
            writeln!(file, "{line}")?;
        }
    }

    let devices: Vec<DeviceAudit> = results.into_values().collect();
    let count = |s: Status| devices.iter().filter(|d| d.status == s).count();
    let report = Report {
        summary: Summary {
            devices: devices.len(),
            clean: count(Status::Clean),
            drift: count(Status::Drift),
            failed: count(Status::Failed),
            skipped: count(Status::Skipped),
            deviations: devices.iter().map(|d| d.deviations.len()).sum(),
        },
        devices,
    };
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Output::Text => print!("{}", text(&report)),
    }
    if let Some(f) = &args.markdown {
        write(f, &markdown(&report))?;
    }
    if let Some(f) = &args.junit {
        write(f, &junit(&report))?;
    }
    Ok(if report.summary.drift + report.summary.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write `{}`", path.display()))
}

fn headline(d: &DeviceAudit) -> String {
    match d.status {
        Status::Clean => "clean".to_owned(),
        Status::Drift => {
            let n = |k: DeviationKind| d.deviations.iter().filter(|x| x.kind == k).count();
            format!(
                "drift: {} changed, {} missing, {} unexpected",
                n(DeviationKind::Changed),
                n(DeviationKind::Missing),
                n(DeviationKind::Unexpected)
            )
        }
        Status::Failed => match (&d.error, &d.note) {
            (Some(e), _) if e.is_host_key() => format!("REFUSED: {e}"),
            (Some(e), _) => format!("failed: {e}"),
            (None, Some(n)) => format!("failed: {n}"),
            (None, None) => "failed".to_owned(),
        },
        Status::Skipped => format!("skipped: {}", d.note.as_deref().unwrap_or("")),
    }
}

fn text(r: &Report) -> String {
    let mut out = String::new();
    let width = r.devices.iter().map(|d| d.device.len()).max().unwrap_or(0);
    for d in &r.devices {
        out.push_str(&format!("{:width$}  {}\n", d.device, headline(d)));
        if let (Status::Clean | Status::Drift, Some(n)) = (d.status, &d.note) {
            out.push_str(&format!("{:width$}  note: {n}\n", ""));
        }
        for x in &d.deviations {
            out.push_str(&format!("{:width$}    {x}\n", ""));
        }
    }
    let s = &r.summary;
    out.push_str(&format!(
        "audit: {} devices: {} clean, {} drifted ({} deviations), {} failed, {} skipped\n",
        s.devices, s.clean, s.drift, s.deviations, s.failed, s.skipped
    ));
    out
}

fn markdown(r: &Report) -> String {
    let s = &r.summary;
    let mut out = format!(
        "# hatang audit\n\n{} devices: {} clean, {} drifted ({} deviations), {} failed, {} skipped.\n\n\
         | device | status |\n|---|---|\n",
        s.devices, s.clean, s.drift, s.deviations, s.failed, s.skipped
    );
    let cell = |t: &str| t.replace('|', "\\|").replace('\n', " ");
    for d in &r.devices {
        out.push_str(&format!("| {} | {} |\n", d.device, cell(&headline(d))));
    }
    for d in r.devices.iter().filter(|d| !d.deviations.is_empty()) {
        out.push_str(&format!(
            "\n## {}\n\n| kind | block | running | desired |\n|---|---|---|---|\n",
            d.device
        ));
        for x in &d.deviations {
            out.push_str(&format!(
                "| {:?} | {} | {} | {} |\n",
                x.kind,
                cell(&x.context.join(" > ")),
                x.running
                    .as_deref()
                    .map(|t| format!("`{}`", cell(t)))
                    .unwrap_or_default(),
                x.desired
                    .as_deref()
                    .map(|t| format!("`{}`", cell(t)))
                    .unwrap_or_default(),
            ));
        }
    }
    out
}

fn xml(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn junit(r: &Report) -> String {
    let s = &r.summary;
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuite name=\"hatang audit\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n",
        s.devices, s.drift, s.failed, s.skipped
    );
    for d in &r.devices {
        let time = d.millis.unwrap_or(0) as f64 / 1000.0;
        out.push_str(&format!(
            "  <testcase classname=\"audit\" name=\"{}\" time=\"{time:.3}\">",
            xml(&d.device)
        ));
        match d.status {
            Status::Clean => {}
            Status::Drift => {
                let body: Vec<String> = d.deviations.iter().map(|x| x.to_string()).collect();
                out.push_str(&format!(
                    "<failure message=\"{}\">{}</failure>",
                    xml(&headline(d)),
                    xml(&body.join("\n"))
                ));
            }
            Status::Failed => out.push_str(&format!("<error message=\"{}\"/>", xml(&headline(d)))),
            Status::Skipped => {
                out.push_str(&format!("<skipped message=\"{}\"/>", xml(&headline(d))))
            }
        }
        out.push_str("</testcase>\n");
    }
    out.push_str("</testsuite>\n");
    out
}
