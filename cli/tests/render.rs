//! `hatang render` on the lab inventory, each FRR file checked by FRR itself (`vtysh -C -f`).

use std::path::Path;
use std::process::Command;

#[test]
fn rendered_frr_configs_pass_frr_syntax_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hatang"))
        .args([
            "render",
            "inventories/lab",
            "--today",
            "2026-11-23",
            "--out",
        ])
        .arg(out.path())
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut checked = 0;
    for device in std::fs::read_dir(out.path()).unwrap() {
        let conf = device.unwrap().path().join("frr.conf");
        // vtysh is FRR's own shell (Debian package frr, installed by scripts/test.sh).
        let v = Command::new("vtysh")
            .arg("-C")
            .arg("-f")
            .arg(&conf)
            .output()
            .expect("vtysh (package frr) is installed");
        assert!(
            v.status.success(),
            "{}: {}{}",
            conf.display(),
            String::from_utf8_lossy(&v.stdout),
            String::from_utf8_lossy(&v.stderr)
        );
        checked += 1;
    }
    assert_eq!(checked, 10);

    // The check is real: a broken line is refused.
    let bad = out.path().join("bad.conf");
    std::fs::write(&bad, "router bgp 1\n neighbor nonsense here\n").unwrap();
    let v = Command::new("vtysh")
        .arg("-C")
        .arg("-f")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!v.status.success());
}

#[test]
fn render_refuses_a_stale_ledger() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let tmp = tempfile::tempdir().unwrap();
    let status = Command::new("cp")
        .arg("-r")
        .arg(root.join("inventories/lab"))
        .arg(tmp.path())
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::remove_file(tmp.path().join("lab/allocations.lock.yaml")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hatang"))
        .args(["render", "lab", "--today", "2026-11-23", "--out", "out"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("run `hatang plan` first"));
    assert!(!tmp.path().join("out").exists());
}

/// A copy of the lab with `edge-main` on Junos.
fn lab_with_a_junos_edge(tmp: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    hatang_test_support::copy_dir(&root.join("inventories/lab"), &tmp.join("lab"), &|t| t);
    let edges = tmp.join("lab/generated/dc-edges.yaml");
    let text = std::fs::read_to_string(&edges).unwrap();
    let (head, tail) = text.split_once("name: edge-main\n").unwrap();
    let tail = tail.replacen("platform: frr", "platform: junos", 1);
    std::fs::write(&edges, format!("{head}name: edge-main\n{tail}")).unwrap();
}

#[test]
fn a_junos_device_is_rendered_as_set_commands() {
    let tmp = tempfile::tempdir().unwrap();
    lab_with_a_junos_edge(tmp.path());
    let o = Command::new(env!("CARGO_BIN_EXE_hatang"))
        .args(["render", "lab", "--today", "2026-11-23", "--out", "out"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        hatang_test_support::text(&o)
    );
    let conf = std::fs::read_to_string(tmp.path().join("out/edge-main/config")).unwrap();
    assert!(conf.contains("set system host-name edge-main\n"), "{conf}");
    assert!(conf.contains("set protocols bgp group "), "{conf}");
    assert!(tmp.path().join("out/edge-backup/frr.conf").exists());
}

#[test]
fn a_device_that_cannot_be_rendered_stops_render_with_exit_1_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    lab_with_a_junos_edge(tmp.path());
    let templates = tmp.path().join("templates/junos");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(templates.join("config.hbs"), "{{no_such_field}}\n").unwrap();
    for output in ["text", "json"] {
        let o = Command::new(env!("CARGO_BIN_EXE_hatang"))
            .args(["render", "lab", "--today", "2026-11-23", "--out", "out"])
            .args(["--templates", "templates", "-o", output])
            .current_dir(tmp.path())
            .output()
            .unwrap();
        let all = hatang_test_support::text(&o);
        assert_eq!(o.status.code(), Some(1), "{all}");
        assert!(all.contains("edge-main"), "{all}");
        assert!(!tmp.path().join("out").exists(), "nothing written: {all}");
        if output == "json" {
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            assert_eq!(v["stopped"], "render-failed", "{v}");
            assert_eq!(v["diagnostics"][0]["objectRef"]["name"], "edge-main", "{v}");
        }
    }
}
