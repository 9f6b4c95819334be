//! `hatang capacity`: the free unit ranges of Hà Nội checked against occupancy computed here,
//! straight from the inventory's YAML; power shares, feeds, releases, Markdown.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const TODAY: &str = "2026-01-15";

fn hatang(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hatang"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("run hatang")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
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

/// Every document of the inventory directory, as plain values.
fn documents(dir: &str) -> Vec<Value> {
    let mut files = Vec::new();
    yaml_files(&root().join(dir), &mut files);
    let mut docs = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let parsed: Vec<Value> =
            serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        docs.extend(parsed.into_iter().filter(|d| !d.is_null()));
    }
    docs
}

fn n(v: &Value) -> u32 {
    v.as_u64().expect("a number") as u32
}

/// Free ranges per (data center, rack) computed from the documents: units taken by devices and
/// by leases in force on `today` (ISO dates compare as text), the rest in runs.
fn expected_free(docs: &[Value], today: &str) -> BTreeMap<(String, String), Vec<(u32, u32)>> {
    let mut heights: BTreeMap<(String, String), u32> = BTreeMap::new();
    let mut taken: BTreeMap<(String, String), BTreeSet<u32>> = BTreeMap::new();
    for d in docs.iter().filter(|d| d["kind"] == "DataCenter") {
        let dc = d["metadata"]["name"].as_str().unwrap();
        for room in d["spec"]["rooms"].as_array().unwrap() {
            for rack in room["racks"].as_array().unwrap() {
                let key = (dc.to_owned(), rack["name"].as_str().unwrap().to_owned());
                heights.insert(key, n(&rack["heightU"]));
            }
        }
    }
    for d in docs.iter().filter(|d| d["kind"] == "Device") {
        let p = &d["spec"]["rack"];
        if p.is_null() {
            continue;
        }
        let key = (
            p["dataCenter"].as_str().unwrap().to_owned(),
            p["rack"].as_str().unwrap().to_owned(),
        );
        let height = if p["heightU"].is_null() {
            1
        } else {
            n(&p["heightU"])
        };
        let from = n(&p["position"]);
        taken.entry(key).or_default().extend(from..from + height);
    }
    for l in docs.iter().filter(|d| d["kind"] == "ColoLease") {
        let s = &l["spec"];
        let start = s["start"].as_str().unwrap();
        let end = s["end"].as_str();
        if start > today || end.is_some_and(|e| e < today) {
            continue;
        }
        let dc = s["dataCenter"].as_str().unwrap();
        for space in s["space"].as_array().unwrap() {
            let key = (dc.to_owned(), space["rack"].as_str().unwrap().to_owned());
            let (from, to) = if space["fromU"].is_null() {
                (1, heights[&key])
            } else {
                (n(&space["fromU"]), n(&space["toU"]))
            };
            taken.entry(key).or_default().extend(from..=to);
        }
    }
    heights
        .into_iter()
        .map(|(key, height)| {
            let used = taken.get(&key).cloned().unwrap_or_default();
            let mut runs: Vec<(u32, u32)> = Vec::new();
            for u in (1..=height).filter(|u| !used.contains(u)) {
                match runs.last_mut() {
                    Some(r) if r.1 + 1 == u => r.1 = u,
                    _ => runs.push((u, u)),
                }
            }
            (key, runs)
        })
        .collect()
}

fn capacity_json(dir: &str, extra: &[&str]) -> Value {
    let mut args = vec!["capacity", dir, "--today", TODAY, "-o", "json"];
    args.extend_from_slice(extra);
    let o = hatang(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("one JSON document")
}

fn racks(c: &Value) -> impl Iterator<Item = (&str, &Value)> {
    c["dataCenters"].as_array().unwrap().iter().flat_map(|dc| {
        let name = dc["name"].as_str().unwrap();
        dc["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["racks"].as_array().unwrap())
            .map(move |r| (name, r))
    })
}

#[test]
fn hanoi_free_ranges_match_the_inventory() {
    let c = capacity_json("inventories/hanoi", &[]);
    let reported: BTreeMap<(String, String), Vec<(u32, u32)>> = racks(&c)
        .map(|(dc, r)| {
            let free = r["free"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| (n(&f["fromU"]), n(&f["toU"])))
                .collect();
            (
                (dc.to_owned(), r["name"].as_str().unwrap().to_owned()),
                free,
            )
        })
        .collect();
    let expected = expected_free(&documents("inventories/hanoi"), TODAY);
    assert_eq!(reported, expected);
    // Not a vacuous comparison: some racks are partly taken, some wholly.
    assert!(expected.values().any(|r| r.len() > 1));
    assert!(expected.values().any(Vec::is_empty));
}

#[test]
fn hanoi_power_shares_feeds_and_headroom_add_up() {
    let c = capacity_json("inventories/hanoi", &[]);
    for (_, r) in racks(&c) {
        let used = r["powerUsedKw"].as_f64().unwrap();
        let budget = r["powerBudgetKw"].as_f64().unwrap();
        assert!((r["powerHeadroomKw"].as_f64().unwrap() - (budget - used)).abs() < 1e-9);
        for s in r["leaseShares"].as_array().unwrap() {
            let whole = s["leasePowerKw"].as_f64().unwrap();
            let spaces = s["spaces"].as_f64().unwrap();
            assert!(
                (s["shareKw"].as_f64().unwrap() - whole / spaces).abs() < 1e-9,
                "{s}"
            );
        }
    }
    for dc in c["dataCenters"].as_array().unwrap() {
        let rack_use: BTreeMap<&str, f64> = racks(&c)
            .filter(|(d, _)| *d == dc["name"])
            .map(|(_, r)| {
                (
                    r["name"].as_str().unwrap(),
                    r["powerUsedKw"].as_f64().unwrap(),
                )
            })
            .collect();
        for f in dc["feeds"].as_array().unwrap() {
            // 2N: the feed carries every rack it serves in full.
            let load: f64 = f["racks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| rack_use[r.as_str().unwrap()])
                .sum();
            assert!((f["loadKw"].as_f64().unwrap() - load).abs() < 1e-9, "{f}");
            assert!(load > 0.0);
        }
    }
    // The one lease over two racks (Sở Tài nguyên và Môi trường) is shown in each, halved.
    let split: Vec<&Value> = racks(&c)
        .flat_map(|(_, r)| r["leaseShares"].as_array().unwrap())
        .filter(|s| s["spaces"] == 2)
        .collect();
    assert_eq!(split.len(), 2, "{split:?}");
    assert!(
        c["leasePowerRule"]
            .as_str()
            .unwrap()
            .contains("divided evenly")
    );
}

#[test]
fn releases_follow_lease_ends_up_to_until() {
    let all = capacity_json("inventories/hanoi", &[]);
    let releases = |c: &Value| -> Vec<(String, String)> {
        c["dataCenters"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|dc| dc["releases"].as_array().unwrap())
            .map(|r| {
                (
                    r["date"].as_str().unwrap().to_owned(),
                    r["lease"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let every = releases(&all);
    assert!(!every.is_empty());
    assert!(
        every.windows(2).all(|w| w[0].0 <= w[1].0),
        "releases come by date: {every:?}"
    );
    // Bounded: only the releases of leases ending by then (freed the day after).
    let bounded = releases(&capacity_json(
        "inventories/hanoi",
        &["--until", "2027-12-31"],
    ));
    let expected: Vec<_> = every
        .iter()
        .filter(|(date, _)| date.as_str() <= "2028-01-01")
        .cloned()
        .collect();
    assert_eq!(bounded, expected);
    assert!(!bounded.is_empty() && bounded.len() < every.len());
}

#[test]
fn markdown_and_text_show_the_same_racks() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("capacity.md");
    let o = hatang(&[
        "capacity",
        "inventories/hanoi",
        "--today",
        TODAY,
        "--markdown",
        md.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    let md = std::fs::read_to_string(md).unwrap();
    assert!(text.contains("feeds (2N"), "{text}");
    assert!(md.contains("| P202 | C01 | 0/42 | none |"), "{md}");
    assert!(md.contains("## dc-hoa-lac"), "{md}");
}

#[test]
fn an_invalid_inventory_gets_no_figures() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dc.yaml"),
        "apiVersion: hatang.io/v1alpha1\nkind: DataCenter\nmetadata:\n  name: dc\nspec:\n  displayName: DC\n  site: nowhere\n  tier: main\n",
    )
    .unwrap();
    let o = hatang(&["capacity", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
}
