//! Apply as a fleet-wide transaction: the steps, the journal that records them, what recovery
//! does from each recorded state, the expectations a committed change is verified against, and
//! the audit record every apply leaves.
//!
//! Pure: no files, no network. `hatang-driver` runs the steps over SSH and writes the journal
//! (fsynced) *before* each step, so a killed process leaves a record that [`Journal::recovery`]
//! turns into the work still owed: nothing, a rollback of every touched device, or finishing a
//! commit that was already verified.
//!
//! The steps, for every device of the transaction:
//!
//! 1. **backup** — the running configuration (and the saved one) is fetched and kept locally;
//! 2. **check** — the candidate is uploaded and checked by the device; one rejection stops the
//!    transaction before anything changed;
//! 3. **commit** — the candidate replaces the running configuration, device by device; each
//!    device is recorded as `committing` before and `committed` after;
//! 4. **verify** — within a deadline the running configuration must equal the candidate and the
//!    expected BGP sessions and routes must be up;
//! 5. **save** — only a verified change is written to the saved configuration;
//!
//! and on any failure after a change, **rollback** of every device that was touched.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::compile::DeviceModel;

/// Version of the journal format.
pub const JOURNAL_VERSION: u32 = 1;

/// Where a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Fetching and keeping the running configurations.
    Backup,
    /// Uploading candidates and letting the devices check them.
    Check,
    /// Replacing running configurations.
    Commit,
    /// Waiting for the committed configurations to work.
    Verify,
    /// Writing verified configurations to the saved (startup) configuration.
    Save,
    /// Putting touched devices back to their backups.
    Rollback,
    /// Finished; see the outcome.
    Done,
}

/// Where one device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceStep {
    /// Nothing done yet.
    Pending,
    /// Running (and saved) configuration kept locally.
    BackedUp,
    /// Candidate accepted by the device's checker.
    Checked,
    /// Commit started: the running configuration may be anything between backup and candidate.
    Committing,
    /// Candidate is the running configuration.
    Committed,
    /// Candidate saved as the startup configuration.
    Saved,
    /// Rollback started.
    RollingBack,
    /// Running configuration is the backup again.
    RolledBack,
}

impl DeviceStep {
    /// Has this device's running configuration (possibly) been changed and not restored?
    pub fn touched(self) -> bool {
        matches!(
            self,
            DeviceStep::Committing | DeviceStep::Committed | DeviceStep::RollingBack
        )
    }
}

/// How a transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Every device runs and saved its candidate.
    Committed,
    /// `--dry-run`: every device accepted its candidate; nothing changed.
    Checked,
    /// Stopped before any change (a device unreachable or rejecting its candidate).
    Aborted,
    /// A change failed and every touched device was restored.
    RolledBack,
    /// A change failed and at least one device could not be restored (named in the reason).
    RollbackFailed,
}

/// What sort of failure stopped a device, so that callers act on it without reading its
/// message: a refused host key is an interception risk, not network trouble.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// The device's host key is unknown or changed; it was not trusted.
    HostKey,
    /// No connection (refused, unreachable).
    Connect,
    /// The login was refused, or the login key is unusable.
    Auth,
    /// Connecting or a command took longer than allowed.
    Timeout,
    /// The device's checker refused the candidate.
    Rejected,
    /// A command on the device exited with an error.
    CommandFailed,
    /// The device does not run as expected: configuration, BGP sessions or routes.
    Verify,
    /// A local file of the run (journal, backup, candidate) could not be read or written.
    LocalState,
    /// Anything else, and failures journaled before kinds were recorded.
    #[default]
    Other,
}

/// A device's failure: its kind and what happened, in words that name the device's side of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredFailure")]
pub struct DeviceFailure {
    /// What sort of failure.
    pub kind: FailureKind,
    /// What happened.
    pub message: String,
}

impl DeviceFailure {
    /// A failure of `kind`.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        DeviceFailure {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for DeviceFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A failure as journals hold it: with its kind, or (journals written before kinds were
/// recorded) as its message alone.
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredFailure {
    Typed {
        #[serde(default)]
        kind: FailureKind,
        message: String,
    },
    Text(String),
}

impl From<StoredFailure> for DeviceFailure {
    fn from(stored: StoredFailure) -> Self {
        match stored {
            StoredFailure::Typed { kind, message } => DeviceFailure { kind, message },
            StoredFailure::Text(message) => DeviceFailure::new(FailureKind::Other, message),
        }
    }
}

/// One device of a transaction, as the journal records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalDevice {
    /// Device name.
    pub name: String,
    /// Address or host name it was reached at.
    pub host: String,
    /// SSH port.
    pub port: u16,
    /// The host key pinned for it during the transaction (`algorithm base64`), so that recovery
    /// trusts exactly the same key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_key: Option<String>,
    /// Where it is.
    pub step: DeviceStep,
    /// Whether the device had a saved configuration file at backup time (`None` before backup).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub had_saved: Option<bool>,
    /// The last error seen for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<DeviceFailure>,
}

/// One line of the transaction's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// When (RFC 3339, UTC), as the caller's clock says.
    pub at: String,
    /// The device, when the event is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// What happened.
    pub what: String,
}

/// The record of one transaction, rewritten (and fsynced) before every step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Journal {
    /// Format version ([`JOURNAL_VERSION`]).
    pub version: u32,
    /// Transaction id (also the name of its directory).
    pub id: String,
    /// Who ran it.
    pub user: String,
    /// The inventory it applied.
    pub inventory: String,
    /// When it started (RFC 3339, UTC).
    pub started: String,
    /// Only backup and check (`--dry-run`).
    #[serde(default)]
    pub dry_run: bool,
    /// Current phase.
    pub phase: Phase,
    /// How it ended, once `phase` is `done`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// Why it did not commit (the first failure, naming the device), and what a failed
    /// rollback left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The first failure alone, without what a rollback left: a retried rollback rewrites
    /// `reason` from it (journals of earlier releases have none; `reason` stands in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// Devices, in name order.
    pub devices: Vec<JournalDevice>,
    /// History, oldest first.
    pub events: Vec<Event>,
}

/// A step the journal does not allow from where the transaction is: a bug in the caller, or a
/// journal edited by hand.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JournalError {
    /// The device is not part of the transaction.
    #[error("device `{0}` is not part of this transaction")]
    UnknownDevice(String),
    /// The device is not at a step this one may follow.
    #[error("device `{device}`: cannot go from {from:?} to {to:?}")]
    DeviceStep {
        /// The device.
        device: String,
        /// Its step.
        from: DeviceStep,
        /// The step asked for.
        to: DeviceStep,
    },
    /// The transaction is not at a phase this one may follow.
    #[error("cannot go from phase {from:?} to {to:?}{}", if .waiting.is_empty() { String::new() } else { format!(" (waiting for {})", .waiting.join(", ")) })]
    Phase {
        /// The phase.
        from: Phase,
        /// The phase asked for.
        to: Phase,
        /// Devices not yet where the new phase needs them.
        waiting: Vec<String>,
    },
}

/// Why a text is not a journal this build can read.
#[derive(Debug, Error)]
pub enum JournalParseError {
    /// The text is not JSON.
    #[error("not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    /// The journal was written by a build with another format.
    #[error("journal version {0} is not supported (this hatang reads version {JOURNAL_VERSION})")]
    UnsupportedVersion(u32),
    /// JSON, but not a journal of this version (a field missing or of the wrong type).
    #[error("not a journal: {0}")]
    NotAJournal(#[source] serde_json::Error),
}

/// What a journal left by an interrupted run still needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// The transaction finished; nothing to do.
    Nothing,
    /// No device was changed: mark the transaction aborted.
    Abandon,
    /// Put these devices back to their backups, then mark the transaction rolled back.
    RollBack(Vec<String>),
    /// Every device was committed and verified: save the configuration on these devices (the
    /// ones not yet saved), then mark the transaction committed.
    FinishCommit(Vec<String>),
}

/// What a device is still owed by a transaction that did not finish its work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OwedWork {
    /// Its running (and saved) configuration must be put back to the backup.
    Rollback,
    /// Its verified configuration must be saved as the startup configuration.
    Save,
}

/// One device's unfinished work, with the last error that left it so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Owed {
    /// The device.
    pub device: String,
    /// What it is owed.
    pub work: OwedWork,
    /// Why it is still owed (the device's last error), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<DeviceFailure>,
}

/// A device as the transaction starts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceEndpoint {
    /// Device name.
    pub name: String,
    /// Address or host name.
    pub host: String,
    /// SSH port.
    pub port: u16,
    /// Pinned host key, if any.
    pub host_key: Option<String>,
}

impl Journal {
    /// A new transaction over `devices` (sorted by name), in the backup phase.
    pub fn new(
        id: &str,
        user: &str,
        inventory: &str,
        started: &str,
        dry_run: bool,
        mut devices: Vec<DeviceEndpoint>,
    ) -> Journal {
        devices.sort_by(|a, b| a.name.cmp(&b.name));
        Journal {
            version: JOURNAL_VERSION,
            id: id.to_owned(),
            user: user.to_owned(),
            inventory: inventory.to_owned(),
            started: started.to_owned(),
            dry_run,
            phase: Phase::Backup,
            outcome: None,
            reason: None,
            cause: None,
            devices: devices
                .into_iter()
                .map(|d| JournalDevice {
                    name: d.name,
                    host: d.host,
                    port: d.port,
                    host_key: d.host_key,
                    step: DeviceStep::Pending,
                    had_saved: None,
                    error: None,
                })
                .collect(),
            events: vec![Event {
                at: started.to_owned(),
                device: None,
                what: "started".to_owned(),
            }],
        }
    }

    /// Parses a journal, refusing versions this build does not know. The version is read
    /// first, so a journal of another format is named as such whatever its other fields are.
    pub fn parse(text: &str) -> Result<Journal, JournalParseError> {
        #[derive(Deserialize)]
        struct Versioned {
            version: u32,
        }
        let classify = |e: serde_json::Error| {
            if e.is_data() {
                JournalParseError::NotAJournal(e)
            } else {
                JournalParseError::NotJson(e)
            }
        };
        let Versioned { version } = serde_json::from_str(text).map_err(classify)?;
        if version != JOURNAL_VERSION {
            return Err(JournalParseError::UnsupportedVersion(version));
        }
        serde_json::from_str(text).map_err(JournalParseError::NotAJournal)
    }

    /// The device entry.
    pub fn device(&self, name: &str) -> Option<&JournalDevice> {
        self.devices.iter().find(|d| d.name == name)
    }

    fn device_mut(&mut self, name: &str) -> Result<&mut JournalDevice, JournalError> {
        self.devices
            .iter_mut()
            .find(|d| d.name == name)
            .ok_or_else(|| JournalError::UnknownDevice(name.to_owned()))
    }

    /// Names of the devices whose running configuration may differ from their backup.
    pub fn touched(&self) -> Vec<String> {
        self.devices
            .iter()
            .filter(|d| d.step.touched())
            .map(|d| d.name.clone())
            .collect()
    }

    /// Moves one device to `to`, if its current step allows it.
    pub fn advance(&mut self, device: &str, to: DeviceStep, at: &str) -> Result<(), JournalError> {
        use DeviceStep::*;
        let phase = self.phase;
        let d = self.device_mut(device)?;
        let allowed = match to {
            BackedUp => d.step == Pending && phase == Phase::Backup,
            Checked => d.step == BackedUp && phase == Phase::Check,
            Committing => d.step == Checked && phase == Phase::Commit,
            Committed => d.step == Committing && phase == Phase::Commit,
            Saved => d.step == Committed && phase == Phase::Save,
            RollingBack => d.step.touched() && phase == Phase::Rollback,
            RolledBack => d.step == RollingBack && phase == Phase::Rollback,
            Pending => false,
        };
        if !allowed {
            return Err(JournalError::DeviceStep {
                device: device.to_owned(),
                from: d.step,
                to,
            });
        }
        d.step = to;
        d.error = None;
        self.events.push(Event {
            at: at.to_owned(),
            device: Some(device.to_owned()),
            what: format!("{to:?}").to_lowercase(),
        });
        Ok(())
    }

    /// Records where a device had a saved configuration (at backup).
    pub fn set_had_saved(&mut self, device: &str, had: bool) -> Result<(), JournalError> {
        self.device_mut(device)?.had_saved = Some(had);
        Ok(())
    }

    /// Records the host key a device presented when nothing was known about it and new keys
    /// were accepted: from then on (and for recovery) it is the only key trusted for it.
    pub fn accept_host_key(
        &mut self,
        device: &str,
        key: &str,
        at: &str,
    ) -> Result<(), JournalError> {
        self.device_mut(device)?.host_key = Some(key.to_owned());
        self.events.push(Event {
            at: at.to_owned(),
            device: Some(device.to_owned()),
            what: format!("new host key accepted: {key}"),
        });
        Ok(())
    }

    /// Records a failure of a device (its step stays).
    pub fn fail(
        &mut self,
        device: &str,
        failure: &DeviceFailure,
        at: &str,
    ) -> Result<(), JournalError> {
        self.device_mut(device)?.error = Some(failure.clone());
        self.events.push(Event {
            at: at.to_owned(),
            device: Some(device.to_owned()),
            what: format!("error: {failure}"),
        });
        Ok(())
    }

    /// Enters `to`: the forward phases need every device at the step the previous phase leads
    /// to; rollback may start from commit, verify (or an interrupted rollback).
    pub fn enter(&mut self, to: Phase, at: &str) -> Result<(), JournalError> {
        let need = |step: DeviceStep| -> Vec<String> {
            self.devices
                .iter()
                .filter(|d| d.step != step)
                .map(|d| d.name.clone())
                .collect()
        };
        let (ok, waiting) = match (self.phase, to) {
            (Phase::Backup, Phase::Check) => {
                let w = need(DeviceStep::BackedUp);
                (w.is_empty(), w)
            }
            (Phase::Check, Phase::Commit) => {
                let w = need(DeviceStep::Checked);
                (w.is_empty() && !self.dry_run, w)
            }
            (Phase::Commit, Phase::Verify) => {
                let w = need(DeviceStep::Committed);
                (w.is_empty(), w)
            }
            (Phase::Verify, Phase::Save) => (true, vec![]),
            (Phase::Commit | Phase::Verify | Phase::Rollback, Phase::Rollback) => (true, vec![]),
            // A failed rollback is owed, not final: it is retried (by `--recover`).
            (Phase::Done, Phase::Rollback) => {
                (self.outcome == Some(Outcome::RollbackFailed), vec![])
            }
            _ => (false, vec![]),
        };
        if !ok {
            return Err(JournalError::Phase {
                from: self.phase,
                to,
                waiting,
            });
        }
        if self.phase == Phase::Done {
            self.outcome = None;
        }
        self.phase = to;
        self.events.push(Event {
            at: at.to_owned(),
            device: None,
            what: format!("phase {to:?}").to_lowercase(),
        });
        Ok(())
    }

    /// Ends the transaction. The outcome must fit what the devices went through: `committed`
    /// needs every device saved, `checked` and `aborted` no touched device, `rolled-back` every
    /// touched device restored.
    pub fn finish(
        &mut self,
        outcome: Outcome,
        reason: Option<String>,
        at: &str,
    ) -> Result<(), JournalError> {
        let not = |step: DeviceStep| -> Vec<String> {
            self.devices
                .iter()
                .filter(|d| d.step != step)
                .map(|d| d.name.clone())
                .collect()
        };
        let waiting = match outcome {
            Outcome::Committed => not(DeviceStep::Saved),
            Outcome::Checked if !self.dry_run => {
                self.devices.iter().map(|d| d.name.clone()).collect()
            }
            Outcome::Checked => not(DeviceStep::Checked),
            Outcome::Aborted | Outcome::RolledBack => self.touched(),
            Outcome::RollbackFailed => vec![],
        };
        if !waiting.is_empty() || self.phase == Phase::Done {
            return Err(JournalError::Phase {
                from: self.phase,
                to: Phase::Done,
                waiting,
            });
        }
        self.phase = Phase::Done;
        self.outcome = Some(outcome);
        if reason.is_some() {
            self.reason = reason;
        }
        self.events.push(Event {
            at: at.to_owned(),
            device: None,
            what: format!("done: {outcome:?}").to_lowercase(),
        });
        Ok(())
    }

    /// Records why the transaction will not commit (the first reason wins).
    pub fn set_reason(&mut self, reason: &str) {
        if self.reason.is_none() {
            self.reason = Some(reason.to_owned());
        }
        if self.cause.is_none() {
            self.cause = self.reason.clone();
        }
    }

    /// Ends a rollback that left `failed` devices not restored (a summary naming each): the
    /// outcome is `rollback-failed`, the reason the first failure and what is left. The
    /// transaction stays owed ([`Journal::owed`]) until a retry restores them.
    pub fn finish_rollback_failed(&mut self, failed: &str, at: &str) -> Result<(), JournalError> {
        let cause = self
            .cause
            .clone()
            .or_else(|| self.reason.clone())
            .unwrap_or_default();
        self.cause = Some(cause.clone());
        self.reason = Some(format!("{cause}; ROLLBACK FAILED on {failed}"));
        self.finish(Outcome::RollbackFailed, None, at)
    }

    /// The work this transaction still owes its devices: a rollback of every device a failed or
    /// interrupted change touched, or the save of every verified device not yet saved. Empty
    /// when it finished its work (or changed nothing).
    pub fn owed(&self) -> Vec<Owed> {
        let (work, devices) = match self.recovery() {
            Recovery::Nothing | Recovery::Abandon => return Vec::new(),
            Recovery::RollBack(devices) => (OwedWork::Rollback, devices),
            Recovery::FinishCommit(devices) => (OwedWork::Save, devices),
        };
        devices
            .into_iter()
            .map(|device| Owed {
                error: self.device(&device).and_then(|d| d.error.clone()),
                device,
                work,
            })
            .collect()
    }

    /// The work still owed to any of `devices` (a new transaction over them must wait for it).
    pub fn owed_to<'a>(&self, devices: impl IntoIterator<Item = &'a str>) -> Vec<Owed> {
        let wanted: BTreeSet<&str> = devices.into_iter().collect();
        self.owed()
            .into_iter()
            .filter(|o| wanted.contains(o.device.as_str()))
            .collect()
    }

    /// What an interrupted run left to do. A transaction that never left backup or check has
    /// changed nothing; one interrupted during commit, verification or rollback is rolled back
    /// (verification had not passed, so the change is not trusted); one interrupted while saving
    /// had passed verification, so the commit is finished.
    ///
    /// A finished transaction whose rollback failed still owes that rollback: its touched
    /// devices are rolled back again.
    pub fn recovery(&self) -> Recovery {
        match self.phase {
            Phase::Done if self.outcome == Some(Outcome::RollbackFailed) => {
                Recovery::RollBack(self.touched())
            }
            Phase::Done => Recovery::Nothing,
            Phase::Backup | Phase::Check => Recovery::Abandon,
            Phase::Commit | Phase::Verify | Phase::Rollback => Recovery::RollBack(self.touched()),
            Phase::Save => Recovery::FinishCommit(
                self.devices
                    .iter()
                    .filter(|d| d.step != DeviceStep::Saved)
                    .map(|d| d.name.clone())
                    .collect(),
            ),
        }
    }
}

/// What a device must show once its candidate runs: the BGP sessions of its model Established
/// and the prefixes its neighbours announce in its routing table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expectation {
    /// Neighbour addresses whose sessions must be Established.
    pub sessions: Vec<IpAddr>,
    /// Prefixes that must be in the routing table.
    pub routes: Vec<String>,
}

/// Expectations for every routing device of `models`: each neighbour session up, and every
/// prefix some device of the inventory originates that a neighbour policy of this device
/// accepts (and that it does not originate itself) in its routing table.
pub fn expectations(models: &[DeviceModel]) -> BTreeMap<String, Expectation> {
    let announced: BTreeSet<&str> = models
        .iter()
        .flat_map(|m| m.originate.iter().map(String::as_str))
        .collect();
    models
        .iter()
        .filter(|m| m.asn.is_some())
        .map(|m| {
            let own: BTreeSet<&str> = m.originate.iter().map(String::as_str).collect();
            let routes: BTreeSet<String> = m
                .neighbors
                .iter()
                .flat_map(|n| n.accept.iter())
                .filter(|p| announced.contains(p.as_str()) && !own.contains(p.as_str()))
                .cloned()
                .collect();
            (
                m.name.clone(),
                Expectation {
                    sessions: m.neighbors.iter().map(|n| n.address).collect(),
                    routes: routes.into_iter().collect(),
                },
            )
        })
        .collect()
}

/// The configuration text of a `show running-config` capture, without the banner lines
/// (`Building configuration...`, `Current configuration:`) a device would not accept back.
pub fn loadable(running: &str) -> String {
    let mut out = String::with_capacity(running.len());
    let mut in_banner = true;
    for line in running.split_inclusive('\n') {
        let bare = line.trim_end();
        if in_banner
            && (bare.is_empty()
                || bare == "Building configuration..."
                || bare == "Current configuration:")
        {
            continue;
        }
        in_banner = false;
        out.push_str(line);
    }
    out
}

/// An order-insensitive form of a configuration: its normalized lines ([`crate::audit::normalize`])
/// as `block > … > line`, sorted. Diffs of two canonical forms show setting changes only, not
/// where a device chose to print a block.
pub fn canonical(text: &str) -> String {
    let mut lines: Vec<String> = crate::audit::normalize(text)
        .into_iter()
        .map(|p| p.join(" > "))
        .collect();
    lines.sort();
    let mut out = lines.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// A unified diff (3 lines of context) from `old` to `new`, empty when they are equal.
pub fn unified_diff(old: &str, new: &str, old_label: &str, new_label: &str) -> String {
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_label, new_label)
        .to_string()
}

/// One device in the audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordDevice {
    /// Device name.
    pub name: String,
    /// Where it ended.
    pub step: DeviceStep,
    /// Its last error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<DeviceFailure>,
    /// The change proposed: unified diff of the canonical running configuration before the
    /// transaction against the canonical candidate (empty: nothing to change).
    pub diff: String,
}

/// What every apply leaves behind for auditors: who, when, what, the per-device changes and the
/// result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// Transaction id.
    pub id: String,
    /// Who ran it (`$SUDO_USER`, else `$USER`).
    pub user: String,
    /// The inventory.
    pub inventory: String,
    /// Started (RFC 3339, UTC).
    pub started: String,
    /// Finished (RFC 3339, UTC).
    pub finished: String,
    /// Dry run?
    pub dry_run: bool,
    /// How it ended.
    pub outcome: Outcome,
    /// Why it did not commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Devices.
    pub devices: Vec<RecordDevice>,
}

impl AuditRecord {
    /// The record of a finished journal, with each device's proposed diff.
    pub fn of(journal: &Journal, finished: &str, diffs: &BTreeMap<String, String>) -> AuditRecord {
        AuditRecord {
            id: journal.id.clone(),
            user: journal.user.clone(),
            inventory: journal.inventory.clone(),
            started: journal.started.clone(),
            finished: finished.to_owned(),
            dry_run: journal.dry_run,
            outcome: journal.outcome.unwrap_or(Outcome::Aborted),
            reason: journal.reason.clone(),
            devices: journal
                .devices
                .iter()
                .map(|d| RecordDevice {
                    name: d.name.clone(),
                    step: d.step,
                    error: d.error.clone(),
                    diff: diffs.get(&d.name).cloned().unwrap_or_default(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "2026-11-23T00:00:00Z";

    fn journal(names: &[&str]) -> Journal {
        Journal::new(
            "tx",
            "tester",
            "inventories/lab",
            T,
            false,
            names
                .iter()
                .map(|n| DeviceEndpoint {
                    name: (*n).to_owned(),
                    host: format!("{n}.example"),
                    port: 22,
                    host_key: None,
                })
                .collect(),
        )
    }

    fn to_checked(j: &mut Journal) {
        let names: Vec<String> = j.devices.iter().map(|d| d.name.clone()).collect();
        for n in &names {
            j.advance(n, DeviceStep::BackedUp, T).unwrap();
        }
        j.enter(Phase::Check, T).unwrap();
        for n in &names {
            j.advance(n, DeviceStep::Checked, T).unwrap();
        }
    }

    #[test]
    fn phases_need_every_device_at_the_previous_step() {
        let mut j = journal(&["b", "a"]);
        assert_eq!(j.devices[0].name, "a", "sorted by name");
        j.advance("a", DeviceStep::BackedUp, T).unwrap();
        let e = j.enter(Phase::Check, T).unwrap_err();
        assert_eq!(
            e,
            JournalError::Phase {
                from: Phase::Backup,
                to: Phase::Check,
                waiting: vec!["b".into()]
            }
        );
        assert!(e.to_string().contains("waiting for b"), "{e}");
        j.advance("b", DeviceStep::BackedUp, T).unwrap();
        j.enter(Phase::Check, T).unwrap();
        // No skipping: a backed-up device cannot be committed before it is checked.
        assert!(matches!(
            j.advance("a", DeviceStep::Committing, T),
            Err(JournalError::DeviceStep { .. })
        ));
        assert!(j.enter(Phase::Commit, T).is_err());
        assert_eq!(
            j.advance("zz", DeviceStep::Checked, T),
            Err(JournalError::UnknownDevice("zz".into()))
        );
    }

    #[test]
    fn a_full_commit_ends_committed_with_every_device_saved() {
        let mut j = journal(&["a", "b"]);
        to_checked(&mut j);
        j.enter(Phase::Commit, T).unwrap();
        for n in ["a", "b"] {
            j.advance(n, DeviceStep::Committing, T).unwrap();
            j.advance(n, DeviceStep::Committed, T).unwrap();
        }
        j.enter(Phase::Verify, T).unwrap();
        j.enter(Phase::Save, T).unwrap();
        j.advance("a", DeviceStep::Saved, T).unwrap();
        assert!(
            j.finish(Outcome::Committed, None, T).is_err(),
            "b not saved"
        );
        j.advance("b", DeviceStep::Saved, T).unwrap();
        j.finish(Outcome::Committed, None, T).unwrap();
        assert_eq!(j.recovery(), Recovery::Nothing);
        assert!(j.finish(Outcome::Committed, None, T).is_err(), "only once");
    }

    #[test]
    fn recovery_from_each_phase() {
        // Killed during backup or check: nothing was changed.
        let mut j = journal(&["a", "b"]);
        assert_eq!(j.recovery(), Recovery::Abandon);
        to_checked(&mut j);
        assert_eq!(j.recovery(), Recovery::Abandon);
        j.finish(Outcome::Aborted, Some("b rejected".into()), T)
            .unwrap();

        // Killed mid-commit: the committed device and the one being committed are rolled back,
        // the untouched one is not.
        let mut j = journal(&["a", "b", "c"]);
        to_checked(&mut j);
        j.enter(Phase::Commit, T).unwrap();
        j.advance("a", DeviceStep::Committing, T).unwrap();
        j.advance("a", DeviceStep::Committed, T).unwrap();
        j.advance("b", DeviceStep::Committing, T).unwrap();
        assert_eq!(
            j.recovery(),
            Recovery::RollBack(vec!["a".into(), "b".into()])
        );
        // … and an interrupted rollback goes on with what is left.
        j.enter(Phase::Rollback, T).unwrap();
        j.advance("a", DeviceStep::RollingBack, T).unwrap();
        j.advance("a", DeviceStep::RolledBack, T).unwrap();
        assert_eq!(j.recovery(), Recovery::RollBack(vec!["b".into()]));
        assert!(j.finish(Outcome::RolledBack, None, T).is_err(), "b touched");
        j.enter(Phase::Rollback, T).unwrap();
        j.advance("b", DeviceStep::RollingBack, T).unwrap();
        j.advance("b", DeviceStep::RolledBack, T).unwrap();
        j.finish(Outcome::RolledBack, None, T).unwrap();
        assert_eq!(j.recovery(), Recovery::Nothing);

        // Killed while saving: verification had passed, so the commit is finished.
        let mut j = journal(&["a", "b"]);
        to_checked(&mut j);
        j.enter(Phase::Commit, T).unwrap();
        for n in ["a", "b"] {
            j.advance(n, DeviceStep::Committing, T).unwrap();
            j.advance(n, DeviceStep::Committed, T).unwrap();
        }
        j.enter(Phase::Verify, T).unwrap();
        assert_eq!(
            j.recovery(),
            Recovery::RollBack(vec!["a".into(), "b".into()]),
            "not verified yet"
        );
        j.enter(Phase::Save, T).unwrap();
        j.advance("a", DeviceStep::Saved, T).unwrap();
        assert_eq!(j.recovery(), Recovery::FinishCommit(vec!["b".into()]));
    }

    /// A transaction whose commit failed and whose rollback restored `a` but not `b`.
    fn rollback_failed_on_b() -> Journal {
        let mut j = journal(&["a", "b", "c"]);
        to_checked(&mut j);
        j.enter(Phase::Commit, T).unwrap();
        for n in ["a", "b"] {
            j.advance(n, DeviceStep::Committing, T).unwrap();
        }
        j.advance("a", DeviceStep::Committed, T).unwrap();
        j.set_reason("commit failed: b: connect: unreachable");
        j.enter(Phase::Rollback, T).unwrap();
        for n in ["a", "b"] {
            j.advance(n, DeviceStep::RollingBack, T).unwrap();
        }
        j.advance("a", DeviceStep::RolledBack, T).unwrap();
        j.fail(
            "b",
            &DeviceFailure::new(FailureKind::Connect, "unreachable"),
            T,
        )
        .unwrap();
        j.finish_rollback_failed("b: unreachable", T).unwrap();
        j
    }

    #[test]
    fn a_failed_rollback_is_owed_until_a_retry_restores_every_device() {
        let mut j = rollback_failed_on_b();
        assert_eq!(j.phase, Phase::Done);
        assert_eq!(j.outcome, Some(Outcome::RollbackFailed));
        assert_eq!(
            j.reason.as_deref(),
            Some("commit failed: b: connect: unreachable; ROLLBACK FAILED on b: unreachable")
        );
        // Still owed: b (only b: a was restored, c never touched).
        assert_eq!(j.recovery(), Recovery::RollBack(vec!["b".into()]));
        let owed = j.owed();
        assert_eq!(owed.len(), 1);
        assert_eq!(
            (owed[0].device.as_str(), owed[0].work),
            ("b", OwedWork::Rollback)
        );
        assert_eq!(
            owed[0].error.as_ref().map(|e| e.kind),
            Some(FailureKind::Connect)
        );
        assert_eq!(j.owed_to(["a", "c"]), vec![]);
        assert_eq!(j.owed_to(["c", "b"]).len(), 1);

        // A retry that fails again keeps the first cause, not a chain of retries.
        j.enter(Phase::Rollback, T).unwrap();
        assert_eq!(j.outcome, None, "reopened");
        assert_eq!(j.recovery(), Recovery::RollBack(vec!["b".into()]));
        j.finish_rollback_failed("b: timeout", T).unwrap();
        assert_eq!(
            j.reason.as_deref(),
            Some("commit failed: b: connect: unreachable; ROLLBACK FAILED on b: timeout")
        );
        // A retry that restores b closes it.
        j.enter(Phase::Rollback, T).unwrap();
        j.advance("b", DeviceStep::RolledBack, T).unwrap();
        j.finish(Outcome::RolledBack, None, T).unwrap();
        assert_eq!(j.recovery(), Recovery::Nothing);
        assert!(j.owed().is_empty());

        // Only a failed rollback is reopened.
        assert!(j.enter(Phase::Rollback, T).is_err());
        let text = serde_json::to_string(&rollback_failed_on_b()).unwrap();
        assert_eq!(Journal::parse(&text).unwrap().owed().len(), 1, "read back");
    }

    #[test]
    fn an_unfinished_save_is_owed_and_a_change_never_begun_is_not() {
        let mut j = journal(&["a", "b"]);
        to_checked(&mut j);
        assert!(j.owed().is_empty(), "nothing changed yet");
        j.enter(Phase::Commit, T).unwrap();
        for n in ["a", "b"] {
            j.advance(n, DeviceStep::Committing, T).unwrap();
            j.advance(n, DeviceStep::Committed, T).unwrap();
        }
        j.enter(Phase::Verify, T).unwrap();
        j.enter(Phase::Save, T).unwrap();
        j.advance("a", DeviceStep::Saved, T).unwrap();
        let owed = j.owed();
        assert_eq!(owed.len(), 1);
        assert_eq!(
            (owed[0].device.as_str(), owed[0].work),
            ("b", OwedWork::Save)
        );
    }

    #[test]
    fn dry_run_stops_after_check() {
        let mut j = Journal::new("tx", "u", "inv", T, true, vec![]);
        j.devices = journal(&["a"]).devices;
        to_checked(&mut j);
        assert!(j.enter(Phase::Commit, T).is_err());
        j.finish(Outcome::Checked, None, T).unwrap();
        assert_eq!(j.outcome, Some(Outcome::Checked));
    }

    #[test]
    fn journal_round_trips_and_refuses_other_versions() {
        let mut j = journal(&["a"]);
        j.advance("a", DeviceStep::BackedUp, T).unwrap();
        j.fail("a", &DeviceFailure::new(FailureKind::Connect, "boom"), T)
            .unwrap();
        j.accept_host_key("a", "ssh-ed25519 AAAA", T).unwrap();
        assert_eq!(j.devices[0].host_key.as_deref(), Some("ssh-ed25519 AAAA"));
        let text = serde_json::to_string_pretty(&j).unwrap();
        assert!(text.contains("\"step\": \"backed-up\""), "{text}");
        assert_eq!(Journal::parse(&text).unwrap(), j);
        let other = text.replace("\"version\": 1", "\"version\": 99");
        let e = Journal::parse(&other).unwrap_err();
        assert!(
            matches!(e, JournalParseError::UnsupportedVersion(99)),
            "{e:?}"
        );
        assert!(e.to_string().contains("version 99"), "{e}");
        // The version is judged before the rest: a journal of another format is not
        // reported as a broken one.
        let future = r#"{"version": 2, "steps": []}"#;
        assert!(matches!(
            Journal::parse(future),
            Err(JournalParseError::UnsupportedVersion(2))
        ));
        assert!(matches!(
            Journal::parse("{\"version\": 1"),
            Err(JournalParseError::NotJson(_))
        ));
        assert!(matches!(
            Journal::parse(r#"{"version": 1}"#),
            Err(JournalParseError::NotAJournal(_))
        ));
        assert!(matches!(
            Journal::parse("[]"),
            Err(JournalParseError::NotAJournal(_))
        ));
    }

    #[test]
    fn failures_keep_their_kind_and_old_journals_still_read() {
        let mut j = journal(&["a", "b"]);
        let refused = DeviceFailure::new(FailureKind::HostKey, "HOST KEY CHANGED for a");
        j.fail("a", &refused, T).unwrap();
        let text = serde_json::to_string(&j).unwrap();
        let back = Journal::parse(&text).unwrap();
        assert_eq!(back.device("a").unwrap().error.as_ref(), Some(&refused));
        assert_eq!(
            back.events.last().unwrap().what,
            "error: HOST KEY CHANGED for a"
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["devices"][0]["error"]["kind"], "host-key");

        // A journal written before kinds were recorded kept the message alone.
        let old = text.replace(
            r#"{"kind":"host-key","message":"HOST KEY CHANGED for a"}"#,
            r#""HOST KEY CHANGED for a""#,
        );
        assert_ne!(old, text);
        let back = Journal::parse(&old).unwrap();
        assert_eq!(
            back.device("a").unwrap().error,
            Some(DeviceFailure::new(
                FailureKind::Other,
                "HOST KEY CHANGED for a"
            ))
        );
        // An audit record carries the same failures.
        let record = AuditRecord::of(&j, T, &BTreeMap::new());
        let text = serde_json::to_string(&record).unwrap();
        let back: AuditRecord = serde_json::from_str(&text).unwrap();
        assert_eq!(back.devices[0].error.as_ref(), Some(&refused));
    }

    #[test]
    fn loadable_drops_the_banner_only() {
        let running = "Building configuration...\n\nCurrent configuration:\n!\nfrr version 8.4.4\nhostname a\n!\nend\n";
        assert_eq!(
            loadable(running),
            "!\nfrr version 8.4.4\nhostname a\n!\nend\n"
        );
        assert_eq!(
            loadable("hostname a\n\nline vty\n"),
            "hostname a\n\nline vty\n"
        );
    }

    #[test]
    fn canonical_ignores_order_and_diff_shows_changes() {
        let a = "router bgp 1\n neighbor x timers 3 9\n neighbor x remote-as 2\n!\nhostname a\n";
        let b = "hostname a\nrouter bgp 1\n neighbor x remote-as 2\n neighbor x timers 3 9\n";
        assert_eq!(canonical(a), canonical(b));
        assert_eq!(unified_diff(&canonical(a), &canonical(b), "x", "y"), "");
        let c = b.replace("timers 3 9", "timers 5 15");
        let d = unified_diff(&canonical(a), &canonical(&c), "running", "candidate");
        assert!(d.starts_with("--- running\n+++ candidate\n"), "{d}");
        assert!(d.contains("-router bgp 1 > neighbor x timers 3 9\n"), "{d}");
        assert!(
            d.contains("+router bgp 1 > neighbor x timers 5 15\n"),
            "{d}"
        );
    }
}
