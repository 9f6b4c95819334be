//! Faults during a real apply on a lab of `inventories/lab`: a router whose management link is
//! lost right after its commit leaves the run `rollback-failed` with that router on the new
//! configuration; the journal still owes it its rollback, so a new `hatang apply` is refused
//! (naming the journal and the command to finish it) and `--recover` says which router is still
//! owed what while it stays unreachable. Once the link is back, `--recover` puts it back too:
//! every router runs and has saved the old generation, and the journal is done.
//!
//! Needs root, the lab's Debian packages and the `fault-injection` feature
//! (`HATANG_APPLY_RUN_AFTER`): `#[ignore]`d with that reason, run by `./scripts/test.sh` as root
//! with `--include-ignored`. Its lab has its own name and management addresses
//! (`3fff:ab:fb:…`), takes its turn with the other lab tests (`lab_lock`), and a Drop guard
//! runs `hatang lab down` whatever happens.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use hatang_test_support::{copy_dir, repo, require_root, text};

use serde_json::Value;

const LAB: &str = "rel";
const TODAY: &str = "2026-11-23";

fn hatang(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hatang"));
    cmd.current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("HATANG_LAB_FAIL_AFTER")
        .env_remove("HATANG_APPLY_FAIL_AFTER")
        .env_remove("HATANG_APPLY_RUN_AFTER")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run hatang")
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(o)))
}

fn namespace(device: &str) -> String {
    format!("{LAB}-{device}")
}

fn running(device: &str) -> String {
    let o = Command::new("vtysh")
        .args(["-N", &namespace(device), "-c", "show running-config"])
        .output()
        .expect("run vtysh");
    assert!(o.status.success(), "vtysh on {device}: {}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn saved(device: &str) -> String {
    std::fs::read_to_string(format!("/etc/frr/{}/frr.conf", namespace(device)))
        .unwrap_or_else(|e| panic!("saved configuration of {device}: {e}"))
}

fn ip(args: &[&str]) {
    let o = Command::new("ip").args(args).output().expect("run ip");
    assert!(o.status.success(), "ip {args:?}: {}", text(&o));
}

/// Brings a router's management link back as the lab made it (`eth0` in its namespace: the
/// lab inventory declares no eth0) — up, with the route back to the host that the kernel
/// dropped with the link — and waits until its sshd answers again.
fn heal_management_link(device: &str, lab_state: &str) {
    let ns = namespace(device);
    ip(&["-n", &ns, "link", "set", "eth0", "up"]);
    let plan: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(lab_state).join("plan.json")).unwrap(),
    )
    .unwrap();
    let host = plan["hostV6"]
        .as_str()
        .expect("the lab plan names the host's address");
    ip(&[
        "-n",
        &ns,
        "-6",
        "route",
        "replace",
        &format!("{host}/128"),
        "dev",
        "eth0",
    ]);
    let address: std::net::IpAddr = plan["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["device"] == device)
        .and_then(|n| n["management"]["address"].as_str())
        .expect("the node's management address")
        .parse()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let ssh = std::net::SocketAddr::new(address, 22);
    while std::net::TcpStream::connect_timeout(&ssh, std::time::Duration::from_secs(2)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "{device} unreachable 30 s after its link came back"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

/// The lab; `hatang lab down` when dropped, even when the test panics.
struct Lab {
    inventory: String,
}

impl Lab {
    fn lab(&self, verb: &str) -> Output {
        hatang(
            &[
                "lab",
                verb,
                &self.inventory,
                "--name",
                LAB,
                "--today",
                TODAY,
            ],
            &[],
        )
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

/// Templates whose only change is the syslog level: a new generation that keeps BGP as it is.
fn warn_templates(dir: &Path) -> String {
    let frr = dir.join("frr");
    std::fs::create_dir_all(&frr).unwrap();
    let base = std::fs::read_to_string(repo().join("templates/frr/frr.conf.hbs")).unwrap();
    let edited = base.replace("log syslog informational", "log syslog warnings");
    assert_ne!(edited, base);
    std::fs::write(frr.join("frr.conf.hbs"), edited).unwrap();
    dir.to_str().unwrap().to_owned()
}

#[test]
#[cfg_attr(
    feature = "fault-injection",
    ignore = "needs root: network namespaces, veth links, FRR and sshd"
)]
#[cfg_attr(
    not(feature = "fault-injection"),
    ignore = "needs root and --features hatang/fault-injection (HATANG_APPLY_RUN_AFTER)"
)]
fn a_router_lost_during_commit_is_owed_its_rollback_until_recover_restores_it() {
    require_root("the fault-during-commit lab test");
    if !cfg!(feature = "fault-injection") {
        panic!(
            "HATANG_APPLY_RUN_AFTER needs the binary built with --features hatang/fault-injection"
        );
    }
    let _turn = hatang_test_support::lab_lock();
    let tmp = tempfile::tempdir().unwrap();
    let inv = tmp.path().join("lab");
    copy_dir(&repo().join("inventories/lab"), &inv, &|t| {
        t.replace("address: 3fff:ab:ff:", "address: 3fff:ab:fb:")
    });
    let inventory = inv.to_str().unwrap().to_owned();
    let lab = Lab {
        inventory: inventory.clone(),
    };
    let o = lab.lab("down"); // leftovers of a killed run
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = lab.lab("up");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let state = format!("/run/hatang-lab/{LAB}");
    // Short SSH limits, so the lost router fails fast; generous verification for the others.
    let ssh = ["--lab-state", state.as_str(), "--timeout", "10"];
    let apply = |extra: &[&str], env: &[(&str, &str)]| -> Output {
        let mut args = vec![
            "apply",
            &inventory,
            "--today",
            TODAY,
            "-o",
            "json",
            "--verify-timeout",
            "30",
        ];
        args.extend_from_slice(&ssh);
        args.extend_from_slice(extra);
        hatang(&args, env)
    };

    // The old generation: applied and saved everywhere.
    let o = apply(&[], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(json(&o)["outcome"], "committed");
    let devices: Vec<String> = json(&o)["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(devices.len(), 10);
    let before: BTreeMap<String, (String, String)> = devices
        .iter()
        .map(|d| (d.clone(), (running(d), saved(d))))
        .collect();

    // The new generation; the first router committed loses its management link at once.
    let warn = warn_templates(&tmp.path().join("warn-templates"));
    let marker = tmp.path().join("broken-device");
    let fault = format!(
        "1:ip -n {LAB}-\"$HATANG_DEVICE\" link set eth0 down && printf %s \"$HATANG_DEVICE\" > {}",
        marker.display()
    );
    let o = apply(
        &["--templates", &warn, "--concurrency", "1"],
        &[("HATANG_APPLY_RUN_AFTER", &fault)],
    );
    let broken = std::fs::read_to_string(&marker)
        .unwrap_or_else(|e| panic!("the fault hook ran ({e}): {}", text(&o)));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let j = json(&o);
    assert_eq!(j["outcome"], "rollback-failed", "{j:#}");
    let id = j["id"].as_str().unwrap().to_owned();
    let journal = inv
        .join(".hatang/applies")
        .join(&id)
        .join("journal.json")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(Path::new(&journal).is_file(), "{journal}");
    assert_eq!(j["owed"].as_array().unwrap().len(), 1, "{j:#}");
    assert_eq!(j["owed"][0]["device"], broken.as_str(), "{j:#}");
    assert_eq!(j["owed"][0]["work"], "rollback", "{j:#}");
    // The broken router kept the new generation; every other one is back on the old.
    for d in &devices {
        if *d == broken {
            assert!(
                running(d).contains("log syslog warnings"),
                "{d} on the new generation"
            );
        } else {
            assert_eq!(running(d), before[d].0, "{d} rolled back");
            assert_eq!(saved(d), before[d].1, "{d} saved configuration restored");
        }
    }

    // A new transaction over these routers is refused, naming the journal and the command.
    let o = apply(&[], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let refusal = json(&o);
    assert_eq!(refusal["refused"], true, "{refusal:#}");
    assert_eq!(refusal["unfinished"][0]["journal"], journal.as_str());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(&format!(
            "finish it first: hatang apply --recover {journal} --lab-state {state}"
        )),
        "{stderr}"
    );
    assert!(
        running(&broken).contains("log syslog warnings"),
        "nothing was touched"
    );

    // Recovery while the router is still unreachable: still owed, and says so.
    let mut recover = vec!["apply", "--recover", journal.as_str(), "-o", "json"];
    recover.extend_from_slice(&ssh);
    let o = hatang(&recover, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let j = json(&o);
    assert_eq!(j["outcome"], "rollback-failed", "{j:#}");
    assert_eq!(j["owed"][0]["device"], broken.as_str(), "{j:#}");

    // Healed: recovery restores it, and the journal is done.
    heal_management_link(&broken, &state);
    let o = hatang(&recover, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let j = json(&o);
    assert_eq!(j["outcome"], "rolled-back", "{j:#}");
    assert!(j.get("owed").is_none(), "{j:#}");
    for d in &devices {
        assert_eq!(running(d), before[d].0, "{d} runs the old generation");
        assert_eq!(saved(d), before[d].1, "{d} has saved the old generation");
    }
    // Nothing is owed any more: a new transaction starts (and commits).
    let o = apply(&["--templates", &warn], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(json(&o)["outcome"], "committed");
    for d in &devices {
        assert!(
            saved(d).contains("log syslog warnings"),
            "{d} saved the new generation"
        );
    }
}
