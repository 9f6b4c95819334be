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
