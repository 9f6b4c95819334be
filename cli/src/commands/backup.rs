//! `hatang backup`: every device's running configuration (`hatang_driver::running::fetch`, with
//! the login and trust of `audit`) saved as `OUT/<device>.conf` — the layout `audit --saved`
//! reads — with `OUT/manifest.json` saying what was taken when, with which hash.

use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::args::{BackupArgs, Output};
use crate::exit::Verdict;
use crate::ledger_file::write_replacing;
use crate::output::print_json;
use hatang_core::model::Platform;
use hatang_driver::ssh::{SshError, Target};

/// The manifest's file name in a backup directory.
pub(super) const MANIFEST: &str = "manifest.json";

/// How one device's backup came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum BackupStatus {
    /// Fetched and saved as `<device>.conf`.
    Fetched,
    /// Not fetched (its previous file, if any, is left as it was).
    Failed,
    /// No backup adapter for its platform.
    Skipped,
}

/// One device in the manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BackupEntry {
    pub(super) device: String,
    pub(super) status: BackupStatus,
    /// The saved file, relative to the backup directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) file: Option<String>,
    /// When the configuration was read (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) fetched_at: Option<String>,
    /// SHA-256 of the saved file, lowercase hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) endpoint: Option<String>,
    /// Why it failed (typed, as `audit` reports it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) error: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) note: Option<String>,
}

/// `OUT/manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Manifest {
    /// When the backup run started (RFC 3339, UTC).
    pub(super) taken_at: String,
    pub(super) fetched: usize,
    pub(super) failed: usize,
    pub(super) skipped: usize,
    pub(super) devices: Vec<BackupEntry>,
}

impl Manifest {
    /// The manifest of the backup directory `dir`, if it has one that parses.
    pub(super) fn read(dir: &Path) -> Option<Manifest> {
        let text = std::fs::read(dir.join(MANIFEST)).ok()?;
        serde_json::from_slice(&text).ok()
    }
}

/// SHA-256 of `bytes`, lowercase hex.
pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn now() -> String {
    let t: DateTime<Utc> = Utc::now();
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn entry(device: &str, status: BackupStatus) -> BackupEntry {
    BackupEntry {
        device: device.to_owned(),
        status,
        file: None,
        fetched_at: None,
        sha256: None,
        endpoint: None,
        error: None,
        note: None,
    }
}

pub(super) fn run(args: &BackupArgs) -> Result<Verdict> {
    let output = args.output.format;
    let checked = super::check(&args.inventory)?;
    if checked.errors() > 0 {
        let message = format!(
            "{} errors: fix the inventory before backing it up",
            checked.errors()
        );
        return crate::output::invalid_inventory(
            &checked,
            output,
            args.inventory.max_problems,
            message,
        );
    }
    let inventory = &checked.loaded.inventory;
    for d in &args.devices {
        if !inventory.devices.iter().any(|x| x.name() == d) {
            return Err(crate::exit::usage_error!(
                "no device `{d}` in the inventory"
            ));
        }
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create `{}`", args.out.display()))?;
    let taken_at = now();
    let overlay = super::fleet::overlay(&args.ssh)?;
    let mut entries = Vec::new();
    let mut endpoints = Vec::new();
    for d in &inventory.devices {
        if !args.devices.is_empty() && !args.devices.iter().any(|x| x == d.name()) {
            continue;
        }
        if d.spec.platform != Platform::Frr {
            let mut e = entry(d.name(), BackupStatus::Skipped);
            e.note = Some(format!(
                "no backup adapter for platform {:?}",
                d.spec.platform
            ));
            entries.push(e);
            continue;
        }
        match hatang_driver::fleet::endpoint(
            d.name(),
            Platform::Frr,
            Some(&d.spec),
            overlay.as_ref(),
        ) {
            Ok(e) => endpoints.push(e),
            Err(why) => {
                let mut e = entry(d.name(), BackupStatus::Failed);
                e.note = Some(why.to_string());
                entries.push(e);
            }
        }
    }
    let options = super::fleet::ssh_options(&args.ssh, overlay.as_ref(), &endpoints)?;
    let targets: Vec<Target> = endpoints.into_iter().map(|e| e.target).collect();
    let fetched = super::fleet::runtime()?.block_on(hatang_driver::running::fetch(
        targets,
        options,
        args.ssh.concurrency,
    ));
    let mut new_keys = Vec::new();
    for r in fetched {
        if let Some(k) = &r.new_host_key {
            new_keys.push(format!("{} {k}", r.endpoint));
        }
        entries.push(save(&args.out, &r.device, &r.endpoint, r.outcome)?);
    }
    super::fleet::record_new_keys(&args.ssh, &new_keys)?;
    entries.sort_by(|a, b| a.device.cmp(&b.device));
    let count = |s: BackupStatus| entries.iter().filter(|e| e.status == s).count();
    let manifest = Manifest {
        taken_at,
        fetched: count(BackupStatus::Fetched),
        failed: count(BackupStatus::Failed),
        skipped: count(BackupStatus::Skipped),
        devices: entries,
    };
    let text = serde_json::to_string_pretty(&manifest)? + "\n";
    write_replacing(&args.out.join(MANIFEST), &text, true)?;
    match output {
        Output::Json => print_json(&manifest)?,
        Output::Text => print_text(&manifest, &args.out),
    }
    Ok(Verdict::problems_if(manifest.failed > 0))
}

/// Saves one fetched configuration atomically, or records why there is none.
fn save(
    dir: &Path,
    device: &str,
    endpoint: &str,
    outcome: Result<String, SshError>,
) -> Result<BackupEntry> {
    let fetched_at = now();
    let mut e = match outcome {
        Ok(text) => {
            let file = format!("{device}.conf");
            write_replacing(&dir.join(&file), &text, true)?;
            let mut e = entry(device, BackupStatus::Fetched);
            e.sha256 = Some(sha256_hex(text.as_bytes()));
            e.file = Some(file);
            e
        }
        Err(err) => {
            let mut e = entry(device, BackupStatus::Failed);
            e.note = Some(err.to_string());
            e.error = Some(serde_json::to_value(&err)?);
            e
        }
    };
    e.fetched_at = Some(fetched_at);
    e.endpoint = Some(endpoint.to_owned());
    Ok(e)
}

fn print_text(m: &Manifest, dir: &Path) {
    for e in &m.devices {
        match e.status {
            BackupStatus::Fetched => println!(
                "  fetched  {:<24} sha256 {}",
                e.device,
                e.sha256.as_deref().unwrap_or_default()
            ),
            BackupStatus::Failed => println!(
                "  FAILED   {:<24} {}",
                e.device,
                e.note.as_deref().unwrap_or_default()
            ),
            BackupStatus::Skipped => println!(
                "  skipped  {:<24} {}",
                e.device,
                e.note.as_deref().unwrap_or_default()
            ),
        }
    }
    println!(
        "backup {} into {}: {} fetched, {} failed, {} skipped",
        m.taken_at,
        dir.display(),
        m.fetched,
        m.failed,
        m.skipped
    );
}
