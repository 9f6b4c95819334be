//! The example inventories validate clean and carry what the city plans describe.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use hatang_core::validate::ValidateOptions;
use hatang_core::{Checked, LoadOptions, stats};

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn check(name: &str) -> Checked {
    let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../inventories")
        .join(name);
    let checked =
        hatang_core::check(&[dir], &LoadOptions::default(), &ValidateOptions::on(day())).unwrap();
    let problems: Vec<String> = checked.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(problems.is_empty(), "{name}:\n{}", problems.join("\n"));
    checked
}

#[test]
fn hanoi_after_the_reform() {
    let c = check("hanoi");
    let s = stats::compute(&c.loaded.inventory, day());
    assert_eq!(s.coverage.commune_regions, 126);
    assert_eq!(s.coverage.commune_offices, 126);
    assert_eq!(s.coverage.dual_homed, 126);
    assert_eq!(s.data_centers.len(), 2);
    let main = s
        .data_centers
        .iter()
        .find(|d| d.name == "dc-giang-vo")
        .unwrap();
    assert!(main.display_name.contains("185 Giảng Võ"));
    let tenants: Vec<&str> = s.tenants.iter().map(|t| t.display_name.as_str()).collect();
    for t in [
        "Sở Thông tin và Truyền thông",
        "Sở Tài chính",
        "Sở Kế hoạch và Đầu tư",
    ] {
        assert!(tenants.contains(&t), "{t} missing from {tenants:?}");
    }
    assert!(
        s.tenants
            .iter()
            .flat_map(|t| &t.leases)
            .all(|l| l.temporary && l.end.is_some())
    );
    assert!(s.systems_by_security_level.keys().any(|l| *l >= 3));
}

#[test]
fn hanoi_before_the_reform() {
    let c = check("hanoi-2024");
    let s = stats::compute(&c.loaded.inventory, day());
    assert_eq!(s.coverage.commune_offices, 526);
    assert_eq!(s.regions_by_level["district"], 30);
    assert_eq!(s.sites_by_role["district-hub"], 30);
    assert_eq!(s.coverage.dual_homed, 526);
}

#[test]
fn haiphong_excludes_bach_long_vi_with_a_reason() {
    let c = check("haiphong");
    let s = stats::compute(&c.loaded.inventory, day());
    assert_eq!(s.coverage.commune_offices, 114);
    assert_eq!(s.coverage.excluded.len(), 1);
    let e = &s.coverage.excluded[0];
    assert!(e.display_name.contains("Bạch Long Vĩ"));
    assert!(e.reason.contains("satellite"));
    assert_eq!(s.circuits_by_medium["satellite"], 1);
}

#[test]
fn danang_single_dc_and_its_metro_ring() {
    use hatang_core::model::DataCenterModel;
    let c = check("danang");
    let s = stats::compute(&c.loaded.inventory, day());
    // 2025: 94 commune-level units, Hoàng Sa excluded with its reason and no office.
    assert_eq!(s.coverage.commune_regions, 94);
    assert_eq!(s.coverage.commune_offices, 93);
    assert_eq!(s.coverage.dual_homed, 93);
    assert_eq!(s.coverage.excluded.len(), 1);
    assert!(s.coverage.excluded[0].display_name.contains("Hoàng Sa"));
    assert_eq!(s.data_center_model, DataCenterModel::SingleWithRedundancy);
    assert_eq!(s.data_centers.len(), 1);
    let [m] = &s.metro[..] else {
        panic!("one metro network: {:?}", s.metro)
    };
    assert_eq!(m.aggregation_routers, 9);
    assert_eq!(m.aggregation_with_two_paths, 9);
    assert_eq!((m.attached_sites, m.attached_with_two_paths), (12, 12));
    assert_eq!(s.sites_by_role["agency"], 12);
    assert!(s.systems_by_security_level.keys().any(|l| *l >= 3));
}

#[test]
fn lab_is_small() {
    let c = check("lab");
    let s = stats::compute(&c.loaded.inventory, day());
    assert_eq!(s.data_centers.len(), 2);
    assert_eq!(s.sites_by_role["district-hub"], 2);
    assert!((4..=6).contains(&s.coverage.commune_offices));
}
