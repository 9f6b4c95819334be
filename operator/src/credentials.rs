//! SSH login and host-key trust for pushes and audits, from one Kubernetes Secret in the
//! operator's namespace (`hatang-ssh` unless `--ssh-secret` says otherwise; the operator's Role
//! may `get` that one name and no other Secret):
//!
//! | key | required | what |
//! |---|---|---|
//! | `id_ed25519` | yes | the private key to log in with (OpenSSH format, unencrypted) |
//! | `known_hosts` | no | pinned host keys (OpenSSH known_hosts lines) for devices whose spec pins none |
//! | `user` | no | login user (default `root`, as `hatang apply`) |
//!
//! Nothing else is trusted: a device whose key is neither pinned in its spec
//! (`spec.management.sshHostKey`) nor in `known_hosts` is refused (never accepted as new). The
//! private key stays in memory and is never logged (its `Debug` is its fingerprint).

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::Api;

use hatang_driver::fleet::{self, BadPin, Endpoint};
use hatang_driver::hostkey::KnownHosts;
use hatang_driver::ssh::{Auth, LoginKey, SshOptions};

pub use hatang_kube_api::secret::{DEFAULT_SECRET, KNOWN_HOSTS, PRIVATE_KEY, USER};

/// Why there is no way to log in.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// The Secret could not be read (missing, forbidden, API down).
    #[error("Secret {namespace}/{name}: {source}")]
    Read {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// Why.
        source: kube::Error,
    },
    /// A key is missing or is not UTF-8.
    #[error("Secret {namespace}/{name} has no usable `{key}`")]
    Missing {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// The data key.
        key: &'static str,
    },
    /// The private key does not parse (the error never quotes it).
    #[error("Secret {namespace}/{name}: `{PRIVATE_KEY}` is not an OpenSSH private key: {message}")]
    BadKey {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// Why.
        message: String,
    },
    /// A device's pinned host key does not parse.
    #[error(transparent)]
    BadPin(#[from] BadPin),
}

/// Login and trust as read from the Secret.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Login user.
    pub user: String,
    /// The private key.
    pub key: LoginKey,
    /// Host keys of `known_hosts`.
    pub known_hosts: KnownHosts,
}

/// Reads the Secret (one `get`, each time it is needed: a rotated key or a new pin is used by
/// the next push or audit without a restart).
pub async fn read(
    secrets: &Api<Secret>,
    namespace: &str,
    name: &str,
) -> Result<Credentials, CredentialsError> {
    let secret = secrets
        .get(name)
        .await
        .map_err(|source| CredentialsError::Read {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            source,
        })?;
    let data = secret.data.unwrap_or_default();
    let text = |key: &'static str| -> Option<String> {
        data.get(key)
            .and_then(|b| String::from_utf8(b.0.clone()).ok())
    };
    let missing = |key| CredentialsError::Missing {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        key,
    };
    let key_text = text(PRIVATE_KEY).ok_or_else(|| missing(PRIVATE_KEY))?;
    let key = LoginKey::from_openssh(&key_text).map_err(|e| CredentialsError::BadKey {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        message: match e {
            hatang_driver::ssh::SshError::Key { message, .. } => message,
            other => other.to_string(),
        },
    })?;
    let known_hosts = KnownHosts::parse(&text(KNOWN_HOSTS).unwrap_or_default());
    let user = text(USER)
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| fleet::DEFAULT_USER.to_owned());
    Ok(Credentials {
        user,
        key,
        known_hosts,
    })
}

impl Credentials {
    /// Session options for `endpoints`: the Secret's login, its known_hosts with each spec pin as
    /// the only key trusted for its endpoint, unknown keys refused.
    pub fn ssh_options(
        &self,
        endpoints: &[Endpoint],
        timeout: Duration,
    ) -> Result<SshOptions, CredentialsError> {
        let known = fleet::pin_endpoints(self.known_hosts.clone(), endpoints)?;
        Ok(SshOptions {
            user: self.user.clone(),
            auth: vec![Auth::Key(self.key.clone())],
            known_hosts: Arc::new(known),
            accept_new: false,
            connect_timeout: timeout,
            command_timeout: timeout,
        })
    }
}
