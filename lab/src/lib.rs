//! The network lab: every device of an inventory as an FRR router in its own network namespace,
//! reachable over SSH from the host — what `hatang lab up|down|status` runs, and the harness of
//! the end-to-end tests.
//!
//! - [`plan`] (pure): namespaces `<lab>-<device>`, one veth pair per circuit with the inventory's
//!   interface names at both ends, dummy interfaces for declared interfaces no circuit uses, a
//!   management link per device from a host bridge `<lab>-mgmt`.
//! - [`files`] (pure): FRR `daemons`/`frr.conf`, sshd configs, known_hosts, the overlay.
//! - [`up`], [`down`], [`status`]: the effects, with `ip`, Debian's `frrinit.sh` (watchfrr with
//!   the `-N <namespace>` pathspace), `sshd` and `ssh-keygen`, never through a shell.
//!
//! Management: a host bridge carries one veth per device (`<lab>-m<i>` on the host, `eth0` in
//! the namespace). The host holds one address on the bridge (a ULA derived from the lab name);
//! each device holds its `spec.management.address` as a /128 (or /32) and a route back to the
//! host address only, and the host routes each management address onto the bridge. No default
//! route exists anywhere in the lab, so nothing in it can reach beyond the machine.
//!
//! Each device also has a persistent UTS namespace (`<state>/uts/<device>`, hostname = device
//! name) that FRR and sshd run in, and sshd runs in its own mount namespace where
//! `/etc/frr/<namespace>` and `/var/run/frr/<namespace>` are bound over `/etc/frr` and
//! `/var/run/frr`: over SSH a lab router looks like any FRR box (`vtysh` without `-N`).

pub mod files;
pub mod plan;
mod run;
pub mod sys;

pub use hatang_driver::overlay::Overlay;
pub use plan::{LabOptions, LabPlan, PlanError, plan};
pub use run::{
    DownReport, LabStatus, NodeStatus, Readiness, Step, StepReport, UpOptions, UpReport, down,
    read_saved_plan, status, up,
};

use thiserror::Error;

/// A lab operation that failed.
#[derive(Debug, Error)]
pub enum LabError {
    /// A program exited with an error.
    #[error("`{command}` failed ({status}){}", if output.is_empty() { String::new() } else { format!(": {output}") })]
    Command {
        /// The command line.
        command: String,
        /// How it ended.
        status: String,
        /// Its error output (or log).
        output: String,
    },
    /// A file or system call failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// Programs the lab needs are not installed.
    #[error("the lab needs programs that are not installed: {0}")]
    Missing(String),
    /// Something in the way that the lab does not own.
    #[error("{0}")]
    Conflict(String),
    /// Something did not come up in time.
    #[error("timed out after {seconds} s waiting for {what}")]
    Timeout {
        /// What.
        what: String,
        /// How long.
        seconds: u64,
    },
    /// Several devices failed.
    #[error("{}", .0.join("; "))]
    Devices(Vec<String>),
    /// The caller asked to stop after a step (tests of cleanup after a failed `up`).
    #[error("stopped after step `{0}` as asked (HATANG_LAB_FAIL_AFTER)")]
    Injected(&'static str),
}

impl LabError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        LabError::Io {
            what: what.into(),
            source,
        }
    }
}
