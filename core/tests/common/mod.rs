//! Shared helpers for the integration tests: a small valid inventory that tests break one way at
//! a time, and ways to find where in the produced text a diagnostic should point.
//!
//! Positions are never hard-coded: a test names the text it expects a diagnostic to point at and
//! [`pos_of`] finds its line and column in the YAML the test actually loaded.

#![allow(dead_code)] // Each test crate uses a different part of this module.

use std::fmt::Write as _;
use std::path::Path;

use chrono::NaiveDate;
use hatang_core::load::{self, LoadOptions, Loaded};
use hatang_core::validate::{self, ValidateOptions};
use hatang_core::{Diagnostic, Location};

/// The name the in-memory inventory is loaded under; every location's `file`.
pub(crate) const FILE: &str = "inventory.yaml";

/// The day validation judges leases against in every test.
pub(crate) fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 15).expect("valid date")
}

/// The documents of the base inventory, in order. Each is one YAML document without `---`.
const BASE: &[&str] = &[
    r#"apiVersion: hatang.io/v1alpha1
kind: Region
metadata:
  name: thanh-pho-ha-noi-01
spec:
  displayName: Thành phố Hà Nội
  code: "01"
  level: province
  type: thành phố
"#,
    r#"apiVersion: hatang.io/v1alpha1
kind: Region
metadata:
  name: phuong-ba-dinh
spec:
  displayName: Phường Ba Đình
  code: "00004"
  level: commune
  type: phường
  parent: thanh-pho-ha-noi-01
"#,
    r#"apiVersion: hatang.io/v1alpha1
kind: Region
metadata:
  name: phuong-hoan-kiem
spec:
  displayName: Phường Hoàn Kiếm
  code: "00070"
  level: commune
  type: phường
  parent: thanh-pho-ha-noi-01
"#,
    r#"apiVersion: hatang.io/v1alpha1
kind: Site
metadata:
  name: dc-giang-vo
spec:
  displayName: Trung tâm dữ liệu chính — 185 Giảng Võ
  role: datacenter
  region: thanh-pho-ha-noi-01
  address: 185 Giảng Võ, Ba Đình, Hà Nội
  uplink: none
"#,
    r#"apiVersion: hatang.io/v1alpha1
kind: Site
metadata:
  name: dc-hoa-lac
spec:
  displayName: Trung tâm dữ liệu dự phòng — Khu công nghệ cao Hòa Lạc
  role: datacenter
  region: thanh-pho-ha-noi-01
  uplink: none
"#,
    r#"apiVersion: hatang.io/v1alpha1
kind: Site
metadata:
  name: ubnd-phuong-ba-dinh
spec:
  displayName: UBND Phường Ba Đình
  role: commune-office
  region: phuong-ba-dinh
  address: 25 Liễu Giai, Ba Đình, Hà Nội
"#,
    r#"apiVersion: hatang.io/v1alpha1
kind: Site
metadata:
  name: ubnd-phuong-hoan-kiem
spec:
  displayName: UBND Phường Hoàn Kiếm
  role: commune-office
  region: phuong-hoan-kiem
  uplink: dual-homed
"#,
    r#"apiVersion: hatang.io/v1alpha1
kind: DataCenter
metadata:
  name: dc-main
spec:
  displayName: Trung tâm dữ liệu chính
  site: dc-giang-vo
  tier: main
  peer: dc-backup
  powerFeeds:
    - name: A
      capacityKw: 10
    - name: B
      capacityKw: 10
  rooms:
    - name: P201
      racks:
        - name: A01
          heightU: 42
          powerKw: 8
          feeds: [A, B]
        - name: A02
          heightU: 42
          powerKw: 8
          feeds: [A, B]
"#,
    r#"apiVersion: hatang.io/v1alpha1
kind: DataCenter
metadata:
  name: dc-backup
spec:
  displayName: Trung tâm dữ liệu dự phòng
  site: dc-hoa-lac
  tier: backup
  peer: dc-main
  powerFeeds:
    - name: A
      capacityKw: 6
    - name: B
      capacityKw: 6
  rooms:
    - name: P101
      racks:
        - name: B01
          heightU: 42
          powerKw: 5
          feeds: [A, B]
"#,
    r#"apiVersion: hatang.io/v1alpha1
kind: Device
metadata:
  name: edge-main-1
spec:
  site: dc-giang-vo
  platform: frr
  role: wan-edge
  model: Debian 12 + FRR 10
  rack:
    dataCenter: dc-main
    rack: A01
    position: 40
    heightU: 1
  powerW: 300
  management:
    address: 2001:db8:ffff:1::1
    sshHostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGVkZ2UtbWFpbi0x
  interfaces:
    - name: eth0
      description: core uplink
    - name: eth1
      description: UBND Phường Ba Đình
    - name: eth2
      description: UBND Phường Hoàn Kiếm
"#,
    r#"apiVersion: hatang.io/v1alpha1
kind: Device
metadata:
  name: fw-main-1
spec:
  site: dc-giang-vo
  platform: frr
  role: firewall
  rack:
    dataCenter: dc-main
    rack: A01
    position: 38
    heightU: 2
  powerW: 200
  management:
    address: 2001:db8:ffff:1::2
  interfaces:
    - name: eth0
"#,
    r#"apiVersion: hatang.io/v1alpha1
kind: Device
metadata:
  name: edge-backup-1
spec:
  site: dc-hoa-lac
  platform: frr
  role: wan-edge
  rack:
    dataCenter: dc-backup
    rack: B01
    position: 40
  powerW: 300
  management:
    address: 2001:db8:ffff:1::3
  interfaces:
    - name: eth0
    - name: eth1
    - name: eth2
"#,
    r#"apiVersion: hatang.io/v1alpha1
kind: Device
metadata:
  name: cpe-ba-dinh
spec:
  site: ubnd-phuong-ba-dinh
  platform: frr
  role: cpe
  management:
    address: 2001:db8:ffff:1::11
  interfaces:
    - name: wan0
    - name: wan1
"#,
    r#"apiVersion: hatang.io/v1alpha1
kind: Device
metadata:
  name: cpe-hoan-kiem
spec:
  site: ubnd-phuong-hoan-kiem
  platform: frr
  role: cpe
  management:
    address: 2001:db8:ffff:1::12
  interfaces:
    - name: wan0
    - name: wan1
"#,
    r#"apiVersion: hatang.io/v1alpha1
kind: Circuit
metadata:
  name: ba-dinh-primary
spec:
  a:
    device: cpe-ba-dinh
    interface: wan0
  z:
    device: edge-main-1
    interface: eth1
  medium: government-data-network
  provider: VNPT
  circuitId: TSLCD-00004-01
  bandwidthMbps: 100
  role: primary
"#,
    r#"apiVersion: hatang.io/v1alpha1
kind: Circuit
metadata:
  name: ba-dinh-backup
spec:
  a:
    device: cpe-ba-dinh
    interface: wan1
  z:
    device: edge-backup-1
    interface: eth1
  medium: lte
  provider: Viettel
  role: backup
"#,
    r#"apiVersion: hatang.io/v1alpha1
kind: Circuit
metadata:
  name: hoan-kiem-primary
spec:
  a:
    device: cpe-hoan-kiem
    interface: wan0
  z:
    device: edge-main-1
    interface: eth2
  medium: government-data-network
  provider: VNPT
  circuitId: TSLCD-00070-01
  bandwidthMbps: 100
  role: primary
"#,
    r#"apiVersion: hatang.io/v1alpha1
kind: Circuit
metadata:
  name: hoan-kiem-backup
spec:
  a:
    device: cpe-hoan-kiem
    interface: wan1
  z:
    device: edge-backup-1
    interface: eth2
  medium: lte
  provider: Viettel
  role: backup
"#,
    r#"apiVersion: hatang.io/v1alpha1
kind: AddressPlan
metadata:
  name: ha-noi
spec:
  ipv6Roots:
    - 2001:db8::/32
  infrastructure:
    loopbacks: 2001:db8:ffff:1::/64
    pointToPoint: 2001:db8:ffff:2::/64
  services:
    dc-main: 2001:db8:100::/48
    dc-backup: 2001:db8:200::/48
  asnPool:
    first: 4200000000
    last: 4200099999
  vlanPool:
    first: 100
    last: 3999
"#,
    r#"apiVersion: hatang.io/v1alpha1
kind: Tenant
metadata:
  name: so-tai-chinh
spec:
  displayName: Sở Tài chính
  kind: department
  namespace: so-tai-chinh
  site: dc-giang-vo
"#,
    r#"apiVersion: hatang.io/v1alpha1
kind: ColoLease
metadata:
  name: so-tai-chinh-tam-thoi
  namespace: so-tai-chinh
spec:
  tenant: so-tai-chinh
  dataCenter: dc-main
  space:
    - rack: A02
      fromU: 1
      toU: 10
  powerKw: 3
  start: 2025-08-01
  end: 2026-12-31
  temporary: true
  entitlement:
    vrf: so-tai-chinh
    prefixes:
      - 2001:db8:100:10::/64
"#,
    r#"apiVersion: hatang.io/v1alpha1
kind: InformationSystem
metadata:
  name: cong-dich-vu-cong
  namespace: so-tai-chinh
spec:
  displayName: Cổng dịch vụ công thành phố
  owner: so-tai-chinh
  dataCenter: dc-main
  securityLevel: 3
  dr:
    replicaDataCenter: dc-backup
    rpoMinutes: 15
    rtoMinutes: 60
  servicePrefixes:
    - 2001:db8:100:1::/64
"#,
];

/// An inventory as a list of YAML documents, each known by `Kind/name`, that a test edits
/// before rendering it to one multi-document text.
#[derive(Debug, Clone)]
pub(crate) struct Docs {
    docs: Vec<(String, String)>,
}

/// `Kind/name` of a document written in the style of [`BASE`].
fn identity(doc: &str) -> String {
    let kind = doc
        .lines()
        .find_map(|l| l.strip_prefix("kind: "))
        .unwrap_or_else(|| panic!("document has no top-level kind:\n{doc}"));
    let name = doc
        .lines()
        .find_map(|l| l.strip_prefix("  name: "))
        .unwrap_or_else(|| panic!("document has no metadata.name:\n{doc}"));
    format!("{}/{}", kind.trim(), name.trim())
}

impl Docs {
    /// The valid base inventory.
    pub(crate) fn base() -> Docs {
        Docs {
            docs: BASE
                .iter()
                .map(|d| (identity(d), (*d).to_owned()))
                .collect(),
        }
    }

    fn index(&self, id: &str) -> usize {
        self.docs
            .iter()
            .position(|(i, _)| i == id)
            .unwrap_or_else(|| panic!("no document `{id}` in the inventory"))
    }

    /// The text of document `id` (`Kind/name`).
    pub(crate) fn get(&self, id: &str) -> &str {
        &self.docs[self.index(id)].1
    }

    /// Replaces the one occurrence of `from` in document `id` by `to`.
    pub(crate) fn edit(mut self, id: &str, from: &str, to: &str) -> Docs {
        let i = self.index(id);
        let doc = &mut self.docs[i].1;
        let n = doc.matches(from).count();
        assert_eq!(
            n, 1,
            "`{from}` occurs {n} times in {id}, expected once:\n{doc}"
        );
        *doc = doc.replacen(from, to, 1);
        self
    }

    /// Replaces document `id` entirely.
    pub(crate) fn set(mut self, id: &str, text: &str) -> Docs {
        let i = self.index(id);
        self.docs[i] = (identity(text), text.to_owned());
        self
    }

    /// Removes document `id`.
    pub(crate) fn remove(mut self, id: &str) -> Docs {
        let i = self.index(id);
        self.docs.remove(i);
        self
    }

    /// Appends a document.
    pub(crate) fn push(mut self, text: &str) -> Docs {
        self.docs.push((identity(text), text.to_owned()));
        self
    }

    /// The inventory as one multi-document YAML text.
    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        for (i, (_, doc)) in self.docs.iter().enumerate() {
            if i > 0 {
                out.push_str("---\n");
            }
            out.push_str(doc);
        }
        out
    }
}

/// Loads `text` as [`FILE`].
pub(crate) fn load(text: &str) -> Loaded {
    load::load_str(Path::new(FILE), text, &LoadOptions::default())
}

/// Loads `text` (which must load cleanly) and validates it on [`today`].
pub(crate) fn validate(text: &str) -> Vec<Diagnostic> {
    let loaded = load(text);
    assert!(
        loaded.diagnostics.is_empty(),
        "the inventory should load without problems:\n{}",
        render(&loaded.diagnostics)
    );
    validate::validate(
        &loaded.inventory,
        &loaded.locator(),
        &ValidateOptions::on(today()),
    )
}

/// Loads and validates the edited inventory; returns the text too, to look positions up in.
pub(crate) fn check(docs: &Docs) -> (String, Vec<Diagnostic>) {
    let text = docs.text();
    let diags = validate(&text);
    (text, diags)
}

/// Every diagnostic, one per line block, for failure messages.
pub(crate) fn render(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let _ = writeln!(out, "{d}");
    }
    if out.is_empty() {
        out.push_str("(no diagnostics)\n");
    }
    out
}

/// The errors among `diags`.
pub(crate) fn errors(diags: &[Diagnostic]) -> Vec<&Diagnostic> {
    diags.iter().filter(|d| d.is_error()).collect()
}

/// The warnings among `diags`.
pub(crate) fn warnings(diags: &[Diagnostic]) -> Vec<&Diagnostic> {
    diags.iter().filter(|d| !d.is_error()).collect()
}

/// The codes of the errors among `diags`, sorted.
pub(crate) fn error_codes(diags: &[Diagnostic]) -> Vec<&'static str> {
    let mut codes: Vec<_> = errors(diags).iter().map(|d| d.code).collect();
    codes.sort_unstable();
    codes
}

/// The only diagnostic in `diags`, which must be an error with `code`.
pub(crate) fn only_error<'a>(diags: &'a [Diagnostic], code: &str) -> &'a Diagnostic {
    assert!(
        diags.len() == 1 && diags[0].is_error() && diags[0].code == code,
        "expected exactly one diagnostic, an error `{code}`, got:\n{}",
        render(diags)
    );
    &diags[0]
}

/// The one diagnostic with `code` in `diags` (others may be there).
pub(crate) fn the<'a>(diags: &'a [Diagnostic], code: &str) -> &'a Diagnostic {
    let found: Vec<_> = diags.iter().filter(|d| d.code == code).collect();
    assert!(
        found.len() == 1,
        "expected exactly one `{code}` diagnostic, got {}:\n{}",
        found.len(),
        render(diags)
    );
    found[0]
}

/// 1-based line of the one line of `text` that contains `needle`.
pub(crate) fn line_of(text: &str, needle: &str) -> u32 {
    pos_of(text, needle, needle).0
}

/// (line, column) of `token` on the one line of `text` that contains `line_needle`; 1-based,
/// columns counted in characters as diagnostics count them.
pub(crate) fn pos_of(text: &str, line_needle: &str, token: &str) -> (u32, u32) {
    let hits: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(line_needle))
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "`{line_needle}` should be on exactly one line, found on {:?}",
        hits.iter().map(|(i, _)| i + 1).collect::<Vec<_>>()
    );
    let (index, line) = hits[0];
    let byte = line
        .find(token)
        .unwrap_or_else(|| panic!("`{token}` is not on the line `{line}`"));
    let column = line[..byte].chars().count() + 1;
    (index as u32 + 1, column as u32)
}

/// (line, column) of `token` on the first line containing `line_needle` after the one line
/// containing `after` (to tell apart lines that repeat across documents).
pub(crate) fn pos_after(text: &str, after: &str, line_needle: &str, token: &str) -> (u32, u32) {
    let start = line_of(text, after) as usize;
    let (index, line) = text
        .lines()
        .enumerate()
        .skip(start)
        .find(|(_, l)| l.contains(line_needle))
        .unwrap_or_else(|| panic!("no line with `{line_needle}` after `{after}`"));
    let byte = line
        .find(token)
        .unwrap_or_else(|| panic!("`{token}` is not on the line `{line}`"));
    (index as u32 + 1, line[..byte].chars().count() as u32 + 1)
}

/// Asserts that `diag` points at `file:line:column`.
#[track_caller]
pub(crate) fn assert_at(diag: &Diagnostic, file: &str, (line, column): (u32, u32)) {
    let expected = Location {
        file: file.to_owned(),
        line,
        column,
    };
    assert_eq!(
        diag.location.as_ref(),
        Some(&expected),
        "diagnostic points elsewhere:\n{diag}"
    );
}

/// Asserts that `diag` concerns `object` (`Kind/name`).
#[track_caller]
pub(crate) fn assert_object(diag: &Diagnostic, object: &str) {
    assert_eq!(
        diag.object.as_ref().map(ToString::to_string).as_deref(),
        Some(object),
        "wrong object:\n{diag}"
    );
}

/// The hint of `diag`, which must have one.
#[track_caller]
pub(crate) fn hint(diag: &Diagnostic) -> &str {
    diag.hint
        .as_deref()
        .unwrap_or_else(|| panic!("diagnostic has no hint:\n{diag}"))
}
