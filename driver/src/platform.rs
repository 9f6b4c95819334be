//! Per-platform command sets: how to read, check, load and save a configuration.

use hatang_core::model::Platform;

/// The commands a transaction step runs on a device of one platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commands {
    /// Prints the running configuration.
    pub show_running: String,
    /// Checks a candidate file without applying it (exit status non-zero on rejection).
    pub check_candidate: String,
    /// Replaces the running configuration with a file.
    pub load_candidate: String,
    /// Makes the running configuration survive a reboot.
    pub save: String,
}

/// Commands for `platform`, with the candidate file at `path`. `None` where hatang has no tested
/// adapter yet (IOS-XE and Junos are rendered but not pushed).
pub fn commands(platform: Platform, path: &str) -> Option<Commands> {
    let quoted = shell_quote(path);
    match platform {
        Platform::Frr => Some(Commands {
            show_running: "vtysh -c 'show running-config'".to_owned(),
            check_candidate: format!("vtysh -C -f {quoted}"),
            load_candidate: format!("/usr/lib/frr/frr-reload.py --reload {quoted}"),
            save: "vtysh -c 'write memory'".to_owned(),
        }),
        Platform::Iosxe | Platform::Junos => None,
    }
}

/// Single-quotes a path for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frr_checks_with_vtysh_dry_run_and_quotes_paths() {
        let c = commands(Platform::Frr, "/tmp/it's.conf").unwrap();
        assert_eq!(c.check_candidate, r"vtysh -C -f '/tmp/it'\''s.conf'");
        assert!(commands(Platform::Junos, "/x").is_none());
    }
}
