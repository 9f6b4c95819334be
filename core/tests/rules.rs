//! Validation rules: each test breaks the valid base inventory in one way and checks the code,
//! the object and the position of what validation reports.

mod common;

use common::*;
use hatang_core::stats;

/// The one error in `diags` (warnings may come with it), which must have `code`.
#[track_caller]
fn sole_error<'a>(diags: &'a [hatang_core::Diagnostic], code: &str) -> &'a hatang_core::Diagnostic {
    assert_eq!(error_codes(diags), [code], "{}", render(diags));
    errors(diags)[0]
}

#[test]
fn base_inventory_is_valid() {
    let (_, diags) = check(&Docs::base());
    assert!(diags.is_empty(), "{}", render(&diags));

    let loaded = load(&Docs::base().text());
    let s = stats::compute(&loaded.inventory, today());
    assert_eq!(s.coverage.commune_regions, 2);
    assert_eq!(s.coverage.commune_offices, 2);
    assert_eq!(s.coverage.dual_homed, 2);
    assert_eq!(s.coverage.incomplete, 0);
    assert!((s.coverage.percent - 100.0).abs() < 1e-9);
}

// ---------------------------------------------------------------------------------------------
// Dangling references
// ---------------------------------------------------------------------------------------------

#[test]
fn site_region_must_exist() {
    let docs = Docs::base().edit(
        "Site/ubnd-phuong-ba-dinh",
        "region: phuong-ba-dinh",
        "region: phuong-ba-dnh",
    );
    let (text, diags) = check(&docs);
    let d = sole_error(&diags, "dangling-reference");
    assert_object(d, "Site/ubnd-phuong-ba-dinh");
    assert_eq!(
        d.message,
        "refers to Region `phuong-ba-dnh`, which does not exist"
    );
    assert_at(
        d,
        FILE,
        pos_of(&text, "region: phuong-ba-dnh", "phuong-ba-dnh"),
    );
    assert_eq!(hint(d), "did you mean `phuong-ba-dinh`?");
    // The region the office was meant for now has no office: a warning, not an error.
    let w = the(&diags, "coverage-gap");
    assert_object(w, "Region/phuong-ba-dinh");
    assert!(w.message.contains("Phường Ba Đình"), "{w}");
}

#[test]
fn device_site_must_exist() {
    let docs = Docs::base().edit(
        "Device/cpe-hoan-kiem",
        "site: ubnd-phuong-hoan-kiem",
        "site: ubnd-phuong-hoan-kim",
    );
    let (text, diags) = check(&docs);
    // The office loses its circuits with its device, so coverage fails as well.
    assert_eq!(
        error_codes(&diags),
        ["coverage", "dangling-reference"],
        "{}",
        render(&diags)
    );
    let d = the(&diags, "dangling-reference");
    assert_object(d, "Device/cpe-hoan-kiem");
    assert!(d.message.contains("Site `ubnd-phuong-hoan-kim`"), "{d}");
    assert_at(
        d,
        FILE,
        pos_of(&text, "site: ubnd-phuong-hoan-kim", "ubnd-phuong-hoan-kim"),
    );
    assert_eq!(hint(d), "did you mean `ubnd-phuong-hoan-kiem`?");
    assert_object(the(&diags, "coverage"), "Site/ubnd-phuong-hoan-kiem");
}

#[test]
fn circuit_end_device_must_exist() {
    let docs = Docs::base().edit(
        "Circuit/hoan-kiem-backup",
        "device: edge-backup-1",
        "device: edge-backup-2",
    );
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "dangling-reference");
    assert_object(d, "Circuit/hoan-kiem-backup");
    assert!(d.message.contains("Device `edge-backup-2`"), "{d}");
    assert_at(
        d,
        FILE,
        pos_of(&text, "device: edge-backup-2", "edge-backup-2"),
    );
    assert_eq!(hint(d), "did you mean `edge-backup-1`?");
}

#[test]
fn circuit_end_interface_must_exist_on_its_device() {
    let docs = Docs::base().edit(
        "Circuit/ba-dinh-primary",
        "interface: wan0",
        "interface: wan9",
    );
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "dangling-reference");
    assert_object(d, "Circuit/ba-dinh-primary");
    assert_eq!(
        d.message,
        "refers to interface of Device `cpe-ba-dinh` `wan9`, which does not exist"
    );
    assert_at(d, FILE, pos_of(&text, "interface: wan9", "wan9"));
    assert!(hint(d).starts_with("did you mean `wan"), "{d}");
}

#[test]
fn lease_tenant_must_exist() {
    let docs = Docs::base().edit(
        "ColoLease/so-tai-chinh-tam-thoi",
        "tenant: so-tai-chinh",
        "tenant: so-tai-chanh",
    );
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "dangling-reference");
    assert_object(d, "ColoLease/so-tai-chinh-tam-thoi");
    assert!(d.message.contains("Tenant `so-tai-chanh`"), "{d}");
    assert_at(
        d,
        FILE,
        pos_of(&text, "tenant: so-tai-chanh", "so-tai-chanh"),
    );
    assert_eq!(hint(d), "did you mean `so-tai-chinh`?");
}

#[test]
fn lease_data_center_must_exist() {
    let docs = Docs::base().edit(
        "ColoLease/so-tai-chinh-tam-thoi",
        "dataCenter: dc-main",
        "dataCenter: dc-mian",
    );
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "dangling-reference");
    assert_object(d, "ColoLease/so-tai-chinh-tam-thoi");
    assert!(d.message.contains("DataCenter `dc-mian`"), "{d}");
    assert_at(d, FILE, pos_of(&text, "dataCenter: dc-mian", "dc-mian"));
    assert_eq!(hint(d), "did you mean `dc-main`?");
}

#[test]
fn lease_rack_must_exist_in_its_data_center() {
    let docs = Docs::base().edit("ColoLease/so-tai-chinh-tam-thoi", "rack: A02", "rack: A2");
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "dangling-reference");
    assert_object(d, "ColoLease/so-tai-chinh-tam-thoi");
    assert_eq!(
        d.message,
        "refers to rack `A2`, which does not exist in DataCenter `dc-main`"
    );
    assert_at(d, FILE, pos_of(&text, "- rack: A2", "A2"));
    assert_eq!(hint(d), "did you mean `A02`?");

    // B01 exists, but in the other data center.
    let docs = Docs::base().edit("ColoLease/so-tai-chinh-tam-thoi", "rack: A02", "rack: B01");
    let (_, diags) = check(&docs);
    let d = only_error(&diags, "dangling-reference");
    assert!(d.message.contains("rack `B01`"), "{d}");
}

#[test]
fn system_owner_must_exist() {
    let docs = Docs::base().edit(
        "InformationSystem/cong-dich-vu-cong",
        "owner: so-tai-chinh",
        "owner: so-tai-chin",
    );
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "dangling-reference");
    assert_object(d, "InformationSystem/cong-dich-vu-cong");
    assert!(d.message.contains("Tenant `so-tai-chin`"), "{d}");
    assert_at(d, FILE, pos_of(&text, "owner: so-tai-chin", "so-tai-chin"));
}

#[test]
fn system_data_center_must_exist() {
    let docs = Docs::base().edit(
        "InformationSystem/cong-dich-vu-cong",
        "dataCenter: dc-main",
        "dataCenter: dc-chinh",
    );
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "dangling-reference");
    assert_object(d, "InformationSystem/cong-dich-vu-cong");
    assert!(d.message.contains("DataCenter `dc-chinh`"), "{d}");
    assert_at(d, FILE, pos_of(&text, "dataCenter: dc-chinh", "dc-chinh"));
}

#[test]
fn dr_replica_data_center_must_exist() {
    let docs = Docs::base().edit(
        "InformationSystem/cong-dich-vu-cong",
        "replicaDataCenter: dc-backup",
        "replicaDataCenter: dc-bakup",
    );
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "dangling-reference");
    assert_object(d, "InformationSystem/cong-dich-vu-cong");
    assert!(d.message.contains("DataCenter `dc-bakup`"), "{d}");
    assert_at(
        d,
        FILE,
        pos_of(&text, "replicaDataCenter: dc-bakup", "dc-bakup"),
    );
    assert_eq!(hint(d), "did you mean `dc-backup`?");
}

// ---------------------------------------------------------------------------------------------
// Uniqueness
// ---------------------------------------------------------------------------------------------

#[test]
fn gso_codes_are_unique_per_level() {
    let docs = Docs::base().edit(
        "Region/phuong-hoan-kiem",
        "code: \"00070\"",
        "code: \"00004\"",
    );
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "duplicate-gso-code");
    assert_object(d, "Region/phuong-hoan-kiem");
    assert_eq!(
        d.message,
        "GSO code `00004` is also used by Region `phuong-ba-dinh`"
    );
    // A quoted scalar starts at its opening quote.
    assert_at(
        d,
        FILE,
        pos_after(&text, "name: phuong-hoan-kiem", "code:", "\"00004\""),
    );
    assert_eq!(d.related.len(), 1, "{d}");
    let first = pos_after(&text, "name: phuong-ba-dinh", "code:", "\"00004\"");
    assert_eq!(
        (d.related[0].location.line, d.related[0].location.column),
        first
    );
}

#[test]
fn interface_names_are_unique_per_device() {
    let docs = Docs::base().edit(
        "Device/edge-main-1",
        "      description: core uplink\n",
        "      description: core uplink\n    - {name: eth0, description: second uplink}\n",
    );
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "duplicate-interface");
    assert_object(d, "Device/edge-main-1");
    assert_eq!(d.message, "interface `eth0` is listed twice");
    assert_at(
        d,
        FILE,
        pos_of(&text, "{name: eth0, description: second uplink}", "eth0"),
    );
    assert_eq!(
        d.related[0].location.line,
        pos_after(&text, "name: edge-main-1", "- name: eth0", "eth0").0
    );
}

#[test]
fn an_interface_terminates_one_circuit() {
    let docs = Docs::base().edit(
        "Circuit/hoan-kiem-primary",
        "interface: eth2",
        "interface: eth1",
    );
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "interface-in-use");
    assert_object(d, "Circuit/hoan-kiem-primary");
    assert_eq!(
        d.message,
        "interface `eth1` of `edge-main-1` is already the end of Circuit `ba-dinh-primary`"
    );
    assert_at(
        d,
        FILE,
        pos_after(&text, "name: hoan-kiem-primary", "interface: eth1", "eth1"),
    );
    assert_eq!(d.related[0].message, "the other circuit");
    assert_eq!(
        d.related[0].location.line,
        line_of(&text, "name: ba-dinh-primary")
    );
}

#[test]
fn circuit_ids_are_unique_per_provider() {
    let docs = Docs::base().edit(
        "Circuit/hoan-kiem-primary",
        "circuitId: TSLCD-00070-01",
        "circuitId: TSLCD-00004-01",
    );
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "duplicate-circuit-id");
    assert_object(d, "Circuit/hoan-kiem-primary");
    assert_at(
        d,
        FILE,
        pos_after(&text, "name: hoan-kiem-primary", "circuitId:", "TSLCD"),
    );

    // The same id at another provider is another circuit.
    let docs = docs.edit(
        "Circuit/hoan-kiem-primary",
        "provider: VNPT",
        "provider: Viettel",
    );
    let (_, diags) = check(&docs);
    assert!(diags.is_empty(), "{}", render(&diags));
}

// ---------------------------------------------------------------------------------------------
// Racks and power
// ---------------------------------------------------------------------------------------------

#[test]
fn devices_may_not_share_rack_units() {
    // The firewall moves up one unit: U39–U40, where the edge router sits at U40.
    let docs = Docs::base().edit("Device/fw-main-1", "position: 38", "position: 39");
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "rack-overlap");
    assert_eq!(
        d.message,
        "Device `edge-main-1` and Device `fw-main-1` both occupy U40–U40 of rack `A01` in `dc-main`"
    );
    assert_object(d, "Device/edge-main-1");
    assert_at(
        d,
        FILE,
        pos_after(&text, "name: edge-main-1", "position: 40", "40"),
    );
    assert_eq!(d.related[0].location.line, line_of(&text, "position: 39"));
}

#[test]
fn a_device_must_fit_its_rack() {
    let docs = Docs::base().edit(
        "Device/edge-backup-1",
        "    position: 40\n",
        "    position: 42\n    heightU: 2\n",
    );
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "rack-overflow");
    assert_object(d, "Device/edge-backup-1");
    assert_eq!(
        d.message,
        "device occupies U42–U43 but rack `B01` has units 1–42"
    );
    assert_at(d, FILE, pos_of(&text, "position: 42", "42"));
}

#[test]
fn rack_power_within_budget() {
    // 9 kW of lease in a rack of 8 kW (feeds of 10 kW still carry it).
    let docs = Docs::base().edit(
        "ColoLease/so-tai-chinh-tam-thoi",
        "powerKw: 3",
        "powerKw: 9",
    );
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "rack-power");
    assert_object(d, "DataCenter/dc-main");
    assert_eq!(
        d.message,
        "rack `A02` carries 9.00 kW of devices and leases, over its budget of 8.00 kW"
    );
    assert_at(d, FILE, pos_after(&text, "- name: A02", "powerKw:", "8"));
}

#[test]
fn feed_power_within_capacity() {
    // Both racks hang on feed A: 0.3 + 0.2 kW of devices and 3 kW of lease.
    let docs = Docs::base().edit(
        "DataCenter/dc-main",
        "    - name: A\n      capacityKw: 10\n",
        "    - name: A\n      capacityKw: 3\n",
    );
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "feed-power");
    assert_object(d, "DataCenter/dc-main");
    assert!(d.message.starts_with("feed `A` must carry 3.50 kW"), "{d}");
    assert!(d.message.contains("capacity of 3.00 kW"), "{d}");
    assert_at(d, FILE, pos_of(&text, "capacityKw: 3", "3"));
}

// ---------------------------------------------------------------------------------------------
// Data centers
// ---------------------------------------------------------------------------------------------

#[test]
fn there_must_be_a_main_data_center() {
    let docs = Docs::base().edit("DataCenter/dc-main", "tier: main", "tier: backup");
    let (text, diags) = check(&docs);
    // Changing a tier also turns the commune circuits the wrong way round; that is reported too.
    assert!(
        error_codes(&diags)
            .iter()
            .all(|c| *c == "datacenter-pair" || *c == "circuit-direction"),
        "{}",
        render(&diags)
    );
    let d = the(&diags, "datacenter-pair");
    assert_eq!(d.message, "the inventory has no main data center");
    assert_object(d, "DataCenter/dc-main");
    assert_at(
        d,
        FILE,
        pos_after(&text, "name: dc-main", "tier: backup", "backup"),
    );
}

#[test]
fn there_is_only_one_main_data_center() {
    let docs = Docs::base().push(
        "apiVersion: hatang.io/v1alpha1
kind: DataCenter
metadata:
  name: dc-main-2
spec:
  displayName: Trung tâm dữ liệu chính thứ hai
  site: dc-hoa-lac
  tier: main
  peer: dc-backup
",
    );
    let (text, diags) = check(&docs);
    // Changing a tier also turns the commune circuits the wrong way round; that is reported too.
    assert!(
        error_codes(&diags)
            .iter()
            .all(|c| *c == "datacenter-pair" || *c == "circuit-direction"),
        "{}",
        render(&diags)
    );
    let d = the(&diags, "datacenter-pair");
    assert_eq!(
        d.message,
        "a second main data center (the first is `dc-main`)"
    );
    assert_object(d, "DataCenter/dc-main-2");
    assert_at(
        d,
        FILE,
        pos_after(&text, "name: dc-main-2", "tier: main", "main"),
    );
    assert!(hint(d).contains("tier backup"), "{d}");
}

#[test]
fn main_and_backup_name_each_other_as_peers() {
    let docs = Docs::base().edit("DataCenter/dc-backup", "peer: dc-main", "peer: dc-backup");
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "datacenter-pair");
    assert_object(d, "DataCenter/dc-backup");
    assert_eq!(
        d.message,
        "backup data center's peer is `dc-backup`, not the main data center `dc-main`"
    );
    assert_at(
        d,
        FILE,
        pos_after(&text, "name: dc-backup", "peer:", "dc-backup"),
    );

    let docs = Docs::base().edit("DataCenter/dc-main", "peer: dc-backup", "peer: dc-main");
    let (text, diags) = check(&docs);
    let d = sole_error(&diags, "datacenter-pair");
    assert_object(d, "DataCenter/dc-main");
    assert_eq!(
        d.message,
        "main data center's peer `dc-main` is not a backup data center"
    );
    assert_at(
        d,
        FILE,
        pos_after(&text, "name: dc-main", "peer:", "dc-main"),
    );
    assert_eq!(hint(d), "set peer to one of: dc-backup");
    // The level-3 system replicates to dc-backup, which is no longer dc-main's peer.
    assert_object(
        the(&diags, "dr-not-peer"),
        "InformationSystem/cong-dich-vu-cong",
    );
}

// ---------------------------------------------------------------------------------------------
// Coverage
// ---------------------------------------------------------------------------------------------

#[test]
fn a_commune_office_needs_a_backup_circuit() {
    let docs = Docs::base().remove("Circuit/hoan-kiem-backup");
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "coverage");
    assert_object(d, "Site/ubnd-phuong-hoan-kiem");
    assert_eq!(
        d.message,
        "commune office `UBND Phường Hoàn Kiếm` (phuong-hoan-kiem, GSO 00070) has no backup circuit"
    );
    assert_at(
        d,
        FILE,
        pos_of(
            &text,
            "name: ubnd-phuong-hoan-kiem",
            "ubnd-phuong-hoan-kiem",
        ),
    );
    assert!(hint(d).contains("excluded"), "{d}");

    let loaded = load(&text);
    let s = stats::compute(&loaded.inventory, today());
    assert_eq!((s.coverage.dual_homed, s.coverage.incomplete), (1, 1));
    assert!((s.coverage.percent - 50.0).abs() < 1e-9);
}

#[test]
fn a_commune_office_without_any_circuit_misses_both() {
    let docs = Docs::base()
        .remove("Circuit/ba-dinh-primary")
        .remove("Circuit/ba-dinh-backup");
    let (_, diags) = check(&docs);
    let d = only_error(&diags, "coverage");
    assert!(
        d.message.ends_with("has no primary and no backup circuit"),
        "{d}"
    );
    assert!(d.message.contains("`UBND Phường Ba Đình`"), "{d}");
    assert!(d.message.contains("GSO 00004"), "{d}");
}

const MINH_CHAU_REGION: &str = "apiVersion: hatang.io/v1alpha1
kind: Region
metadata:
  name: xa-minh-chau
spec:
  displayName: Xã Minh Châu
  code: \"09952\"
  level: commune
  type: xã
  parent: thanh-pho-ha-noi-01
";

const MINH_CHAU_OFFICE: &str = "apiVersion: hatang.io/v1alpha1
kind: Site
metadata:
  name: ubnd-xa-minh-chau
spec:
  displayName: UBND Xã Minh Châu
  role: commune-office
  region: xa-minh-chau
  uplink: single-homed
";

#[test]
fn an_excluded_commune_office_is_not_an_error_and_not_counted() {
    let office = MINH_CHAU_OFFICE.to_owned()
        + "  excluded:\n    reason: xã đảo giữa sông Hồng; kết nối vệ tinh theo kế hoạch 2027\n";
    let docs = Docs::base().push(MINH_CHAU_REGION).push(&office);
    let (text, diags) = check(&docs);
    assert!(diags.is_empty(), "{}", render(&diags));

    let loaded = load(&text);
    let c = stats::compute(&loaded.inventory, today()).coverage;
    assert_eq!(c.commune_offices, 3);
    assert_eq!((c.dual_homed, c.incomplete), (2, 0));
    assert!((c.percent - 100.0).abs() < 1e-9);
    assert_eq!(c.excluded.len(), 1);
    assert_eq!(c.excluded[0].name, "ubnd-xa-minh-chau");
    assert_eq!(c.excluded[0].display_name, "UBND Xã Minh Châu");
    assert!(c.excluded[0].reason.contains("vệ tinh"));

    // Without the exclusion the same office is an error.
    let docs = Docs::base().push(MINH_CHAU_REGION).push(MINH_CHAU_OFFICE);
    let (_, diags) = check(&docs);
    let d = only_error(&diags, "coverage");
    assert_object(d, "Site/ubnd-xa-minh-chau");
    assert!(d.message.contains("GSO 09952"), "{d}");
}

#[test]
fn an_office_in_an_excluded_region_is_not_an_error() {
    let region =
        MINH_CHAU_REGION.to_owned() + "  excluded:\n    reason: chưa có hạ tầng cáp quang\n";
    let docs = Docs::base().push(&region).push(MINH_CHAU_OFFICE);
    let (text, diags) = check(&docs);
    assert!(diags.is_empty(), "{}", render(&diags));
    let c = stats::compute(&load(&text).inventory, today()).coverage;
    assert_eq!((c.dual_homed, c.incomplete, c.excluded.len()), (2, 0, 1));
}

// ---------------------------------------------------------------------------------------------
// Information systems
// ---------------------------------------------------------------------------------------------

const DR_BLOCK: &str =
    "  dr:\n    replicaDataCenter: dc-backup\n    rpoMinutes: 15\n    rtoMinutes: 60\n";

#[test]
fn a_level_3_system_needs_dr() {
    let docs = Docs::base().edit("InformationSystem/cong-dich-vu-cong", DR_BLOCK, "");
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "dr-required");
    assert_object(d, "InformationSystem/cong-dich-vu-cong");
    assert_eq!(
        d.message,
        "`Cổng dịch vụ công thành phố` has security level 3 but no DR policy"
    );
    assert_at(d, FILE, pos_of(&text, "securityLevel: 3", "3"));

    // Below level 3, DR is optional.
    let docs = docs.edit(
        "InformationSystem/cong-dich-vu-cong",
        "securityLevel: 3",
        "securityLevel: 2",
    );
    let (_, diags) = check(&docs);
    assert!(diags.is_empty(), "{}", render(&diags));
}

#[test]
fn dr_may_not_be_in_the_same_data_center() {
    let docs = Docs::base().edit(
        "InformationSystem/cong-dich-vu-cong",
        "replicaDataCenter: dc-backup",
        "replicaDataCenter: dc-main",
    );
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "dr-same-datacenter");
    assert_object(d, "InformationSystem/cong-dich-vu-cong");
    assert!(d.message.contains("Cổng dịch vụ công thành phố"), "{d}");
    assert_at(
        d,
        FILE,
        pos_of(&text, "replicaDataCenter: dc-main", "dc-main"),
    );
}

// ---------------------------------------------------------------------------------------------
// Leases
// ---------------------------------------------------------------------------------------------

const LEASE: &str = "ColoLease/so-tai-chinh-tam-thoi";

#[test]
fn a_temporary_lease_needs_an_end() {
    let docs = Docs::base().edit(LEASE, "  end: 2026-12-31\n", "");
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "temporary-without-end");
    assert_object(d, LEASE);
    assert_at(d, FILE, pos_of(&text, "temporary: true", "true"));

    // A permanent lease may be open-ended.
    let docs = docs.edit(LEASE, "temporary: true", "temporary: false");
    let (_, diags) = check(&docs);
    assert!(diags.is_empty(), "{}", render(&diags));
}

#[test]
fn a_lease_ends_after_it_starts() {
    let docs = Docs::base().edit(LEASE, "end: 2026-12-31", "end: 2025-07-31");
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "end-before-start");
    assert_object(d, LEASE);
    assert_eq!(
        d.message,
        "lease ends on 2025-07-31, before it starts on 2025-08-01"
    );
    assert_at(d, FILE, pos_of(&text, "end: 2025-07-31", "2025-07-31"));
}

fn second_lease(start: &str) -> String {
    format!(
        "apiVersion: hatang.io/v1alpha1
kind: ColoLease
metadata:
  name: so-tai-chinh-mo-rong
  namespace: so-tai-chinh
spec:
  tenant: so-tai-chinh
  dataCenter: dc-main
  space:
    - rack: A02
      fromU: 5
      toU: 15
  powerKw: 2
  start: {start}
"
    )
}

#[test]
fn leases_may_not_share_units_at_the_same_time() {
    // Starts on the last day of the first lease: one day in common is enough.
    let docs = Docs::base().push(&second_lease("2026-12-31"));
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "rack-overlap");
    assert_object(d, "ColoLease/so-tai-chinh-mo-rong");
    assert_eq!(
        d.message,
        "ColoLease `so-tai-chinh-mo-rong` and ColoLease `so-tai-chinh-tam-thoi` both occupy U5–U10 of rack `A02` in `dc-main`"
    );
    assert_at(
        d,
        FILE,
        pos_after(&text, "name: so-tai-chinh-mo-rong", "- rack: A02", "A02"),
    );
    assert_eq!(d.related.len(), 1);
    assert_eq!(
        d.related[0].location.line,
        pos_after(&text, "name: so-tai-chinh-tam-thoi", "- rack: A02", "A02").0
    );
}

#[test]
fn leases_may_share_units_at_disjoint_dates() {
    // Starts the day after the first lease ends.
    let docs = Docs::base().push(&second_lease("2027-01-01"));
    let (_, diags) = check(&docs);
    assert!(diags.is_empty(), "{}", render(&diags));
}

#[test]
fn a_lease_expiring_soon_is_a_warning() {
    let docs = Docs::base().edit(LEASE, "end: 2026-12-31", "end: 2026-03-01");
    let (text, diags) = check(&docs);
    assert!(errors(&diags).is_empty(), "{}", render(&diags));
    assert_eq!(warnings(&diags).len(), 1, "{}", render(&diags));
    let w = the(&diags, "lease-expiring");
    assert_object(w, LEASE);
    assert_eq!(
        w.message,
        "lease of `so-tai-chinh` ends on 2026-03-01, in 45 days"
    );
    assert_at(w, FILE, pos_of(&text, "end: 2026-03-01", "2026-03-01"));

    // The window is 90 days, both ends included; beyond it, nothing to say.
    let docs = Docs::base().edit(LEASE, "end: 2026-12-31", "end: 2026-04-15");
    let (_, diags) = check(&docs);
    assert!(
        the(&diags, "lease-expiring")
            .message
            .ends_with("in 90 days")
    );
    let docs = Docs::base().edit(LEASE, "end: 2026-12-31", "end: 2026-04-16");
    let (_, diags) = check(&docs);
    assert!(diags.is_empty(), "{}", render(&diags));
    // Once ended, a different warning.
    let docs = Docs::base().edit(LEASE, "end: 2026-12-31", "end: 2026-01-14");
    let (_, diags) = check(&docs);
    assert!(errors(&diags).is_empty(), "{}", render(&diags));
    the(&diags, "lease-expired");
}

// ---------------------------------------------------------------------------------------------
// Address plan
// ---------------------------------------------------------------------------------------------

#[test]
fn ipv6_roots_may_not_overlap() {
    let docs = Docs::base().edit(
        "AddressPlan/ha-noi",
        "    - 2001:db8::/32\n",
        "    - 2001:db8::/32\n    - 2001:db8:8000::/33\n",
    );
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "overlapping-prefix");
    assert_object(d, "AddressPlan/ha-noi");
    assert_eq!(
        d.message,
        "root 2001:db8:8000::/33 overlaps root 2001:db8::/32"
    );
    assert_at(d, FILE, pos_of(&text, "- 2001:db8:8000::/33", "2001"));
}

#[test]
fn asn_pool_is_inside_the_private_4_byte_range() {
    let docs = Docs::base().edit("AddressPlan/ha-noi", "first: 4200000000", "first: 64512");
    let (text, diags) = check(&docs);
    let d = only_error(&diags, "bad-asn-pool");
    assert_object(d, "AddressPlan/ha-noi");
    assert!(d.message.starts_with("ASN pool 64512–4200099999"), "{d}");
    assert!(d.message.contains("4200000000–4294967294"), "{d}");
    // The pool is a block: the diagnostic points at its key.
    assert_at(d, FILE, pos_of(&text, "asnPool:", "asnPool"));

    let docs = Docs::base().edit("AddressPlan/ha-noi", "last: 4200099999", "last: 4294967295");
    let (_, diags) = check(&docs);
    only_error(&diags, "bad-asn-pool");
}

// ---------------------------------------------------------------------------------------------
// One run
// ---------------------------------------------------------------------------------------------

#[test]
fn all_problems_are_reported_in_one_run() {
    let docs = Docs::base()
        .edit(
            "Circuit/ba-dinh-backup",
            "device: edge-backup-1",
            "device: edge-bakup-1",
        )
        .edit(
            "InformationSystem/cong-dich-vu-cong",
            "replicaDataCenter: dc-backup",
            "replicaDataCenter: dc-main",
        )
        .edit("AddressPlan/ha-noi", "first: 4200000000", "first: 65000");
    let (text, diags) = check(&docs);
    assert!(warnings(&diags).is_empty(), "{}", render(&diags));
    // Reported in file order, whatever order the rules ran in.
    let found: Vec<_> = diags
        .iter()
        .map(|d| (d.code, d.location.as_ref().unwrap().line))
        .collect();
    assert_eq!(
        found,
        [
            ("dangling-reference", line_of(&text, "device: edge-bakup-1")),
            ("bad-asn-pool", line_of(&text, "asnPool:")),
            (
                "dr-same-datacenter",
                line_of(&text, "replicaDataCenter: dc-main")
            ),
        ],
        "{}",
        render(&diags)
    );
}

#[test]
fn primary_circuits_lead_to_the_main_data_center() {
    let docs = Docs::base()
        .edit("Circuit/ba-dinh-primary", "role: primary", "role: backup")
        .edit("Circuit/ba-dinh-backup", "role: backup", "role: primary");
    let (text, diags) = check(&docs);
    assert_eq!(
        error_codes(&diags),
        ["circuit-direction", "circuit-direction"],
        "{}",
        render(&diags)
    );
    let d = diags
        .iter()
        .find(|d| {
            d.object
                .as_ref()
                .is_some_and(|o| o.is(hatang_core::Kind::Circuit, "ba-dinh-primary"))
        })
        .unwrap();
    assert_eq!(d.message, "backup circuit lands in the main data center");
    assert_at(
        d,
        FILE,
        pos_after(&text, "name: ba-dinh-primary", "role: backup", "backup"),
    );
}

#[test]
fn leases_one_after_another_do_not_add_up_their_power() {
    // Two 5 kW leases of the same units in an 8 kW rack that already carries a 3 kW lease until 2026-12-31, one after the other: fine.
    // The same two at overlapping dates: over the rack budget (and overlapping units).
    let lease = |name: &str, start: &str, end: &str| {
        format!(
            "apiVersion: hatang.io/v1alpha1\nkind: ColoLease\nmetadata:\n  name: {name}\nspec:\n  tenant: so-tai-chinh\n  dataCenter: dc-main\n  space:\n    - {{rack: A02, fromU: 20, toU: 29}}\n  powerKw: 5\n  start: {start}\n  end: {end}\n"
        )
    };
    let sequential = Docs::base()
        .push(&lease("seq-1", "2027-01-01", "2027-06-30"))
        .push(&lease("seq-2", "2027-07-01", "2027-12-31"));
    let (_, diags) = check(&sequential);
    assert!(errors(&diags).is_empty(), "{}", render(&diags));
    let concurrent = Docs::base()
        .push(&lease("par-1", "2027-01-01", "2027-12-31"))
        .push(&lease("par-2", "2027-07-01", "2028-06-30"));
    let (_, diags) = check(&concurrent);
    let codes = error_codes(&diags);
    assert!(
        codes.contains(&"rack-power") && codes.contains(&"rack-overlap"),
        "{}",
        render(&diags)
    );
}

// ---------------------------------------------------------------------------------------------
// Accepted deviations (judged on 2026-01-15)
// ---------------------------------------------------------------------------------------------

const CPE: &str = "Device/cpe-hoan-kiem";

/// The base inventory with `entries` (YAML list items, indented for `acceptedDeviations`) on
/// the Hoàn Kiếm CPE.
fn with_deviations(entries: &str) -> Docs {
    Docs::base().edit(
        CPE,
        "    - name: wan1\n",
        &format!("    - name: wan1\n  acceptedDeviations:\n{entries}"),
    )
}

const TIMERS: &str = "    - kind: changed
      block: [router bgp 4200000001]
      line: neighbor 2001:db8:0:2::1 timers 5 15
      owner: noc-hanoi
      reason: VNPT asked for slower timers during fibre works
      expires: 2026-06-30
      ticket: CR-2026-118
";

#[test]
fn an_accepted_deviation_with_owner_reason_and_expiry_is_valid() {
    let (_, diags) = check(&with_deviations(TIMERS));
    assert!(diags.is_empty(), "{}", render(&diags));
    let loaded = load(&with_deviations(TIMERS).text());
    let cpe = loaded
        .inventory
        .devices
        .iter()
        .find(|d| d.name() == "cpe-hoan-kiem")
        .unwrap();
    let a = &cpe.spec.accepted_deviations[0];
    assert_eq!(a.kind, hatang_core::model::DeviationKind::Changed);
    assert_eq!(a.block, ["router bgp 4200000001"]);
    assert_eq!(a.expires.to_string(), "2026-06-30");
}

#[test]
fn an_accepted_deviation_needs_an_owner_and_a_reason() {
    let docs = with_deviations(&TIMERS.replace("owner: noc-hanoi", "owner: \" \""));
    let (text, diags) = check(&docs);
    let d = sole_error(&diags, "deviation-unexplained");
    assert_object(d, CPE);
    assert_eq!(d.message, "an accepted deviation needs a non-empty owner");
    assert_at(d, FILE, pos_of(&text, "owner: \" \"", "\" \""));

    // Without the field at all the loader refuses the device, naming the field.
    let docs = with_deviations(&TIMERS.replace(
        "      reason: VNPT asked for slower timers during fibre works\n",
        "",
    ));
    let text = docs.text();
    let loaded = load(&text);
    let d = only_error(&loaded.diagnostics, "missing-field");
    assert!(d.message.contains("missing field `reason`"), "{d}");
    assert_object(d, CPE);
    assert_at(d, FILE, pos_of(&text, "- kind: changed", "kind"));
}

#[test]
fn an_accepted_deviation_needs_an_expiry() {
    let docs = with_deviations(&TIMERS.replace("      expires: 2026-06-30\n", ""));
    let loaded = load(&docs.text());
    let d = only_error(&loaded.diagnostics, "missing-field");
    assert!(d.message.contains("missing field `expires`"), "{d}");
    // A misspelt key is an unknown field, with the right name suggested.
    let text = with_deviations(&TIMERS.replace("expires: 2026", "expiry: 2026")).text();
    let loaded = load(&text);
    let d = only_error(&loaded.diagnostics, "unknown-field");
    assert_at(d, FILE, pos_of(&text, "expiry: 2026", "expiry"));
    assert_eq!(hint(d), "did you mean `expires`?");
}

#[test]
fn an_expired_acceptance_is_a_warning_that_it_is_drift_again() {
    let docs = with_deviations(&TIMERS.replace("expires: 2026-06-30", "expires: 2026-01-14"));
    let (text, diags) = check(&docs);
    assert!(errors(&diags).is_empty(), "{}", render(&diags));
    let w = the(&diags, "deviation-expired");
    assert_object(w, CPE);
    assert_eq!(
        w.message,
        "the acceptance by noc-hanoi expired on 2026-01-14: the audit counts this changed line \
         as drift again"
    );
    assert_at(w, FILE, pos_of(&text, "expires: 2026-01-14", "2026-01-14"));
}

#[test]
fn an_acceptance_ending_within_14_days_is_a_warning() {
    // The last day is today: still in force, and ending.
    let docs = with_deviations(&TIMERS.replace("expires: 2026-06-30", "expires: 2026-01-15"));
    let (_, diags) = check(&docs);
    assert_eq!(warnings(&diags).len(), 1, "{}", render(&diags));
    assert!(
        the(&diags, "deviation-expiring")
            .message
            .contains("(in 0 days)")
    );
    let docs = with_deviations(&TIMERS.replace("expires: 2026-06-30", "expires: 2026-01-29"));
    let (_, diags) = check(&docs);
    assert!(
        the(&diags, "deviation-expiring")
            .message
            .contains("(in 14 days)")
    );
    let docs = with_deviations(&TIMERS.replace("expires: 2026-06-30", "expires: 2026-01-30"));
    let (_, diags) = check(&docs);
    assert!(diags.is_empty(), "{}", render(&diags));
}

#[test]
fn the_same_line_accepted_twice_is_an_error() {
    let second = TIMERS
        .replace("timers 5 15", "timers  5 15")
        .replace("expires: 2026-06-30", "expires: 2026-09-30");
    let (text, diags) = check(&with_deviations(&format!("{TIMERS}{second}")));
    let d = sole_error(&diags, "duplicate-deviation");
    assert_eq!(
        d.message,
        "the same changed line is accepted twice (entries 0 and 1)"
    );
    // Each entry is pointed at by its first key.
    let entries: Vec<u32> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("- kind: changed"))
        .map(|(i, _)| i as u32 + 1)
        .collect();
    assert_at(d, FILE, (entries[1], 7));
    assert_eq!(d.related.len(), 1, "{d}");
    assert_eq!(d.related[0].message, "first accepted here");
    assert_eq!(
        (d.related[0].location.line, d.related[0].location.column),
        (entries[0], 7)
    );
}

#[test]
fn a_line_the_audit_ignores_can_never_be_accepted() {
    let docs = with_deviations(&TIMERS.replace(
        "line: neighbor 2001:db8:0:2::1 timers 5 15",
        "line: exit-address-family",
    ));
    let (text, diags) = check(&docs);
    let d = sole_error(&diags, "deviation-never-matches");
    assert!(d.message.contains("`exit-address-family`"), "{d}");
    assert_at(d, FILE, pos_of(&text, "line: exit-address-family", "exit"));
}
