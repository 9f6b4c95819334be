//! `inventories/danang` through the binary: it validates clean and renders; `hatang stats` and
//! `hatang capacity` give its coverage, metro-network and capacity figures, each checked here
//! against figures computed straight from the inventory's YAML documents (not through
//! hatang-core), so a wrong count in either shows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const INVENTORY: &str = "inventories/danang";
const TODAY: &str = "2026-11-23";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn hatang(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hatang"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("run hatang")
}

fn json(args: &[&str]) -> Value {
    let o = hatang(args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("one JSON document")
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if name.ends_with(".yaml") && !name.ends_with(".lock.yaml") {
            out.push(path);
        }
    }
}

/// Every document of the inventory, as plain values.
fn documents() -> Vec<Value> {
    let mut files = Vec::new();
    yaml_files(&root().join(INVENTORY), &mut files);
    let mut docs = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let parsed: Vec<Value> =
            serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        docs.extend(parsed.into_iter().filter(|d| !d.is_null()));
    }
    docs
}

fn of_kind<'a>(docs: &'a [Value], kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    docs.iter().filter(move |d| d["kind"] == kind)
}

fn name(d: &Value) -> &str {
    d["metadata"]["name"].as_str().unwrap()
}

fn s<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field].as_str().unwrap_or_default()
}

/// The devices at the two ends of a circuit.
fn ends(c: &Value) -> [&str; 2] {
    [s(&c["spec"]["a"], "device"), s(&c["spec"]["z"], "device")]
}

fn n(v: &Value) -> u64 {
    v.as_u64().expect("a number")
}

#[test]
fn danang_validates_clean_and_renders_every_device() {
    let v = json(&["validate", INVENTORY, "--today", TODAY, "-o", "json"]);
    assert_eq!(v["diagnostics"], serde_json::json!([]), "{v:#}");
    let o = hatang(&["plan", INVENTORY, "--locked", "--today", TODAY]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = tempfile::tempdir().unwrap();
    let o = hatang(&[
        "render",
        INVENTORY,
        "--today",
        TODAY,
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rendered = std::fs::read_dir(out.path()).unwrap().count();
    assert_eq!(rendered, of_kind(&documents(), "Device").count());
}

#[test]
fn danang_stats_match_the_documents() {
    let docs = documents();
    let st = json(&["stats", INVENTORY, "--today", TODAY, "-o", "json"]);

    // Coverage: commune-level regions, their offices, offices with both circuits.
    let communes: Vec<&Value> = of_kind(&docs, "Region")
        .filter(|r| r["spec"]["level"] == "commune")
        .collect();
    let excluded: BTreeSet<&str> = communes
        .iter()
        .filter(|r| !r["spec"]["excluded"].is_null())
        .map(|r| name(r))
        .collect();
    let site_of: BTreeMap<&str, &str> = of_kind(&docs, "Device")
        .map(|d| (name(d), s(&d["spec"], "site")))
        .collect();
    let role_of: BTreeMap<&str, &str> = of_kind(&docs, "Device")
        .map(|d| (name(d), s(&d["spec"], "role")))
        .collect();
    let site_role: BTreeMap<&str, &str> = of_kind(&docs, "Site")
        .map(|d| (name(d), s(&d["spec"], "role")))
        .collect();
    let offices: Vec<&str> = site_role
        .iter()
        .filter(|(_, r)| **r == "commune-office")
        .map(|(s, _)| *s)
        .collect();
    let circuits: Vec<&Value> = of_kind(&docs, "Circuit").collect();
    let roles_at = |site: &str| -> BTreeSet<String> {
        circuits
            .iter()
            .filter(|c| ends(c).iter().any(|d| site_of.get(d) == Some(&site)))
            .map(|c| s(&c["spec"], "role").to_owned())
            .collect()
    };
    let dual = offices
        .iter()
        .filter(|o| roles_at(o).is_superset(&["primary".into(), "backup".into()].into()))
        .count();
    let cov = &st["coverage"];
    assert_eq!(n(&cov["communeRegions"]), communes.len() as u64);
    assert_eq!(communes.len(), 94, "the 2025 list has 94 units for Đà Nẵng");
    assert_eq!(n(&cov["communeOffices"]), offices.len() as u64);
    assert_eq!(n(&cov["dualHomed"]), dual as u64);
    assert_eq!(n(&cov["incomplete"]), (offices.len() - dual) as u64);
    let reported: BTreeSet<&str> = cov["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(e, "name"))
        .collect();
    assert_eq!(reported, excluded);
    assert_eq!(reported, ["dac-khu-hoang-sa-20333"].into());

    // The metro ring: trunks, aggregation routers, and which of them keep a way to the data
    // center whichever single trunk fails (found here by trying every failure).
    let metro: Vec<[&str; 2]> = circuits
        .iter()
        .filter(|c| c["spec"]["role"] == "metro")
        .map(|c| ends(c))
        .collect();
    let aggregation: Vec<&str> = role_of
        .iter()
        .filter(|(_, r)| **r == "aggregation")
        .map(|(d, _)| *d)
        .collect();
    let at_dc = |d: &str| site_of.get(d).and_then(|s| site_role.get(s)) == Some(&"datacenter");
    let reaches_dc = |from: &str, without: Option<usize>| {
        let mut seen = BTreeSet::from([from]);
        let mut todo = vec![from];
        while let Some(d) = todo.pop() {
            if at_dc(d) {
                return true;
            }
            for (i, [a, z]) in metro.iter().enumerate() {
                if Some(i) == without {
                    continue;
                }
                for (x, y) in [(a, z), (z, a)] {
                    if *x == d && seen.insert(y) {
                        todo.push(y);
                    }
                }
            }
        }
        false
    };
    let two_paths: BTreeSet<&str> = aggregation
        .iter()
        .copied()
        .filter(|r| (0..metro.len()).all(|i| reaches_dc(r, Some(i))))
        .collect();
    let attached: BTreeSet<(&str, bool)> = circuits
        .iter()
        .filter(|c| c["spec"]["role"] != "metro")
        .filter_map(|c| {
            let [a, z] = ends(c);
            match (role_of.get(a), role_of.get(z)) {
                (_, Some(&"aggregation")) => Some((site_of[a], two_paths.contains(z))),
                (Some(&"aggregation"), _) => Some((site_of[z], two_paths.contains(a))),
                _ => None,
            }
        })
        .collect();
    let [m] = st["metro"].as_array().unwrap().as_slice() else {
        panic!("one metro network: {st:#}")
    };
    assert_eq!(n(&m["circuits"]), metro.len() as u64);
    assert_eq!(n(&m["aggregationRouters"]), aggregation.len() as u64);
    assert_eq!(n(&m["aggregationWithTwoPaths"]), two_paths.len() as u64);
    assert_eq!(n(&m["attachedSites"]), attached.len() as u64);
    assert_eq!(
        n(&m["attachedWithTwoPaths"]),
        attached.iter().filter(|(_, t)| *t).count() as u64
    );
    // Not vacuous: a ring of nine with every router and every agency on two paths.
    assert_eq!((metro.len(), two_paths.len()), (11, 9));
    assert!(attached.iter().all(|(_, t)| *t) && attached.len() == 12);
    assert_eq!(
        m["dataCenterRouters"],
        serde_json::json!(["edge-dn-1", "edge-dn-2"])
    );

    // One data center, single with redundancy: units and power of racked devices and of the
    // leases not yet ended (each rack here holds at most one lease, so none overlap).
    assert_eq!(st["dataCenterModel"], "single-with-redundancy");
    let [dc] = st["dataCenters"].as_array().unwrap().as_slice() else {
        panic!("one data center: {st:#}")
    };
    let devices_w: u64 = of_kind(&docs, "Device")
        .filter(|d| !d["spec"]["rack"].is_null())
        .map(|d| d["spec"]["powerW"].as_u64().unwrap_or(0))
        .sum();
    let live_leases: Vec<&Value> = of_kind(&docs, "ColoLease")
        .filter(|l| l["spec"]["end"].as_str().is_none_or(|e| e >= TODAY))
        .collect();
    let leases_kw: f64 = live_leases
        .iter()
        .map(|l| l["spec"]["powerKw"].as_f64().unwrap())
        .sum();
    let power = dc["powerUsedKw"].as_f64().unwrap();
    assert!(
        (power - (devices_w as f64 / 1000.0 + leases_kw)).abs() < 1e-9,
        "{power} kW"
    );
    let device_units: u64 = of_kind(&docs, "Device")
        .filter_map(|d| d["spec"]["rack"].as_object())
        .map(|r| r.get("heightU").and_then(Value::as_u64).unwrap_or(1))
        .sum();
    let lease_units: u64 = live_leases
        .iter()
        .flat_map(|l| l["spec"]["space"].as_array().unwrap())
        .map(|sp| n(&sp["toU"]) - n(&sp["fromU"]) + 1)
        .sum();
    assert_eq!(n(&dc["unitsUsed"]), device_units + lease_units);
}

#[test]
fn danang_capacity_free_ranges_match_the_documents() {
    let docs = documents();
    let c = json(&["capacity", INVENTORY, "--today", TODAY, "-o", "json"]);
    // Units taken per rack by racked devices and by leases in force today.
    let mut heights: BTreeMap<String, u64> = BTreeMap::new();
    for dc in of_kind(&docs, "DataCenter") {
        for room in dc["spec"]["rooms"].as_array().unwrap() {
            for rack in room["racks"].as_array().unwrap() {
                heights.insert(s(rack, "name").to_owned(), n(&rack["heightU"]));
            }
        }
    }
    let mut taken: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for d in of_kind(&docs, "Device") {
        let p = &d["spec"]["rack"];
        if p.is_null() {
            continue;
        }
        let from = n(&p["position"]);
        let height = p["heightU"].as_u64().unwrap_or(1);
        taken
            .entry(s(p, "rack").to_owned())
            .or_default()
            .extend(from..from + height);
    }
    for l in of_kind(&docs, "ColoLease") {
        let sp = &l["spec"];
        if s(sp, "start") > TODAY || sp["end"].as_str().is_some_and(|e| e < TODAY) {
            continue;
        }
        for space in sp["space"].as_array().unwrap() {
            taken
                .entry(s(space, "rack").to_owned())
                .or_default()
                .extend(n(&space["fromU"])..=n(&space["toU"]));
        }
    }
    let expected: BTreeMap<String, Vec<(u64, u64)>> = heights
        .iter()
        .map(|(rack, height)| {
            let used = taken.get(rack).cloned().unwrap_or_default();
            let mut runs: Vec<(u64, u64)> = Vec::new();
            for u in (1..=*height).filter(|u| !used.contains(u)) {
                match runs.last_mut() {
                    Some(r) if r.1 + 1 == u => r.1 = u,
                    _ => runs.push((u, u)),
                }
            }
            (rack.clone(), runs)
        })
        .collect();
    let [dc] = c["dataCenters"].as_array().unwrap().as_slice() else {
        panic!("one data center: {c:#}")
    };
    let reported: BTreeMap<String, Vec<(u64, u64)>> = dc["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["racks"].as_array().unwrap())
        .map(|r| {
            let free = r["free"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| (n(&f["fromU"]), n(&f["toU"])))
                .collect();
            (s(r, "name").to_owned(), free)
        })
        .collect();
    assert_eq!(reported, expected);
    // Not vacuous: the edge racks are split by the routers, leased racks partly taken.
    assert!(expected["R01"].len() > 1);
    assert_eq!(expected["R05"], vec![(21, 42)]);
}
