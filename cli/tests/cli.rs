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
    assert_eq!(v["oneOf"].as_array().unwrap().len(), 10);
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

/// The subcommands under `path` (`[]` for the top level), as the binary's own help lists them.
fn subcommands(path: &[&str]) -> Vec<String> {
    let help = stdout(&hatang(&[path, &["--help"]].concat()));
    help.lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// Every leaf command (`ipam find`), and whether its help offers `-o`.
fn leaf_commands() -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut todo: Vec<Vec<String>> = vec![vec![]];
    while let Some(path) = todo.pop() {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let children = subcommands(&args);
        if children.is_empty() {
            let help = stdout(&hatang(&[&args[..], &["--help"]].concat()));
            out.push((path.join(" "), help.contains("-o, --output <FORMAT>")));
        }
        for c in children {
            todo.push([path.clone(), vec![c]].concat());
        }
    }
    out.sort();
    out
}

/// A check-phase journal of a run that changed nothing: `apply --recover` closes it without
/// reaching any device.
fn unfinished_journal(dir: &Path) -> PathBuf {
    let journal = serde_json::json!({
        "version": 1,
        "id": "20261123T000000.000Z-1",
        "user": "tester",
        "inventory": "inventories/lab",
        "started": "2026-11-23T00:00:00Z",
        "dryRun": false,
        "phase": "check",
        "devices": [{"name": "cpe-00001", "host": "127.0.0.1", "port": 9, "step": "checked", "hadSaved": true}],
        "events": [],
    });
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("journal.json");
    std::fs::write(&path, journal.to_string()).unwrap();
    path
}

#[test]
fn every_command_that_offers_json_prints_one_json_document() {
    let tmp = tempfile::tempdir().unwrap();
    let lab = tmp.path().join("lab");
    hatang_test_support::copy_dir(
        &hatang_test_support::repo().join("inventories/lab"),
        &lab,
        &|t| t,
    );
    let lab = lab.to_str().unwrap();
    let day = "2026-11-23";
    // Saved configurations for `audit --saved`: exactly what is rendered, so every device is clean.
    let rendered = tmp.path().join("rendered");
    let o = hatang(&[
        "render",
        lab,
        "--today",
        day,
        "--out",
        rendered.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let saved = tmp.path().join("saved");
    std::fs::create_dir_all(&saved).unwrap();
    for device in std::fs::read_dir(&rendered).unwrap() {
        let device = device.unwrap();
        let name = device.file_name().to_string_lossy().into_owned();
        std::fs::copy(
            device.path().join("frr.conf"),
            saved.join(format!("{name}.conf")),
        )
        .unwrap();
    }
    let journal = unfinished_journal(&tmp.path().join("run"));
    let out = tmp.path().join("out");
    let backup_dir = tmp.path().join("backup");
    let saved = saved.to_str().unwrap();

    // (command, arguments before `-o json`, what the document must hold)
    let runs: Vec<(&str, Vec<&str>, &str)> = vec![
        ("validate", vec!["validate", lab, "--today", day], "valid"),
        ("stats", vec!["stats", lab, "--today", day], "coverage"),
        (
            "capacity",
            vec!["capacity", lab, "--today", day],
            "dataCenters",
        ),
        (
            "backup",
            vec![
                "backup",
                lab,
                "--today",
                day,
                "--out",
                backup_dir.to_str().unwrap(),
                "-i",
                "/nonexistent-key",
                "--timeout",
                "1",
            ],
            "devices",
        ),
        (
            "plan",
            vec!["plan", lab, "--today", day, "--dry-run"],
            "kept",
        ),
        (
            "render",
            vec![
                "render",
                lab,
                "--today",
                day,
                "--out",
                out.to_str().unwrap(),
            ],
            "files",
        ),
        (
            "audit",
            vec!["audit", lab, "--today", day, "--saved", saved],
            "summary",
        ),
        (
            "apply",
            vec![
                "apply",
                "--recover",
                journal.to_str().unwrap(),
                "-i",
                "/nonexistent-key",
            ],
            "outcome",
        ),
        (
            "whatif",
            vec!["whatif", lab, "--today", day, "--fail", "device/hub-001"],
            "offices",
        ),
        ("ipam show", vec!["ipam", "show", lab, "--today", day], "0"),
        (
            "ipam utilization",
            vec!["ipam", "utilization", lab, "--today", day],
            "roomForSites",
        ),
        (
            "ipam find",
            vec!["ipam", "find", lab, "--today", day, "-a", "3fff:ab::/32"],
            "matches",
        ),
        (
            "ipam release",
            vec!["ipam", "release", lab, "--today", day, "--all-held"],
            "released",
        ),
        (
            "ipam renumber",
            vec![
                "ipam",
                "renumber",
                "--map",
                "inventories/hanoi/renumbering/merge-2025-hanoi.csv",
                "--from",
                "inventories/hanoi-2024",
                "--to",
                "inventories/hanoi",
                "--today",
                day,
            ],
            "communes",
        ),
    ];
    // Labs need root; cli/tests/lab.rs reads their JSON.
    let root_only = ["lab down", "lab status", "lab up"];

    let offering: Vec<String> = leaf_commands()
        .into_iter()
        .filter(|(_, json)| *json)
        .map(|(name, _)| name)
        .collect();
    let mut covered: Vec<String> = runs
        .iter()
        .map(|(name, _, _)| name.to_string())
        .chain(root_only.iter().map(|s| s.to_string()))
        .collect();
    covered.sort();
    assert_eq!(
        offering, covered,
        "every command offering -o json is run here"
    );

    for (name, args, field) in &runs {
        let o = hatang(&[&args[..], &["-o", "json"]].concat());
        // No lab here: every device of the backup fails (exit 1), its manifest printed all the same.
        let expected = if *name == "backup" { 1 } else { 0 };
        assert_eq!(
            o.status.code(),
            Some(expected),
            "{name}: {}{}",
            stdout(&o),
            String::from_utf8_lossy(&o.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{name}: not one JSON document ({e}): {}", stdout(&o)));
        let holds = match field.parse::<usize>() {
            Ok(i) => v.get(i).is_some(),
            Err(_) => v.get(field).is_some(),
        };
        assert!(holds, "{name}: no `{field}` in {v:#}");
    }

    // Names are camelCase, also of what core reports: the loopback's interface address.
    let o = hatang(&["ipam", "show", lab, "--today", day, "-o", "json"]);
    let entries: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let loopback = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == "loopback/edge-main")
        .unwrap();
    let address = loopback["value"].as_str().unwrap().trim_end_matches("/128");
    let o = hatang(&[
        "ipam", "find", lab, "--today", day, "-a", address, "-o", "json",
    ]);
    let found: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(found["interfaces"][0]["prefixLen"], 128, "{found:#}");
    assert_eq!(found["interfaces"][0]["interface"], "lo", "{found:#}");
}

#[test]
fn commands_without_json_refuse_o_as_a_usage_error() {
    for args in [
        &["completions", "bash", "-o", "json"][..],
        &["schema", "-o", "json"],
        &["ipam", "tree", "inventories/lab", "-o", "json"],
        &[
            "ipam",
            "export",
            "inventories/lab",
            "--format",
            "csv",
            "-o",
            "json",
        ],
        &[
            "import",
            "regions",
            "--csv",
            "cli/tests/fixtures/gso-2024-sample.csv",
            "-o",
            "json",
        ],
        // `-o` belongs to the command, not to `hatang` itself.
        &["-o", "json", "validate", "inventories/lab"],
    ] {
        let o = hatang(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stdout(&o));
        assert!(o.stdout.is_empty(), "{args:?}: {}", stdout(&o));
    }
}

#[test]
fn json_output_stays_json_when_the_inventory_is_invalid() {
    let (_dir, file) = broken_inventory();
    let file = file.to_str().unwrap();
    for args in [
        &["stats", file][..],
        &["plan", file],
        &["render", file, "--out", "/nonexistent/out"],
        &["audit", file, "--saved", "/nonexistent"],
        &["ipam", "show", file],
        &["ipam", "find", file, "-a", "3fff:ab::1"],
    ] {
        let o = hatang(&[args, &["-o", "json"]].concat());
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stdout(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", stdout(&o)));
        assert_eq!(v["stopped"], "invalid-inventory", "{args:?}: {v:#}");
        assert!(
            v["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["code"] == "dangling-reference"),
            "{args:?}: {v:#}"
        );
    }
}

#[test]
fn runtime_failures_exit_three() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = hatang_test_support::repo();

    // An output directory that cannot be created: `--out` is a file.
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let o = hatang(&[
        "render",
        "inventories/lab",
        "--today",
        "2026-11-23",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("cannot create"),
        "{:?}",
        o
    );

    // A ledger that cannot be read: a directory where the file should be.
    let lab = tmp.path().join("lab");
    hatang_test_support::copy_dir(&repo.join("inventories/lab"), &lab, &|t| t);
    std::fs::remove_file(lab.join("allocations.lock.yaml")).unwrap();
    std::fs::create_dir(lab.join("allocations.lock.yaml")).unwrap();
    let o = hatang(&["plan", lab.to_str().unwrap(), "--today", "2026-11-23"]);
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("allocations.lock.yaml"),
        "{:?}",
        o
    );

    // A cluster nobody answers for.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let kubeconfig = tmp.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:{port}\n    insecure-skip-tls-verify: true\n\
             users:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n"
        ),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hatang"))
        .args([
            "plan",
            "--cluster",
            "inventories/lab",
            "--today",
            "2026-11-23",
            "-o",
            "json",
        ])
        .current_dir(&repo)
        .env("KUBECONFIG", &kubeconfig)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.stdout.is_empty(),
        "errors are told on stderr only: {}",
        stdout(&o)
    );
}

#[test]
fn usage_errors_of_commands_exit_two() {
    for args in [
        &["ipam", "find", "inventories/lab", "-a", "not-an-address"][..],
        &["ipam", "release", "inventories/lab"],
        &[
            "audit",
            "inventories/lab",
            "--today",
            "2026-11-23",
            "--saved",
            "/x",
            "--device",
            "no-such-device",
        ],
        &[
            "apply",
            "--recover",
            "/nonexistent/journal.json",
            "-i",
            "/x",
        ],
    ] {
        let o = hatang(args);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// Runs `hatang` and kills it after `seconds`: a command that blocks fails the test instead of
/// hanging it.
fn hatang_within(args: &[&str], seconds: u64) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hatang"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run hatang");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while child.try_wait().expect("wait for hatang").is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().expect("kill hatang");
            let o = child.wait_with_output().expect("reap hatang");
            panic!(
                "hatang {args:?} still running after {seconds} s:\n{}",
                hatang_test_support::text(&o)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().expect("hatang output")
}

#[test]
fn validate_refuses_a_fifo_in_the_inventory_at_once_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let inventory = tmp.path().join("lab");
    hatang_test_support::copy_dir(
        &hatang_test_support::repo().join("inventories/lab"),
        &inventory,
        &|t| t,
    );
    let fifo = inventory.join("x.yaml");
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let o = hatang_within(
        &[
            "validate",
            inventory.to_str().unwrap(),
            "--today",
            "2026-11-23",
            "-o",
            "json",
        ],
        20,
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        hatang_test_support::text(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let refused: Vec<_> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "not-a-regular-file")
        .collect();
    assert_eq!(refused.len(), 1, "{v:#}");
    assert_eq!(
        refused[0]["location"]["file"],
        fifo.display().to_string(),
        "{v:#}"
    );
}

#[test]
fn validate_reports_the_pin_conflicts_plan_would_refuse() {
    let tmp = tempfile::tempdir().unwrap();
    let inventory = tmp.path().join("lab");
    // cpe-00007 pins the loopback the committed ledger gave cpe-00001.
    hatang_test_support::copy_dir(
        &hatang_test_support::repo().join("inventories/lab"),
        &inventory,
        &|t| {
            t.replace(
                "  site: ubnd-phuong-cong-vi-00007\n",
                "  site: ubnd-phuong-cong-vi-00007\n  loopback: \"3fff:ab:0:1::1\"\n",
            )
        },
    );
    let dir = inventory.to_str().unwrap();
    let plan = hatang(&["plan", dir, "--today", "2026-11-23", "-o", "json"]);
    assert_eq!(
        plan.status.code(),
        Some(1),
        "{}",
        hatang_test_support::text(&plan)
    );
    let o = hatang(&["validate", dir, "--today", "2026-11-23", "-o", "json"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        hatang_test_support::text(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let conflicts: Vec<_> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "pin-conflict")
        .collect();
    assert_eq!(conflicts.len(), 1, "{v:#}");
    assert_eq!(conflicts[0]["object"], "Device/cpe-00007", "{v:#}");
    assert!(
        conflicts[0]["message"]
            .as_str()
            .unwrap()
            .contains("loopback/cpe-00001"),
        "{v:#}"
    );
    assert_eq!(v["valid"], false);
    // The committed lab inventory has no pin problem.
    let o = hatang(&["validate", "inventories/lab", "--today", "2026-11-23"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        hatang_test_support::text(&o)
    );
}
