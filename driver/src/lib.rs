//! `hatang-driver` owns everything that talks to devices: SSH sessions, host-key trust, and one
//! adapter per platform that knows which commands fetch, check, commit and roll back a config.
//!
//! It must not decide *what* a device should run (that is `hatang-core`'s compiled model) and
//! must never trust a host key silently: an unknown or changed key refuses the device unless the
//! caller explicitly accepts new keys (a changed key is refused always). [`ssh`] is the russh
//! transport (connect and command timeouts, key-file, in-memory key or ssh-agent login, host keys checked
//! through [`hostkey::KnownHosts`], uploads, bounded fan-out with a result per device);
//! [`platform`] holds the FRR command set and reads its JSON; `hatang audit` is built on both.
//! [`apply`] runs the apply transaction decided by `hatang_core::apply` on devices (backup,
//! check, commit, verify, save, rollback, recovery) and keeps its journal. [`fleet`] says where
//! each device is reached and which host key is trusted for it (the CLI and the operator share
//! it), from `spec.management` or an [`overlay`] handed in as data (the network lab, in
//! `hatang-lab`, writes one; this crate knows nothing of the lab).

pub mod apply;
pub mod fleet;
pub mod hostkey;
pub mod overlay;
pub mod platform;
pub mod running;
pub mod ssh;
