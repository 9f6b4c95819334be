//! Which devices to reach and how: endpoints and pinned host keys (lab overlay, else the
//! inventory's `spec.management`), login and trust from `SshArgs`. Shared by `apply` and
//! `plan --against live`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::args::SshArgs;
use hatang_core::compile::DeviceModel;
use hatang_core::model::Platform;
use hatang_driver::hostkey::{KnownHosts, PublicKey};
use hatang_driver::lab::Overlay;
use hatang_driver::ssh::{Auth, SshOptions, Target};

/// A device to reach, with the host key pinned for it (if any).
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub target: Target,
    pub pin: Option<String>,
}

/// Devices not reached, with the reason.
pub type Skipped = Vec<(String, String)>;

/// The lab overlay named by `--lab-state`, if any.
pub fn overlay(args: &SshArgs) -> Result<Option<Overlay>> {
    let Some(dir) = &args.lab_state else {
        return Ok(None);
    };
    let path = dir.join("overlay/hosts.yaml");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the lab overlay `{}`", path.display()))?;
    Ok(Some(Overlay::parse(&text).map_err(|e| {
        anyhow::anyhow!("lab overlay `{}` is invalid: {e}", path.display())
    })?))
}

/// Endpoints of the FRR devices among `models` (only `only`, when given); devices of other
/// platforms are returned as skipped with the reason.
pub fn endpoints(
    models: &[DeviceModel],
    inventory: &hatang_core::Inventory,
    overlay: Option<&Overlay>,
    only: &[String],
) -> Result<(Vec<Endpoint>, Skipped)> {
    let specs: BTreeMap<&str, _> = inventory
        .devices
        .iter()
        .map(|d| (d.name(), &d.spec))
        .collect();
    for d in only {
        if !specs.contains_key(d.as_str()) {
            bail!("no device `{d}` in the inventory");
        }
    }
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for model in models {
        let name = model.name.as_str();
        if !only.is_empty() && !only.iter().any(|d| d == name) {
            continue;
        }
        if model.platform != Platform::Frr {
            skipped.push((
                name.to_owned(),
                format!("no adapter for platform {:?}", model.platform),
            ));
            continue;
        }
        let lab = overlay.and_then(|o| o.devices.iter().find(|d| d.name == name));
        let management = specs.get(name).and_then(|s| s.management.as_ref());
        let (host, port, pin) = match (lab, management) {
            (Some(l), _) => (l.address.to_string(), l.port, Some(l.ssh_host_key.clone())),
            (None, Some(m)) => (m.address.to_string(), m.port, m.ssh_host_key.clone()),
            (None, None) => bail!("device `{name}` has no spec.management address"),
        };
        out.push(Endpoint {
            target: Target {
                device: name.to_owned(),
                host,
                port,
            },
            pin,
        });
    }
    Ok((out, skipped))
}

/// Session options: login from `args` (or the lab's), known_hosts, and every pin as the only
/// key trusted for its endpoint.
pub fn ssh_options(
    args: &SshArgs,
    overlay: Option<&Overlay>,
    endpoints: &[Endpoint],
) -> Result<SshOptions> {
    let user = args
        .user
        .clone()
        .or_else(|| overlay.map(|o| o.user.clone()))
        .unwrap_or_else(|| "root".to_owned());
    let identity = args
        .identity
        .clone()
        .or_else(|| overlay.map(|o| o.identity_file.clone()));
    let known_hosts_file = args
        .known_hosts
        .clone()
        .or_else(|| overlay.map(|o| o.known_hosts.clone()));
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
    for e in endpoints {
        if let Some(pin) = &e.pin {
            let key: PublicKey = pin
                .parse()
                .with_context(|| format!("pinned host key of `{}`", e.target.device))?;
            let name = e.target.known_hosts_name();
            known.forget(&name);
            known.pin(&name, key);
        }
    }
    Ok(SshOptions {
        user,
        auth,
        known_hosts: Arc::new(known),
        accept_new: args.accept_new,
        connect_timeout: Duration::from_secs(args.timeout),
        command_timeout: Duration::from_secs(args.timeout),
    })
}

/// The async runtime for one command.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
