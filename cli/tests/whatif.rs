//! `hatang whatif` through the binary: the lab inventory has no single point of failure; a copy
//! whose office lands both circuits on one hub has one, found by `--spof`; a whole data center
//! failing sends every office to the other one; exit codes and bad arguments.

use std::path::Path;
use std::process::{Command, Output};

use hatang_test_support::{copy_dir, repo, text};

fn hatang(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hatang"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .output()
        .expect("run hatang")
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

/// A copy of the lab whose office Phúc Xá has its backup circuit on hub-001 (like its primary)
/// instead of the backup data center's edge.
fn shared_hub_lab(dir: &Path) {
    copy_dir(&repo().join("inventories/lab"), dir, &|t: String| {
        let t = t.replace(
            "  - name: eth5\n    description: \"\"\n---\napiVersion: hatang.io/v1alpha1\nkind: Circuit\nmetadata:\n  name: hub-001-primary",
            "  - name: eth5\n    description: \"\"\n  - name: eth6\n    description: backup of Phúc Xá\n---\napiVersion: hatang.io/v1alpha1\nkind: Circuit\nmetadata:\n  name: hub-001-primary",
        );
        t.replace(
            "  name: cpe-00001-backup\nspec:\n  a:\n    device: cpe-00001\n    interface: eth2\n  z:\n    device: edge-backup\n    interface: eth2",
            "  name: cpe-00001-backup\nspec:\n  a:\n    device: cpe-00001\n    interface: eth2\n  z:\n    device: hub-001\n    interface: eth6",
        )
    });
}

#[test]
fn the_lab_has_no_single_point_of_failure() {
    let o = hatang(&["whatif", "inventories/lab", "--spof", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json(&o);
    assert_eq!(v["points"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(v["singleDataCenter"].as_array().unwrap().len(), 0);
    assert_eq!(v["analysed"]["offices"], 6);
    assert!(v["analysed"]["failures"].as_u64().unwrap() > 6 * 8, "{v}");
}

#[test]
fn spof_finds_the_hub_both_circuits_of_an_office_land_on() {
    let tmp = tempfile::tempdir().unwrap();
    let inv = tmp.path().join("lab");
    shared_hub_lab(&inv);
    let md = tmp.path().join("spof.md");
    let o = hatang(&[
        "whatif",
        inv.to_str().unwrap(),
        "--spof",
        "-o",
        "json",
        "--markdown",
        md.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v = json(&o);
    let points: Vec<(String, Vec<String>)> = v["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let e = &p["element"];
            let offices = p["offices"].as_array().unwrap().iter();
            (
                format!(
                    "{}/{}",
                    e["kind"].as_str().unwrap(),
                    e["name"].as_str().unwrap()
                ),
                offices
                    .map(|o| o["site"].as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect();
    let phuc_xa = vec!["ubnd-phuong-phuc-xa-00001".to_owned()];
    assert_eq!(
        points,
        [
            ("device/hub-001".to_owned(), phuc_xa.clone()),
            ("site/hub-quan-ba-dinh-001".to_owned(), phuc_xa),
        ],
        "{v}"
    );
    let markdown = std::fs::read_to_string(&md).unwrap();
    assert!(
        markdown.contains("| `device/hub-001` | UBND Phường Phúc Xá"),
        "{markdown}"
    );
    let o = hatang(&["whatif", inv.to_str().unwrap(), "--spof"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(
            "device/hub-001 cuts off 1 office: UBND Phường Phúc Xá (ubnd-phuong-phuc-xa-00001)"
        ),
        "{}",
        text(&o)
    );
}

#[test]
fn failing_the_main_data_center_sends_every_office_to_the_backup_one() {
    let o = hatang(&[
        "whatif",
        "inventories/lab",
        "--fail",
        "datacenter/dc-lab-main",
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json(&o);
    let offices = v["offices"].as_array().unwrap();
    assert_eq!(offices.len(), 6);
    for office in offices {
        assert_eq!(office["lost"].as_array().unwrap().len(), 0, "{office}");
        assert_eq!(office["changed"], true);
        for s in office["services"].as_array().unwrap() {
            assert_eq!(s["dataCenter"], "dc-lab-backup", "{office}");
            assert_eq!(s["tier"], "backup");
        }
    }
    assert_eq!(v["summary"]["viaBackup"], 6);
}

#[test]
fn an_office_cut_off_by_two_failures_exits_one() {
    let o = hatang(&[
        "whatif",
        "inventories/lab",
        "--fail",
        "datacenter/dc-lab-backup",
        "--fail",
        "circuit/cpe-00001-primary",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(
            "UBND Phường Phúc Xá (ubnd-phuong-phuc-xa-00001): LOSES dc-lab-backup, dc-lab-main"
        ),
        "{out}"
    );
    assert!(out.contains("6 commune offices: 1 cut off"), "{out}");
}

#[test]
fn with_nothing_failed_every_lab_office_reaches_every_service_through_the_main_data_center() {
    let o = hatang(&["whatif", "inventories/lab", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json(&o);
    assert_eq!(v["failed"].as_array().unwrap().len(), 0);
    for office in v["offices"].as_array().unwrap() {
        assert_eq!(office["changed"], false, "{office}");
        for s in office["services"].as_array().unwrap() {
            assert_eq!(s["dataCenter"], "dc-lab-main", "{office}");
        }
    }
}

#[test]
fn bad_arguments_are_usage_errors() {
    let o = hatang(&["whatif", "inventories/lab", "--fail", "device/nope"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no device `nope`"),
        "{}",
        text(&o)
    );
    let o = hatang(&["whatif", "inventories/lab", "--fail", "hub-001"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = hatang(&[
        "whatif",
        "inventories/lab",
        "--spof",
        "--fail",
        "device/hub-001",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
