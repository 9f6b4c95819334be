//! A lab slice of Đà Nẵng's metro network (MAN) on real FRR routers: the data center's two WAN
//! edges (and cores), the ring of nine aggregation routers and five agencies attached to it,
//! taken from `inventories/danang` as it is committed. `hatang apply` brings every router up;
//! every BGP session is Established; every agency reaches the data center's service address
//! the short way round; with one ring trunk down, the agencies behind it still reach it the
//! other way, and come back the short way once it is up again.
//!
//! Needs root and the lab's Debian packages (frr, frr-pythontools, openssh-server,
//! openssh-client, iproute2, iputils-ping): `#[ignore]`d with that reason, run by
//! `./scripts/test.sh` as root with `--include-ignored`. Its lab has its own name, takes its turn
//! with the other lab tests (`hatang_test_support::lab_lock`), and a Drop guard runs
//! `hatang lab down` whatever happens.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use hatang_test_support::{copy_dir, repo, require_root, text};
use serde_json::Value;

const LAB: &str = "dnman";
const TODAY: &str = "2026-11-23";
/// The data center's service address: on the loopback of both WAN edges (anycast).
const SERVICE: &str = "3fff:48:10::1";
const SERVICES: &str = "3fff:48:10::/48";
/// The agencies of the slice: three at the aggregation router next to edge-dn-1, one next to
/// edge-dn-2, one half-way round.
const AGENCIES: &[&str] = &[
    "van-phong-ubnd-tp",
    "so-khoa-hoc-cong-nghe",
    "so-tai-chinh",
    "so-y-te",
    "co-quan-tai-tam-ky",
];

fn hatang(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hatang"))
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("HATANG_LAB_FAIL_AFTER")
        .env_remove("HATANG_APPLY_FAIL_AFTER")
        .args(args)
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

fn vtysh(device: &str, command: &str) -> String {
    let o = run("vtysh", &["-N", &namespace(device), "-c", command]);
    assert!(o.status.success(), "vtysh on {device}: {}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The lab; `hatang lab down` when dropped, even when the test panics.
struct Lab<'a> {
    inventory: &'a str,
}

impl Lab<'_> {
    fn lab(&self, verb: &str) -> Output {
        hatang(&["lab", verb, self.inventory, "--name", LAB, "--today", TODAY])
    }
}

impl Drop for Lab<'_> {
    fn drop(&mut self) {
        let o = self.lab("down");
        if o.status.code() != Some(0) {
            eprintln!("cleanup of lab {LAB} failed: {}", text(&o));
        }
    }
}

/// The slice: everything of `inventories/danang` but the commune offices (generated/communes)
/// and the agencies not in [`AGENCIES`]; the committed ledger comes along, so the routers get
/// the addresses and AS numbers the city's inventory gives them.
fn slice(to: &Path) {
    let from = repo().join("inventories/danang");
    copy_dir(&from, to, &|t| t);
    std::fs::remove_dir_all(to.join("generated/communes")).unwrap();
    for e in std::fs::read_dir(to.join("agencies")).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if !AGENCIES.contains(&name.as_str()) {
            std::fs::remove_file(path).unwrap();
        }
    }
}

/// States of a router's BGP sessions, by neighbour.
fn sessions(device: &str) -> BTreeMap<String, String> {
    let v: Value = serde_json::from_str(&vtysh(device, "show bgp ipv6 unicast summary json"))
        .unwrap_or_default();
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

/// The AS path of a router's best route to `prefix` (empty when it has none).
fn best_path(device: &str, prefix: &str) -> Vec<u32> {
    let v: Value = serde_json::from_str(&vtysh(
        device,
        &format!("show bgp ipv6 unicast {prefix} json"),
    ))
    .unwrap_or_default();
    v["paths"]
        .as_array()
        .and_then(|paths| {
            paths
                .iter()
                .find(|p| p["bestpath"]["overall"] == true)
                .and_then(|p| p["aspath"]["string"].as_str())
                .map(|s| s.split_whitespace().map(|a| a.parse().unwrap()).collect())
        })
        .unwrap_or_default()
}

fn ping(cpe: &str, source: &str) -> bool {
    run(
        "ip",
        &[
            "netns",
            "exec",
            &namespace(cpe),
            "ping",
            "-6",
            "-c",
            "1",
            "-W",
            "1",
            "-I",
            source,
            SERVICE,
        ],
    )
    .status
    .success()
}

/// Polls `check` every half second until it holds or `limit` passes.
fn within(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if check() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Sets an interface of a lab router up or down (the veth's far end loses its carrier too).
fn set_link(device: &str, interface: &str, state: &str) {
    let o = run(
        "ip",
        &[
            "-n",
            &namespace(device),
            "link",
            "set",
            "dev",
            interface,
            state,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
#[ignore = "needs root: network namespaces, veth links, FRR and sshd"]
fn danang_metro_ring_establishes_every_session_and_survives_a_trunk_failure() {
    require_root("the Đà Nẵng metro-ring lab test");
    let _turn = hatang_test_support::lab_lock();
    let tmp = tempfile::tempdir().unwrap();
    let inv = tmp.path().join("danang-man");
    slice(&inv);
    let inventory = inv.to_str().unwrap();
    let lab = Lab { inventory };
    let o = lab.lab("down"); // leftovers of a killed run
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // The slice's ledger: the city's values kept, those of the objects left out held.
    let o = hatang(&["plan", inventory, "--today", TODAY]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // What the routers should run, rendered independently of apply.
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
    let asn = |d: &str| -> u32 {
        rendered(d)
            .lines()
            .find_map(|l| l.strip_prefix("router bgp "))
            .unwrap_or_else(|| panic!("{d} runs BGP"))
            .parse()
            .unwrap()
    };
    let mut devices: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    devices.sort();
    // 2 edges, 2 cores, 9 aggregation routers, 5 agency routers.
    assert_eq!(devices.len(), 18, "{devices:?}");
    assert_eq!(devices.iter().filter(|d| d.starts_with("agg-")).count(), 9);

    let o = lab.lab("up");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let state = format!("/run/hatang-lab/{LAB}");
    let t = Instant::now();
    let o = hatang(&[
        "apply",
        inventory,
        "--today",
        TODAY,
        "-o",
        "json",
        "--lab-state",
        &state,
        "--timeout",
        "60",
        // Generous: two cores shared with compilers can make vtysh take seconds.
        "--verify-timeout",
        "120",
    ]);
    eprintln!("apply: {:?}", t.elapsed());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["outcome"], "committed", "{j:#}");

    // 1. Every session the rendered configurations ask for is Established, on every router.
    let mut total = 0;
    for d in &devices {
        let expected = rendered(d).matches(" remote-as ").count();
        total += expected;
        assert!(
            within(Duration::from_secs(60), || {
                let s = sessions(d);
                s.len() == expected && s.values().all(|s| s == "Established")
            }),
            "{d}: {:?} (expected {expected} Established)",
            sessions(d)
        );
    }
    // 11 ring trunks (two ends each) + 5 access circuits (two ends each).
    assert_eq!(total, 2 * 11 + 2 * 5);

    // 2. Every agency reaches the service from its LAN, the short way round: the agencies at
    //    agg-hai-chau straight through edge-dn-1, the one at agg-thanh-khe through edge-dn-2.
    let lan = |cpe: &str| -> String {
        let conf = rendered(cpe);
        let lan = conf.split("interface lan0\n").nth(1).unwrap();
        let address = lan
            .lines()
            .find_map(|l| l.trim().strip_prefix("ipv6 address "))
            .unwrap();
        address.split('/').next().unwrap().to_owned()
    };
    for a in AGENCIES {
        let cpe = format!("cpe-{a}");
        let source = lan(&cpe);
        assert!(
            within(Duration::from_secs(10), || ping(&cpe, &source)),
            "{cpe} ({source}) reaches {SERVICE}"
        );
    }
    let (edge1, edge2) = (asn("edge-dn-1"), asn("edge-dn-2"));
    let (hai_chau, son_tra, thanh_khe) = (
        asn("agg-hai-chau"),
        asn("agg-son-tra"),
        asn("agg-thanh-khe"),
    );
    let near_edge1 = "cpe-van-phong-ubnd-tp";
    assert_eq!(best_path(near_edge1, SERVICES), vec![hai_chau, edge1]);
    assert_eq!(best_path("cpe-so-y-te", SERVICES), vec![thanh_khe, edge2]);

    // 3. The trunk between edge-dn-1 and agg-hai-chau fails: agg-hai-chau's agencies go the
    //    other way round (through agg-son-tra … edge-dn-2) and still reach the service.
    set_link("edge-dn-1", "man0", "down");
    let other_way = || {
        let p = best_path(near_edge1, SERVICES);
        p.len() > 2 && p[0] == hai_chau && p[1] == son_tra
    };
    assert!(
        within(Duration::from_secs(30), other_way),
        "{near_edge1} goes the other way round: {:?}",
        best_path(near_edge1, SERVICES)
    );
    assert_eq!(
        best_path(near_edge1, SERVICES).last(),
        Some(&edge2),
        "the nearer edge the other way round is edge-dn-2"
    );
    for a in AGENCIES {
        let cpe = format!("cpe-{a}");
        let source = lan(&cpe);
        assert!(
            within(Duration::from_secs(15), || ping(&cpe, &source)),
            "{cpe} ({source}) still reaches {SERVICE} with man-dn-1-hai-chau down"
        );
    }

    // 4. The trunk comes back: the short way again.
    set_link("edge-dn-1", "man0", "up");
    assert!(
        within(Duration::from_secs(60), || best_path(near_edge1, SERVICES)
            == vec![hai_chau, edge1]),
        "{near_edge1} back the short way: {:?}",
        best_path(near_edge1, SERVICES)
    );
    assert!(ping(near_edge1, &lan(near_edge1)));
}
