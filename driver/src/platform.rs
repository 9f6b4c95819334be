//! Per-platform command sets: how to read, check, load and save a configuration.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

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
    /// The file the saved configuration lives in (backed up and restored byte for byte).
    pub saved_file: String,
    /// Prints the BGP sessions as JSON ([`established_sessions`] reads it).
    pub bgp_sessions: String,
    /// Prints the routing table as JSON ([`installed_routes`] reads it).
    pub routes: String,
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
            saved_file: "/etc/frr/frr.conf".to_owned(),
            bgp_sessions: "vtysh -c 'show bgp ipv6 unicast summary json'".to_owned(),
            routes: "vtysh -c 'show ipv6 route json'".to_owned(),
        }),
        Platform::Iosxe | Platform::Junos => None,
    }
}

/// The state of every BGP session in FRR's `show bgp ipv6 unicast summary json`, by neighbour
/// address as FRR prints it (`Established`, `Active`, `Connect`, …).
pub fn session_states(json: &str) -> Result<BTreeMap<String, String>, String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("BGP summary is not JSON: {e}"))?;
    let Some(peers) = v.get("peers").and_then(|p| p.as_object()) else {
        // No BGP instance (or no IPv6 unicast neighbours): FRR prints `{}`.
        return Ok(BTreeMap::new());
    };
    Ok(peers
        .iter()
        .map(|(addr, p)| {
            let state = p.get("state").and_then(|s| s.as_str()).unwrap_or("unknown");
            (addr.clone(), state.to_owned())
        })
        .collect())
}

/// Neighbour addresses whose sessions are Established.
pub fn established_sessions(json: &str) -> Result<BTreeSet<IpAddr>, String> {
    Ok(session_states(json)?
        .into_iter()
        .filter(|(_, s)| s == "Established")
        .filter_map(|(a, _)| a.parse().ok())
        .collect())
}

/// Prefixes with a selected, installed route in FRR's `show ipv6 route json`.
pub fn installed_routes(json: &str) -> Result<BTreeSet<String>, String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("route table is not JSON: {e}"))?;
    let table = v.as_object().ok_or("route table is not a JSON object")?;
    Ok(table
        .iter()
        .filter(|(_, routes)| {
            routes.as_array().is_some_and(|rs| {
                rs.iter().any(|r| {
                    r.get("selected").and_then(|x| x.as_bool()) == Some(true)
                        && r.get("installed").and_then(|x| x.as_bool()) == Some(true)
                })
            })
        })
        .map(|(prefix, _)| prefix.clone())
        .collect())
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

    #[test]
    fn sessions_and_routes_from_frr_json() {
        let summary = r#"{"routerId":"0.0.0.1","as":4200000100,"peers":{
            "3fff:ab:0:2::1":{"remoteAs":4200000108,"state":"Established","peerState":"OK"},
            "3fff:ab:0:2::3":{"remoteAs":4200000106,"state":"Active","peerState":"OK"}}}"#;
        let up = established_sessions(summary).unwrap();
        assert_eq!(up.len(), 1);
        assert!(up.contains(&"3fff:ab:0:2::1".parse::<IpAddr>().unwrap()));
        assert_eq!(session_states(summary).unwrap()["3fff:ab:0:2::3"], "Active");
        assert!(established_sessions("{}").unwrap().is_empty());
        assert!(established_sessions("% BGP instance not found").is_err());
        let routes = r#"{
            "3fff:ab:10::/48":[{"prefix":"3fff:ab:10::/48","protocol":"bgp","selected":true,"installed":true}],
            "3fff:ab:11::/48":[{"prefix":"3fff:ab:11::/48","protocol":"bgp","installed":true}],
            "fe80::/64":[{"protocol":"connected","installed":true},{"protocol":"connected","selected":true,"installed":true}]}"#;
        let r = installed_routes(routes).unwrap();
        assert_eq!(
            r.into_iter().collect::<Vec<_>>(),
            ["3fff:ab:10::/48", "fe80::/64"],
            "a route that is not selected does not count"
        );
    }
}
