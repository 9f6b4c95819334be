//! Small inventories for the metrics' unit tests, written as YAML like the real ones.

use chrono::NaiveDate;

use super::{Context, Measure, Metric, Scope};
use crate::load::{LoadOptions, load_str};
use crate::model::Inventory;

/// Two data centers, three commune offices (`a`, `b`, `c`) under one district, CPEs and edges.
/// Office `a` has a primary and a backup circuit, `b` only a primary (over the government data
/// network), `c` none.
pub(crate) const BASE: &str = r#"
apiVersion: hatang.io/v1alpha1
kind: Region
metadata: {name: hn}
spec: {displayName: Hà Nội, level: province, type: thành phố, code: "01"}
---
apiVersion: hatang.io/v1alpha1
kind: Region
metadata: {name: ward-a}
spec: {displayName: Phường A, level: commune, type: phường, code: "00001", parent: hn}
---
apiVersion: hatang.io/v1alpha1
kind: Region
metadata: {name: ward-b}
spec: {displayName: Phường B, level: commune, type: phường, code: "00002", parent: hn}
---
apiVersion: hatang.io/v1alpha1
kind: Region
metadata: {name: ward-c}
spec: {displayName: Xã C, level: commune, type: xã, code: "00003", parent: hn}
---
apiVersion: hatang.io/v1alpha1
kind: Site
metadata: {name: dc-main-site}
spec: {displayName: TTDL chính, role: datacenter, region: hn, uplink: none}
---
apiVersion: hatang.io/v1alpha1
kind: Site
metadata: {name: dc-backup-site}
spec: {displayName: TTDL dự phòng, role: datacenter, region: hn, uplink: none}
---
apiVersion: hatang.io/v1alpha1
kind: DataCenter
metadata: {name: dc-main}
spec:
  displayName: TTDL chính
  site: dc-main-site
  tier: main
  peer: dc-backup
  socCollectors: ["2001:db8::514"]
  powerFeeds: [{name: A, capacityKw: 100}, {name: B, capacityKw: 100}]
  rooms: [{name: R1, racks: [{name: A01, heightU: 42, powerKw: 5, feeds: [A, B]}]}]
---
apiVersion: hatang.io/v1alpha1
kind: DataCenter
metadata: {name: dc-backup}
spec: {displayName: TTDL dự phòng, site: dc-backup-site, tier: backup, peer: dc-main}
---
apiVersion: hatang.io/v1alpha1
kind: Site
metadata: {name: office-a}
spec: {displayName: UBND Phường A, role: commune-office, region: ward-a}
---
apiVersion: hatang.io/v1alpha1
kind: Site
metadata: {name: office-b}
spec: {displayName: UBND Phường B, role: commune-office, region: ward-b, ipv6Prefix: "2001:db8:b::/48"}
---
apiVersion: hatang.io/v1alpha1
kind: Site
metadata: {name: office-c}
spec: {displayName: UBND Xã C, role: commune-office, region: ward-c}
---
apiVersion: hatang.io/v1alpha1
kind: Device
metadata: {name: edge-main}
spec:
  site: dc-main-site
  role: wan-edge
  platform: frr
  interfaces: [{name: a1}, {name: b1}]
---
apiVersion: hatang.io/v1alpha1
kind: Device
metadata: {name: edge-backup}
spec:
  site: dc-backup-site
  role: wan-edge
  platform: frr
  interfaces: [{name: a2}]
---
apiVersion: hatang.io/v1alpha1
kind: Device
metadata: {name: cpe-a}
spec: {site: office-a, role: cpe, platform: frr, interfaces: [{name: wan1}, {name: wan2}]}
---
apiVersion: hatang.io/v1alpha1
kind: Device
metadata: {name: cpe-b}
spec: {site: office-b, role: cpe, platform: frr, interfaces: [{name: wan1}]}
---
apiVersion: hatang.io/v1alpha1
kind: Device
metadata: {name: fw-b}
spec: {site: office-b, role: firewall, platform: frr, interfaces: []}
---
apiVersion: hatang.io/v1alpha1
kind: Circuit
metadata: {name: a-primary}
spec: {a: {device: cpe-a, interface: wan1}, z: {device: edge-main, interface: a1}, medium: fiber, role: primary}
---
apiVersion: hatang.io/v1alpha1
kind: Circuit
metadata: {name: a-backup}
spec: {a: {device: cpe-a, interface: wan2}, z: {device: edge-backup, interface: a2}, medium: lte, role: backup}
---
apiVersion: hatang.io/v1alpha1
kind: Circuit
metadata: {name: b-primary}
spec: {a: {device: cpe-b, interface: wan1}, z: {device: edge-main, interface: b1}, medium: government-data-network, role: primary}
"#;

/// `BASE` followed by `extra` documents, loaded; panics on a loader error (a broken fixture).
pub(crate) fn inventory(extra: &str) -> Inventory {
    let text = format!("{BASE}\n---\n{extra}");
    let loaded = load_str(
        std::path::Path::new("t.yaml"),
        &text,
        &LoadOptions::default(),
    );
    assert!(
        loaded.diagnostics.is_empty(),
        "fixture does not load: {:?}",
        loaded.diagnostics
    );
    loaded.inventory
}

/// The day the fixtures are judged on.
pub(crate) fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
}

/// `metric` over `scope` on `inventory`, judged on [`today`].
pub(crate) fn measure(inventory: &Inventory, metric: Metric, scope: &str) -> Measure {
    let ctx = Context::new(inventory, None, today());
    metric.measure(&ctx, &Scope::for_metric(metric, scope).unwrap())
}

/// The names of the failing objects.
pub(crate) fn failing(m: &Measure) -> Vec<&str> {
    m.failing.iter().map(|f| f.object.name.as_str()).collect()
}
