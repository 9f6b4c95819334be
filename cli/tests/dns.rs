//! `hatang ipam export --format zone` served by a real authoritative server: the zones of Hà Nội
//! are loaded into Knot DNS (Debian's `knot`, installed by scripts/test.sh) and every interface
//! address the ledger gives is checked with `kdig`, forward and back (forward-confirmed reverse
//! DNS); a second export keeps every serial, a change raises them.

use std::collections::BTreeMap;
use std::net::{IpAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use hatang_test_support::{copy_dir, repo, text};

const TODAY: &str = "2026-11-23";
const DOMAIN: &str = "infra.hanoi.gov.example.";

fn hatang(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hatang"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run hatang")
}

fn export(inventory: &Path, zones: &Path, today: &str) {
    let o = hatang(&[
        "ipam",
        "export",
        inventory.to_str().unwrap(),
        "--format",
        "zone",
        "--out",
        zones.to_str().unwrap(),
        "--today",
        today,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// Each zone file's SOA serial, by file name.
fn serials(zones: &Path) -> BTreeMap<String, u32> {
    std::fs::read_dir(zones)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let zone = std::fs::read_to_string(&path).unwrap();
            let soa = zone.lines().find(|l| l.contains(" IN SOA ")).unwrap();
            let serial = soa.split_whitespace().nth(5).unwrap().parse().unwrap();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                serial,
            )
        })
        .collect()
}

/// What the ledger says each interface address is, from `hatang ipam show -o json`: the name
/// it must have in DNS (`interface.device.`) and its address.
fn interface_addresses(inventory: &Path) -> Vec<(String, IpAddr)> {
    let o = hatang(&[
        "ipam",
        "show",
        inventory.to_str().unwrap(),
        "-o",
        "json",
        "--today",
        TODAY,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let label = |s: &str| s.to_ascii_lowercase().replace(['.', '_', '/', ':'], "-");
    let mut out = Vec::new();
    for e in v.as_array().expect("a list of entries") {
        if e.get("heldSince").is_some() {
            continue;
        }
        let key = e["key"].as_str().unwrap();
        let net: ipnet::IpNet = match e["value"].as_str().unwrap().parse() {
            Ok(n) => n,
            Err(_) => continue,
        };
        let nth = |i: u128| -> IpAddr {
            match net {
                ipnet::IpNet::V6(n) => IpAddr::V6((u128::from(n.network()) + i).into()),
                ipnet::IpNet::V4(n) => IpAddr::V4((u32::from(n.network()) + i as u32).into()),
            }
        };
        if let Some(device) = key.strip_prefix("loopback/") {
            out.push((format!("lo.{device}"), nth(0)));
        } else if let Some(link) = key.strip_prefix("p2p/") {
            let (a, z) = link.split_once("--").unwrap();
            for (i, end) in [a, z].into_iter().enumerate() {
                let (device, iface) = end.split_once(':').unwrap();
                out.push((format!("{}.{device}", label(iface)), nth(i as u128)));
            }
        } else if let Some(seg) = key.strip_prefix("segment/") {
            let (device, iface) = seg.split_once(':').unwrap();
            out.push((format!("{}.{device}", label(iface)), nth(1)));
        }
    }
    out
}

/// Knot DNS serving every zone file of `zones` on a loopback port, stopped on drop.
struct Knot {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Knot {
    fn serve(zones: &Path) -> Knot {
        let dir = tempfile::tempdir().unwrap();
        // A port the kernel just gave out and took back: free unless something grabs it now.
        let port = UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut conf = format!(
            "server:\n    rundir: \"{d}\"\n    listen: 127.0.0.1@{port}\n\
             database:\n    storage: \"{d}/db\"\n\
             template:\n  - id: default\n    storage: \"{z}\"\n    file: \"%s.zone\"\n    semantic-checks: on\n\
             log:\n  - target: stderr\n    any: warning\n\
             zone:\n",
            d = dir.path().display(),
            z = zones.display()
        );
        for f in std::fs::read_dir(zones).unwrap() {
            let name = f.unwrap().file_name().to_string_lossy().into_owned();
            conf.push_str(&format!(
                "  - domain: \"{}.\"\n",
                name.strip_suffix(".zone").unwrap()
            ));
        }
        let conf_path = dir.path().join("knot.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let check = Command::new("knotc")
            .args(["-c", conf_path.to_str().unwrap(), "conf-check"])
            .output()
            .expect("knotc (Debian package knot; scripts/test.sh installs it)");
        assert!(check.status.success(), "{}", text(&check));
        let child = Command::new("knotd")
            .args(["-c", conf_path.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("knotd (Debian package knot; scripts/test.sh installs it)");
        let knot = Knot {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while knot.ask(&[(DOMAIN, "SOA")]).is_empty() {
            assert!(Instant::now() < deadline, "knotd did not serve {DOMAIN}");
            std::thread::sleep(Duration::from_millis(100));
        }
        knot
    }

    /// The answers to `questions` (name, type), as (owner, type, data) lines.
    fn ask(&self, questions: &[(&str, &str)]) -> Vec<(String, String, String)> {
        let mut cmd = Command::new("kdig");
        cmd.args([
            "@127.0.0.1",
            "-p",
            &self.port.to_string(),
            "+noall",
            "+answer",
            "+timeout=2",
        ]);
        for (name, kind) in questions {
            cmd.args([*name, *kind]);
        }
        let o = cmd
            .output()
            .expect("kdig (Debian package knot-dnsutils; scripts/test.sh installs it)");
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.len() >= 5 && f[2] == "IN").then(|| (f[0].into(), f[3].into(), f[4..].join(" ")))
            })
            .collect()
    }

    /// Stops knotd and gives what it logged (warnings and errors).
    fn stop(&mut self) -> String {
        use std::io::Read;
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut log = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut log);
        }
        log
    }
}

impl Drop for Knot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn reverse(a: &IpAddr) -> String {
    match a {
        IpAddr::V6(v6) => {
            let hex = format!("{:032x}", u128::from(*v6));
            hex.chars()
                .rev()
                .map(|c| format!("{c}."))
                .collect::<String>()
                + "ip6.arpa."
        }
        IpAddr::V4(v4) => {
            let [w, x, y, z] = v4.octets();
            format!("{z}.{y}.{x}.{w}.in-addr.arpa.")
        }
    }
}

#[test]
fn every_interface_address_resolves_forward_and_back_on_knot() {
    let work = tempfile::tempdir().unwrap();
    let inventory: PathBuf = work.path().join("hanoi");
    copy_dir(&repo().join("inventories/hanoi"), &inventory, &|t| t);
    let zones = work.path().join("zones");
    export(&inventory, &zones, TODAY);

    let expected = interface_addresses(&inventory);
    assert!(expected.len() > 500, "{} addresses", expected.len());
    let mut knot = Knot::serve(&zones);
    for chunk in expected.chunks(100) {
        let names: Vec<String> = chunk.iter().map(|(n, _)| format!("{n}.{DOMAIN}")).collect();
        let forward: Vec<(&str, &str)> = chunk
            .iter()
            .zip(&names)
            .map(|((_, a), n)| (n.as_str(), if a.is_ipv6() { "AAAA" } else { "A" }))
            .collect();
        let answers = knot.ask(&forward);
        let reverses: Vec<String> = chunk.iter().map(|(_, a)| reverse(a)).collect();
        let back = knot.ask(
            &reverses
                .iter()
                .map(|r| (r.as_str(), "PTR"))
                .collect::<Vec<_>>(),
        );
        for ((name, addr), (fqdn, rev)) in chunk.iter().zip(names.iter().zip(&reverses)) {
            let got: Vec<IpAddr> = answers
                .iter()
                .filter(|(o, k, _)| o == fqdn && (k == "AAAA" || k == "A"))
                .map(|(_, _, d)| d.parse().unwrap())
                .collect();
            assert_eq!(got, vec![*addr], "forward {name}");
            let ptr: Vec<&str> = back
                .iter()
                .filter(|(o, k, _)| o == rev && k == "PTR")
                .map(|(_, _, d)| d.as_str())
                .collect();
            assert_eq!(ptr, vec![fqdn.as_str()], "reverse of {addr} ({name})");
        }
    }
    let ns = knot.ask(&[(DOMAIN, "NS")]);
    let servers: Vec<&str> = ns.iter().map(|(_, _, d)| d.as_str()).collect();
    assert_eq!(
        servers,
        ["ns1.hanoi.gov.example.", "ns2.hanoi.gov.example."],
        "name servers from the inventory"
    );
    let log = knot.stop();
    assert!(
        !log.to_lowercase().contains("error"),
        "knotd reported errors:\n{log}"
    );
}

#[test]
fn serials_stay_while_zones_are_unchanged_and_rise_when_they_change() {
    let work = tempfile::tempdir().unwrap();
    let inventory = work.path().join("hanoi");
    copy_dir(&repo().join("inventories/hanoi"), &inventory, &|t| t);
    let zones = work.path().join("zones");
    export(&inventory, &zones, TODAY);
    let first = serials(&zones);
    assert!(first.len() > 100, "{first:?}");
    assert!(first.values().all(|&s| s == 2026112300), "{first:?}");

    // Nothing changed, a week later: every serial (and every file) stays.
    let before: Vec<String> = first
        .keys()
        .map(|f| std::fs::read_to_string(zones.join(f)).unwrap())
        .collect();
    export(&inventory, &zones, "2026-11-30");
    assert_eq!(serials(&zones), first);
    let after: Vec<String> = first
        .keys()
        .map(|f| std::fs::read_to_string(zones.join(f)).unwrap())
        .collect();
    assert_eq!(before, after);

    // A new contact changes every zone's SOA: every serial rises to the day's.
    let plan = inventory.join("address-plan.yaml");
    let yaml = std::fs::read_to_string(&plan).unwrap();
    std::fs::write(&plan, yaml.replace("contact: hostmaster@", "contact: noc@")).unwrap();
    export(&inventory, &zones, "2026-12-01");
    let third = serials(&zones);
    assert_eq!(third.len(), first.len());
    assert!(third.values().all(|&s| s == 2026120100), "{third:?}");
}
