//! `hatang lab` end to end on `inventories/lab`: FRR routers and sshd in network namespaces.
//!
//! Needs root and the Debian packages frr, openssh-server, openssh-client, iproute2 and
//! iputils-ping (`./scripts/test.sh` installs them). The tests that start labs are
//! `#[ignore = "needs root: …"]`: `./scripts/test.sh` runs them as root with `--include-ignored`;
//! run by hand without root they fail, saying why. Missing programs fail them too.
//!
//! Each test has its own lab name, so its namespaces (`<name>-<device>`), host links and state
//! directory differ from the others'; a Drop guard runs `hatang lab down` whatever happens.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use hatang_test_support::{copy_dir, is_root, repo, require_root, text};

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// A lab under test; `hatang lab down` when dropped, even when the test panics.
struct Lab {
    name: String,
    inventory: PathBuf,
}

impl Lab {
    fn new(name: &str, inventory: &Path) -> Lab {
        let lab = Lab {
            name: name.to_owned(),
            inventory: inventory.to_owned(),
        };
        // Leftovers of an earlier, killed run.
        let o = lab.hatang("down", &[]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        lab
    }

    fn hatang(&self, verb: &str, env: &[(&str, &str)]) -> Output {
        self.hatang_with(verb, &[], env)
    }

    fn hatang_with(&self, verb: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hatang"));
        cmd.current_dir(repo())
            .env("NO_COLOR", "1")
            .env_remove("HATANG_LAB_FAIL_AFTER")
            .args(["lab", verb])
            .arg(&self.inventory)
            .args(["--name", &self.name, "--today", "2026-11-23"])
            .args(extra);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run hatang")
    }

    fn state_dir(&self) -> PathBuf {
        Path::new("/run/hatang-lab").join(&self.name)
    }

    fn plan(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.state_dir().join("plan.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// Every pid in the lab's pid files (FRR daemons, watchfrr, sshd).
    fn pids(&self) -> BTreeMap<String, i32> {
        let mut out = BTreeMap::new();
        let plan = self.plan();
        for n in plan["nodes"].as_array().unwrap() {
            let ns = n["namespace"].as_str().unwrap();
            let device = n["device"].as_str().unwrap();
            let mut files: Vec<(String, PathBuf)> = ["watchfrr", "zebra", "bgpd", "staticd"]
                .iter()
                .map(|d| {
                    (
                        format!("{ns}/{d}"),
                        Path::new("/var/run/frr").join(ns).join(format!("{d}.pid")),
                    )
                })
                .collect();
            files.push((
                format!("{ns}/sshd"),
                self.state_dir()
                    .join("devices")
                    .join(device)
                    .join("sshd.pid"),
            ));
            for (key, f) in files {
                if let Ok(t) = std::fs::read_to_string(&f) {
                    out.insert(key, t.trim().parse().unwrap());
                }
            }
        }
        out
    }

    /// Asserts that nothing of the lab is left on the machine.
    fn assert_gone(&self, pids: &BTreeMap<String, i32>) {
        let prefix = format!("{}-", self.name);
        let netns = String::from_utf8_lossy(&run("ip", &["netns", "list"]).stdout).into_owned();
        assert!(
            !netns.lines().any(|l| l.starts_with(&prefix)),
            "namespaces left:\n{netns}"
        );
        let links = String::from_utf8_lossy(&run("ip", &["-br", "link"]).stdout).into_owned();
        assert!(
            !links.lines().any(|l| l.starts_with(&prefix)),
            "host links left:\n{links}"
        );
        for (what, pid) in pids {
            assert!(!alive(*pid), "{what} (pid {pid}) still runs");
        }
        assert!(!self.state_dir().exists(), "state directory left");
        let lock = PathBuf::from(format!("{}.lock", self.state_dir().display()));
        assert!(!lock.exists(), "lock file left");
        for root in ["/etc/frr", "/var/run/frr"] {
            for e in std::fs::read_dir(root).unwrap() {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                assert!(!name.starts_with(&prefix), "{root}/{name} left");
            }
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let o = self.hatang("down", &[]);
        if o.status.code() != Some(0) {
            eprintln!("cleanup of lab {} failed: {}", self.name, text(&o));
        }
    }
}

/// Running and not a zombie.
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let i = s.rfind(')')?;
            s[i + 1..].split_whitespace().next().map(|st| st != "Z")
        })
        .unwrap_or(false)
}

fn ssh(lab: &Lab, address: &str, known_hosts: &Path, command: &str) -> Output {
    let key = lab.state_dir().join("id_ed25519");
    Command::new("ssh")
        .args(["-F", "/dev/null", "-i"])
        .arg(&key)
        .args([
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "ConnectTimeout=10",
            "-o",
        ])
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .arg(format!("root@{address}"))
        .arg(command)
        .output()
        .expect("run ssh")
}

/// The first link-local address of `interface` in `namespace`.
fn link_local(namespace: &str, interface: &str) -> String {
    let o = run(
        "ip",
        &[
            "-n", namespace, "-j", "-6", "addr", "show", "dev", interface,
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v[0]["addr_info"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["scope"] == "link")
        .and_then(|a| a["local"].as_str())
        .unwrap_or_else(|| panic!("no link-local on {namespace}:{interface}"))
        .to_owned()
}

#[test]
#[ignore = "needs root: network namespaces, veth links, FRR and sshd"]
fn lab_up_routers_ssh_idempotent_and_down() {
    require_root("lab_up_routers_ssh_idempotent_and_down");
    let _turn = hatang_test_support::lab_lock();
    let lab = Lab::new("hlt1", Path::new("inventories/lab"));

    let t = Instant::now();
    let o = lab.hatang("up", &[]);
    let up_time = t.elapsed();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    eprintln!("lab up: {up_time:.1?}");
    let plan = lab.plan();
    let nodes = plan["nodes"].as_array().unwrap().clone();
    assert_eq!(nodes.len(), 10);
    assert_eq!(plan["links"].as_array().unwrap().len(), 16);

    // One namespace per device.
    let netns = String::from_utf8_lossy(&run("ip", &["netns", "list"]).stdout).into_owned();
    for n in &nodes {
        let ns = n["namespace"].as_str().unwrap();
        assert!(
            netns
                .lines()
                .any(|l| l.split_whitespace().next() == Some(ns)),
            "{ns} missing:\n{netns}"
        );
    }
    let o = run(
        "ip",
        &[
            "netns",
            "exec",
            "hlt1-cpe-00001",
            "ip",
            "link",
            "show",
            "eth1",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));

    // Every circuit carries traffic between the inventory's interfaces: ping the Z end's
    // link-local address out of the A end (waiting out duplicate address detection).
    for l in plan["links"].as_array().unwrap() {
        let (a, z) = (&l["a"], &l["z"]);
        let (ans, aif) = (
            a["namespace"].as_str().unwrap(),
            a["interface"].as_str().unwrap(),
        );
        let (zns, zif) = (
            z["namespace"].as_str().unwrap(),
            z["interface"].as_str().unwrap(),
        );
        let target = format!("{}%{aif}", link_local(zns, zif));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let o = run(
                "ip",
                &[
                    "netns", "exec", ans, "ping", "-6", "-c", "1", "-W", "1", &target,
                ],
            );
            if o.status.success() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{}: {ans}:{aif} cannot reach {zns}:{zif}\n{}",
                l["circuit"],
                text(&o)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    // FRR answers in every namespace through its pathspace.
    for n in &nodes {
        let ns = n["namespace"].as_str().unwrap();
        let o = run("vtysh", &["-N", ns, "-c", "show version"]);
        assert!(o.status.success(), "{ns}: {}", text(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains("FRRouting"));
    }

    // SSH with the lab key, host keys pinned: each device answers with its own name, and its
    // FRR (plain vtysh, as on any router) has that hostname.
    let known_hosts = lab.state_dir().join("known_hosts");
    std::thread::scope(|s| {
        for n in &nodes {
            let (lab, known_hosts) = (&lab, &known_hosts);
            s.spawn(move || {
                let device = n["device"].as_str().unwrap();
                let address = n["management"]["address"].as_str().unwrap();
                let o = ssh(
                    lab,
                    address,
                    known_hosts,
                    "hostname; vtysh -c 'show running-config'",
                );
                assert!(o.status.success(), "{device}: {}", text(&o));
                let out = String::from_utf8_lossy(&o.stdout);
                assert_eq!(out.lines().next(), Some(device), "{out}");
                assert!(out.contains(&format!("\nhostname {device}\n")), "{out}");
            });
        }
    });
    // An unknown host key is refused (nothing is trusted silently).
    let empty = tempfile::NamedTempFile::new().unwrap();
    let o = ssh(&lab, "3fff:ab:ff:1::1", empty.path(), "hostname");
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Host key verification failed"),
        "{}",
        text(&o)
    );
    // The overlay pins the same keys.
    let overlay = std::fs::read_to_string(lab.state_dir().join("overlay/hosts.yaml")).unwrap();
    let known = std::fs::read_to_string(&known_hosts).unwrap();
    for line in known.lines().filter(|l| !l.starts_with('#')) {
        let key = line.split_once(' ').unwrap().1;
        assert!(overlay.contains(&format!("sshHostKey: {key}")), "{key}");
    }

    let o = lab.hatang_with("status", &["--output", "json"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let status: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(status["readiness"], "up");

    // A second `up` changes nothing and keeps every process.
    let pids = lab.pids();
    assert_eq!(pids.len(), 50, "{pids:?}");
    let o = lab.hatang("up", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("is already up"),
        "{}",
        text(&o)
    );
    assert_eq!(lab.pids(), pids);
    assert!(pids.values().all(|p| alive(*p)));

    let t = Instant::now();
    let o = lab.hatang("down", &[]);
    eprintln!("lab down: {:.1?}", t.elapsed());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    lab.assert_gone(&pids);
    // Nothing there: still fine.
    let o = lab.hatang("down", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = lab.hatang("status", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("is down"));
}

#[test]
#[cfg_attr(
    feature = "fault-injection",
    ignore = "needs root: network namespaces, veth links, FRR and sshd"
)]
#[cfg_attr(
    not(feature = "fault-injection"),
    ignore = "needs root and --features hatang/fault-injection (HATANG_LAB_FAIL_AFTER)"
)]
fn down_cleans_up_after_a_failed_up_and_up_completes_a_partial_lab() {
    require_root("down_cleans_up_after_a_failed_up_and_up_completes_a_partial_lab");
    if !cfg!(feature = "fault-injection") {
        panic!(
            "HATANG_LAB_FAIL_AFTER needs the binary built with --features hatang/fault-injection"
        );
    }
    let _turn = hatang_test_support::lab_lock();
    // Same lab on other management addresses, so it can run beside the other test.
    let tmp = tempfile::tempdir().unwrap();
    let inventory = tmp.path().join("lab");
    copy_dir(&repo().join("inventories/lab"), &inventory, &|t| {
        t.replace("address: 3fff:ab:ff:", "address: 3fff:ab:fe:")
    });
    let lab = Lab::new("hlt2", &inventory);

    // Fails once FRR runs everywhere: namespaces, links and daemons exist, sshd does not.
    let o = lab.hatang("up", &[("HATANG_LAB_FAIL_AFTER", "frr")]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("stopped after step `frr`"),
        "{}",
        text(&o)
    );
    let o = lab.hatang("status", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("partly up"));
    let pids = lab.pids();
    assert_eq!(pids.len(), 40, "FRR daemons only: {pids:?}");
    assert!(pids.values().all(|p| alive(*p)));
    let o = lab.hatang("down", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    lab.assert_gone(&pids);

    // Fails after the links; a plain `up` then completes the lab.
    let o = lab.hatang("up", &[("HATANG_LAB_FAIL_AFTER", "links")]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = lab.hatang_with("up", &["--output", "json"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let step = |name: &str| {
        report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["step"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(step("namespaces")["created"], 0, "{report}");
    assert_eq!(step("links")["kept"], 22, "{report}");
    assert_eq!(step("frr")["created"], 10, "{report}");
    let o = lab.hatang("status", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = ssh(
        &lab,
        "3fff:ab:fe:3::1",
        &lab.state_dir().join("known_hosts"),
        "hostname",
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "edge-main");
    let pids = lab.pids();
    let o = lab.hatang_with("down", &["--output", "json"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let down: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(down["clean"], true, "{down}");
    assert!(
        down["reports"][0]["processes"].as_u64().unwrap() > 0,
        "{down}"
    );
    lab.assert_gone(&pids);
}

#[test]
fn lab_needs_root() {
    if is_root() {
        // Drop to nobody for one run: the binary must refuse before touching anything.
        let o = Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                env!("CARGO_BIN_EXE_hatang"),
                "lab",
                "status",
                "inventories/lab",
            ])
            .current_dir(repo())
            .output()
            .expect("run setpriv");
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(String::from_utf8_lossy(&o.stderr).contains("needs root"));
    } else {
        let o = Command::new(env!("CARGO_BIN_EXE_hatang"))
            .args(["lab", "up", "inventories/lab"])
            .current_dir(repo())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(String::from_utf8_lossy(&o.stderr).contains("needs root"));
    }
}
