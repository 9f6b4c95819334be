//! Where each device is reached and which host key is trusted for it: the overlay's entry
//! when there is one, else the inventory's `spec.management` (address, port, pinned key).
//! Shared by every front-end that talks to devices (`hatang apply`/`audit`/`plan --against
//! live` and the operator), so they all reach the same endpoint and trust the same key.

use thiserror::Error;

use hatang_core::model::{DeviceSpec, Platform};

use crate::hostkey::{KnownHosts, PublicKey};
use crate::overlay::Overlay;
use crate::ssh::Target;

/// The user hatang logs in as when nothing says otherwise (FRR's `vtysh` and `frr-reload.py`
/// need it, or sudo rules the platform does not have).
pub const DEFAULT_USER: &str = "root";

/// A device to reach, with the host key pinned for it (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Where it listens.
    pub target: Target,
    /// Its pinned host key (OpenSSH public key text), the only key trusted for it when set.
    pub pin: Option<String>,
}

impl Endpoint {
    /// How a transaction's journal records this endpoint (see [`journal_endpoints`]).
    pub fn journal_entry(&self) -> hatang_core::apply::DeviceEndpoint {
        hatang_core::apply::DeviceEndpoint {
            name: self.target.device.clone(),
            host: self.target.host.clone(),
            port: self.target.port,
            host_key: self.pin.clone(),
        }
    }
}

/// Exactly the endpoints and host keys a transaction used, from its journal (to recover it).
pub fn journal_endpoints(journal: &hatang_core::apply::Journal) -> Vec<Endpoint> {
    journal
        .devices
        .iter()
        .map(|d| Endpoint {
            target: Target {
                device: d.name.clone(),
                host: d.host.clone(),
                port: d.port,
            },
            pin: d.host_key.clone(),
        })
        .collect()
}

/// Why a device has no endpoint.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum NoEndpoint {
    /// No adapter pushes or audits this platform (yet).
    #[error("no adapter for platform {0:?}")]
    NoAdapter(Platform),
    /// Neither the lab overlay nor the inventory say where the device is.
    #[error("device `{0}` has no spec.management address")]
    NoManagement(String),
}

/// A pinned host key that does not parse.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("pinned host key of `{device}`: {message}")]
pub struct BadPin {
    /// The device.
    pub device: String,
    /// Why.
    pub message: String,
}

/// The endpoint of one device: the lab overlay's entry (address, port and the key the lab
/// generated), else `spec.management`.
pub fn endpoint(
    name: &str,
    platform: Platform,
    spec: Option<&DeviceSpec>,
    overlay: Option<&Overlay>,
) -> Result<Endpoint, NoEndpoint> {
    if platform != Platform::Frr {
        return Err(NoEndpoint::NoAdapter(platform));
    }
    let lab = overlay.and_then(|o| o.devices.iter().find(|d| d.name == name));
    let management = spec.and_then(|s| s.management.as_ref());
    let (host, port, pin) = match (lab, management) {
        (Some(l), _) => (l.address.to_string(), l.port, Some(l.ssh_host_key.clone())),
        (None, Some(m)) => (m.address.to_string(), m.port, m.ssh_host_key.clone()),
        (None, None) => return Err(NoEndpoint::NoManagement(name.to_owned())),
    };
    Ok(Endpoint {
        target: Target {
            device: name.to_owned(),
            host,
            port,
        },
        pin,
    })
}

/// `known` with every endpoint's pin as the only key trusted for that endpoint (a known_hosts
/// line for the same address is forgotten: the inventory's pin is the newer word).
pub fn pin_endpoints(mut known: KnownHosts, endpoints: &[Endpoint]) -> Result<KnownHosts, BadPin> {
    for e in endpoints {
        if let Some(pin) = &e.pin {
            let key: PublicKey = pin
                .parse()
                .map_err(|why: crate::hostkey::KeyError| BadPin {
                    device: e.target.device.clone(),
                    message: why.to_string(),
                })?;
            let name = e.target.known_hosts_name();
            known.forget(&name);
            known.pin(&name, key);
        }
    }
    Ok(known)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hatang_core::model::Management;

    fn spec(management: Option<Management>) -> DeviceSpec {
        serde_json::from_value(serde_json::json!({
            "site": "s", "platform": "frr", "role": "cpe",
            "management": management,
        }))
        .unwrap()
    }

    #[test]
    fn management_address_and_pin_make_the_endpoint() {
        let m: Management = serde_json::from_value(serde_json::json!({
            "address": "3fff:ab:ff:1::1", "port": 2222,
            "sshHostKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
        }))
        .unwrap();
        let s = spec(Some(m));
        let e = endpoint("cpe-1", Platform::Frr, Some(&s), None).unwrap();
        assert_eq!(e.target.known_hosts_name(), "[3fff:ab:ff:1::1]:2222");
        assert!(e.pin.as_deref().unwrap().starts_with("ssh-ed25519 "));
        let known = pin_endpoints(KnownHosts::default(), std::slice::from_ref(&e)).unwrap();
        let key: PublicKey = e.pin.unwrap().parse().unwrap();
        assert_eq!(
            known.check("[3fff:ab:ff:1::1]:2222", &key),
            crate::hostkey::Trust::Trusted
        );
    }

    #[test]
    fn devices_without_address_or_adapter_have_no_endpoint() {
        assert_eq!(
            endpoint("x", Platform::Frr, Some(&spec(None)), None),
            Err(NoEndpoint::NoManagement("x".into()))
        );
        assert!(matches!(
            endpoint("x", Platform::Iosxe, Some(&spec(None)), None),
            Err(NoEndpoint::NoAdapter(_))
        ));
    }
}
