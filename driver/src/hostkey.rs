//! Host-key trust: compare the key a device presents with the key pinned in the inventory or
//! recorded in a known_hosts file.

use thiserror::Error;

/// An OpenSSH public key: algorithm and base64 body (the comment is ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// e.g. `ssh-ed25519`.
    pub algorithm: String,
    /// Base64 key body.
    pub body: String,
}

/// A key that could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum KeyError {
    /// Not `ALGORITHM BASE64 [COMMENT]`.
    #[error("not an OpenSSH public key: `{0}`")]
    Malformed(String),
}

impl std::str::FromStr for PublicKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        let mut parts = s.split_whitespace();
        match (parts.next(), parts.next()) {
            (Some(alg), Some(body))
                if (alg.starts_with("ssh-") || alg.starts_with("ecdsa-"))
                    && body
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)) =>
            {
                Ok(PublicKey {
                    algorithm: alg.to_owned(),
                    body: body.to_owned(),
                })
            }
            _ => Err(KeyError::Malformed(s.to_owned())),
        }
    }
}

/// What to do with a device given the key it presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// The key matches what is pinned or known.
    Trusted,
    /// Nothing is known about this host; refused unless new keys are accepted explicitly.
    Unknown,
    /// A different key is known for this host: refused, always (possible interception).
    Changed {
        /// The key that was expected.
        expected: PublicKey,
    },
}

/// Known keys for hosts, from the inventory (pinned) and known_hosts files (plain host names only;
/// hashed entries are not matched).
#[derive(Debug, Default, Clone)]
pub struct KnownHosts {
    entries: Vec<(Vec<String>, PublicKey)>,
}

impl KnownHosts {
    /// Parses known_hosts text; comments, blank lines, markers and hashed hosts are skipped.
    pub fn parse(text: &str) -> Self {
        let mut entries = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty()
                || line.starts_with('#')
                || line.starts_with('@')
                || line.starts_with('|')
            {
                continue;
            }
            let Some((hosts, key)) = line.split_once(char::is_whitespace) else {
                continue;
            };
            if let Ok(key) = key.trim().parse() {
                let hosts = hosts.split(',').map(normalize_host).collect();
                entries.push((hosts, key));
            }
        }
        KnownHosts { entries }
    }

    /// Adds a key pinned in the inventory for `host`.
    pub fn pin(&mut self, host: &str, key: PublicKey) {
        self.entries.push((vec![normalize_host(host)], key));
    }

    /// Forgets every key recorded for `host` (before pinning the one the inventory names, so a
    /// pin is the only key trusted for its host).
    pub fn forget(&mut self, host: &str) {
        let host = normalize_host(host);
        for (hosts, _) in &mut self.entries {
            hosts.retain(|h| *h != host);
        }
        self.entries.retain(|(hosts, _)| !hosts.is_empty());
    }

    /// Decides whether `presented` is the right key for `host`.
    pub fn check(&self, host: &str, presented: &PublicKey) -> Trust {
        let host = normalize_host(host);
        let mut expected = None;
        for (hosts, key) in &self.entries {
            if !hosts.contains(&host) {
                continue;
            }
            if key == presented {
                return Trust::Trusted;
            }
            if key.algorithm == presented.algorithm {
                expected = Some(key.clone());
            }
        }
        match expected {
            Some(expected) => Trust::Changed { expected },
            None => Trust::Unknown,
        }
    }
}

/// `[2001:db8::1]:22` and `2001:db8::1` name the same host on the default port.
fn normalize_host(h: &str) -> String {
    let h = h.trim();
    match h.strip_prefix('[').and_then(|r| r.split_once("]:")) {
        Some((addr, "22")) => addr.to_owned(),
        Some((addr, port)) => format!("[{addr}]:{port}"),
        None => h.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOaW5N2xq3ij0 edge";
    const B: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBBBBBBBBBBB";

    #[test]
    fn pinned_key_is_trusted_and_a_changed_one_is_not() {
        let mut known = KnownHosts::default();
        known.pin("2001:db8::1", A.parse().unwrap());
        assert_eq!(
            known.check("2001:db8::1", &A.parse().unwrap()),
            Trust::Trusted
        );
        assert!(matches!(
            known.check("2001:db8::1", &B.parse().unwrap()),
            Trust::Changed { .. }
        ));
        assert_eq!(
            known.check("2001:db8::2", &A.parse().unwrap()),
            Trust::Unknown
        );
    }

    #[test]
    fn known_hosts_file_with_ports_and_comments() {
        let text = format!(
            "# comment\n[2001:db8::1]:22,edge-1 {A}\n[2001:db8::9]:2222 {B}\n|1|hashed= {B}\n"
        );
        let known = KnownHosts::parse(&text);
        assert_eq!(known.check("edge-1", &A.parse().unwrap()), Trust::Trusted);
        assert_eq!(
            known.check("2001:db8::1", &A.parse().unwrap()),
            Trust::Trusted
        );
        assert_eq!(
            known.check("[2001:db8::9]:2222", &B.parse().unwrap()),
            Trust::Trusted
        );
        assert_eq!(
            known.check("2001:db8::9", &B.parse().unwrap()),
            Trust::Unknown
        );
    }

    #[test]
    fn malformed_keys_are_rejected() {
        assert!("ssh-ed25519".parse::<PublicKey>().is_err());
        assert!(
            "-----BEGIN OPENSSH PRIVATE KEY-----"
                .parse::<PublicKey>()
                .is_err()
        );
    }
}
