//! Which devices to reach and how: endpoints and pinned host keys (`hatang_driver::fleet`:
//! lab overlay, else the inventory's `spec.management`), login and trust from `SshArgs`.
//! Shared by `apply`, `audit` and `plan --against live`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::args::SshArgs;
use crate::exit::{OrUsage, usage, usage_error};
use hatang_core::compile::DeviceModel;
use hatang_driver::fleet::{self, NoEndpoint};
use hatang_driver::hostkey::KnownHosts;
use hatang_driver::overlay::Overlay;
use hatang_driver::ssh::{Auth, SshOptions};

pub(super) use hatang_driver::fleet::Endpoint;

/// Devices not reached, with the reason.
pub(super) type Skipped = Vec<(String, String)>;

/// The lab overlay named by `--lab-state`, if any.
pub(super) fn overlay(args: &SshArgs) -> Result<Option<Overlay>> {
    let Some(dir) = &args.lab_state else {
        return Ok(None);
    };
    let path = dir.join("overlay/hosts.yaml");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| crate::exit::input(&path, e).context("--lab-state names no lab overlay"))?;
    Ok(Some(Overlay::parse(&text).map_err(|e| {
        usage_error!("lab overlay `{}` is invalid: {e}", path.display())
    })?))
}

/// Endpoints of the FRR devices among `models` (only `only`, when given); devices of other
/// platforms are returned as skipped with the reason.
pub(super) fn endpoints(
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
            return Err(usage_error!("no device `{d}` in the inventory"));
        }
    }
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for model in models {
        let name = model.name.as_str();
        if !only.is_empty() && !only.iter().any(|d| d == name) {
            continue;
        }
        match fleet::endpoint(name, model.platform, specs.get(name).copied(), overlay) {
            Ok(e) => out.push(e),
            Err(why @ NoEndpoint::NoAdapter(_)) => skipped.push((name.to_owned(), why.to_string())),
            Err(why @ NoEndpoint::NoManagement(_)) => return Err(usage(why)),
        }
    }
    Ok((out, skipped))
}

/// Session options: login from `args` (or the lab's), known_hosts, and every pin as the only
/// key trusted for its endpoint.
pub(super) fn ssh_options(
    args: &SshArgs,
    overlay: Option<&Overlay>,
    endpoints: &[Endpoint],
) -> Result<SshOptions> {
    let user = args
        .user
        .clone()
        .or_else(|| overlay.map(|o| o.user.clone()))
        .unwrap_or_else(|| fleet::DEFAULT_USER.to_owned());
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
        return Err(usage_error!(
            "no login method: give --identity FILE, --agent or --lab-state DIR"
        ));
    }
    let known = match &known_hosts_file {
        Some(f) => match std::fs::read_to_string(f) {
            Ok(t) => KnownHosts::parse(&t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && args.accept_new => {
                KnownHosts::default()
            }
            Err(e) => return Err(crate::exit::input(f, e).context("known_hosts")),
        },
        None => KnownHosts::default(),
    };
    // A pin the inventory gives that is no key: the inventory must be corrected.
    let known = fleet::pin_endpoints(known, endpoints).or_usage()?;
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
pub(super) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
