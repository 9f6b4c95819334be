//! `hatang apply` and `hatang plan` without devices (no root needed): arguments, recovery of
//! journals that need no device or whose devices cannot be reached, and plan's configuration
//! diffs against a recorded apply. The transaction on real routers is in `e2e.rs`.

use std::path::Path;
use std::process::{Command, Output};

use hatang_test_support::{copy_dir, repo, text};

use serde_json::{Value, json};

const TODAY: &str = "2026-11-23";

fn hatang(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hatang"))
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("HATANG_APPLY_FAIL_AFTER")
        .args(args)
        .output()
        .expect("run hatang")
}

/// A journal of one device at an address nothing listens on.
fn journal(dir: &Path, phase: &str, step: &str, outcome: Option<&str>) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut j = json!({
        "version": 1,
        "id": "20261123T000000.000Z-1",
        "user": "tester",
        "inventory": "inventories/lab",
        "started": "2026-11-23T00:00:00Z",
        "dryRun": false,
        "phase": phase,
        "devices": [{"name": "cpe-00001", "host": "127.0.0.1", "port": port, "step": step, "hadSaved": true}],
        "events": [],
    });
    if let Some(o) = outcome {
        j["outcome"] = json!(o);
    }
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("journal.json");
    std::fs::write(&path, serde_json::to_string_pretty(&j).unwrap()).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn apply_needs_an_inventory_or_a_journal_and_a_login() {
    let o = hatang(&["apply"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = hatang(&[
        "apply",
        "--recover",
        "/nonexistent/journal.json",
        "-i",
        "/x",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("/nonexistent/journal.json"),
        "{}",
        text(&o)
    );
    let tmp = tempfile::tempdir().unwrap();
    let j = journal(tmp.path(), "check", "checked", None);
    let o = hatang(&["apply", "--recover", &j]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no login method"),
        "{}",
        text(&o)
    );
}

#[test]
fn recover_closes_a_run_that_changed_nothing_and_leaves_a_finished_one_alone() {
    let tmp = tempfile::tempdir().unwrap();
    // Killed during check: nothing was changed, so no device needs to be reached.
    let j = journal(&tmp.path().join("a"), "check", "checked", None);
    let o = hatang(&[
        "apply",
        "--recover",
        &j,
        "-i",
        "/nonexistent-key",
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(out["phase"], "done");
    assert_eq!(out["outcome"], "aborted");
    let on_disk: Value = serde_json::from_str(&std::fs::read_to_string(&j).unwrap()).unwrap();
    assert_eq!(on_disk, out, "the journal on disk is the one reported");
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("a/record.json")).unwrap())
            .unwrap();
    assert_eq!(record["outcome"], "aborted");
    assert_eq!(record["user"], "tester");

    // Killed mid-commit with the device unreachable: the rollback fails, says so, exit 1, and
    // the journal still owes the rollback.
    let j = journal(&tmp.path().join("b"), "commit", "committing", None);
    let o = hatang(&[
        "apply",
        "--recover",
        &j,
        "-i",
        "/nonexistent-key",
        "--timeout",
        "5",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("rollback-failed") && stdout.contains("ROLLBACK FAILED on cpe-00001"),
        "{}",
        text(&o)
    );

    // Finished: nothing to do.
    let j = journal(&tmp.path().join("c"), "done", "saved", Some("committed"));
    let before = std::fs::read_to_string(&j).unwrap();
    let o = hatang(&["apply", "--recover", &j, "-i", "/nonexistent-key"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&j).unwrap(), before);
}

#[test]
fn plan_diffs_rendered_configurations_against_the_last_committed_apply() {
    let tmp = tempfile::tempdir().unwrap();
    let inv = tmp.path().join("lab");
    copy_dir(&repo().join("inventories/lab"), &inv, &|t| t);
    let inventory = inv.to_str().unwrap();
    // No apply recorded: plan prints its ledger summary only.
    let o = hatang(&["plan", inventory, "--today", TODAY]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("configurations:"),
        "{}",
        text(&o)
    );

    // A committed apply of cpe-00001 whose candidate had other BGP timers, and a later,
    // rolled-back one that must not count.
    let out = tmp.path().join("rendered");
    let o = hatang(&[
        "render",
        inventory,
        "--today",
        TODAY,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let current = std::fs::read_to_string(out.join("cpe-00001/frr.conf")).unwrap();
    let applied = current.replace("timers 3 9", "timers 5 15");
    assert_ne!(applied, current);
    let runs = inv.join(".hatang/applies");
    for (id, outcome, candidate) in [
        ("20261101T000000.000Z-1", "committed", applied.as_str()),
        (
            "20261102T000000.000Z-1",
            "rolled-back",
            "hostname nonsense\n",
        ),
    ] {
        let dir = runs.join(id);
        std::fs::create_dir_all(dir.join("devices/cpe-00001")).unwrap();
        std::fs::write(dir.join("devices/cpe-00001/candidate.conf"), candidate).unwrap();
        let record = json!({
            "id": id, "user": "tester", "inventory": inventory,
            "started": "2026-11-01T00:00:00Z", "finished": "2026-11-01T00:00:10Z",
            "dryRun": false, "outcome": outcome,
            "devices": [{"name": "cpe-00001", "step": "saved", "diff": ""}],
        });
        std::fs::write(dir.join("record.json"), record.to_string()).unwrap();
    }
    let o = hatang(&["plan", inventory, "--today", TODAY]);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let neighbor = current
        .lines()
        .find_map(|l| l.strip_prefix(" neighbor ")?.strip_suffix(" timers 3 9"))
        .unwrap();
    assert!(
        stdout.contains("--- cpe-00001 (apply 20261101T000000.000Z-1)\n+++ cpe-00001 (rendered)\n")
            && stdout.contains(&format!("- neighbor {neighbor} timers 5 15\n"))
            && stdout.contains(&format!("+ neighbor {neighbor} timers 3 9\n")),
        "{stdout}"
    );
    assert!(!stdout.contains("nonsense"), "{stdout}");
    assert!(
        stdout.contains("configurations: 1 changed, 9 never-applied"),
        "{stdout}"
    );
    // The ledger half is unchanged.
    assert!(stdout.contains("50 kept — up to date"), "{stdout}");

    let o = hatang(&["plan", inventory, "--today", TODAY, "-o", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let c = v["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["device"] == "cpe-00001")
        .unwrap();
    assert_eq!(c["status"], "changed");
    assert_eq!(c["against"], "20261101T000000.000Z-1");
}

/// A journal that owes `cpe-00001` a rollback: its commit failed, and so did the rollback.
fn rollback_failed(dir: &Path) -> String {
    let path = journal(dir, "done", "rolling-back", Some("rollback-failed"));
    let mut j: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    j["reason"] = json!("commit failed: cpe-00001: timeout; ROLLBACK FAILED on cpe-00001: timeout");
    j["cause"] = json!("commit failed: cpe-00001: timeout");
    j["devices"][0]["error"] = json!({"kind": "timeout", "message": "timed out connecting"});
    std::fs::write(&path, serde_json::to_string_pretty(&j).unwrap()).unwrap();
    std::fs::create_dir_all(dir.join("devices/cpe-00001")).unwrap();
    std::fs::write(
        dir.join("devices/cpe-00001/running.before"),
        "hostname cpe-00001\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("devices/cpe-00001/saved.before"),
        "hostname cpe-00001\n",
    )
    .unwrap();
    path
}

#[test]
fn a_failed_rollback_is_retried_by_recover_and_stays_owed_while_the_device_is_unreachable() {
    let tmp = tempfile::tempdir().unwrap();
    let j = rollback_failed(&tmp.path().join("a"));
    let o = hatang(&[
        "apply",
        "--recover",
        &j,
        "-i",
        "/nonexistent-key",
        "--timeout",
        "5",
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(out["outcome"], "rollback-failed", "{out:#}");
    // It was tried again (before this change, `done` meant nothing to do).
    let events: Vec<&str> = out["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["what"].as_str().unwrap())
        .collect();
    assert_eq!(events.first(), Some(&"phase rollback"), "{events:?}");
    assert_eq!(events.last(), Some(&"done: rollbackfailed"), "{events:?}");
    // What is still owed, to which device, and why.
    assert_eq!(out["owed"][0]["device"], "cpe-00001", "{out:#}");
    assert_eq!(out["owed"][0]["work"], "rollback", "{out:#}");
    assert_eq!(out["owed"].as_array().unwrap().len(), 1, "{out:#}");
    let reason = out["reason"].as_str().unwrap();
    assert_eq!(
        reason.matches("ROLLBACK FAILED").count(),
        1,
        "the first cause, not a chain of retries: {reason}"
    );
    // The text form says the same, on stderr.
    let o = hatang(&[
        "apply",
        "--recover",
        &j,
        "-i",
        "/nonexistent-key",
        "--timeout",
        "5",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("cpe-00001 is still owed a rollback"),
        "{}",
        text(&o)
    );
}

#[test]
fn apply_refuses_to_start_over_a_transaction_that_owes_its_devices() {
    let tmp = tempfile::tempdir().unwrap();
    let inv = tmp.path().join("lab");
    copy_dir(&repo().join("inventories/lab"), &inv, &|t| t);
    let inventory = inv.to_str().unwrap();
    let runs = inv.join(".hatang/applies");
    let owed = rollback_failed(&runs.join("20261123T000000.000Z-1"));
    // Journals that owe nothing do not stand in the way: finished, or killed before any change.
    journal(
        &runs.join("20261122T000000.000Z-1"),
        "done",
        "saved",
        Some("committed"),
    );
    journal(
        &runs.join("20261122T000001.000Z-1"),
        "check",
        "checked",
        None,
    );
    let apply = |extra: &[&str]| {
        let mut args = vec![
            "apply",
            inventory,
            "--today",
            TODAY,
            "-i",
            "/nonexistent-key",
            "--timeout",
            "5",
        ];
        args.extend_from_slice(extra);
        hatang(&args)
    };
    let before = std::fs::read_dir(&runs).unwrap().count();
    let o = apply(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(&format!(
            "apply refused: transaction 20261123T000000.000Z-1 ({owed})"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("cpe-00001 is still owed a rollback"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "finish it first: hatang apply --recover {owed} -i /nonexistent-key"
        )),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(&runs).unwrap().count(),
        before,
        "no transaction was started"
    );
    let o = apply(&["-o", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(out["refused"], true);
    assert_eq!(out["unfinished"][0]["journal"], owed.as_str(), "{out:#}");
    assert_eq!(out["unfinished"][0]["owed"][0]["device"], "cpe-00001");

    // A transaction over other devices is not held up by it (it starts, and fails on the
    // unreachable devices, before any change).
    let o = apply(&["--devices", "hub-001", "-o", "json"]);
    assert_ne!(
        serde_json::from_slice::<Value>(&o.stdout)
            .ok()
            .and_then(|v| v.get("refused").cloned()),
        Some(json!(true)),
        "{}",
        text(&o)
    );
    assert_eq!(
        std::fs::read_dir(&runs).unwrap().count(),
        before + 1,
        "{}",
        text(&o)
    );
}
