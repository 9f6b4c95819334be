//! The SSH Secret the operator reads (`hatang-ssh` by default): its name and keys, which the
//! RBAC manifests grant and the operator's credentials module reads.

/// Key of the private key in the Secret.
pub const PRIVATE_KEY: &str = "id_ed25519";
/// Key of the pinned host keys in the Secret.
pub const KNOWN_HOSTS: &str = "known_hosts";
/// Key of the login user in the Secret.
pub const USER: &str = "user";
/// Default name of the Secret.
pub const DEFAULT_SECRET: &str = "hatang-ssh";
