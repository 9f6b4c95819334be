//! End to end on a lab of `inventories/lab`: `hatang apply` brings every router up, commune
//! offices reach the data-center service, hand-made drift is audited and healed, a candidate one
//! router rejects changes nothing anywhere, a run killed mid-commit is recovered, and losing the
//! main DC edge (its links, or its BGP speaker freezing) moves every commune to the backup DC
//! within the BGP timers (and back).
//!
//! Needs root, the lab's Debian packages (frr, frr-pythontools, openssh-server, openssh-client,
//! iproute2, iputils-ping) and the `fault-injection` feature (the killed run): it is
//! `#[ignore]`d with that reason, run by `./scripts/test.sh` as root with `--include-ignored`,
//! and fails, loudly, when run otherwise. Its lab has its own name
//! and management addresses (`3fff:ab:fa:…`), takes its turn with the other lab tests
//! (`hatang_test_support::lab_lock`), and a Drop guard runs `hatang lab down` whatever happens.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use hatang_test_support::{copy_dir, repo, require_root, text};

use serde_json::Value;

const LAB: &str = "e2e";
const TODAY: &str = "2026-11-23";
/// The portal's service address: on the loopback of both DC edges (anycast), the main one
/// preferred.
const SERVICE: &str = "3fff:ab:10::1";

fn hatang(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hatang"));
    cmd.current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("HATANG_LAB_FAIL_AFTER")
        .env_remove("HATANG_APPLY_FAIL_AFTER")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run hatang")
}

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(o)))
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

    fn state(&self) -> String {
        format!("/run/hatang-lab/{LAB}")
    }

    fn namespace(device: &str) -> String {
        format!("{LAB}-{device}")
    }

    /// `vtysh` on a router, from the host.
    fn vtysh(device: &str, commands: &[&str]) -> String {
        let ns = Self::namespace(device);
        let mut args = vec!["-N", ns.as_str()];
        for c in commands {
            args.extend(["-c", c]);
        }
        let o = run("vtysh", &args);
        assert!(o.status.success(), "vtysh on {device}: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn running(device: &str) -> String {
        Self::vtysh(device, &["show running-config"])
    }

    fn saved(device: &str) -> String {
        std::fs::read_to_string(format!("/etc/frr/{}/frr.conf", Self::namespace(device)))
            .unwrap_or_else(|e| panic!("saved configuration of {device}: {e}"))
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

/// Every router's running and saved configuration.
fn snapshot(devices: &[String]) -> BTreeMap<String, (String, String)> {
    devices
        .iter()
        .map(|d| (d.clone(), (Lab::running(d), Lab::saved(d))))
        .collect()
}

fn assert_same(before: &BTreeMap<String, (String, String)>, what: &str) {
    for (device, (running, saved)) in before {
        let now = Lab::running(device);
        assert_eq!(
            &now, running,
            "{what}: running configuration of {device} changed"
        );
        assert_eq!(
            &Lab::saved(device),
            saved,
            "{what}: saved configuration of {device} changed"
        );
    }
}

/// States of a router's BGP sessions, by neighbour.
fn sessions(device: &str) -> BTreeMap<String, String> {
    let v: Value =
        serde_json::from_str(&Lab::vtysh(device, &["show bgp ipv6 unicast summary json"])).unwrap();
    v["peers"]
        .as_object()
        .map(|peers| {
            peers
                .iter()
                .map(|(a, p)| (a.clone(), p["state"].as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// The AS path of a router's best route to `prefix`, if any.
fn best_path(device: &str, prefix: &str) -> Option<String> {
    let v: Value = serde_json::from_str(&Lab::vtysh(
        device,
        &[&format!("show bgp ipv6 unicast {prefix} json")],
    ))
    .unwrap();
    v["paths"].as_array()?.iter().find_map(|p| {
        (p["bestpath"]["overall"] == true).then(|| p["aspath"]["string"].as_str().unwrap().into())
    })
}

fn ping(cpe: &str, source: &str) -> bool {
    let ns = Lab::namespace(cpe);
    run(
        "ip",
        &[
            "netns", "exec", &ns, "ping", "-6", "-c", "1", "-W", "1", "-I", source, SERVICE,
        ],
    )
    .status
    .success()
}

/// Polls `check` every half second until it holds or `limit` passes; how long it took.
fn within(limit: Duration, mut check: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if check() {
            return Some(start.elapsed());
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The newest run directory under the inventory's apply state.
fn newest_run(inventory: &Path) -> PathBuf {
    let mut runs: Vec<PathBuf> = std::fs::read_dir(inventory.join(".hatang/applies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    runs.sort();
    runs.pop().expect("a run directory")
}

/// Templates with `edit` applied to the built-in FRR `frr.conf` template.
fn templates(dir: &Path, edit: &dyn Fn(String) -> String) -> String {
    let frr = dir.join("frr");
    std::fs::create_dir_all(&frr).unwrap();
    let base = std::fs::read_to_string(repo().join("templates/frr/frr.conf.hbs")).unwrap();
    let edited = edit(base.clone());
    assert_ne!(edited, base, "the edit changes the template");
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
    ignore = "needs root and --features hatang/fault-injection (HATANG_APPLY_FAIL_AFTER)"
)]
fn apply_heals_drift_rolls_back_recovers_and_fails_over_to_the_backup_dc() {
    require_root("the end-to-end apply test");
    if !cfg!(feature = "fault-injection") {
        panic!(
            "HATANG_APPLY_FAIL_AFTER needs the binary built with --features hatang/fault-injection"
        );
    }
    let _turn = hatang_test_support::lab_lock();
    let tmp = tempfile::tempdir().unwrap();
    let inv = tmp.path().join("lab");
    copy_dir(&repo().join("inventories/lab"), &inv, &|t| {
        t.replace("address: 3fff:ab:ff:", "address: 3fff:ab:fa:")
    });
    let inventory = inv.to_str().unwrap().to_owned();
    let lab = Lab {
        inventory: inventory.clone(),
    };
    let o = lab.lab("down"); // leftovers of a killed run
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = lab.lab("up");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let state = lab.state();
    let ssh = ["--lab-state", state.as_str(), "--timeout", "60"];
    let apply = |extra: &[&str], env: &[(&str, &str)]| -> Output {
        // Generous limits: two cores shared with compilers can make vtysh take seconds.
        let mut args = vec![
            "apply",
            &inventory,
            "--today",
            TODAY,
            "-o",
            "json",
            "--verify-timeout",
            "120",
        ];
        args.extend_from_slice(&ssh);
        args.extend_from_slice(extra);
        hatang(&args, env)
    };
    let audit = || -> (Option<i32>, Value) {
        let mut args = vec!["audit", &inventory, "--today", TODAY, "-o", "json"];
        args.extend_from_slice(&ssh);
        let o = hatang(&args, &[]);
        (o.status.code(), json(&o))
    };

    // What the routers should run, rendered independently of apply.
    let out = tmp.path().join("rendered");
    let o = hatang(
        &[
            "render",
            &inventory,
            "--today",
            TODAY,
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let rendered = |d: &str| std::fs::read_to_string(out.join(d).join("frr.conf")).unwrap();
    let mut devices: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    devices.sort();
    assert_eq!(devices.len(), 10);
    for edge in ["edge-main", "edge-backup"] {
        assert!(
            rendered(edge).contains(&format!(" ipv6 address {SERVICE}/128\n")),
            "{edge} carries the service address"
        );
    }
    let cpes: Vec<(String, String)> = devices
        .iter()
        .filter(|d| d.starts_with("cpe-"))
        .map(|d| {
            // The office LAN address: the only source the data centers route back to.
            let conf = rendered(d);
            let lan = conf.split("interface lan0\n").nth(1).unwrap();
            let addr = lan
                .lines()
                .find_map(|l| l.trim().strip_prefix("ipv6 address "))
                .unwrap();
            (d.clone(), addr.split('/').next().unwrap().to_owned())
        })
        .collect();
    assert_eq!(cpes.len(), 6);

    // 1. Apply: every router committed and saved, the audit clean, plan has nothing to change.
    let t = Instant::now();
    let o = apply(&[], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    eprintln!("first apply: {:?}", t.elapsed());
    let j = json(&o);
    assert_eq!(j["outcome"], "committed", "{j:#}");
    assert!(
        j["devices"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["step"] == "saved"),
        "{j:#}"
    );
    let (code, r) = audit();
    assert_eq!(code, Some(0), "{r:#}");
    assert_eq!(r["summary"]["clean"], 10, "{r:#}");
    for d in &devices {
        assert!(
            Lab::saved(d).contains(&format!("hostname {d}\n"))
                && Lab::saved(d).contains("router bgp"),
            "{d} saved its configuration"
        );
    }
    let record: Value = serde_json::from_str(
        &std::fs::read_to_string(newest_run(&inv).join("record.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["outcome"], "committed");
    assert!(
        record["devices"][0]["diff"]
            .as_str()
            .unwrap()
            .contains("+router bgp"),
        "{record:#}"
    );
    let o = hatang(&["plan", &inventory, "--today", TODAY], &[]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("configurations: 10 unchanged"),
        "{}",
        text(&o)
    );

    // … and without the lab's pins no router is trusted, unless new keys are accepted
    //   explicitly: then they are recorded and trusted from then on.
    let key = format!("{state}/id_ed25519");
    let known = tmp.path().join("known_hosts");
    std::fs::write(&known, "").unwrap();
    let plain = [
        "apply",
        &inventory,
        "--today",
        TODAY,
        "-o",
        "json",
        "--dry-run",
        "-i",
        &key,
        "--known-hosts",
        known.to_str().unwrap(),
    ];
    let o = hatang(&plain, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let j = json(&o);
    assert_eq!(j["outcome"], "aborted", "{j:#}");
    assert!(
        j["reason"].as_str().unwrap().contains("is unknown"),
        "{j:#}"
    );
    let o = hatang(&[&plain[..], &["--accept-new"]].concat(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&known).unwrap().lines().count(), 10);
    let o = hatang(&plain, &[]);
    assert_eq!(o.status.code(), Some(0), "now known: {}", text(&o));

    // 2. Every expected BGP session is Established (apply verified it; check independently).
    for d in &devices {
        let expected = rendered(d).matches(" remote-as ").count();
        let states = sessions(d);
        assert_eq!(states.len(), expected, "{d}: {states:?}");
        assert!(
            states.values().all(|s| s == "Established"),
            "{d}: {states:?}"
        );
    }

    // 3. Every commune office reaches the service, through the main DC.
    let edge_main_asn = rendered("edge-main")
        .lines()
        .find_map(|l| l.strip_prefix("router bgp "))
        .unwrap()
        .to_owned();
    for (cpe, source) in &cpes {
        // A few tries: the first packet may wait for neighbour discovery on every hop.
        assert!(
            within(Duration::from_secs(5), || ping(cpe, source)).is_some(),
            "{cpe} ({source}) reaches {SERVICE}"
        );
        let path = best_path(cpe, "3fff:ab:10::/48").unwrap();
        assert!(
            path.contains(&edge_main_asn),
            "{cpe} goes through the main DC: {path}"
        );
    }

    // 4. A router changed by hand: the audit reports exactly that, apply heals it.
    let hub = "hub-001";
    let hub_conf = rendered(hub);
    let hub_asn = hub_conf
        .lines()
        .find_map(|l| l.strip_prefix("router bgp "))
        .unwrap();
    let neighbor = hub_conf
        .lines()
        .find_map(|l| l.strip_prefix(" neighbor ")?.strip_suffix(" timers 3 9"))
        .unwrap();
    Lab::vtysh(
        hub,
        &[
            "configure terminal",
            &format!("router bgp {hub_asn}"),
            &format!("neighbor {neighbor} timers 5 15"),
        ],
    );
    let (code, r) = audit();
    assert_eq!(code, Some(1), "{r:#}");
    assert_eq!(r["summary"]["clean"], 9, "{r:#}");
    assert_eq!(r["summary"]["deviations"], 1, "{r:#}");
    let d = r["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device"] == hub)
        .unwrap();
    assert_eq!(
        d["deviations"],
        serde_json::json!([{
            "kind": "changed",
            "context": [format!("router bgp {hub_asn}")],
            "desired": format!("neighbor {neighbor} timers 3 9"),
            "running": format!("neighbor {neighbor} timers 5 15"),
        }]),
        "{r:#}"
    );
    let mut live = vec!["plan", &inventory, "--today", TODAY, "--against", "live"];
    live.extend_from_slice(&ssh);
    let o = hatang(&live, &[]);
    let shown = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        shown.contains(&format!(
            "-router bgp {hub_asn} > neighbor {neighbor} timers 5 15\n"
        )) && shown.contains("configurations: 1 changed, 9 unchanged"),
        "{}",
        text(&o)
    );
    let o = apply(&["--devices", hub], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let j = json(&o);
    assert_eq!(
        j["devices"].as_array().unwrap().len(),
        1,
        "only {hub}: {j:#}"
    );
    let (code, r) = audit();
    assert_eq!(code, Some(0), "healed: {r:#}");

    // 5. A candidate one router rejects: nothing changes anywhere.
    let before = snapshot(&devices);
    let bad = templates(&tmp.path().join("bad-templates"), &|t| {
        t.replace("log syslog informational", "log syslog warnings")
            .replace(
                "hostname {{name}}\n",
                "hostname {{name}}\n{{#if (eq name \"hub-002\")}}\nthis is not an frr command\n{{/if}}\n",
            )
    });
    let o = apply(&["--templates", &bad], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let j = json(&o);
    assert_eq!(j["outcome"], "aborted", "{j:#}");
    let reason = j["reason"].as_str().unwrap();
    assert!(
        reason.contains("hub-002") && reason.contains("this is not an frr command"),
        "names the device and vtysh's error: {reason}"
    );
    assert!(
        j["devices"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["step"] == "checked" || d["name"] == "hub-002"),
        "{j:#}"
    );
    assert_same(&before, "rejected candidate");

    // 6. Killed after three commits: the journal says so, --recover restores every router.
    let warn = templates(&tmp.path().join("warn-templates"), &|t| {
        t.replace("log syslog informational", "log syslog warnings")
    });
    // (A dry run of the same change checks every candidate and changes nothing.)
    let o = apply(&["--templates", &warn, "--dry-run"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(json(&o)["outcome"], "checked", "{}", text(&o));
    assert_same(&before, "dry run");
    let o = apply(
        &["--templates", &warn, "--concurrency", "2"],
        &[("HATANG_APPLY_FAIL_AFTER", "3")],
    );
    assert_eq!(o.status.signal(), Some(libc::SIGABRT), "{}", text(&o));
    let run_dir = newest_run(&inv);
    let journal_path = run_dir.join("journal.json");
    let journal: Value =
        serde_json::from_str(&std::fs::read_to_string(&journal_path).unwrap()).unwrap();
    assert_eq!(journal["phase"], "commit", "{journal:#}");
    let committed = journal["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["step"] == "committed")
        .count();
    assert!(committed >= 3, "{journal:#}");
    let changed = devices
        .iter()
        .filter(|d| Lab::running(d) != before[*d].0)
        .count();
    assert!(changed >= 3, "the killed run changed routers ({changed})");
    let mut recover = vec![
        "apply",
        "--recover",
        journal_path.to_str().unwrap(),
        "-o",
        "json",
    ];
    recover.extend_from_slice(&ssh);
    let o = hatang(&recover, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let j = json(&o);
    assert_eq!(j["outcome"], "rolled-back", "{j:#}");
    assert_same(&before, "recovered");
    let (code, r) = audit();
    assert_eq!(code, Some(0), "{r:#}");
    // A second recover has nothing left to do.
    let o = hatang(&recover, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // 7. The main DC edge loses its WAN links: every commune reaches the service through the
    //    backup DC within the BGP timers (hold 9 s), and comes back through main.
    let edge_backup_asn = rendered("edge-backup")
        .lines()
        .find_map(|l| l.strip_prefix("router bgp "))
        .unwrap()
        .to_owned();
    let wan: Vec<String> = rendered("edge-main")
        .lines()
        .filter_map(|l| l.strip_prefix("interface "))
        .filter(|i| *i != "lo")
        .map(str::to_owned)
        .collect();
    assert_eq!(wan.len(), 2, "{wan:?}");
    let ns = Lab::namespace("edge-main");
    for i in &wan {
        let o = run("ip", &["-n", &ns, "link", "set", i, "down"]);
        assert!(o.status.success(), "{}", text(&o));
    }
    for (cpe, source) in &cpes {
        let took = within(Duration::from_secs(15), || {
            ping(cpe, source)
                && best_path(cpe, "3fff:ab:10::/48")
                    .is_some_and(|p| p.contains(&edge_backup_asn) && !p.contains(&edge_main_asn))
        });
        assert!(took.is_some(), "{cpe} fails over to the backup DC");
        eprintln!("{cpe}: via backup after {took:?}");
    }
    for i in &wan {
        let o = run("ip", &["-n", &ns, "link", "set", i, "up"]);
        assert!(o.status.success(), "{}", text(&o));
    }
    for (cpe, source) in &cpes {
        let took = within(Duration::from_secs(30), || {
            best_path(cpe, "3fff:ab:10::/48").is_some_and(|p| p.contains(&edge_main_asn))
                && ping(cpe, source)
        });
        assert!(took.is_some(), "{cpe} comes back through the main DC");
    }

    // 8. The main DC edge's BGP speaker freezes (links stay up, nothing tells the neighbours):
    //    only the hold timer (9 s) can notice. Every commune is on the backup DC within 15 s,
    //    and back through main once it answers again.
    let pid: i32 = std::fs::read_to_string(format!("/var/run/frr/{ns}/bgpd.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SAFETY: signalling the lab's own bgpd; SIGCONT follows below (and `lab down` kills it).
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
    let frozen = Instant::now();
    for (cpe, source) in &cpes {
        let took = within(
            Duration::from_secs(15).saturating_sub(frozen.elapsed()),
            || {
                best_path(cpe, "3fff:ab:10::/48")
                    .is_some_and(|p| p.contains(&edge_backup_asn) && !p.contains(&edge_main_asn))
                    && ping(cpe, source)
            },
        );
        assert!(
            took.is_some(),
            "{cpe} fails over to the backup DC within 15 s of the main edge freezing"
        );
    }
    eprintln!(
        "all communes via backup {:?} after the freeze",
        frozen.elapsed()
    );
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0);
    for (cpe, source) in &cpes {
        let took = within(Duration::from_secs(30), || {
            best_path(cpe, "3fff:ab:10::/48").is_some_and(|p| p.contains(&edge_main_asn))
                && ping(cpe, source)
        });
        assert!(took.is_some(), "{cpe} comes back through the main DC");
    }
}
