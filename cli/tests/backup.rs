//! `hatang backup` end to end on a lab of `inventories/lab`: the running configurations saved as
//! `<device>.conf` with a manifest, audited with `audit --saved` exactly as live; a hand edit on
//! one router shows in the next backup and its audit, and nowhere else. `render --layout saved`
//! writes the same layout.
//!
//! The lab test needs root and the lab's Debian packages (see `cli/tests/audit.rs`): it is
//! `#[ignore = "needs root: …"]` and takes its turn with `lab_lock`. Its lab has its own name and
//! management addresses (`3fff:ab:f9:…`); a Drop guard runs `hatang lab down`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hatang_driver::overlay::Overlay;
use hatang_test_support::{copy_dir, repo, require_root, text};
use serde_json::Value;

const LAB: &str = "bak1";
const TODAY: &str = "2026-11-23";

fn hatang(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hatang"))
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("HATANG_LAB_FAIL_AFTER")
        .args(args)
        .output()
        .expect("run hatang")
}

/// Runs hatang with `-o json`: exit code and the one JSON document.
fn json(args: &[&str]) -> (Option<i32>, Value) {
    let o = hatang(&[args, &["-o", "json"]].concat());
    let v = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&o)));
    (o.status.code(), v)
}

struct Lab {
    inventory: String,
}

impl Lab {
    fn lab(&self, verb: &str) -> Output {
        hatang(&[
            "lab",
            verb,
            &self.inventory,
            "--name",
            LAB,
            "--today",
            TODAY,
        ])
    }

    fn state(&self) -> PathBuf {
        Path::new("/run/hatang-lab").join(LAB)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let o = self.lab("down");
        if o.status.code() != Some(0) {
            eprintln!("cleanup of lab {LAB} failed: {}", text(&o));
        }
    }
}

/// OpenSSH's client with the lab's key and pinned host keys, `stdin` fed to the command (as an
/// operator on the box would edit it).
fn ssh(lab: &Lab, address: &str, command: &str, stdin: &[u8]) -> Output {
    use std::io::Write;
    let state = lab.state();
    let mut child = Command::new("ssh")
        .args(["-F", "/dev/null", "-i"])
        .arg(state.join("id_ed25519"))
        .args(["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"])
        .args([
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
        ])
        .arg(format!(
            "UserKnownHostsFile={}",
            state.join("known_hosts").display()
        ))
        .arg(format!("root@{address}"))
        .arg(command)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run ssh");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// Each device's status and deviations, from an audit report.
fn outcome(report: &Value) -> BTreeMap<String, (Value, Value)> {
    report["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["device"].as_str().unwrap().to_owned(),
                (d["status"].clone(), d["deviations"].clone()),
            )
        })
        .collect()
}

/// sha256 per device from a manifest.
fn hashes(manifest: &Value) -> BTreeMap<String, String> {
    manifest["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["device"].as_str().unwrap().to_owned(),
                d["sha256"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
#[ignore = "needs root: network namespaces, veth links, FRR and sshd"]
fn backup_then_saved_audit_matches_live_and_shows_a_hand_edit() {
    require_root("backup_then_saved_audit_matches_live_and_shows_a_hand_edit");
    let _turn = hatang_test_support::lab_lock();
    let tmp = tempfile::tempdir().unwrap();
    let inv = tmp.path().join("lab");
    copy_dir(&repo().join("inventories/lab"), &inv, &|t| {
        t.replace("address: 3fff:ab:ff:", "address: 3fff:ab:f9:")
    });
    let inventory = inv.to_str().unwrap().to_owned();
    let lab = Lab {
        inventory: inventory.clone(),
    };
    let o = lab.lab("down");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = lab.lab("up");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let state = lab.state();
    let state_arg = state.to_str().unwrap();

    // One router runs its rendered configuration (clean); the others only their hostname.
    let rendered = tmp.path().join("rendered");
    let o = hatang(&[
        "render",
        &inventory,
        "--today",
        TODAY,
        "--out",
        rendered.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let conf = std::fs::read_to_string(rendered.join("cpe-00001/frr.conf")).unwrap();
    let overlay =
        Overlay::parse(&std::fs::read_to_string(state.join("overlay/hosts.yaml")).unwrap())
            .unwrap();
    let cpe = overlay
        .devices
        .iter()
        .find(|d| d.name == "cpe-00001")
        .unwrap()
        .address
        .to_string();
    let o = ssh(
        &lab,
        &cpe,
        "cat > /tmp/hatang-backup-test.conf && /usr/lib/frr/frr-reload.py --reload /tmp/hatang-backup-test.conf",
        conf.as_bytes(),
    );
    assert!(o.status.success(), "{}", text(&o));

    // 1. Backup, then the saved audit says what the live audit says.
    let backup = tmp.path().join("backup");
    let backup_arg = backup.to_str().unwrap();
    let lab_state = ["--lab-state", state_arg];
    let (code, first) = json(
        &[
            &["backup", &inventory, "--today", TODAY, "--out", backup_arg][..],
            &lab_state,
        ]
        .concat(),
    );
    assert_eq!(code, Some(0), "{first:#}");
    assert_eq!(first["fetched"], 10, "{first:#}");
    assert_eq!(first["failed"], 0, "{first:#}");
    let on_disk: Value =
        serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(on_disk, first, "the manifest written is the one printed");
    for d in first["devices"].as_array().unwrap() {
        let file = backup.join(d["file"].as_str().unwrap());
        let bytes = std::fs::read(&file).unwrap();
        assert!(!bytes.is_empty(), "{}", file.display());
    }
    let audit =
        |extra: &[&str]| json(&[&["audit", &inventory, "--today", TODAY][..], extra].concat());
    let (live_code, live) = audit(&lab_state);
    let (saved_code, saved) = audit(&["--saved", backup_arg]);
    assert_eq!(saved_code, live_code);
    assert_eq!(
        outcome(&saved),
        outcome(&live),
        "saved {saved:#}\nlive {live:#}"
    );
    assert_eq!(saved["summary"]["clean"], 1, "{saved:#}");
    assert_eq!(saved["summary"]["drift"], 9, "{saved:#}");
    // The record names the backup it compared against.
    assert_eq!(
        saved["saved"]["backupTakenAt"], first["takenAt"],
        "{saved:#}"
    );
    for d in saved["devices"].as_array().unwrap() {
        let name = d["device"].as_str().unwrap();
        assert_eq!(
            d["backup"]["sha256"].as_str().unwrap(),
            hashes(&first)[name]
        );
        assert_eq!(d["backup"]["matchesManifest"], true, "{d:#}");
    }

    // 2. A hand edit on one router: the next backup changes that router's file only, and its
    //    audit shows exactly that change.
    let asn = conf
        .lines()
        .find_map(|l| l.strip_prefix("router bgp "))
        .unwrap();
    let neighbor = conf
        .lines()
        .find_map(|l| l.strip_prefix(" neighbor ")?.strip_suffix(" timers 3 9"))
        .unwrap();
    let o = ssh(
        &lab,
        &cpe,
        &format!("vtysh -c 'conf t' -c 'router bgp {asn}' -c 'neighbor {neighbor} timers 5 15'"),
        b"",
    );
    assert!(o.status.success(), "{}", text(&o));
    let (code, second) = json(
        &[
            &["backup", &inventory, "--today", TODAY, "--out", backup_arg][..],
            &lab_state,
        ]
        .concat(),
    );
    assert_eq!(code, Some(0), "{second:#}");
    let (before, after) = (hashes(&first), hashes(&second));
    let changed: Vec<&String> = after.keys().filter(|d| before[*d] != after[*d]).collect();
    assert_eq!(changed, ["cpe-00001"], "{first:#}\n{second:#}");
    let (code, r) = audit(&["--saved", backup_arg]);
    assert_eq!(code, Some(1));
    let mut expected = outcome(&saved);
    expected.insert(
        "cpe-00001".to_owned(),
        (
            "drift".into(),
            serde_json::json!([{
                "kind": "changed",
                "context": [format!("router bgp {asn}")],
                "desired": format!("neighbor {neighbor} timers 3 9"),
                "running": format!("neighbor {neighbor} timers 5 15"),
            }]),
        ),
    );
    assert_eq!(outcome(&r), expected, "{r:#}");
    assert_eq!(
        outcome(&r),
        outcome(&audit(&lab_state).1),
        "saved = live again"
    );
}

#[test]
fn render_layout_saved_is_what_audit_saved_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("saved");
    let out_arg = out.to_str().unwrap();
    let (code, r) = json(&[
        "render",
        "inventories/lab",
        "--today",
        TODAY,
        "--out",
        out_arg,
        "--layout",
        "saved",
    ]);
    assert_eq!(code, Some(0), "{r:#}");
    let files: Vec<&str> = r["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 10, "{r:#}");
    assert!(
        files
            .iter()
            .all(|f| f.ends_with(".conf") && !f.contains('/')),
        "{files:?}"
    );
    assert!(out.join("hub-001.conf").is_file());
    let (code, a) = json(&[
        "audit",
        "inventories/lab",
        "--today",
        TODAY,
        "--saved",
        out_arg,
    ]);
    assert_eq!(code, Some(0), "{a:#}");
    assert_eq!(a["summary"]["clean"], 10, "{a:#}");
    // No manifest: the record says so by naming no backup run, and no file matches one.
    assert!(a["saved"]["backupTakenAt"].is_null(), "{a:#}");
    assert_eq!(a["devices"][0]["backup"]["matchesManifest"], false, "{a:#}");
}

#[test]
fn a_device_that_cannot_be_reached_keeps_its_last_backup_and_is_marked_failed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("backup");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hub-001.conf"), "hostname hub-001\n").unwrap();
    // The lab's management addresses are not up here: every connection fails.
    let (code, m) = json(&[
        "backup",
        "inventories/lab",
        "--today",
        TODAY,
        "--out",
        dir.to_str().unwrap(),
        "-i",
        "/nonexistent-key",
        "--timeout",
        "1",
        "--device",
        "hub-001",
    ]);
    assert_eq!(code, Some(1), "{m:#}");
    assert_eq!(
        (m["fetched"].as_u64(), m["failed"].as_u64()),
        (Some(0), Some(1)),
        "{m:#}"
    );
    let d = &m["devices"][0];
    assert_eq!(d["device"], "hub-001");
    assert_eq!(d["status"], "failed");
    assert!(d["error"]["kind"].is_string(), "typed error: {d:#}");
    assert!(d["sha256"].is_null(), "{d:#}");
    assert_eq!(
        std::fs::read_to_string(dir.join("hub-001.conf")).unwrap(),
        "hostname hub-001\n"
    );
    let written: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(written, m);
    // Unknown devices are a usage error.
    let o = hatang(&[
        "backup",
        "inventories/lab",
        "--out",
        dir.to_str().unwrap(),
        "-i",
        "/k",
        "--device",
        "nope",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
