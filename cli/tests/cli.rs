//! The `hatang` binary end to end: exit codes, text and JSON output, import, schema, completions.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn hatang(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hatang"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .env("NO_COLOR", "1")
        .output()
        .expect("run hatang")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn validate_hanoi_exits_zero() {
    let o = hatang(&["validate", "inventories/hanoi", "--today", "2026-11-23"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("0 errors"), "{}", stdout(&o));
}

#[test]
fn stats_hanoi_shows_communes_data_centers_and_leases() {
    let o = hatang(&["stats", "inventories/hanoi", "--today", "2026-11-23"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("commune offices                 126"), "{out}");
    assert!(
        out.contains("dc-giang-vo") && out.contains("dc-hoa-lac"),
        "{out}"
    );
    assert!(out.contains("Sở Kế hoạch và Đầu tư"), "{out}");
    assert!(out.contains("ends 2027-06-30"), "{out}");

    let o = hatang(&[
        "stats",
        "inventories/hanoi",
        "--today",
        "2026-11-23",
        "--output",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["coverage"]["dualHomed"], 126);
    assert_eq!(v["dataCenters"].as_array().unwrap().len(), 2);
}

fn broken_inventory() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.yaml");
    std::fs::write(
        &file,
        "apiVersion: hatang.io/v1alpha1\nkind: Site\nmetadata:\n  name: ubnd-x\nspec:\n  displayName: UBND Phường X\n  role: agency\n  region: nowhere\n",
    )
    .unwrap();
    (dir, file)
}

#[test]
fn invalid_inventory_exits_one_with_file_line_and_snippet() {
    let (_dir, file) = broken_inventory();
    let o = hatang(&["validate", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains(&format!("{}:8:11", file.display())), "{out}");
    assert!(
        out.contains("dangling-reference") && out.contains("Site/ubnd-x"),
        "{out}"
    );
    assert!(out.contains("8 |   region: nowhere"), "{out}");

    let o = hatang(&["validate", file.to_str().unwrap(), "-o", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["valid"], false);
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "dangling-reference")
        .unwrap();
    assert_eq!(d["location"]["line"], 8);
    assert_eq!(d["object"], "Site/ubnd-x");
}

#[test]
fn usage_errors_exit_two() {
    assert_eq!(hatang(&["validate"]).status.code(), Some(2));
    assert_eq!(hatang(&["frobnicate"]).status.code(), Some(2));
    let o = hatang(&["validate", "no/such/dir"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no/such/dir"));
}

#[test]
fn every_command_has_help() {
    for cmd in [
        &["--help"][..],
        &["validate", "--help"],
        &["stats", "--help"],
        &["schema", "--help"],
        &["import", "regions", "--help"],
        &["completions", "--help"],
    ] {
        let o = hatang(cmd);
        assert_eq!(o.status.code(), Some(0), "{cmd:?}");
        assert!(stdout(&o).contains("Usage:"), "{cmd:?}");
    }
}

#[test]
fn import_regions_round_trips_through_validate() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("regions.yaml");
    let o = hatang(&[
        "import",
        "regions",
        "--csv",
        "cli/tests/fixtures/gso-2024-sample.csv",
        "--province",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("displayName: Thị trấn Sóc Sơn"));
    assert!(text.contains("code: \"08980\""));
    assert!(!text.contains("Hải Phòng"));
    let o = hatang(&["validate", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("6 objects"), "{}", stdout(&o));

    // Island districts with no commune level import as a district.
    let o = hatang(&[
        "import",
        "regions",
        "--csv",
        "cli/tests/fixtures/gso-2024-sample.csv",
        "--province",
        "31",
    ]);
    assert!(stdout(&o).contains("name: huyen-bach-long-vi-318"));
}

#[test]
fn schema_and_completions() {
    let o = hatang(&["schema"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["oneOf"].as_array().unwrap().len(), 9);
    let o = hatang(&["completions", "bash"]);
    assert!(stdout(&o).contains("hatang"));
}

#[test]
fn a_line_break_in_a_description_fails_validate_at_its_value() {
    // Configuration injection through free text: the description would be rendered as two
    // lines of `frr.conf`, the second a command of its own.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("device.yaml");
    std::fs::write(
        &file,
        "apiVersion: hatang.io/v1alpha1\nkind: Device\nmetadata:\n  name: cpe-x\nspec:\n  site: ubnd-x\n  platform: frr\n  role: cpe\n  interfaces:\n    - name: wan0\n      description: \"uplink\\nip route ::/0 blackhole\"\n",
    )
    .unwrap();
    let o = hatang(&["validate", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains(
            "error[control-character]: `spec.interfaces[0].description` contains a line feed \
             (U+000A) at character 7"
        ) && out.contains("(Device/cpe-x)"),
        "{out}"
    );
    assert!(
        out.contains(&format!("--> {}:11:20", file.display())),
        "{out}"
    );
    assert!(
        out.contains("11 |       description: \"uplink\\nip route ::/0 blackhole\""),
        "{out}"
    );
    let o = hatang(&["validate", file.to_str().unwrap(), "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "control-character")
        .unwrap();
    assert_eq!(d["location"]["line"], 11);
    assert_eq!(d["location"]["column"], 20);
}
