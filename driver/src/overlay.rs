//! An endpoint overlay: where each device of an inventory is reached and which host key it
//! presents, when that is not the inventory's `spec.management` — a network lab writes one
//! (`hatang lab up`), and every front-end that talks to devices reads it through [`crate::fleet`].
//! The production code knows the file format only, never who wrote it.

use std::net::IpAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::hostkey::PublicKey;

/// An overlay file that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("overlay: {0}")]
pub struct OverlayError(#[from] serde_saphyr::Error);

/// The overlay of an inventory: how to reach each device and which host key it presents.
/// `hatang apply`/`audit` pin host keys from it (`sshHostKey` as in the inventory's
/// `spec.management`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Overlay {
    /// The name of the lab (or harness) that wrote it.
    pub lab: String,
    /// The user to log in as.
    pub user: String,
    /// Private key to log in with.
    pub identity_file: PathBuf,
    /// known_hosts with the same keys as below.
    pub known_hosts: PathBuf,
    /// One entry per device, sorted by name.
    pub devices: Vec<OverlayDevice>,
}

/// One device of the overlay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OverlayDevice {
    /// Device name (as in the inventory).
    pub name: String,
    /// Its network namespace (and FRR pathspace).
    pub namespace: String,
    /// Management address.
    pub address: IpAddr,
    /// SSH port.
    pub port: u16,
    /// Pinned host key, `ssh-ed25519 AAAA…`.
    pub ssh_host_key: String,
}

impl Overlay {
    /// YAML text with a header comment.
    pub fn to_yaml(&self) -> String {
        let body = serde_saphyr::to_string(self).expect("overlay serializes");
        format!(
            "# hatang lab overlay: management endpoints and pinned SSH host keys of lab `{}`.\n\
             # Written by `hatang lab up`, removed by `hatang lab down`.\n{body}",
            self.lab
        )
    }

    /// Parses overlay YAML.
    pub fn parse(text: &str) -> Result<Self, OverlayError> {
        Ok(serde_saphyr::from_str(text)?)
    }

    /// The pinned key of `device`, if the overlay has it.
    pub fn host_key(&self, device: &str) -> Option<PublicKey> {
        self.devices
            .iter()
            .find(|d| d.name == device)
            .and_then(|d| d.ssh_host_key.parse().ok())
    }
}
