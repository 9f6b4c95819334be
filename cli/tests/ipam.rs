//! `hatang plan` and `hatang ipam` end to end on a copy of the lab inventory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hatang_test_support::copy_dir;

fn hatang(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hatang"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run hatang")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A scratch copy of inventories/lab without its ledger.
fn lab() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let inv = tmp.path().join("lab");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../inventories/lab"),
        &inv,
        &|t| t,
    );
    let _ = std::fs::remove_file(inv.join("allocations.lock.yaml"));
    (tmp, inv)
}

const DAY: &str = "2026-11-23";

#[test]
fn committed_ledgers_are_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for inv in [
        "inventories/hanoi",
        "inventories/hanoi-2024",
        "inventories/haiphong",
        "inventories/danang",
        "inventories/lab",
    ] {
        let o = hatang(&root, &["plan", inv, "--locked", "--today", DAY]);
        assert_eq!(o.status.code(), Some(0), "{inv}: {}", text(&o));
        assert!(text(&o).contains("up to date"), "{inv}: {}", text(&o));
    }
}

#[test]
fn plan_writes_then_locked_passes_and_removal_holds() {
    let (tmp, inv) = lab();
    let dir = tmp.path();
    // --locked refuses to create a ledger.
    let o = hatang(dir, &["plan", "lab", "--locked", "--today", DAY]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!inv.join("allocations.lock.yaml").exists());

    let o = hatang(dir, &["plan", "lab", "--today", DAY]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("ledger written"), "{}", text(&o));
    let first = std::fs::read_to_string(inv.join("allocations.lock.yaml")).unwrap();
    let o = hatang(dir, &["plan", "lab", "--locked", "--today", DAY]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // Remove one commune: its values are held, nobody else's move.
    let commune = inv.join("generated/communes/quan-hoan-kiem-002.yaml");
    let kept = std::fs::read_to_string(&commune).unwrap();
    let without: String = kept
        .split("\n---\n")
        .filter(|d| !d.contains("00079"))
        .collect::<Vec<_>>()
        .join("\n---\n");
    std::fs::write(&commune, without).unwrap();
    let o = hatang(dir, &["plan", "lab", "--today", DAY]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("held"), "{}", text(&o));
    let second = std::fs::read_to_string(inv.join("allocations.lock.yaml")).unwrap();
    for line in first.lines().filter(|l| !l.contains("00079")) {
        assert!(second.contains(line), "line changed or vanished: {line}");
    }
    assert!(
        second.contains("heldSince: 2026-11-23, releaseAfter: 2027-02-21"),
        "{second}"
    );

    // Held values are released explicitly …
    let o = hatang(
        dir,
        &[
            "ipam",
            "release",
            "lab",
            "--key",
            "loopback/edge-main",
            "--today",
            DAY,
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "an active value cannot be released: {}",
        text(&o)
    );
    let o = hatang(
        dir,
        &["ipam", "release", "lab", "--all-held", "--today", DAY],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let third = std::fs::read_to_string(inv.join("allocations.lock.yaml")).unwrap();
    assert!(!third.contains("00079"));
    // … or after the hold time.
    std::fs::write(&commune, &kept).unwrap();
    hatang(dir, &["plan", "lab", "--today", DAY]);
    std::fs::write(
        &commune,
        kept.split("\n---\n")
            .filter(|d| !d.contains("00079"))
            .collect::<Vec<_>>()
            .join("\n---\n"),
    )
    .unwrap();
    hatang(dir, &["plan", "lab", "--today", DAY]);
    let o = hatang(dir, &["plan", "lab", "--today", "2027-03-01"]);
    assert!(text(&o).contains("released"), "{}", text(&o));
}

#[test]
fn pins_are_honoured_and_conflicts_name_both_places() {
    let (tmp, inv) = lab();
    let dir = tmp.path();
    let file = inv.join("generated/communes/quan-ba-dinh-001.yaml");
    let yaml = std::fs::read_to_string(&file).unwrap();
    let pinned = yaml.replacen(
        "  role: commune-office\n",
        "  role: commune-office\n  ipv6Prefix: 3fff:ab:4242::/48\n",
        1,
    );
    std::fs::write(&file, &pinned).unwrap();
    let o = hatang(dir, &["plan", "lab", "--today", DAY]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = hatang(
        dir,
        &[
            "ipam",
            "find",
            "lab",
            "-a",
            "3fff:ab:4242::1",
            "--today",
            DAY,
        ],
    );
    assert!(text(&o).contains("site/commune-00001"), "{}", text(&o));

    // A second site pinning an overlapping prefix is refused, naming both files and lines.
    let twice = yaml.replacen(
        "  role: commune-office\n",
        "  role: commune-office\n  ipv6Prefix: 3fff:ab:4242::/48\n",
        2,
    );
    std::fs::write(&file, &twice).unwrap();
    let o = hatang(dir, &["plan", "lab", "--today", DAY]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("error[pin-conflict]"), "{out}");
    assert!(out.contains("quan-ba-dinh-001.yaml:"), "{out}");
}

#[test]
fn utilization_export_and_find() {
    let (tmp, _inv) = lab();
    let dir = tmp.path();
    hatang(dir, &["plan", "lab", "--today", DAY]);
    let o = hatang(
        dir,
        &["ipam", "utilization", "lab", "--today", DAY, "-o", "json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let site = v["pools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pool"] == "site-v6")
        .unwrap();
    assert_eq!(site["used"], 8);
    assert_eq!(site["unit"], "/48");
    let o = hatang(
        dir,
        &[
            "ipam",
            "export",
            "lab",
            "--format",
            "zone",
            "--out",
            "zones",
            "--domain",
            "lab.hatang.example",
            "--today",
            DAY,
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let names: Vec<String> = std::fs::read_dir(dir.join("zones"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.len() >= 3, "{names:?}");
    let all: String = names
        .iter()
        .map(|n| std::fs::read_to_string(dir.join("zones").join(n)).unwrap())
        .collect();
    assert!(
        all.contains("IN PTR lo.edge-main.lab.hatang.example."),
        "{all}"
    );
    let o = hatang(
        dir,
        &["ipam", "export", "lab", "--format", "csv", "--today", DAY],
    );
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("key,pool,value,owner,state"));
    let o = hatang(
        dir,
        &[
            "ipam",
            "find",
            "lab",
            "-a",
            "2001:db8:dead::1",
            "--today",
            DAY,
        ],
    );
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn concurrent_plans_never_tear_the_ledger() {
    let (tmp, inv) = lab();
    let dir = tmp.path();
    let children: Vec<_> = (0..6)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_hatang"))
                .args(["plan", "lab", "--today", DAY])
                .current_dir(dir)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let text = std::fs::read_to_string(inv.join("allocations.lock.yaml")).unwrap();
    let ledger =
        hatang_core::ipam::Ledger::parse(&inv.join("allocations.lock.yaml"), &text).unwrap();
    assert_eq!(ledger.entries.len(), 50);
    // Exactly what one plan alone writes: the same values for the same keys.
    let committed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../inventories/lab/allocations.lock.yaml"),
    )
    .unwrap();
    assert_eq!(text, committed);
    // No temporary files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&inv)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp."))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn hanoi_ledger_is_the_renumbering_of_hanoi_2024() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let tmp = tempfile::tempdir().unwrap();
    let inv = tmp.path().join("hanoi");
    copy_dir(&root.join("inventories/hanoi"), &inv, &|t| t);
    std::fs::remove_file(inv.join("allocations.lock.yaml")).unwrap();
    let o = hatang(
        &root,
        &[
            "ipam",
            "renumber",
            "--map",
            "inventories/hanoi/renumbering/merge-2025-hanoi.csv",
            "--from",
            "inventories/hanoi-2024",
            "--to",
            inv.to_str().unwrap(),
            "--write-ledger",
            "--today",
            DAY,
            "-o",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let plan: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(plan["communes"].as_array().unwrap().len(), 126);
    let written = std::fs::read_to_string(inv.join("allocations.lock.yaml")).unwrap();
    let committed =
        std::fs::read_to_string(root.join("inventories/hanoi/allocations.lock.yaml")).unwrap();
    assert!(
        written == committed,
        "the committed Hà Nội ledger is not the renumbering of hanoi-2024; see docs/renumbering.md"
    );
}

#[test]
fn renumber_write_ledger_refuses_to_lose_entries_of_the_ledger_it_replaces() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let tmp = tempfile::tempdir().unwrap();
    let inv = tmp.path().join("hanoi");
    copy_dir(&root.join("inventories/hanoi"), &inv, &|t| t);
    let ledger = inv.join("allocations.lock.yaml");
    let renumber = |extra: &[&str]| {
        let mut args = vec![
            "ipam",
            "renumber",
            "--map",
            "inventories/hanoi/renumbering/merge-2025-hanoi.csv",
            "--from",
            "inventories/hanoi-2024",
            "--to",
            inv.to_str().unwrap(),
            "--write-ledger",
            "--today",
            DAY,
        ];
        args.extend_from_slice(extra);
        hatang(&root, &args)
    };
    // The ledger there is the renumbering itself: rewriting it loses nothing.
    let committed = std::fs::read_to_string(&ledger).unwrap();
    let o = renumber(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&ledger).unwrap(), committed);

    // An entry allocated since (the input ledger lacks it), and a hold date changed: both would
    // be lost, so nothing is written unless forced.
    let extra = "  - {key: \"vlan/zz-added-later\", pool: \"vlan\", value: \"3999\", owner: \"Site/zz-added-later\"}\n";
    let mut edited = committed.clone();
    edited.push_str(extra);
    let held = edited
        .lines()
        .find(|l| l.contains("releaseAfter: "))
        .expect("the Hà Nội ledger holds draining prefixes")
        .to_owned();
    let date = held
        .split("releaseAfter: ")
        .nth(1)
        .unwrap()
        .trim_end_matches('}');
    let later = held.replace(&format!("releaseAfter: {date}"), "releaseAfter: 2099-01-01");
    let edited = edited.replace(&held, &later);
    std::fs::write(&ledger, &edited).unwrap();
    let o = renumber(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let key = held
        .split("key: \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert!(
        stderr.contains("holds 2 entries the seeded ledger would drop or change")
            && stderr.contains(key)
            && stderr.contains("vlan/zz-added-later")
            && stderr.contains("--force"),
        "{}",
        text(&o)
    );
    assert_eq!(
        std::fs::read_to_string(&ledger).unwrap(),
        edited,
        "nothing was written"
    );

    let o = renumber(&["--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&ledger).unwrap(), committed);
}
