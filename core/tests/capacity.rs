//! `capacity::compute` on the small base inventory: free ranges, power per rack and feed (2N),
//! lease shares over several racks, releases and their bound.

mod common;

use chrono::NaiveDate;
use common::*;
use hatang_core::capacity::{self, Capacity, RackCapacity, UnitRange};

fn compute(docs: &Docs, until: Option<NaiveDate>) -> Capacity {
    let loaded = load(&docs.text());
    capacity::compute(&loaded.inventory, today(), until)
}

fn rack<'a>(c: &'a Capacity, dc: &str, name: &str) -> &'a RackCapacity {
    c.data_centers
        .iter()
        .find(|d| d.name == dc)
        .and_then(|d| {
            d.rooms
                .iter()
                .flat_map(|r| &r.racks)
                .find(|r| r.name == name)
        })
        .unwrap_or_else(|| panic!("no rack {dc}/{name}"))
}

fn range(from_u: u32, to_u: u32) -> UnitRange {
    UnitRange { from_u, to_u }
}

const SPLIT_LEASE: &str = "apiVersion: hatang.io/v1alpha1
kind: ColoLease
metadata:
  name: so-tai-chinh-hai-tu
  namespace: so-tai-chinh
spec:
  tenant: so-tai-chinh
  dataCenter: dc-main
  space:
    - rack: A01
      fromU: 1
      toU: 5
    - rack: A02
      fromU: 20
      toU: 25
  powerKw: 4
  start: 2025-01-01
  end: 2026-03-31
";

#[test]
fn free_ranges_power_and_feeds_of_the_base_inventory() {
    let c = compute(&Docs::base(), None);
    // A01: firewall U38–U39, edge U40.
    let a01 = rack(&c, "dc-main", "A01");
    assert_eq!(a01.free, vec![range(1, 37), range(41, 42)]);
    assert_eq!((a01.units_used, a01.units_free), (3, 39));
    assert!((a01.power_used_kw - 0.5).abs() < 1e-9);
    assert!((a01.power_headroom_kw - 7.5).abs() < 1e-9);
    // A02: the temporary lease U1–U10, 3 kW, in force on 2026-01-15.
    let a02 = rack(&c, "dc-main", "A02");
    assert_eq!(a02.free, vec![range(11, 42)]);
    assert!((a02.power_used_kw - 3.0).abs() < 1e-9);
    assert_eq!(a02.lease_shares.len(), 1);
    // 2N: each feed carries both racks in full (0.5 + 3.0 of 10 kW).
    let main = &c.data_centers[0];
    for f in &main.feeds {
        assert!((f.load_kw - 3.5).abs() < 1e-9, "{f:?}");
        assert!((f.headroom_kw - 6.5).abs() < 1e-9, "{f:?}");
        assert_eq!(f.racks, ["A01", "A02"]);
    }
    assert_eq!(main.units_free, 39 + 32);
}

#[test]
fn a_lease_over_two_racks_puts_half_its_power_in_each() {
    let c = compute(&Docs::base().push(SPLIT_LEASE), None);
    let a01 = rack(&c, "dc-main", "A01");
    let share = a01
        .lease_shares
        .iter()
        .find(|s| s.lease == "so-tai-chinh-hai-tu")
        .expect("share in A01");
    assert_eq!(share.spaces, 2);
    assert!((share.share_kw - 2.0).abs() < 1e-9);
    assert!((a01.power_used_kw - 2.5).abs() < 1e-9);
    assert_eq!(a01.free, vec![range(6, 37), range(41, 42)]);
    let a02 = rack(&c, "dc-main", "A02");
    assert_eq!(a02.free, vec![range(11, 19), range(26, 42)]);
    assert!((a02.power_used_kw - 5.0).abs() < 1e-9);
}

#[test]
fn a_future_lease_holds_power_but_not_yet_its_units() {
    let future = SPLIT_LEASE
        .replace("start: 2025-01-01", "start: 2026-06-01")
        .replace("end: 2026-03-31", "end: 2026-09-30");
    let c = compute(&Docs::base().push(&future), None);
    let a01 = rack(&c, "dc-main", "A01");
    assert_eq!(a01.free, vec![range(1, 37), range(41, 42)]);
    assert!((a01.power_used_kw - 2.5).abs() < 1e-9);
}

#[test]
fn releases_come_the_day_after_each_end_up_to_until() {
    let docs = Docs::base().push(SPLIT_LEASE);
    let all = compute(&docs, None);
    let dates: Vec<(String, &str, UnitRange)> = all.data_centers[0]
        .releases
        .iter()
        .map(|r| (r.date.to_string(), r.rack.as_str(), r.units))
        .collect();
    assert_eq!(
        dates,
        vec![
            ("2026-04-01".to_owned(), "A01", range(1, 5)),
            ("2026-04-01".to_owned(), "A02", range(20, 25)),
            ("2027-01-01".to_owned(), "A02", range(1, 10)),
        ]
    );
    let bounded = compute(&docs, NaiveDate::from_ymd_opt(2026, 6, 30));
    assert_eq!(bounded.data_centers[0].releases.len(), 2);
    assert!(bounded.data_centers[1].releases.is_empty());
}
