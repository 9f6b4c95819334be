//! `hatang whatif` proven on the FRR lab: the lab of `inventories/lab` is brought up and
//! configured with `hatang apply`; then each data-center edge, each hub, a few circuits and one
//! double failure are failed in turn (their links set down in the routers' namespaces), and once
//! BGP has converged what the routers do — a ping from each commune office's LAN address to each
//! service address, and the data center the office's best BGP path ends at — must equal what
//! `hatang whatif --fail` predicted, office by office and service by service. Links come back up
//! and the intact prediction must hold again before the next failure.
//!
//! Needs root and the lab's packages (see `lab.rs`): `#[ignore]`d with that reason, run by
//! `./scripts/test.sh` as root with `--include-ignored`. It takes its turn with the other labs
//! (`lab_lock`) and its own lab name and management addresses; a Drop guard takes it down.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use hatang_test_support::{copy_dir, lab_lock, repo, require_root, text};
use serde_json::Value;

const LAB: &str = "whatif";
const TODAY: &str = "2026-11-23";

fn hatang(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hatang"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .output()
        .expect("run hatang")
}

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

fn namespace(device: &str) -> String {
    format!("{LAB}-{device}")
}

/// The lab; `hatang lab down` when dropped.
struct Lab {
    inventory: PathBuf,
}

impl Lab {
    fn verb(&self, verb: &str) -> Output {
        let inv = self.inventory.to_str().unwrap();
        hatang(&["lab", verb, inv, "--name", LAB, "--today", TODAY])
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let o = self.verb("down");
        if o.status.code() != Some(0) {
            eprintln!("cleanup of lab {LAB} failed: {}", text(&o));
        }
    }
}

/// A link: (device, interface).
type Link = (String, String);

/// Service, reached, data center (when reached): one office's view of one service.
type Seen = BTreeMap<(String, String), Option<String>>;

/// What the lab needs to observe: each office's router and LAN address, the services'
/// addresses, and which data center each edge's AS stands for.
struct Estate {
    offices: Vec<(String, String, String)>,
    services: Vec<(String, String, String)>,
    edges: BTreeMap<String, String>,
}

/// The circuits' ends (device, interface), from the inventory's text.
fn circuit_ends(inventory: &Path) -> BTreeMap<String, Vec<(String, String)>> {
    let mut ends: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut files = vec![inventory.to_owned()];
    while let Some(f) = files.pop() {
        if f.is_dir() {
            files.extend(std::fs::read_dir(&f).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if f.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        for doc in std::fs::read_to_string(&f).unwrap().split("\n---\n") {
            if !doc.contains("kind: Circuit\n") {
                continue;
            }
            let v: Value = serde_saphyr::from_str(doc).unwrap();
            let name = v["metadata"]["name"].as_str().unwrap().to_owned();
            for side in ["a", "z"] {
                let e = &v["spec"][side];
                ends.entry(name.clone()).or_default().push((
                    e["device"].as_str().unwrap().to_owned(),
                    e["interface"].as_str().unwrap().to_owned(),
                ));
            }
        }
    }
    ends
}

/// `whatif` predictions for `fail`: (office site, service) → data center, `None` when lost.
fn predicted(inventory: &Path, fail: &[&str]) -> Seen {
    let mut args = vec![
        "whatif",
        inventory.to_str().unwrap(),
        "--today",
        TODAY,
        "-o",
        "json",
    ];
    for f in fail {
        args.extend(["--fail", f]);
    }
    let o = hatang(&args);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut seen = Seen::new();
    for office in v["offices"].as_array().unwrap() {
        for s in office["services"].as_array().unwrap() {
            let dc = (s["reached"] == true).then(|| s["dataCenter"].as_str().unwrap().to_owned());
            seen.insert(
                (
                    office["site"].as_str().unwrap().into(),
                    s["service"].as_str().unwrap().into(),
                ),
                dc,
            );
        }
    }
    seen
}

/// The AS path of `device`'s best route to `prefix`.
fn best_path(device: &str, prefix: &str) -> Option<String> {
    let ns = namespace(device);
    let cmd = format!("show bgp ipv6 unicast {prefix} json");
    let o = run("vtysh", &["-N", &ns, "-c", &cmd]);
    assert!(o.status.success(), "vtysh on {device}: {}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).ok()?;
    v["paths"].as_array()?.iter().find_map(|p| {
        (p["bestpath"]["overall"] == true).then(|| p["aspath"]["string"].as_str().unwrap().into())
    })
}

/// What the routers do: a ping there and back, and the data center the best path ends at.
fn observed(estate: &Estate) -> Seen {
    let mut seen = Seen::new();
    for (site, cpe, lan) in &estate.offices {
        for (service, prefix, address) in &estate.services {
            let ns = namespace(cpe);
            let ping = run(
                "ip",
                &[
                    "netns", "exec", &ns, "ping", "-6", "-c", "1", "-W", "1", "-I", lan, address,
                ],
            );
            let dc = ping.status.success().then(|| {
                let path = best_path(cpe, prefix).unwrap_or_default();
                let origin = path.split_whitespace().last().unwrap_or("").to_owned();
                estate
                    .edges
                    .get(&origin)
                    .cloned()
                    .unwrap_or(format!("AS {origin}"))
            });
            seen.insert((site.clone(), service.clone()), dc);
        }
    }
    seen
}

/// Waits for the routers to do what was predicted, and to keep doing it 3 s later.
fn converges_to(estate: &Estate, expected: &Seen, what: &str) {
    let start = Instant::now();
    let mut last = Seen::new();
    while start.elapsed() < Duration::from_secs(45) {
        last = observed(estate);
        if &last == expected {
            std::thread::sleep(Duration::from_secs(3));
            last = observed(estate);
            if &last == expected {
                eprintln!("{what}: as predicted after {:?}", start.elapsed());
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let differ: Vec<_> = expected
        .iter()
        .filter(|(k, v)| last.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k:?}: predicted {v:?}, routers {:?}", last.get(k)))
        .collect();
    panic!(
        "{what}: the routers do not do what whatif predicted:\n{}",
        differ.join("\n")
    );
}

fn links(ends: &[(String, String)], state: &str) {
    for (device, interface) in ends {
        let o = run(
            "ip",
            &["-n", &namespace(device), "link", "set", interface, state],
        );
        assert!(o.status.success(), "{}", text(&o));
    }
}

#[test]
#[ignore = "needs root: FRR routers in network namespaces"]
fn whatif_predicts_what_the_lab_routers_do_after_each_failure() {
    require_root("the whatif lab test");
    let _turn = lab_lock();
    let tmp = tempfile::tempdir().unwrap();
    let inv = tmp.path().join("lab");
    copy_dir(&repo().join("inventories/lab"), &inv, &|t| {
        t.replace("address: 3fff:ab:ff:", "address: 3fff:ab:f6:")
    });
    let lab = Lab {
        inventory: inv.clone(),
    };
    let o = lab.verb("down");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = lab.verb("up");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let state = format!("/run/hatang-lab/{LAB}");
    let inventory = inv.to_str().unwrap();
    let o = hatang(&[
        "apply",
        inventory,
        "--today",
        TODAY,
        "--lab-state",
        &state,
        "--timeout",
        "60",
        "--verify-timeout",
        "120",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // The office routers, their LAN addresses (the source replies come back to) and the edges.
    let out = tmp.path().join("rendered");
    let o = hatang(&[
        "render",
        inventory,
        "--today",
        TODAY,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let rendered = |d: &str| std::fs::read_to_string(out.join(d).join("frr.conf")).unwrap();
    let intact = predicted(&inv, &[]);
    let mut offices = Vec::new();
    for (site, _) in intact.keys() {
        let cpe = format!("cpe-{}", site.rsplit('-').next().unwrap());
        let conf = rendered(&cpe);
        let lan = conf.split("interface lan0\n").nth(1).unwrap();
        let address = lan
            .lines()
            .find_map(|l| l.trim().strip_prefix("ipv6 address "))
            .unwrap();
        let address = address.split('/').next().unwrap().to_owned();
        if !offices
            .iter()
            .any(|(s, _, _): &(String, String, String)| s == site)
        {
            offices.push((site.clone(), cpe, address));
        }
    }
    assert_eq!(offices.len(), 6);
    let v: Value =
        serde_json::from_slice(&hatang(&["whatif", inventory, "-o", "json"]).stdout).unwrap();
    let services = v["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let prefix = s["prefix"].as_str().unwrap().to_owned();
            let net: Ipv6Addr = prefix.split('/').next().unwrap().parse().unwrap();
            let address = Ipv6Addr::from(u128::from(net) + 1).to_string();
            (s["name"].as_str().unwrap().to_owned(), prefix, address)
        })
        .collect();
    let asn = |d: &str| {
        rendered(d)
            .lines()
            .find_map(|l| l.strip_prefix("router bgp "))
            .unwrap()
            .to_owned()
    };
    let edges = BTreeMap::from([
        (asn("edge-main"), "dc-lab-main".to_owned()),
        (asn("edge-backup"), "dc-lab-backup".to_owned()),
    ]);
    let estate = Estate {
        offices,
        services,
        edges,
    };
    converges_to(&estate, &intact, "intact");

    let circuits = circuit_ends(&inv);
    let device_links = |device: &str| -> Vec<(String, String)> {
        circuits
            .values()
            .flatten()
            .filter(|(d, _)| d == device)
            .cloned()
            .collect()
    };
    let circuit_link = |c: &str| -> Vec<(String, String)> { circuits[c][..1].to_vec() };
    let failures: Vec<(Vec<&str>, Vec<Link>)> = vec![
        (vec!["device/edge-main"], device_links("edge-main")),
        (vec!["device/edge-backup"], device_links("edge-backup")),
        (vec!["device/hub-001"], device_links("hub-001")),
        (vec!["device/hub-002"], device_links("hub-002")),
        (
            vec!["circuit/hub-001-primary"],
            circuit_link("hub-001-primary"),
        ),
        (
            vec!["circuit/cpe-00061-primary"],
            circuit_link("cpe-00061-primary"),
        ),
        (
            vec!["circuit/cpe-00007-backup"],
            circuit_link("cpe-00007-backup"),
        ),
        (
            vec!["device/edge-backup", "circuit/cpe-00001-primary"],
            [
                device_links("edge-backup"),
                circuit_link("cpe-00001-primary"),
            ]
            .concat(),
        ),
    ];
    let start = Instant::now();
    for (fail, down) in &failures {
        let expected = predicted(&inv, fail);
        links(down, "down");
        converges_to(&estate, &expected, &fail.join(" + "));
        links(down, "up");
        converges_to(&estate, &intact, &format!("{} restored", fail.join(" + ")));
    }
    eprintln!(
        "{} failures proven in {:?}",
        failures.len(),
        start.elapsed()
    );
}
