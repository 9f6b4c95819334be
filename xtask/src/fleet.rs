//! The audit benchmark's fleet: a lab inventory of exactly N devices (two data-center edges, the
//! district hubs and commune CPEs of Hà Nội's 2024 list, taken in GSO code order), with interface
//! names a lab can create and management addresses of its own (`3fff:ab:b0:…`), so it runs
//! beside `inventories/lab` and the test labs (`3fff:ab:ff/fe/fc:…`).

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::cities::{City, Edge};
use crate::generate::{self, Files};
use hatang_core::import::{self, GsoUnit};

/// Hà Nội (GSO code 1), 2024 list: 30 districts, 526 communes; enough for 556 devices.
const PROVINCE: u32 = 1;
/// Management addresses of the fleet (CPEs `:1::`, hubs `:2::`, edges `:3::`).
const MGMT: &str = "3fff:ab:b0";
/// Data centers, address plan (with an ASN pool for every device) and a tenant.
const DATACENTERS: &str = include_str!("bench-datacenters.yaml");

/// Commune codes such that the two edges, one hub per district used and one CPE per commune
/// make exactly `devices` devices. `districts` lists each district's commune codes in order.
///
/// Districts are filled one after the other. A new district costs a hub as well as its first
/// CPE, so when exactly one device is left at a district boundary, the last full district gives
/// up one commune to make room for the next district's hub.
pub(crate) fn pick_communes(districts: &[Vec<u32>], devices: usize) -> Result<Vec<u32>> {
    if devices < 4 {
        bail!("a fleet needs at least 4 devices (two edges, a hub, a CPE), not {devices}");
    }
    let mut left = devices - 2;
    let mut taken: Vec<Vec<u32>> = Vec::new();
    for communes in districts.iter().filter(|c| !c.is_empty()) {
        if left == 0 {
            break;
        }
        if left == 1 {
            match taken.last_mut() {
                Some(last) if last.len() > 1 => {
                    last.pop();
                    left += 1;
                }
                _ => break,
            }
        }
        let n = communes.len().min(left - 1);
        taken.push(communes[..n].to_vec());
        left -= n + 1;
    }
    if left != 0 {
        let most = 2 + districts.iter().map(|c| c.len() + 1).sum::<usize>();
        bail!("cannot make a fleet of exactly {devices} devices from this list (at most {most})");
    }
    Ok(taken.concat())
}

/// The fleet's files: `generated/` (as `xtask examples` writes for the lab) and `datacenters.yaml`.
pub(crate) fn bench_fleet(data: &Path, devices: usize) -> Result<Files> {
    let csv = "vn-admin-units-2024.csv";
    let path = data.join(csv);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let units = import::read_gso_csv(&text, Some(PROVINCE))?;
    let codes = pick_communes(&by_district(&units), devices)?;
    let city = City {
        dir: "bench-fleet",
        csv,
        province: PROVINCE,
        communes: codes,
        hubs: true,
        tag: "BENCH",
        main_edge: Edge {
            device: "edge-main",
            site: "dc-bench-main",
            data_center: "dc-bench-main",
            rack: "B01",
            position: 20,
            ports: &[],
        },
        backup_edge: Edge {
            device: "edge-backup",
            site: "dc-bench-backup",
            data_center: "dc-bench-backup",
            rack: "B01",
            position: 20,
            ports: &[],
        },
        mgmt: MGMT,
        lab_names: true,
        exclusions: &[],
        unserved: &[],
    };
    let mut files = generate::city(&city, data)?;
    files.push(("datacenters.yaml".into(), DATACENTERS.to_owned()));
    Ok(files)
}

/// Commune codes per district, districts and communes in list order.
fn by_district(units: &[GsoUnit]) -> Vec<Vec<u32>> {
    let mut out: Vec<(u32, Vec<u32>)> = Vec::new();
    for u in units {
        let (Some((district, ..)), Some((commune, ..))) = (&u.district, &u.commune) else {
            continue;
        };
        match out.last_mut() {
            Some((d, codes)) if d == district => codes.push(*commune),
            _ => out.push((*district, vec![*commune])),
        }
    }
    out.into_iter().map(|(_, codes)| codes).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devices(districts: &[Vec<u32>], picked: &[u32]) -> usize {
        let hubs = districts
            .iter()
            .filter(|d| d.iter().any(|c| picked.contains(c)))
            .count();
        2 + hubs + picked.len()
    }

    #[test]
    fn exact_counts_fill_districts_in_order() {
        let districts = vec![vec![1, 2, 3], vec![4, 5], vec![6, 7, 8, 9]];
        for n in 4..=14 {
            let picked = pick_communes(&districts, n).unwrap();
            assert_eq!(devices(&districts, &picked), n, "{n}: {picked:?}");
            let mut sorted = picked.clone();
            sorted.sort();
            assert_eq!(sorted, picked, "list order kept");
        }
        // 2 edges + hub + 3 CPEs = 6: the first district whole.
        assert_eq!(pick_communes(&districts, 6).unwrap(), [1, 2, 3]);
        // 7 leaves one device at the boundary: district 1 gives up a commune for district 2's hub.
        assert_eq!(pick_communes(&districts, 7).unwrap(), [1, 2, 4]);
    }

    #[test]
    fn impossible_sizes_are_refused() {
        let districts = vec![vec![1], vec![2]];
        assert_eq!(pick_communes(&districts, 6).unwrap(), [1, 2]);
        // One device left after the single-commune first district, which cannot give one up.
        assert!(pick_communes(&districts, 5).is_err());
        let e = pick_communes(&districts, 7).unwrap_err().to_string();
        assert!(e.contains("at most 6"), "{e}");
        assert!(pick_communes(&districts, 3).is_err());
    }
}
