//! `hatang report` and findings: the issue's "done when" on a copy of Hà Nội with three backup
//! circuits removed (stats, report and validate agree: 123/126, the three offices named,
//! warnings that fail only under `--deny`), every example city's targets with a status, every
//! format, the audit summary and the history.

use std::path::PathBuf;
use std::process::{Command, Output};

use hatang_test_support::{copy_dir, repo, text};
use serde_json::Value;

const TODAY: &str = "2026-12-06";

/// The three offices whose backup circuits the copy loses: (GSO code, display name).
const BROKEN: [(&str, &str); 3] = [
    ("00004", "UBND Phường Ba Đình"),
    ("00008", "UBND Phường Ngọc Hà"),
    ("00025", "UBND Phường Giảng Võ"),
];

fn hatang(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hatang"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .output()
        .expect("run hatang")
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

/// A copy of inventories/hanoi without the backup circuits of the [`BROKEN`] offices.
fn hanoi_without_three_backups() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("hanoi");
    copy_dir(&repo().join("inventories/hanoi"), &inv, &|text| {
        text.split("\n---\n")
            .filter(|doc| {
                !BROKEN
                    .iter()
                    .any(|(code, _)| doc.contains(&format!("name: cpe-{code}-backup\n")))
            })
            .collect::<Vec<_>>()
            .join("\n---\n")
    });
    (dir, inv)
}

#[test]
fn three_missing_backups_are_figures_and_findings_not_errors() {
    let (_dir, inv) = hanoi_without_three_backups();
    let inv = inv.to_str().unwrap();

    // stats: figures on the incomplete estate, the offices named.
    let o = hatang(&["stats", inv, "--today", TODAY, "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let c = &json(&o)["coverage"];
    assert_eq!(
        (c["dualHomed"].as_u64(), c["incomplete"].as_u64()),
        (Some(123), Some(3))
    );
    let named: Vec<&str> = c["incompleteOffices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(named.len(), 3);
    for (code, name) in BROKEN {
        assert!(named.contains(&name), "{name} not in {named:?}");
        let office = c["incompleteOffices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["gsoCode"] == code)
            .unwrap();
        assert_eq!(office["missing"], serde_json::json!(["backup"]));
        assert!(
            office["location"]["file"]
                .as_str()
                .unwrap()
                .ends_with(&format!("-{code}.yaml"))
        );
    }
    let o = hatang(&["stats", inv, "--today", TODAY]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("with primary + backup           123"), "{out}");
    for (_, name) in BROKEN {
        assert!(out.contains(name), "{name} missing from stats:\n{out}");
    }

    // report: the same figure, the offices failing the dual-homing target with file:line.
    let o = hatang(&["report", inv, "--today", TODAY, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r = json(&o);
    assert_eq!(r["coverage"]["dualHomed"], 123);
    let dual = r["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["metric"] == "commune-offices-dual-homed")
        .expect("Hà Nội has a dual-homing target");
    assert_eq!(
        (dual["passed"].as_u64(), dual["total"].as_u64()),
        (Some(123), Some(126))
    );
    assert_eq!(dual["status"], "overdue");
    let failing = dual["failing"].as_array().unwrap();
    assert_eq!(failing.len(), 3);
    for (code, name) in BROKEN {
        let f = failing
            .iter()
            .find(|f| f["displayName"] == name)
            .unwrap_or_else(|| panic!("{name} does not fail the target: {failing:?}"));
        assert_eq!(f["reason"], "no backup circuit");
        assert!(
            f["location"]["file"]
                .as_str()
                .unwrap()
                .ends_with(&format!("-{code}.yaml"))
        );
        assert!(f["location"]["line"].as_u64().unwrap() >= 1);
    }
    assert_eq!(r["findings"]["byKind"]["missing-backup-circuit"], 3);
    let o = hatang(&["report", inv, "--today", TODAY, "--format", "md"]);
    let md = String::from_utf8_lossy(&o.stdout);
    assert!(md.contains("**123/126**"), "{md}");
    assert!(
        md.contains("123/126") && md.contains("Quá hạn (overdue)"),
        "{md}"
    );
    for (_, name) in BROKEN {
        assert!(md.contains(name), "{name} missing from the Markdown report");
    }

    // validate: three warnings, exit 0; --deny turns them into a failure.
    let o = hatang(&["validate", inv, "--today", TODAY]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        out.matches("warning[missing-backup-circuit]").count(),
        3,
        "{out}"
    );
    assert!(
        out.contains("0 errors, 0 warnings, 3 findings — valid"),
        "{out}"
    );
    let o = hatang(&["validate", inv, "--today", TODAY, "-o", "json"]);
    let v = json(&o);
    assert_eq!(
        (
            v["errors"].as_u64(),
            v["findings"].as_u64(),
            v["denied"].as_u64()
        ),
        (Some(0), Some(3), Some(0))
    );
    for deny in ["missing-backup-circuit", "all"] {
        let o = hatang(&["validate", inv, "--today", TODAY, "--deny", deny]);
        assert_eq!(o.status.code(), Some(1), "--deny {deny}: {}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(
            out.matches("error[missing-backup-circuit]").count(),
            3,
            "{out}"
        );
    }
    let o = hatang(&[
        "validate",
        inv,
        "--today",
        TODAY,
        "--deny",
        "lease-expired",
        "--deny",
        "no-wan-link",
    ]);
    assert_eq!(o.status.code(), Some(0), "other kinds denied: {}", text(&o));
    let o = hatang(&["validate", inv, "--deny", "missing-circuit"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("missing-backup-circuit"),
        "{}",
        text(&o)
    );
}

/// The targets each example city's plans set (inventories/*/targets.yaml; the lab is no city).
const CITY_TARGETS: [(&str, usize); 4] = [
    ("inventories/hanoi", 8),
    ("inventories/hanoi-2024", 8),
    ("inventories/haiphong", 3),
    ("inventories/danang", 2),
];

#[test]
fn every_example_city_reports_its_targets_with_a_status() {
    for (inv, count) in CITY_TARGETS {
        let o = hatang(&["report", inv, "--today", TODAY, "--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{inv}: {}", text(&o));
        let r = json(&o);
        let targets = r["targets"].as_array().unwrap();
        assert_eq!(targets.len(), count, "{inv}");
        for t in targets {
            let status = t["status"].as_str().unwrap();
            assert!(
                ["met", "not-met", "overdue"].contains(&status),
                "{inv}: {t}"
            );
            assert!(
                t["location"]["file"]
                    .as_str()
                    .unwrap()
                    .ends_with("targets.yaml")
            );
        }
        assert_eq!(r["header"]["judgedOn"], TODAY);
        assert_eq!(r["header"]["toolVersion"], env!("CARGO_PKG_VERSION"));
        assert_eq!(r["header"]["inventory"], inv);
        let csv = hatang(&["report", inv, "--today", TODAY, "--format", "csv"]);
        let csv = String::from_utf8_lossy(&csv.stdout);
        assert!(
            csv.starts_with("target,document,clause,metric,scope,valuePercent"),
            "{csv}"
        );
        for t in targets {
            let name = t["name"].as_str().unwrap();
            assert!(
                csv.contains(&format!("\r\n{name},")),
                "{name} not in the CSV"
            );
        }
    }
    // Hải Phòng: Bạch Long Vĩ is excluded, so "every commune but one" is met.
    let o = hatang(&[
        "report",
        "inventories/haiphong",
        "--today",
        TODAY,
        "--format",
        "json",
    ]);
    let r = json(&o);
    let connected = r["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "hp-2020-communes-connected")
        .unwrap();
    assert_eq!(connected["status"], "met", "{connected}");
    assert_eq!(
        connected["total"],
        r["coverage"]["communeOffices"].as_u64().unwrap() - 1
    );
}

#[test]
fn the_report_names_its_commit_when_in_a_repository() {
    let o = hatang(&[
        "report",
        "inventories/haiphong",
        "--today",
        TODAY,
        "--format",
        "json",
    ]);
    let commit = json(&o)["header"]["commit"].as_str().map(str::to_owned);
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(repo())
        .output();
    if let Some(head) = head.ok().filter(|h| h.status.success()) {
        let head = String::from_utf8_lossy(&head.stdout).trim().to_owned();
        let commit = commit.expect("a commit inside the repository");
        assert!(commit.starts_with(&head), "{commit} vs {head}");
    }
    // Outside any repository there is none.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &repo().join("inventories/lab"),
        &dir.path().join("lab"),
        &|t| t,
    );
    let o = hatang(&[
        "report",
        dir.path().join("lab").to_str().unwrap(),
        "--today",
        TODAY,
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(json(&o)["header"].get("commit").is_none());
}

#[test]
fn an_audit_file_gives_the_drift_summary_and_a_bad_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.json");
    std::fs::write(
        &audit,
        r#"{"summary": {"devices": 3, "clean": 1, "accepted": 0, "drift": 1, "failed": 1,
            "skipped": 0, "deviations": 4, "acceptedDeviations": 0, "expiredAcceptances": 0,
            "unusedAcceptances": 0},
            "devices": [{"device": "edge-gv-1", "status": "clean", "deviations": []},
                        {"device": "edge-hl-1", "status": "drift", "deviations": [{}, {}, {}, {}]},
                        {"device": "core-gv-1", "status": "failed", "deviations": []}]}"#,
    )
    .unwrap();
    let a = audit.to_str().unwrap();
    let o = hatang(&[
        "report",
        "inventories/hanoi",
        "--today",
        TODAY,
        "--format",
        "json",
        "--audit",
        a,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let d = &json(&o)["drift"];
    assert_eq!(d["counts"]["drift"], 1);
    assert_eq!(d["devices"][0]["device"], "edge-hl-1");
    assert_eq!(d["devices"][0]["deviations"], 4);
    assert_eq!(d["devices"].as_array().unwrap().len(), 2);
    std::fs::write(&audit, "{\"not\": \"an audit\"}").unwrap();
    let o = hatang(&[
        "report",
        "inventories/hanoi",
        "--today",
        TODAY,
        "--audit",
        a,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("audit.json"),
        "{}",
        text(&o)
    );
}

#[test]
fn the_history_gives_each_target_its_change_and_trend() {
    let (dir, inv) = hanoi_without_three_backups();
    let history = dir.path().join("history");
    let (i, h) = (inv.to_str().unwrap(), history.to_str().unwrap());
    let first = hatang(&[
        "report",
        i,
        "--today",
        "2026-11-01",
        "--format",
        "json",
        "--history",
        h,
    ]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    assert!(json(&first)["targets"][0].get("change").is_none());
    assert!(history.join("2026-11-01.json").is_file());
    // A month later the three backups are back.
    copy_dir(
        &repo().join("inventories/hanoi/generated/communes"),
        &inv.join("generated/communes"),
        &|text| text,
    );
    let o = hatang(&[
        "report",
        i,
        "--today",
        TODAY,
        "--format",
        "json",
        "--history",
        h,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r = json(&o);
    let dual = r["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["metric"] == "commune-offices-dual-homed")
        .unwrap();
    assert_eq!(dual["passed"], 126, "{dual}");
    let change = dual["change"].as_f64().unwrap();
    assert!((change - 300.0 / 126.0).abs() < 1e-9, "{change}");
    assert_eq!(dual["trend"].as_array().unwrap().len(), 2);
    assert!(history.join(format!("{TODAY}.json")).is_file());
    let html = hatang(&["report", i, "--today", TODAY, "--history", h]);
    assert!(String::from_utf8_lossy(&html.stdout).contains("class=\"trend\""));
}

#[test]
fn an_invalid_inventory_gets_no_report() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(
        &file,
        "apiVersion: hatang.io/v1alpha1\nkind: PlanTarget\nmetadata: {name: t}\nspec:\n  displayName: x\n  document: {number: QĐ 1, date: 2020-01-01}\n  clause: c\n  metric: communes-online\n  targetPercent: 80\n  deadline: 2020-12-31\n",
    )
    .unwrap();
    let o = hatang(&["report", file.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v = json(&o);
    assert_eq!(v["stopped"], "invalid-inventory");
    assert_eq!(v["diagnostics"][0]["code"], "unknown-metric");
    assert_eq!(v["diagnostics"][0]["location"]["line"], 8);
}

/// Writes with `--out` replace the file and print nothing.
#[test]
fn out_writes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.md");
    let o = hatang(&[
        "report",
        "inventories/hanoi",
        "--today",
        TODAY,
        "--format",
        "md",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(o.stdout.is_empty());
    let md = std::fs::read_to_string(&out).unwrap();
    assert!(md.starts_with("# Báo cáo kiểm tra hạ tầng số"), "{md}");
}
