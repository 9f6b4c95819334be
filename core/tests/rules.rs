//! Validation rules: each case breaks the valid base inventory in one way and checks the code,
//! the object, the message, the position, the hint, the related places and the subjects of
//! what validation reports. The cases are a table ([`CASES`]); what does not fit a row (figures,
//! several problems in one run) follows as tests of its own.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use common::*;
use hatang_core::{Diagnostic, Severity, Subject, stats};

/// How a message (or hint) must read.
#[derive(Debug, Clone, Copy)]
enum Text {
    Is(&'static str),
    StartsWith(&'static str),
    EndsWith(&'static str),
    Contains(&'static str),
}
use Text::*;

impl Text {
    #[track_caller]
    fn check(self, what: &str, text: &str, diag: &Diagnostic) {
        let ok = match self {
            Is(t) => text == t,
            StartsWith(t) => text.starts_with(t),
            EndsWith(t) => text.ends_with(t),
            Contains(t) => text.contains(t),
        };
        assert!(ok, "{what} `{text}` does not match {self:?}:\n{diag}");
    }
}

/// A place in the inventory's text, found by what is written there.
#[derive(Debug, Clone, Copy)]
enum At {
    /// `token` on the one line containing the first text.
    Of(&'static str, &'static str),
    /// `token` on the first line containing the second text after the one line containing the
    /// first (to tell apart lines that repeat across documents).
    After(&'static str, &'static str, &'static str),
    /// `token` on the n-th (0-based) line containing the text.
    Nth(&'static str, usize, &'static str),
}
use At::*;

impl At {
    fn find(self, text: &str) -> (u32, u32) {
        match self {
            Of(line, token) => pos_of(text, line, token),
            After(after, line, token) => pos_after(text, after, line, token),
            Nth(needle, n, token) => {
                let (i, line) = text
                    .lines()
                    .enumerate()
                    .filter(|(_, l)| l.contains(needle))
                    .nth(n)
                    .unwrap_or_else(|| panic!("no line {n} with `{needle}`"));
                let byte = line.find(token).expect("token on the line");
                (i as u32 + 1, line[..byte].chars().count() as u32 + 1)
            }
        }
    }
}

/// What else may be reported besides the diagnostic a case checks.
#[derive(Debug, Clone, Copy)]
enum Others {
    /// Nothing: it is the only diagnostic.
    Nothing,
    /// Warnings only (for a warning: no error at all).
    Warnings,
    /// Exactly these errors (codes sorted), the checked one among them if it is an error.
    Errors(&'static [&'static str]),
    /// Errors with these codes only.
    ErrorsAmong(&'static [&'static str]),
}

/// Which stage reports the problem.
#[derive(Debug, Clone, Copy)]
enum Stage {
    Load,
    Validate,
}

/// One broken inventory and the diagnostic it must produce.
struct Case {
    /// The rule, in words.
    rule: &'static str,
    /// The base inventory, broken.
    docs: Build,
    stage: Stage,
    /// The code of the diagnostic checked.
    code: &'static str,
    severity: Severity,
    /// The object it concerns (`Kind/name`); with the code, it picks the diagnostic out.
    object: &'static str,
    others: Others,
    /// Every way its message must read.
    message: &'static [Text],
    at: At,
    /// Its hint, when the case checks it.
    hint: Option<Text>,
    /// Every related place: what it says and where it is.
    related: &'static [(&'static str, At)],
    /// Everything it names besides its object, in order (see [`subject`]).
    subjects: &'static [&'static str],
}

/// The defaults of a row: an error found by validation, the only diagnostic, with no related
/// place and no subject.
const ERROR: Case = Case {
    rule: "",
    docs: Docs::base,
    stage: Stage::Validate,
    code: "",
    severity: Severity::Error,
    object: "",
    others: Others::Nothing,
    message: &[],
    at: Of("", ""),
    hint: None,
    related: &[],
    subjects: &[],
};

/// A subject as the table writes it: `Kind/name`, `rack dc/rack`, `room dc/room`,
/// `feed dc/feed`, `interface device/name`.
fn subject(s: &Subject) -> String {
    match s {
        Subject::Object(o) => o.to_string(),
        Subject::Rack { data_center, rack } => format!("rack {data_center}/{rack}"),
        Subject::Room { data_center, room } => format!("room {data_center}/{room}"),
        Subject::Feed { data_center, feed } => format!("feed {data_center}/{feed}"),
        Subject::Interface { device, interface } => format!("interface {device}/{interface}"),
    }
}

const LEASE: &str = "ColoLease/so-tai-chinh-tam-thoi";
const SYSTEM: &str = "InformationSystem/cong-dich-vu-cong";
const CPE: &str = "Device/cpe-hoan-kiem";

const DR_BLOCK: &str =
    "  dr:\n    replicaDataCenter: dc-backup\n    rpoMinutes: 15\n    rtoMinutes: 60\n";

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

const SECOND_MAIN: &str = "apiVersion: hatang.io/v1alpha1
kind: DataCenter
metadata:
  name: dc-main-2
spec:
  displayName: Trung tâm dữ liệu chính thứ hai
  site: dc-hoa-lac
  tier: main
  peer: dc-backup
";

/// A second lease of units 5–15 of rack A02 (the first holds 1–10 until 2026-12-31).
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

/// An accepted deviation on the Hoàn Kiếm CPE (judged on 2026-01-15).
const TIMERS: &str = "    - kind: changed
      block: [router bgp 4200000001]
      line: neighbor 2001:db8:0:2::1 timers 5 15
      owner: noc-hanoi
      reason: VNPT asked for slower timers during fibre works
      expires: 2026-06-30
      ticket: CR-2026-118
";

/// The base inventory with `entries` (YAML list items, indented for `acceptedDeviations`) on
/// the Hoàn Kiếm CPE.
fn with_deviations(entries: &str) -> Docs {
    Docs::base().edit(
        CPE,
        "    - name: wan1\n",
        &format!("    - name: wan1\n  acceptedDeviations:\n{entries}"),
    )
}

/// [`TIMERS`] with `from` replaced by `to`.
fn timers(from: &str, to: &str) -> Docs {
    with_deviations(&TIMERS.replace(from, to))
}

fn lease_end(end: &str) -> Docs {
    Docs::base().edit(LEASE, "end: 2026-12-31", &format!("end: {end}"))
}

const SINGLE: &str = "DataCenter/dc-main";

/// A core router at the main site in rack `rack` at unit 30.
fn core_router(name: &str, rack: &str, address: &str) -> String {
    format!(
        "apiVersion: hatang.io/v1alpha1
kind: Device
metadata:
  name: {name}
spec:
  site: dc-giang-vo
  platform: frr
  role: core
  rack:
    dataCenter: dc-main
    rack: {rack}
    position: 30
    heightU: 2
  powerW: 400
  management:
    address: {address}
  interfaces:
    - name: eth0
"
    )
}

/// The base inventory as a single-with-redundancy city (Đà Nẵng's model): `dc-main` is the one
/// data center (tier single, no peer), the backup edge moves into it as the second WAN edge, two
/// cores stand on racks A01 and A02, and the level-3 system's replica is on the other rack.
fn single_dc() -> Docs {
    Docs::base()
        .edit(SINGLE, "tier: main\n  peer: dc-backup\n", "tier: single\n")
        .remove("DataCenter/dc-backup")
        .remove("Site/dc-hoa-lac")
        .edit(
            "Device/edge-backup-1",
            "site: dc-hoa-lac",
            "site: dc-giang-vo",
        )
        .edit(
            "Device/edge-backup-1",
            "dataCenter: dc-backup\n    rack: B01",
            "dataCenter: dc-main\n    rack: A02",
        )
        .edit(
            "AddressPlan/ha-noi",
            "    dc-backup: 2001:db8:200::/48\n",
            "",
        )
        .push(&core_router("core-main-1", "A01", "2001:db8:ffff:1::21"))
        .push(&core_router("core-main-2", "A02", "2001:db8:ffff:1::22"))
        .edit(
            SYSTEM,
            "replicaDataCenter: dc-backup",
            "replicaDataCenter: dc-main\n    replicaRack: A02",
        )
        .edit(
            SYSTEM,
            "  securityLevel: 3\n",
            "  securityLevel: 3\n  rack: A01\n",
        )
}

const CASES: &[Case] = &[
    // -----------------------------------------------------------------------------------------
    // Dangling references
    // -----------------------------------------------------------------------------------------
    Case {
        rule: "a site's region exists",
        docs: || {
            Docs::base().edit(
                "Site/ubnd-phuong-ba-dinh",
                "region: phuong-ba-dinh",
                "region: phuong-ba-dnh",
            )
        },
        code: "dangling-reference",
        object: "Site/ubnd-phuong-ba-dinh",
        others: Others::Warnings,
        message: &[Is("refers to Region `phuong-ba-dnh`, which does not exist")],
        at: Of("region: phuong-ba-dnh", "phuong-ba-dnh"),
        hint: Some(Is("did you mean `phuong-ba-dinh`?")),
        subjects: &["Region/phuong-ba-dnh"],
        ..ERROR
    },
    Case {
        rule: "the region the office was meant for has no office: a warning, not an error",
        docs: || {
            Docs::base().edit(
                "Site/ubnd-phuong-ba-dinh",
                "region: phuong-ba-dinh",
                "region: phuong-ba-dnh",
            )
        },
        code: "coverage-gap",
        severity: Severity::Warning,
        object: "Region/phuong-ba-dinh",
        others: Others::Errors(&["dangling-reference"]),
        message: &[Contains("Phường Ba Đình")],
        at: Of("name: phuong-ba-dinh", "phuong-ba-dinh"),
        ..ERROR
    },
    Case {
        rule: "a device's site exists",
        docs: || {
            Docs::base().edit(
                "Device/cpe-hoan-kiem",
                "site: ubnd-phuong-hoan-kiem",
                "site: ubnd-phuong-hoan-kim",
            )
        },
        code: "dangling-reference",
        object: "Device/cpe-hoan-kiem",
        // The office loses its circuits with its device, so coverage fails as well.
        others: Others::Errors(&["coverage", "dangling-reference"]),
        message: &[Contains("Site `ubnd-phuong-hoan-kim`")],
        at: Of("site: ubnd-phuong-hoan-kim", "ubnd-phuong-hoan-kim"),
        hint: Some(Is("did you mean `ubnd-phuong-hoan-kiem`?")),
        subjects: &["Site/ubnd-phuong-hoan-kim"],
        ..ERROR
    },
    Case {
        rule: "an office whose device moved away loses its circuits",
        docs: || {
            Docs::base().edit(
                "Device/cpe-hoan-kiem",
                "site: ubnd-phuong-hoan-kiem",
                "site: ubnd-phuong-hoan-kim",
            )
        },
        code: "coverage",
        object: "Site/ubnd-phuong-hoan-kiem",
        others: Others::Errors(&["coverage", "dangling-reference"]),
        message: &[EndsWith("has no primary and no backup circuit")],
        at: Of("name: ubnd-phuong-hoan-kiem", "ubnd-phuong-hoan-kiem"),
        subjects: &["Region/phuong-hoan-kiem"],
        ..ERROR
    },
    Case {
        rule: "a circuit end's device exists",
        docs: || {
            Docs::base().edit(
                "Circuit/hoan-kiem-backup",
                "device: edge-backup-1",
                "device: edge-backup-2",
            )
        },
        code: "dangling-reference",
        object: "Circuit/hoan-kiem-backup",
        message: &[Contains("Device `edge-backup-2`")],
        at: Of("device: edge-backup-2", "edge-backup-2"),
        hint: Some(Is("did you mean `edge-backup-1`?")),
        subjects: &["Device/edge-backup-2"],
        ..ERROR
    },
    Case {
        rule: "a circuit end's interface exists on its device",
        docs: || {
            Docs::base().edit(
                "Circuit/ba-dinh-primary",
                "interface: wan0",
                "interface: wan9",
            )
        },
        code: "dangling-reference",
        object: "Circuit/ba-dinh-primary",
        message: &[Is(
            "refers to interface of Device `cpe-ba-dinh` `wan9`, which does not exist",
        )],
        at: Of("interface: wan9", "wan9"),
        hint: Some(StartsWith("did you mean `wan")),
        subjects: &["interface cpe-ba-dinh/wan9"],
        ..ERROR
    },
    Case {
        rule: "a lease's tenant exists",
        docs: || Docs::base().edit(LEASE, "tenant: so-tai-chinh", "tenant: so-tai-chanh"),
        code: "dangling-reference",
        object: LEASE,
        message: &[Contains("Tenant `so-tai-chanh`")],
        at: Of("tenant: so-tai-chanh", "so-tai-chanh"),
        hint: Some(Is("did you mean `so-tai-chinh`?")),
        subjects: &["Tenant/so-tai-chanh"],
        ..ERROR
    },
    Case {
        rule: "a lease's data center exists",
        docs: || Docs::base().edit(LEASE, "dataCenter: dc-main", "dataCenter: dc-mian"),
        code: "dangling-reference",
        object: LEASE,
        message: &[Contains("DataCenter `dc-mian`")],
        at: Of("dataCenter: dc-mian", "dc-mian"),
        hint: Some(Is("did you mean `dc-main`?")),
        subjects: &["DataCenter/dc-mian"],
        ..ERROR
    },
    Case {
        rule: "a lease's rack exists in its data center",
        docs: || Docs::base().edit(LEASE, "rack: A02", "rack: A2"),
        code: "dangling-reference",
        object: LEASE,
        message: &[Is(
            "refers to rack `A2`, which does not exist in DataCenter `dc-main`",
        )],
        at: Of("- rack: A2", "A2"),
        hint: Some(Is("did you mean `A02`?")),
        subjects: &["rack dc-main/A2"],
        ..ERROR
    },
    Case {
        rule: "a lease's rack is not looked for in the other data center",
        // B01 exists, but in the other data center.
        docs: || Docs::base().edit(LEASE, "rack: A02", "rack: B01"),
        code: "dangling-reference",
        object: LEASE,
        message: &[Contains("rack `B01`")],
        at: Of("- rack: B01", "B01"),
        subjects: &["rack dc-main/B01"],
        ..ERROR
    },
    Case {
        rule: "a system's owner exists",
        docs: || Docs::base().edit(SYSTEM, "owner: so-tai-chinh", "owner: so-tai-chin"),
        code: "dangling-reference",
        object: SYSTEM,
        message: &[Contains("Tenant `so-tai-chin`")],
        at: Of("owner: so-tai-chin", "so-tai-chin"),
        subjects: &["Tenant/so-tai-chin"],
        ..ERROR
    },
    Case {
        rule: "a system's data center exists",
        docs: || Docs::base().edit(SYSTEM, "dataCenter: dc-main", "dataCenter: dc-chinh"),
        code: "dangling-reference",
        object: SYSTEM,
        message: &[Contains("DataCenter `dc-chinh`")],
        at: Of("dataCenter: dc-chinh", "dc-chinh"),
        subjects: &["DataCenter/dc-chinh"],
        ..ERROR
    },
    Case {
        rule: "a DR replica's data center exists",
        docs: || {
            Docs::base().edit(
                SYSTEM,
                "replicaDataCenter: dc-backup",
                "replicaDataCenter: dc-bakup",
            )
        },
        code: "dangling-reference",
        object: SYSTEM,
        message: &[Contains("DataCenter `dc-bakup`")],
        at: Of("replicaDataCenter: dc-bakup", "dc-bakup"),
        hint: Some(Is("did you mean `dc-backup`?")),
        subjects: &["DataCenter/dc-bakup"],
        ..ERROR
    },
    // -----------------------------------------------------------------------------------------
    // Uniqueness
    // -----------------------------------------------------------------------------------------
    Case {
        rule: "GSO codes are unique per level",
        docs: || {
            Docs::base().edit(
                "Region/phuong-hoan-kiem",
                "code: \"00070\"",
                "code: \"00004\"",
            )
        },
        code: "duplicate-gso-code",
        object: "Region/phuong-hoan-kiem",
        message: &[Is(
            "GSO code `00004` is also used by Region `phuong-ba-dinh`",
        )],
        // A quoted scalar starts at its opening quote.
        at: After("name: phuong-hoan-kiem", "code:", "\"00004\""),
        related: &[(
            "first used here",
            After("name: phuong-ba-dinh", "code:", "\"00004\""),
        )],
        subjects: &["Region/phuong-ba-dinh"],
        ..ERROR
    },
    Case {
        rule: "interface names are unique per device",
        docs: || {
            Docs::base().edit(
                "Device/edge-main-1",
                "      description: core uplink\n",
                "      description: core uplink\n    - {name: eth0, description: second uplink}\n",
            )
        },
        code: "duplicate-interface",
        object: "Device/edge-main-1",
        message: &[Is("interface `eth0` is listed twice")],
        at: Of("{name: eth0, description: second uplink}", "eth0"),
        related: &[(
            "first listed here",
            After("name: edge-main-1", "- name: eth0", "eth0"),
        )],
        subjects: &["interface edge-main-1/eth0"],
        ..ERROR
    },
    Case {
        rule: "an interface terminates one circuit",
        docs: || {
            Docs::base().edit(
                "Circuit/hoan-kiem-primary",
                "interface: eth2",
                "interface: eth1",
            )
        },
        code: "interface-in-use",
        object: "Circuit/hoan-kiem-primary",
        message: &[Is(
            "interface `eth1` of `edge-main-1` is already the end of Circuit `ba-dinh-primary`",
        )],
        at: After("name: hoan-kiem-primary", "interface: eth1", "eth1"),
        related: &[(
            "the other circuit",
            Of("name: ba-dinh-primary", "ba-dinh-primary"),
        )],
        subjects: &["interface edge-main-1/eth1", "Circuit/ba-dinh-primary"],
        ..ERROR
    },
    Case {
        rule: "circuit ids are unique per provider",
        docs: || {
            Docs::base().edit(
                "Circuit/hoan-kiem-primary",
                "circuitId: TSLCD-00070-01",
                "circuitId: TSLCD-00004-01",
            )
        },
        code: "duplicate-circuit-id",
        object: "Circuit/hoan-kiem-primary",
        message: &[Is(
            "circuit id `TSLCD-00004-01` is also used by Circuit `ba-dinh-primary` of the same provider",
        )],
        at: After("name: hoan-kiem-primary", "circuitId:", "TSLCD"),
        related: &[(
            "first used here",
            After("name: ba-dinh-primary", "circuitId:", "TSLCD"),
        )],
        subjects: &["Circuit/ba-dinh-primary"],
        ..ERROR
    },
    // -----------------------------------------------------------------------------------------
    // Racks and power
    // -----------------------------------------------------------------------------------------
    Case {
        rule: "devices may not share rack units",
        // The firewall moves up one unit: U39–U40, where the edge router sits at U40.
        docs: || Docs::base().edit("Device/fw-main-1", "position: 38", "position: 39"),
        code: "rack-overlap",
        object: "Device/edge-main-1",
        message: &[Is(
            "Device `edge-main-1` and Device `fw-main-1` both occupy U40–U40 of rack `A01` in `dc-main`",
        )],
        at: After("name: edge-main-1", "position: 40", "40"),
        hint: Some(Is("move one of them or shrink the unit range")),
        related: &[("Device `fw-main-1` is here", Of("position: 39", "39"))],
        subjects: &["rack dc-main/A01", "Device/fw-main-1"],
        ..ERROR
    },
    Case {
        rule: "a device fits its rack",
        docs: || {
            Docs::base().edit(
                "Device/edge-backup-1",
                "    position: 40\n",
                "    position: 42\n    heightU: 2\n",
            )
        },
        code: "rack-overflow",
        object: "Device/edge-backup-1",
        message: &[Is("device occupies U42–U43 but rack `B01` has units 1–42")],
        at: Of("position: 42", "42"),
        subjects: &["rack dc-backup/B01"],
        ..ERROR
    },
    Case {
        rule: "a rack's power stays within its budget",
        // 9 kW of lease in a rack of 8 kW (feeds of 10 kW still carry it).
        docs: || Docs::base().edit(LEASE, "powerKw: 3", "powerKw: 9"),
        code: "rack-power",
        object: "DataCenter/dc-main",
        message: &[Is(
            "rack `A02` carries 9.00 kW of devices and leases, over its budget of 8.00 kW",
        )],
        at: After("- name: A02", "powerKw:", "8"),
        subjects: &["rack dc-main/A02"],
        ..ERROR
    },
    Case {
        rule: "a feed's power stays within its capacity",
        // Both racks hang on feed A: 0.3 + 0.2 kW of devices and 3 kW of lease.
        docs: || {
            Docs::base().edit(
                "DataCenter/dc-main",
                "    - name: A\n      capacityKw: 10\n",
                "    - name: A\n      capacityKw: 3\n",
            )
        },
        code: "feed-power",
        object: "DataCenter/dc-main",
        message: &[
            StartsWith("feed `A` must carry 3.50 kW"),
            Contains("capacity of 3.00 kW"),
        ],
        at: Of("capacityKw: 3", "3"),
        subjects: &["feed dc-main/A"],
        ..ERROR
    },
    Case {
        rule: "rack names are unique per data center",
        docs: || {
            Docs::base().edit(
                "DataCenter/dc-backup",
                "        - name: B01\n",
                "        - name: B01\n          heightU: 42\n          powerKw: 5\n          feeds: [A, B]\n        - name: B01\n",
            )
        },
        code: "duplicate-rack",
        object: "DataCenter/dc-backup",
        message: &[Is("rack `B01` is listed twice in the data center")],
        at: Nth("- name: B01", 1, "B01"),
        hint: Some(Is("rack names are unique per data center, across rooms")),
        related: &[("first listed here", Nth("- name: B01", 0, "B01"))],
        subjects: &["rack dc-backup/B01"],
        ..ERROR
    },
    Case {
        rule: "a rack is 1 to 60 units high",
        docs: || Docs::base().edit("DataCenter/dc-backup", "heightU: 42", "heightU: 61"),
        code: "bad-rack-height",
        object: "DataCenter/dc-backup",
        message: &[Is("rack `B01` height 61U is outside 1–60")],
        at: Of("heightU: 61", "61"),
        subjects: &["rack dc-backup/B01"],
        ..ERROR
    },
    Case {
        rule: "a rack is fed by power feeds of its data center",
        docs: || Docs::base().edit("DataCenter/dc-backup", "feeds: [A, B]", "feeds: [A, C]"),
        code: "dangling-reference",
        object: "DataCenter/dc-backup",
        message: &[Is(
            "rack `B01` is fed by `C`, which is not a power feed of this data center",
        )],
        at: Of("feeds: [A, C]", "C"),
        subjects: &["rack dc-backup/B01", "feed dc-backup/C"],
        ..ERROR
    },
    // -----------------------------------------------------------------------------------------
    // Data centers
    // -----------------------------------------------------------------------------------------
    Case {
        rule: "there is a main data center",
        docs: || Docs::base().edit("DataCenter/dc-main", "tier: main", "tier: backup"),
        code: "datacenter-pair",
        object: "DataCenter/dc-main",
        // Changing a tier also turns the commune circuits the wrong way round.
        others: Others::ErrorsAmong(&["datacenter-pair", "circuit-direction"]),
        message: &[Is("the inventory has no main data center")],
        at: After("name: dc-main", "tier: backup", "backup"),
        ..ERROR
    },
    Case {
        rule: "there is only one main data center",
        docs: || Docs::base().push(SECOND_MAIN),
        code: "datacenter-pair",
        object: "DataCenter/dc-main-2",
        others: Others::ErrorsAmong(&["datacenter-pair", "circuit-direction"]),
        message: &[Is("a second main data center (the first is `dc-main`)")],
        at: After("name: dc-main-2", "tier: main", "main"),
        hint: Some(Contains("tier backup")),
        subjects: &["DataCenter/dc-main"],
        ..ERROR
    },
    Case {
        rule: "the backup names the main data center as its peer",
        docs: || Docs::base().edit("DataCenter/dc-backup", "peer: dc-main", "peer: dc-backup"),
        code: "datacenter-pair",
        object: "DataCenter/dc-backup",
        message: &[Is(
            "backup data center's peer is `dc-backup`, not the main data center `dc-main`",
        )],
        at: After("name: dc-backup", "peer:", "dc-backup"),
        subjects: &["DataCenter/dc-backup", "DataCenter/dc-main"],
        ..ERROR
    },
    Case {
        rule: "the main names a backup data center as its peer",
        docs: || Docs::base().edit("DataCenter/dc-main", "peer: dc-backup", "peer: dc-main"),
        code: "datacenter-pair",
        object: "DataCenter/dc-main",
        others: Others::Warnings,
        message: &[Is(
            "main data center's peer `dc-main` is not a backup data center",
        )],
        at: After("name: dc-main", "peer:", "dc-main"),
        hint: Some(Is("set peer to one of: dc-backup")),
        subjects: &["DataCenter/dc-main"],
        ..ERROR
    },
    Case {
        rule: "a level-3 system's replica is no longer in its data center's peer",
        docs: || Docs::base().edit("DataCenter/dc-main", "peer: dc-backup", "peer: dc-main"),
        code: "dr-not-peer",
        severity: Severity::Warning,
        object: SYSTEM,
        others: Others::Errors(&["datacenter-pair"]),
        message: &[Is(
            "replica is in `dc-backup`, not in `dc-main`'s DR peer `dc-main`",
        )],
        at: Of("replicaDataCenter: dc-backup", "dc-backup"),
        subjects: &["DataCenter/dc-backup", "DataCenter/dc-main"],
        ..ERROR
    },
    // -----------------------------------------------------------------------------------------
    // Coverage
    // -----------------------------------------------------------------------------------------
    Case {
        rule: "a commune office has a backup circuit",
        docs: || Docs::base().remove("Circuit/hoan-kiem-backup"),
        code: "coverage",
        object: "Site/ubnd-phuong-hoan-kiem",
        message: &[Is(
            "commune office `UBND Phường Hoàn Kiếm` (phuong-hoan-kiem, GSO 00070) has no backup circuit",
        )],
        at: Of("name: ubnd-phuong-hoan-kiem", "ubnd-phuong-hoan-kiem"),
        hint: Some(Contains("excluded")),
        subjects: &["Region/phuong-hoan-kiem"],
        ..ERROR
    },
    Case {
        rule: "a commune office without any circuit misses both",
        docs: || {
            Docs::base()
                .remove("Circuit/ba-dinh-primary")
                .remove("Circuit/ba-dinh-backup")
        },
        code: "coverage",
        object: "Site/ubnd-phuong-ba-dinh",
        message: &[
            EndsWith("has no primary and no backup circuit"),
            Contains("`UBND Phường Ba Đình`"),
            Contains("GSO 00004"),
        ],
        at: Of("name: ubnd-phuong-ba-dinh", "ubnd-phuong-ba-dinh"),
        subjects: &["Region/phuong-ba-dinh"],
        ..ERROR
    },
    Case {
        rule: "an office not excluded needs its circuits",
        docs: || Docs::base().push(MINH_CHAU_REGION).push(MINH_CHAU_OFFICE),
        code: "coverage",
        object: "Site/ubnd-xa-minh-chau",
        message: &[Contains("GSO 09952")],
        at: Of("name: ubnd-xa-minh-chau", "ubnd-xa-minh-chau"),
        subjects: &["Region/xa-minh-chau"],
        ..ERROR
    },
    Case {
        rule: "primary circuits lead to the main data center",
        docs: || {
            Docs::base()
                .edit("Circuit/ba-dinh-primary", "role: primary", "role: backup")
                .edit("Circuit/ba-dinh-backup", "role: backup", "role: primary")
        },
        code: "circuit-direction",
        object: "Circuit/ba-dinh-primary",
        others: Others::Errors(&["circuit-direction", "circuit-direction"]),
        message: &[Is("backup circuit lands in the main data center")],
        at: After("name: ba-dinh-primary", "role: backup", "backup"),
        hint: Some(StartsWith(
            "backup circuits lead towards the backup data center",
        )),
        related: &[(
            "the data-center end",
            After(
                "name: ba-dinh-primary",
                "device: edge-main-1",
                "edge-main-1",
            ),
        )],
        subjects: &["Device/edge-main-1"],
        ..ERROR
    },
    // -----------------------------------------------------------------------------------------
    // Information systems
    // -----------------------------------------------------------------------------------------
    Case {
        rule: "a level-3 system needs DR",
        docs: || Docs::base().edit(SYSTEM, DR_BLOCK, ""),
        code: "dr-required",
        object: SYSTEM,
        message: &[Is(
            "`Cổng dịch vụ công thành phố` has security level 3 but no DR policy",
        )],
        at: Of("securityLevel: 3", "3"),
        ..ERROR
    },
    Case {
        rule: "DR is not in the same data center",
        docs: || {
            Docs::base().edit(
                SYSTEM,
                "replicaDataCenter: dc-backup",
                "replicaDataCenter: dc-main",
            )
        },
        code: "dr-same-datacenter",
        object: SYSTEM,
        message: &[Contains("Cổng dịch vụ công thành phố")],
        at: Of("replicaDataCenter: dc-main", "dc-main"),
        subjects: &["DataCenter/dc-main"],
        ..ERROR
    },
    // -----------------------------------------------------------------------------------------
    // Leases
    // -----------------------------------------------------------------------------------------
    Case {
        rule: "a lease lives in its tenant's namespace",
        docs: || Docs::base().edit(LEASE, "namespace: so-tai-chinh", "namespace: so-khac"),
        code: "wrong-namespace",
        object: LEASE,
        message: &[Is(
            "lease is in namespace `so-khac` but tenant `so-tai-chinh` lives in `so-tai-chinh`",
        )],
        at: Of("namespace: so-khac", "so-khac"),
        hint: Some(Is("a tenant's leases live in the tenant's namespace")),
        subjects: &["Tenant/so-tai-chinh"],
        ..ERROR
    },
    Case {
        rule: "a temporary lease needs an end",
        docs: || Docs::base().edit(LEASE, "  end: 2026-12-31\n", ""),
        code: "temporary-without-end",
        object: LEASE,
        message: &[Is("a temporary lease needs an end date")],
        at: Of("temporary: true", "true"),
        ..ERROR
    },
    Case {
        rule: "a lease ends after it starts",
        docs: || lease_end("2025-07-31"),
        code: "end-before-start",
        object: LEASE,
        message: &[Is(
            "lease ends on 2025-07-31, before it starts on 2025-08-01",
        )],
        at: Of("end: 2025-07-31", "2025-07-31"),
        ..ERROR
    },
    Case {
        rule: "leases may not share units at the same time",
        // Starts on the last day of the first lease: one day in common is enough.
        docs: || Docs::base().push(&second_lease("2026-12-31")),
        code: "rack-overlap",
        object: "ColoLease/so-tai-chinh-mo-rong",
        message: &[Is(
            "ColoLease `so-tai-chinh-mo-rong` and ColoLease `so-tai-chinh-tam-thoi` both occupy U5–U10 of rack `A02` in `dc-main`",
        )],
        at: After("name: so-tai-chinh-mo-rong", "- rack: A02", "A02"),
        related: &[(
            "ColoLease `so-tai-chinh-tam-thoi` is here",
            After("name: so-tai-chinh-tam-thoi", "- rack: A02", "A02"),
        )],
        subjects: &["rack dc-main/A02", "ColoLease/so-tai-chinh-tam-thoi"],
        ..ERROR
    },
    Case {
        rule: "a lease ending within 90 days is a warning",
        docs: || lease_end("2026-03-01"),
        code: "lease-expiring",
        severity: Severity::Warning,
        object: LEASE,
        message: &[Is("lease of `so-tai-chinh` ends on 2026-03-01, in 45 days")],
        at: Of("end: 2026-03-01", "2026-03-01"),
        subjects: &["Tenant/so-tai-chinh"],
        ..ERROR
    },
    Case {
        rule: "the lease warning window includes its 90th day",
        docs: || lease_end("2026-04-15"),
        code: "lease-expiring",
        severity: Severity::Warning,
        object: LEASE,
        message: &[EndsWith("in 90 days")],
        at: Of("end: 2026-04-15", "2026-04-15"),
        subjects: &["Tenant/so-tai-chinh"],
        ..ERROR
    },
    Case {
        rule: "an ended lease is a warning of its own",
        docs: || lease_end("2026-01-14"),
        code: "lease-expired",
        severity: Severity::Warning,
        object: LEASE,
        others: Others::Warnings,
        message: &[Is("lease of `so-tai-chinh` ended on 2026-01-14")],
        at: Of("end: 2026-01-14", "2026-01-14"),
        subjects: &["Tenant/so-tai-chinh"],
        ..ERROR
    },
    // -----------------------------------------------------------------------------------------
    // Address plan
    // -----------------------------------------------------------------------------------------
    Case {
        rule: "IPv6 roots do not overlap",
        docs: || {
            Docs::base().edit(
                "AddressPlan/ha-noi",
                "    - 2001:db8::/32\n",
                "    - 2001:db8::/32\n    - 2001:db8:8000::/33\n",
            )
        },
        code: "overlapping-prefix",
        object: "AddressPlan/ha-noi",
        message: &[Is("root 2001:db8:8000::/33 overlaps root 2001:db8::/32")],
        at: Of("- 2001:db8:8000::/33", "2001"),
        ..ERROR
    },
    Case {
        rule: "the DNS zones' domain is a domain name",
        docs: || {
            Docs::base().edit(
                "AddressPlan/ha-noi",
                "    last: 3999\n",
                "    last: 3999\n  dns:\n    domain: infra_hanoi..vn\n    nameServers: [ns1.hanoi.vn]\n    contact: hostmaster@hanoi.vn\n",
            )
        },
        code: "bad-dns-name",
        object: "AddressPlan/ha-noi",
        message: &[Is("`infra_hanoi..vn` is not a DNS domain name")],
        at: Of("domain: infra_hanoi..vn", "infra_hanoi"),
        hint: Some(Contains("labels of letters, digits and hyphens")),
        ..ERROR
    },
    Case {
        rule: "the DNS zones' contact is an e-mail address",
        docs: || {
            Docs::base().edit(
                "AddressPlan/ha-noi",
                "    last: 3999\n",
                "    last: 3999\n  dns:\n    domain: infra.hanoi.vn\n    nameServers: [ns1.hanoi.vn]\n    contact: hostmaster\n",
            )
        },
        code: "bad-dns-name",
        object: "AddressPlan/ha-noi",
        message: &[Is("`hostmaster` is not an e-mail address")],
        at: Of("contact: hostmaster", "hostmaster"),
        ..ERROR
    },
    Case {
        rule: "the ASN pool starts inside the private 4-byte range",
        docs: || Docs::base().edit("AddressPlan/ha-noi", "first: 4200000000", "first: 64512"),
        code: "bad-asn-pool",
        object: "AddressPlan/ha-noi",
        message: &[
            StartsWith("ASN pool 64512–4200099999"),
            Contains("4200000000–4294967294"),
        ],
        // The pool is a block: the diagnostic points at its key.
        at: Of("asnPool:", "asnPool"),
        ..ERROR
    },
    Case {
        rule: "the ASN pool ends inside the private 4-byte range",
        docs: || Docs::base().edit("AddressPlan/ha-noi", "last: 4200099999", "last: 4294967295"),
        code: "bad-asn-pool",
        object: "AddressPlan/ha-noi",
        message: &[StartsWith("ASN pool 4200000000–4294967295")],
        at: Of("asnPool:", "asnPool"),
        ..ERROR
    },
    // -----------------------------------------------------------------------------------------
    // Accepted deviations (judged on 2026-01-15)
    // -----------------------------------------------------------------------------------------
    Case {
        rule: "an accepted deviation names an owner",
        docs: || timers("owner: noc-hanoi", "owner: \" \""),
        code: "deviation-unexplained",
        object: CPE,
        others: Others::Warnings,
        message: &[Is("an accepted deviation needs a non-empty owner")],
        at: Of("owner: \" \"", "\" \""),
        ..ERROR
    },
    Case {
        rule: "without a reason at all the loader refuses the device, naming the field",
        docs: || {
            timers(
                "      reason: VNPT asked for slower timers during fibre works\n",
                "",
            )
        },
        stage: Stage::Load,
        code: "missing-field",
        object: CPE,
        message: &[Contains("missing field `reason`")],
        at: Of("- kind: changed", "kind"),
        ..ERROR
    },
    Case {
        rule: "an accepted deviation needs an expiry",
        docs: || timers("      expires: 2026-06-30\n", ""),
        stage: Stage::Load,
        code: "missing-field",
        object: CPE,
        message: &[Contains("missing field `expires`")],
        at: Of("- kind: changed", "kind"),
        ..ERROR
    },
    Case {
        rule: "a misspelt key is an unknown field, with the right name suggested",
        docs: || timers("expires: 2026", "expiry: 2026"),
        stage: Stage::Load,
        code: "unknown-field",
        object: CPE,
        message: &[Contains("unknown field `expiry`")],
        at: Of("expiry: 2026", "expiry"),
        hint: Some(Is("did you mean `expires`?")),
        ..ERROR
    },
    Case {
        rule: "an expired acceptance is a warning that it is drift again",
        docs: || timers("expires: 2026-06-30", "expires: 2026-01-14"),
        code: "deviation-expired",
        severity: Severity::Warning,
        object: CPE,
        others: Others::Warnings,
        message: &[Is(
            "the acceptance by noc-hanoi expired on 2026-01-14: the audit counts this changed line \
             as drift again",
        )],
        at: Of("expires: 2026-01-14", "2026-01-14"),
        ..ERROR
    },
    Case {
        rule: "an acceptance whose last day is today is still in force, and ending",
        docs: || timers("expires: 2026-06-30", "expires: 2026-01-15"),
        code: "deviation-expiring",
        severity: Severity::Warning,
        object: CPE,
        message: &[Contains("(in 0 days)")],
        at: Of("expires: 2026-01-15", "2026-01-15"),
        ..ERROR
    },
    Case {
        rule: "an acceptance ending in 14 days is a warning",
        docs: || timers("expires: 2026-06-30", "expires: 2026-01-29"),
        code: "deviation-expiring",
        severity: Severity::Warning,
        object: CPE,
        message: &[Contains("(in 14 days)")],
        at: Of("expires: 2026-01-29", "2026-01-29"),
        ..ERROR
    },
    Case {
        rule: "the same line accepted twice is an error",
        docs: || {
            let second = TIMERS
                .replace("timers 5 15", "timers  5 15")
                .replace("expires: 2026-06-30", "expires: 2026-09-30");
            with_deviations(&format!("{TIMERS}{second}"))
        },
        code: "duplicate-deviation",
        object: CPE,
        others: Others::Warnings,
        message: &[Is(
            "the same changed line is accepted twice (entries 0 and 1)",
        )],
        // Each entry is pointed at by its first key.
        at: Nth("- kind: changed", 1, "kind"),
        related: &[("first accepted here", Nth("- kind: changed", 0, "kind"))],
        ..ERROR
    },
    Case {
        rule: "a line the audit ignores can never be accepted",
        docs: || {
            timers(
                "line: neighbor 2001:db8:0:2::1 timers 5 15",
                "line: exit-address-family",
            )
        },
        code: "deviation-never-matches",
        object: CPE,
        others: Others::Warnings,
        message: &[Contains("`exit-address-family`")],
        at: Of("line: exit-address-family", "exit"),
        ..ERROR
    },
    // -----------------------------------------------------------------------------------------
    // Data-center models
    // -----------------------------------------------------------------------------------------
    Case {
        rule: "main-and-backup: a main or backup data center names its peer",
        docs: || Docs::base().edit("DataCenter/dc-backup", "  peer: dc-main\n", ""),
        code: "datacenter-pair",
        object: "DataCenter/dc-backup",
        message: &[Is("backup data center names no DR peer")],
        at: Of("tier: backup", "backup"),
        ..ERROR
    },
    Case {
        rule: "main-and-backup stays the rule without a single data center: a lone main fails",
        docs: || single_dc().edit(SINGLE, "tier: single", "tier: main\n  peer: dc-main"),
        code: "datacenter-pair",
        object: SINGLE,
        others: Others::ErrorsAmong(&[
            "circuit-direction",
            "datacenter-pair",
            "dr-same-datacenter",
        ]),
        message: &[Is("the inventory has no backup data center")],
        at: Of("tier: main", "main"),
        ..ERROR
    },
    Case {
        rule: "single-with-redundancy: no second data center",
        docs: || single_dc().push(SECOND_MAIN),
        code: "datacenter-model",
        object: "DataCenter/dc-main-2",
        others: Others::ErrorsAmong(&["datacenter-model", "dangling-reference"]),
        message: &[Is(
            "a second data center (tier main) in a single-with-redundancy city, whose data center is `dc-main`",
        )],
        at: Of("tier: main", "main"),
        subjects: &["DataCenter/dc-main"],
        ..ERROR
    },
    Case {
        rule: "single-with-redundancy: the single data center has no peer",
        docs: || single_dc().edit(SINGLE, "tier: single\n", "tier: single\n  peer: dc-main\n"),
        code: "datacenter-model",
        object: SINGLE,
        message: &[Is(
            "a single data center has no DR peer, but names `dc-main`",
        )],
        at: Of("peer: dc-main", "dc-main"),
        subjects: &["DataCenter/dc-main"],
        ..ERROR
    },
    Case {
        rule: "single-with-redundancy: two WAN edges",
        docs: || single_dc().edit("Device/edge-backup-1", "role: wan-edge", "role: tor"),
        code: "single-dc-edges",
        object: SINGLE,
        others: Others::Warnings,
        message: &[Is(
            "the single data center has 1 wan-edge device at site `dc-giang-vo`; it needs two",
        )],
        at: Of("tier: single", "single"),
        subjects: &["Site/dc-giang-vo"],
        ..ERROR
    },
    Case {
        rule: "single-with-redundancy: two cores",
        docs: || single_dc().remove("Device/core-main-2"),
        code: "single-dc-cores",
        object: SINGLE,
        message: &[Is(
            "the single data center has 1 core device at site `dc-giang-vo`; it needs two",
        )],
        at: Of("tier: single", "single"),
        subjects: &["Site/dc-giang-vo"],
        ..ERROR
    },
    Case {
        rule: "single-with-redundancy: every rack on two feeds",
        docs: || {
            single_dc().edit(
                SINGLE,
                "        - name: A02\n          heightU: 42\n          powerKw: 8\n          feeds: [A, B]",
                "        - name: A02\n          heightU: 42\n          powerKw: 8\n          feeds: [B]",
            )
        },
        code: "single-dc-feeds",
        object: SINGLE,
        message: &[Is(
            "rack `A02` is fed by 1 feed(s); in the single data center every rack is fed by two",
        )],
        at: Of("- name: A02", "A02"),
        hint: Some(Is("give the rack feeds: [A, B]")),
        subjects: &["rack dc-main/A02"],
        ..ERROR
    },
    Case {
        rule: "single-with-redundancy: a level-3 system says where it and its replica stand",
        docs: || single_dc().edit(SYSTEM, "  rack: A01\n", ""),
        code: "dr-replica-rack",
        object: SYSTEM,
        message: &[Contains(
            "does not say on which racks it and its replica stand",
        )],
        at: Of("  dr:", "dr"),
        ..ERROR
    },
    Case {
        rule: "single-with-redundancy: the replica on another rack",
        docs: || single_dc().edit(SYSTEM, "replicaRack: A02", "replicaRack: A01"),
        code: "dr-replica-rack",
        object: SYSTEM,
        message: &[Is(
            "the replica of `Cổng dịch vụ công thành phố` stands in the same rack `A01` as the system",
        )],
        at: Of("replicaRack: A01", "A01"),
        subjects: &["rack dc-main/A01"],
        ..ERROR
    },
    Case {
        rule: "single-with-redundancy: the replica's rack exists",
        docs: || single_dc().edit(SYSTEM, "replicaRack: A02", "replicaRack: A09"),
        code: "dangling-reference",
        object: SYSTEM,
        message: &[Is(
            "refers to rack `A09`, which does not exist in DataCenter `dc-main`",
        )],
        at: Of("replicaRack: A09", "A09"),
        subjects: &["rack dc-main/A09"],
        ..ERROR
    },
    Case {
        rule: "single-with-redundancy: the replica does not share the system's only feed",
        docs: || {
            single_dc()
                .edit(
                    SINGLE,
                    "        - name: A01\n          heightU: 42\n          powerKw: 8\n          feeds: [A, B]",
                    "        - name: A01\n          heightU: 42\n          powerKw: 8\n          feeds: [A]",
                )
                .edit(
                    SINGLE,
                    "        - name: A02\n          heightU: 42\n          powerKw: 8\n          feeds: [A, B]",
                    "        - name: A02\n          heightU: 42\n          powerKw: 8\n          feeds: [A]",
                )
        },
        code: "dr-replica-feed",
        object: SYSTEM,
        others: Others::Errors(&["dr-replica-feed", "single-dc-feeds", "single-dc-feeds"]),
        message: &[Is(
            "racks `A01` and `A02` both hang on feed `A` alone: losing it takes `Cổng dịch vụ công thành phố` and its replica down",
        )],
        at: Of("replicaRack: A02", "A02"),
        subjects: &["rack dc-main/A01", "rack dc-main/A02", "feed dc-main/A"],
        ..ERROR
    },
    Case {
        rule: "single-with-redundancy: the replica stays in the single data center",
        docs: || {
            single_dc().edit(
                SYSTEM,
                "replicaDataCenter: dc-main",
                "replicaDataCenter: dc-backup",
            )
        },
        code: "dr-replica-rack",
        object: SYSTEM,
        others: Others::Errors(&["dangling-reference", "dr-replica-rack"]),
        message: &[Contains("stays in `dc-main`, not `dc-backup`")],
        at: Of("replicaDataCenter: dc-backup", "dc-backup"),
        subjects: &["DataCenter/dc-main"],
        ..ERROR
    },
];

/// A broken (or mended) base inventory.
type Build = fn() -> Docs;

/// Inventories that stay valid: each is a case above changed back into something allowed.
const VALID: &[(&str, Build)] = &[
    ("the base inventory", Docs::base),
    ("a single data center with in-DC redundancy", single_dc),
    (
        "the same circuit id at another provider is another circuit",
        || {
            Docs::base()
                .edit(
                    "Circuit/hoan-kiem-primary",
                    "circuitId: TSLCD-00070-01",
                    "circuitId: TSLCD-00004-01",
                )
                .edit(
                    "Circuit/hoan-kiem-primary",
                    "provider: VNPT",
                    "provider: Viettel",
                )
        },
    ),
    ("an excluded commune office", excluded_office),
    ("an office in an excluded region", office_in_excluded_region),
    ("below level 3, DR is optional", || {
        Docs::base()
            .edit(SYSTEM, DR_BLOCK, "")
            .edit(SYSTEM, "securityLevel: 3", "securityLevel: 2")
    }),
    ("a permanent lease may be open-ended", || {
        Docs::base().edit(LEASE, "  end: 2026-12-31\n", "").edit(
            LEASE,
            "temporary: true",
            "temporary: false",
        )
    }),
    ("leases may share units at disjoint dates", || {
        // Starts the day after the first lease ends.
        Docs::base().push(&second_lease("2027-01-01"))
    }),
    ("a lease ending beyond the 90-day window", || {
        lease_end("2026-04-16")
    }),
    (
        "an accepted deviation with owner, reason and expiry",
        || with_deviations(TIMERS),
    ),
    ("an acceptance ending beyond the 14-day window", || {
        timers("expires: 2026-06-30", "expires: 2026-01-30")
    }),
];

fn excluded_office() -> Docs {
    let office = MINH_CHAU_OFFICE.to_owned()
        + "  excluded:\n    reason: xã đảo giữa sông Hồng; kết nối vệ tinh theo kế hoạch 2027\n";
    Docs::base().push(MINH_CHAU_REGION).push(&office)
}

fn office_in_excluded_region() -> Docs {
    let region =
        MINH_CHAU_REGION.to_owned() + "  excluded:\n    reason: chưa có hạ tầng cáp quang\n";
    Docs::base().push(&region).push(MINH_CHAU_OFFICE)
}

/// Checks one case; panics with what is wrong.
fn run(case: &Case) {
    let docs = (case.docs)();
    let text = docs.text();
    let diags = match case.stage {
        Stage::Validate => check(&docs).1,
        Stage::Load => load(&text).diagnostics,
    };
    let found: Vec<&Diagnostic> = diags
        .iter()
        .filter(|d| {
            d.code == case.code
                && d.object.as_ref().map(ToString::to_string).as_deref() == Some(case.object)
        })
        .collect();
    let [d] = found[..] else {
        panic!(
            "expected one `{}` on {}, got {}:\n{}",
            case.code,
            case.object,
            found.len(),
            render(&diags)
        );
    };
    assert_eq!(d.severity, case.severity, "{d}");
    match case.others {
        Others::Nothing => assert_eq!(diags.len(), 1, "{}", render(&diags)),
        Others::Warnings => {
            let expected: &[&str] = match case.severity {
                Severity::Error => &[case.code],
                Severity::Warning => &[],
            };
            assert_eq!(error_codes(&diags), expected, "{}", render(&diags));
        }
        Others::Errors(codes) => assert_eq!(error_codes(&diags), codes, "{}", render(&diags)),
        Others::ErrorsAmong(codes) => assert!(
            error_codes(&diags).iter().all(|c| codes.contains(c)),
            "{}",
            render(&diags)
        ),
    }
    for m in case.message {
        m.check("message", &d.message, d);
    }
    assert_at(d, FILE, case.at.find(&text));
    if let Some(h) = case.hint {
        h.check("hint", hint(d), d);
    }
    let related: Vec<(&str, (u32, u32))> = d
        .related
        .iter()
        .map(|r| (r.message.as_str(), (r.location.line, r.location.column)))
        .collect();
    let expected: Vec<(&str, (u32, u32))> = case
        .related
        .iter()
        .map(|(m, at)| (*m, at.find(&text)))
        .collect();
    assert_eq!(related, expected, "related places of:\n{d}");
    let subjects: Vec<String> = d.subjects.iter().map(subject).collect();
    assert_eq!(subjects, case.subjects, "subjects of:\n{d}");
}

#[test]
fn every_rule_reports_its_code_object_message_position_and_subjects() {
    let failed: Vec<&str> = CASES
        .iter()
        .filter(|case| catch_unwind(AssertUnwindSafe(|| run(case))).is_err())
        .map(|case| case.rule)
        .collect();
    assert!(failed.is_empty(), "cases failed (see above): {failed:#?}");
}

#[test]
fn valid_variants_report_nothing() {
    for (what, docs) in VALID {
        let (_, diags) = check(&docs());
        assert!(diags.is_empty(), "{what}:\n{}", render(&diags));
    }
}

// ---------------------------------------------------------------------------------------------
// What does not fit a row
// ---------------------------------------------------------------------------------------------

#[test]
fn base_inventory_figures() {
    let loaded = load(&Docs::base().text());
    let s = stats::compute(&loaded.inventory, today());
    assert_eq!(s.coverage.commune_regions, 2);
    assert_eq!(s.coverage.commune_offices, 2);
    assert_eq!(s.coverage.dual_homed, 2);
    assert_eq!(s.coverage.incomplete, 0);
    assert!((s.coverage.percent - 100.0).abs() < 1e-9);
}

#[test]
fn an_office_without_a_backup_counts_as_incomplete() {
    let text = Docs::base().remove("Circuit/hoan-kiem-backup").text();
    let s = stats::compute(&load(&text).inventory, today());
    assert_eq!((s.coverage.dual_homed, s.coverage.incomplete), (1, 1));
    assert!((s.coverage.percent - 50.0).abs() < 1e-9);
}

#[test]
fn an_excluded_commune_office_is_not_counted() {
    let c = stats::compute(&load(&excluded_office().text()).inventory, today()).coverage;
    assert_eq!(c.commune_offices, 3);
    assert_eq!((c.dual_homed, c.incomplete), (2, 0));
    assert!((c.percent - 100.0).abs() < 1e-9);
    assert_eq!(c.excluded.len(), 1);
    assert_eq!(c.excluded[0].name, "ubnd-xa-minh-chau");
    assert_eq!(c.excluded[0].display_name, "UBND Xã Minh Châu");
    assert!(c.excluded[0].reason.contains("vệ tinh"));

    let text = office_in_excluded_region().text();
    let c = stats::compute(&load(&text).inventory, today()).coverage;
    assert_eq!((c.dual_homed, c.incomplete, c.excluded.len()), (2, 0, 1));
}

#[test]
fn all_problems_are_reported_in_one_run() {
    let docs = Docs::base()
        .edit(
            "Circuit/ba-dinh-backup",
            "device: edge-backup-1",
            "device: edge-bakup-1",
        )
        .edit(
            SYSTEM,
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

#[test]
fn an_accepted_deviation_is_read_as_written() {
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
fn stats_state_the_declared_data_center_model() {
    use hatang_core::model::DataCenterModel;
    let base = stats::compute(&load(&Docs::base().text()).inventory, today());
    assert_eq!(base.data_center_model, DataCenterModel::MainAndBackup);
    let single = stats::compute(&load(&single_dc().text()).inventory, today());
    assert_eq!(
        single.data_center_model,
        DataCenterModel::SingleWithRedundancy
    );
    assert_eq!(single.data_centers.len(), 1);
    assert_eq!(single.data_centers[0].peer, None);
}
