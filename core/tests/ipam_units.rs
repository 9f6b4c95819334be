//! IPAM allocator, case by case: pins and their conflicts, exhaustion, /127 and /128 edge cases,
//! IPv4 beside IPv6, spread placement of sites, holds, releases, reactivation and moves.
//!
//! Inventories come from `ipam_gen` (communes on top of the fixed part of the base inventory);
//! positions in diagnostics are looked up in the text that was loaded, never hard-coded.

mod common;
mod ipam_gen;

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{Days, NaiveDate};
use hatang_core::ipam::{AllocValue, ChangeKind, Ledger};
use hatang_core::{Diagnostic, Location};
use ipam_gen::*;
use ipnet::IpNet;

fn today() -> NaiveDate {
    common::today()
}

fn later(days: u64) -> NaiveDate {
    today()
        .checked_add_days(Days::new(days))
        .expect("valid date")
}

fn empty() -> Ledger {
    Ledger::default()
}

/// The value of `key`, as text.
#[track_caller]
fn value(ledger: &Ledger, key: &str) -> String {
    ledger
        .entries
        .get(key)
        .unwrap_or_else(|| panic!("no `{key}` in the ledger:\n{}", ledger.to_yaml()))
        .value
        .to_string()
}

/// The prefix of `key`.
#[track_caller]
fn prefix(ledger: &Ledger, key: &str) -> IpNet {
    value(ledger, key).parse().expect("a prefix")
}

/// Allocation errors, which must all have `code`.
#[track_caller]
fn errors_of(
    loaded: &hatang_core::Loaded,
    ledger: &Ledger,
    day: NaiveDate,
    code: &str,
) -> Vec<Diagnostic> {
    match allocate(loaded, ledger, day) {
        Ok(a) => panic!(
            "allocation should fail with `{code}`, got:\n{}",
            a.ledger.to_yaml()
        ),
        Err(diags) => {
            assert!(
                diags.iter().all(|d| d.code == code && d.is_error()),
                "expected only `{code}` errors:\n{}",
                common::render(&diags)
            );
            diags
        }
    }
}

fn loc(file: &str, (line, column): (u32, u32)) -> Location {
    Location {
        file: file.to_owned(),
        line,
        column,
    }
}

/// Loads `docs` as one file, `inventory.yaml`.
fn load_one(docs: &[String]) -> (String, hatang_core::Loaded) {
    let text = join(docs);
    (text, load_docs(docs, Layout::CANONICAL))
}

/// A plan document written by hand.
fn plan_doc(body: &str) -> String {
    format!(
        "apiVersion: hatang.io/v1alpha1\nkind: AddressPlan\nmetadata:\n  name: generated\nspec:\n{body}"
    )
}

// ---------------------------------------------------------------------------------------------
// The generated inventories themselves
// ---------------------------------------------------------------------------------------------

#[test]
fn generated_inventories_are_valid() {
    for plan in [
        Plan::default(),
        Plan {
            v4: Some(20),
            hold_days: 0,
            ..Plan::default()
        },
    ] {
        let inv = Inv::new(
            plan,
            (0..6).map(|i| {
                if i % 2 == 0 {
                    Commune::pinned(i)
                } else {
                    Commune::plain(i)
                }
            }),
        );
        let diags = common::validate(&inv.text());
        assert!(diags.is_empty(), "{}", common::render(&diags));
    }
}

#[test]
fn every_request_gets_a_value_and_planning_again_changes_nothing() {
    let inv = Inv::new(
        Plan {
            v4: Some(7),
            ..Plan::default()
        },
        (0..5).map(Commune::plain),
    );
    let (_, loaded) = load_one(&inv.docs());
    let first = allocate_ok(&loaded, &empty(), today());
    let keys: BTreeSet<String> = first.ledger.entries.keys().cloned().collect();
    assert_eq!(keys, inv.keys());
    assert_sound(&first.ledger, &inv.plan);
    assert!(first.changes.iter().all(|c| c.kind == ChangeKind::Added));
    assert_eq!(first.changes.len(), keys.len());
    assert_eq!(first.kept, 0);

    let again = allocate_ok(&loaded, &first.ledger, later(1));
    assert_eq!(again.ledger, first.ledger);
    assert!(again.changes.is_empty(), "{:?}", again.changes);
    assert_eq!(again.kept, keys.len());

    // The lease's VLAN is the pool's first; the edges' ASNs come first in key order.
    assert_eq!(
        value(&first.ledger, "vlan/so-tai-chinh/so-tai-chinh-tam-thoi"),
        "100"
    );
    assert_eq!(value(&first.ledger, "asn/cpe-20000"), "4200000000");
    assert_eq!(value(&first.ledger, "asn/edge-backup-1"), "4200000005");
}

// ---------------------------------------------------------------------------------------------
// Pins
// ---------------------------------------------------------------------------------------------

#[test]
fn pins_are_honoured() {
    let inv = Inv::new(
        Plan {
            v4: Some(3),
            ..Plan::default()
        },
        [
            Commune::pinned(0),
            Commune::plain(1),
            Commune {
                lan_pin: LanPin::Lan0Second,
                ..Commune::pinned(2)
            },
        ],
    );
    let (_, loaded) = load_one(&inv.docs());
    let a = allocate_ok(&loaded, &empty(), today());
    assert_sound(&a.ledger, &inv.plan);
    let pins = pins(&inv);
    assert_eq!(pins.len(), 12, "{pins:?}");
    for (key, pin) in &pins {
        assert_eq!(&value(&a.ledger, key), pin, "{key}");
        assert!(
            a.ledger.entries[key].pinned,
            "{key} should be marked pinned"
        );
    }
    assert_eq!(value(&a.ledger, "site/commune-20000"), "2001:db8:1003::/48");
    assert_eq!(value(&a.ledger, "site-v4/commune-20000"), "10.3.3.0/24");
    assert_eq!(
        value(&a.ledger, "loopback/cpe-20000"),
        "2001:db8:1000:1::1:0/128"
    );
    assert_eq!(
        value(&a.ledger, "p2p/cpe-20000:eth0--edge-main-1:eth1.20000"),
        "2001:db8:1000:2::1:0/127"
    );
    assert_eq!(value(&a.ledger, "asn/cpe-20000"), "4200050000");
    // Unpinned values of the same objects are allocated around the pins.
    assert!(!a.ledger.entries["asn/cpe-20001"].pinned);
    assert_eq!(
        value(&a.ledger, "p2p/cpe-20000:eth1--edge-backup-1:ipsec20000"),
        "2001:db8:1000:2::/127"
    );

    // Planning again keeps everything, pins included.
    let again = allocate_ok(&loaded, &a.ledger, later(1));
    assert!(again.changes.is_empty(), "{:?}", again.changes);
    assert_eq!(again.ledger, a.ledger);
}

#[test]
fn a_pinned_segment_is_never_handed_out_again_in_its_site() {
    // `lan1` (pinned to the site's first /64) sorts after `lan0`, which is allocated.
    let c = Commune {
        lan_pin: LanPin::Lan1First,
        ..Commune::plain(4)
    };
    let inv = Inv::new(
        Plan::default(),
        [Commune {
            pin_site: true,
            ..c
        }],
    );
    let (_, loaded) = load_one(&inv.docs());
    let a = allocate_ok(&loaded, &empty(), today());
    assert_sound(&a.ledger, &inv.plan);
    let site = c.site_pin(&inv.plan);
    assert_eq!(
        value(&a.ledger, "segment/cpe-20004:lan1"),
        sub64(site, 0).to_string()
    );
    assert_eq!(
        value(&a.ledger, "segment/cpe-20004:lan0"),
        sub64(site, 1).to_string()
    );
    // A pinned segment inside a pinned site is no conflict, now or on the next plan.
    let again = allocate_ok(&loaded, &a.ledger, later(1));
    assert!(again.changes.is_empty(), "{:?}", again.changes);
}

#[test]
fn a_pinned_site_keeps_its_allocated_segments() {
    let inv = Inv::new(
        Plan::default(),
        [Commune {
            pin_site: true,
            lan1: true,
            ..Commune::plain(0)
        }],
    );
    let (_, loaded) = load_one(&inv.docs());
    let a = allocate_ok(&loaded, &empty(), today());
    let again = allocate_ok(&loaded, &a.ledger, later(1));
    assert!(again.changes.is_empty(), "{:?}", again.changes);
    assert_eq!(again.ledger, a.ledger);
}

#[test]
fn conflicting_pins_name_both_places() {
    // Commune 1 pins the site prefix commune 0 pins; the two are in different files.
    let inv = Inv::new(
        Plan::default(),
        [
            Commune {
                pin_site: true,
                ..Commune::plain(0)
            },
            Commune::plain(1),
        ],
    );
    let pin = Commune::pinned(0).site_pin(&inv.plan).to_string();
    let mut docs = inv.docs();
    edit(
        &mut docs,
        "Site/ubnd-xa-20001",
        "  region: xa-20001\n",
        &format!("  region: xa-20001\n  ipv6Prefix: \"{pin}\"\n"),
    );
    let (second, first): (Vec<String>, Vec<String>) = docs
        .into_iter()
        .partition(|d| doc_id(d) == "Site/ubnd-xa-20001");
    let (a_text, b_text) = (join(&first), join(&second));
    let loaded = load_files(&[("a.yaml", a_text.clone()), ("b.yaml", b_text.clone())]);
    let diags = errors_of(&loaded, &empty(), today(), "pin-conflict");
    assert_eq!(diags.len(), 1, "{}", common::render(&diags));
    let d = &diags[0];
    assert!(
        d.message.contains("site/commune-20000") && d.message.contains("site/commune-20001"),
        "{d}"
    );
    let here = loc(
        "a.yaml",
        common::pos_of(&a_text, &format!("ipv6Prefix: \"{pin}\""), "\""),
    );
    let there = loc(
        "b.yaml",
        common::pos_of(&b_text, &format!("ipv6Prefix: \"{pin}\""), "\""),
    );
    let places: BTreeSet<&Location> = d
        .location
        .iter()
        .chain(d.related.iter().map(|r| &r.location))
        .collect();
    assert_eq!(places, BTreeSet::from([&here, &there]), "{d}");
    assert!(common::hint(d).contains("unique"));

    // The same for two devices pinning one loopback (in one file).
    let inv = Inv::new(Plan::default(), [Commune::pinned(0), Commune::plain(1)]);
    let lo = Commune::pinned(0).loopback_pin(&inv.plan).to_string();
    let mut docs = inv.docs();
    edit(
        &mut docs,
        "Device/cpe-20001",
        "  role: cpe\n",
        &format!("  role: cpe\n  loopback: \"{lo}\"\n"),
    );
    let (text, loaded) = load_one(&docs);
    let diags = errors_of(&loaded, &empty(), today(), "pin-conflict");
    assert_eq!(diags.len(), 1, "{}", common::render(&diags));
    let d = &diags[0];
    let first = common::pos_after(&text, "site: ubnd-xa-20000", "loopback:", "\"");
    let second = common::pos_after(&text, "site: ubnd-xa-20001", "loopback:", "\"");
    let places: BTreeSet<Location> = d
        .location
        .iter()
        .chain(d.related.iter().map(|r| &r.location))
        .cloned()
        .collect();
    assert_eq!(
        places,
        BTreeSet::from([loc("inventory.yaml", first), loc("inventory.yaml", second)]),
        "{d}"
    );
}

#[test]
fn a_pin_on_a_value_the_ledger_already_gave_away_is_an_error() {
    let inv = Inv::new(Plan::default(), (0..3).map(Commune::plain));
    let (_, loaded) = load_one(&inv.docs());
    let before = allocate_ok(&loaded, &empty(), today()).ledger;
    let taken = value(&before, "site/commune-20001");
    let asn = value(&before, "asn/cpe-20000");

    let mut docs = inv.docs();
    edit(
        &mut docs,
        "Site/ubnd-xa-20002",
        "  region: xa-20002\n",
        &format!("  region: xa-20002\n  ipv6Prefix: \"{taken}\"\n"),
    );
    edit(
        &mut docs,
        "Device/cpe-20002",
        "  role: cpe\n",
        &format!("  role: cpe\n  asn: {asn}\n"),
    );
    let (text, loaded) = load_one(&docs);
    let diags = errors_of(&loaded, &before, later(1), "pin-conflict");
    // The site pin overlaps commune 1's site and the segment inside it.
    assert_eq!(diags.len(), 3, "{}", common::render(&diags));
    let site = diags
        .iter()
        .find(|d| {
            d.message.contains("site/commune-20002") && d.message.contains("`site/commune-20001`")
        })
        .expect("site conflict");
    common::assert_at(
        site,
        "inventory.yaml",
        common::pos_of(&text, &format!("ipv6Prefix: \"{taken}\""), "\""),
    );
    common::assert_object(site, "Site/ubnd-xa-20002");
    let asn_diag = diags
        .iter()
        .find(|d| d.message.contains("asn/cpe-20002"))
        .expect("asn conflict");
    assert!(asn_diag.message.contains("asn/cpe-20000"), "{asn_diag}");

    // A held value is no more available to a pin than an active one.
    let docs_without_1 = Inv::new(Plan::default(), [Commune::plain(0), Commune::plain(2)]).docs();
    let (_, loaded) = load_one(&docs_without_1);
    let held = allocate_ok(&loaded, &before, later(1)).ledger;
    assert!(held.entries["site/commune-20001"].held.is_some());
    let mut docs = docs_without_1;
    edit(
        &mut docs,
        "Site/ubnd-xa-20002",
        "  region: xa-20002\n",
        &format!("  region: xa-20002\n  ipv6Prefix: \"{taken}\"\n"),
    );
    let (_, loaded) = load_one(&docs);
    let diags = errors_of(&loaded, &held, later(2), "pin-conflict");
    // Commune 1's held site, and its held segment.
    assert_eq!(diags.len(), 2, "{}", common::render(&diags));
    assert!(
        diags
            .iter()
            .all(|d| d.message.contains("site/commune-20002"))
    );
}

#[test]
fn a_pin_outside_its_pool_is_an_error() {
    let plan = Plan {
        v4: Some(9),
        ..Plan::default()
    };
    let cases: [(&str, &str, String); 5] = [
        (
            "Site/ubnd-xa-20000",
            "ipv6Prefix",
            "2001:db8:2000::/48".into(),
        ),
        ("Site/ubnd-xa-20000", "ipv4Prefix", "10.10.1.0/24".into()),
        ("Device/cpe-20000", "loopback", "2001:db8:1000:3::1".into()),
        ("Device/cpe-20000", "asn", "4200100000".into()),
        ("Device/cpe-20000", "asn", "64512".into()),
    ];
    for (id, field, pin) in cases {
        let inv = Inv::new(plan.clone(), [Commune::plain(0), Commune::plain(1)]);
        let mut docs = inv.docs();
        let anchor = if id.starts_with("Site") {
            "  region: xa-20000\n"
        } else {
            "  role: cpe\n"
        };
        let quoted = if field == "asn" {
            pin.clone()
        } else {
            format!("\"{pin}\"")
        };
        edit(
            &mut docs,
            id,
            anchor,
            &format!("{anchor}  {field}: {quoted}\n"),
        );
        let (text, loaded) = load_one(&docs);
        let diags = errors_of(&loaded, &empty(), today(), "pin-outside-pool");
        assert_eq!(diags.len(), 1, "{pin}: {}", common::render(&diags));
        let d = &diags[0];
        assert!(d.message.contains(&pin), "{d}");
        common::assert_at(
            d,
            "inventory.yaml",
            common::pos_of(&text, &format!("{field}: {quoted}"), &quoted),
        );
        // The plan is named as the other place.
        assert_eq!(d.related.len(), 1, "{d}");
        assert_eq!(
            d.related[0].location.line,
            common::line_of(&text, "kind: AddressPlan") + 3,
            "{d}"
        );
    }

    // A point-to-point pin outside the block (on the CPE end of the primary circuit).
    let inv = Inv::new(plan, [Commune::plain(0)]);
    let mut docs = inv.docs();
    edit(
        &mut docs,
        "Device/cpe-20000",
        "      description: primary uplink\n",
        "      description: primary uplink\n      addresses: [\"2001:db8:1000:3::/127\"]\n",
    );
    let (_, loaded) = load_one(&docs);
    let diags = errors_of(&loaded, &empty(), today(), "pin-outside-pool");
    assert!(diags[0].message.contains("p2p"), "{}", diags[0]);
}

#[test]
fn a_pin_on_reserved_space_is_an_error() {
    let plan = Plan::default();
    let [dc_main, dc_backup] = plan.service_nets();
    let cases: [(&str, &str, String); 4] = [
        ("Site/ubnd-xa-20000", "ipv6Prefix", dc_backup.to_string()),
        (
            "Site/ubnd-xa-20000",
            "ipv6Prefix",
            plan.site(plan.services[0] + 1).to_string(),
        ),
        (
            "Site/ubnd-xa-20000",
            "ipv6Prefix",
            plan.site(plan.infra).to_string(),
        ),
        // The loopback block's all-zero address is the subnet-router anycast address.
        (
            "Device/cpe-20000",
            "loopback",
            plan.loopbacks().network().to_string(),
        ),
    ];
    assert!(dc_main.contains(&plan.site(plan.services[0] + 1)));
    for (id, field, pin) in cases {
        let inv = Inv::new(plan.clone(), [Commune::plain(0)]);
        let mut docs = inv.docs();
        let anchor = if id.starts_with("Site") {
            "  region: xa-20000\n"
        } else {
            "  role: cpe\n"
        };
        edit(
            &mut docs,
            id,
            anchor,
            &format!("{anchor}  {field}: \"{pin}\"\n"),
        );
        let (text, loaded) = load_one(&docs);
        let diags = errors_of(&loaded, &empty(), today(), "pin-outside-pool");
        assert_eq!(diags.len(), 1, "{pin}: {}", common::render(&diags));
        assert!(diags[0].message.contains("reserved"), "{}", diags[0]);
        common::assert_at(
            &diags[0],
            "inventory.yaml",
            common::pos_of(&text, &format!("{field}: \"{pin}\""), "\""),
        );
    }
}

#[test]
fn a_pinned_segment_must_lie_in_its_site() {
    let plan = Plan::default();
    let inv = Inv::new(plan.clone(), [Commune::plain(0), Commune::plain(1)]);
    let mut docs = inv.docs();
    // A /64 of the root that is not inside commune 0's site (whatever that turns out to be).
    let elsewhere = sub64(plan.site(0xfe), 5);
    edit(
        &mut docs,
        "Device/cpe-20000",
        "      description: office LAN\n",
        &format!(
            "      description: office LAN\n      addresses: [\"{}/64\"]\n",
            addr_in(elsewhere, 1)
        ),
    );
    let (text, loaded) = load_one(&docs);
    let diags = errors_of(&loaded, &empty(), today(), "pin-outside-pool");
    assert_eq!(diags.len(), 1, "{}", common::render(&diags));
    assert!(
        diags[0].message.contains("segment/cpe-20000:lan0"),
        "{}",
        diags[0]
    );
    common::assert_at(
        &diags[0],
        "inventory.yaml",
        common::pos_after(&text, "site: ubnd-xa-20000", "addresses:", "addresses"),
    );
}

// ---------------------------------------------------------------------------------------------
// Exhaustion
// ---------------------------------------------------------------------------------------------

#[test]
fn exhaustion_names_the_pool() {
    // A /46 root holds four /48s; the infrastructure blocks take one: room for three communes.
    let inv = Inv::new(Plan::default(), (0..5).map(Commune::plain));
    let mut docs = inv.docs();
    replace(
        &mut docs,
        "AddressPlan/generated",
        &plan_doc(
            "  ipv6Roots: [\"2001:db8::/46\"]\n  infrastructure:\n    loopbacks: \"2001:db8:0:1::/64\"\n    pointToPoint: \"2001:db8:0:2::/64\"\n  asnPool: {first: 4200000000, last: 4200000099}\n",
        ),
    );
    assert!(common::validate(&join(&docs)).is_empty());
    let (text, loaded) = load_one(&docs);
    let diags = errors_of(&loaded, &empty(), today(), "pool-exhausted");
    assert_eq!(diags.len(), 2, "{}", common::render(&diags));
    for (d, code) in diags.iter().zip(["20003", "20004"]) {
        assert!(d.message.contains("pool `site-v6`"), "{d}");
        assert!(d.message.contains("4 slots"), "{d}");
        assert!(d.message.contains(&format!("site/commune-{code}")), "{d}");
        common::assert_object(d, &format!("Site/ubnd-xa-{code}"));
        common::assert_at(
            d,
            "inventory.yaml",
            common::pos_of(&text, &format!("name: ubnd-xa-{code}"), "ubnd"),
        );
        assert!(common::hint(d).contains("AddressPlan"));
    }

    // A tiny ASN pool: two edges and three CPEs want one each.
    let mut docs = Inv::new(Plan::default(), (0..3).map(Commune::plain)).docs();
    edit(
        &mut docs,
        "AddressPlan/generated",
        "    last: 4200099999\n",
        "    last: 4200000003\n",
    );
    let (_, loaded) = load_one(&docs);
    let diags = errors_of(&loaded, &empty(), today(), "pool-exhausted");
    assert_eq!(diags.len(), 1, "{}", common::render(&diags));
    assert!(diags[0].message.contains("pool `asn`"), "{}", diags[0]);
    assert!(diags[0].message.contains("asn/edge-main-1"), "{}", diags[0]);
}

// ---------------------------------------------------------------------------------------------
// Point-to-point /127s and loopback /128s
// ---------------------------------------------------------------------------------------------

/// The base generated inventory with other infrastructure blocks.
fn with_infra(communes: usize, loopbacks: &str, p2p: &str) -> Vec<String> {
    let plan = Plan::default();
    let mut docs = Inv::plain(communes).docs();
    edit(
        &mut docs,
        "AddressPlan/generated",
        &format!("loopbacks: \"{}\"", plan.loopbacks()),
        &format!("loopbacks: \"{loopbacks}\""),
    );
    edit(
        &mut docs,
        "AddressPlan/generated",
        &format!("pointToPoint: \"{}\"", plan.p2p()),
        &format!("pointToPoint: \"{p2p}\""),
    );
    docs
}

fn p2p_values(ledger: &Ledger) -> Vec<(String, IpNet)> {
    ledger
        .entries
        .iter()
        .filter(|(_, e)| e.pool == "p2p")
        .map(|(k, e)| (k.clone(), e.value.prefix().expect("prefix")))
        .collect()
}

#[test]
fn point_to_point_links_are_slash_127s_of_two_addresses() {
    let inv = Inv::plain(3);
    let (_, loaded) = load_one(&inv.docs());
    let ledger = allocate_ok(&loaded, &empty(), today()).ledger;
    let links = p2p_values(&ledger);
    assert_eq!(links.len(), 6);
    for (i, (key, net)) in links.iter().enumerate() {
        let IpNet::V6(v6) = net else {
            panic!("{key}: {net} is not IPv6")
        };
        assert_eq!(v6.prefix_len(), 127, "{key}");
        assert_eq!(
            u128::from(v6.broadcast()) - u128::from(v6.network()),
            1,
            "{key}: two addresses"
        );
        // Sequential, in key order, from the start of the block (RFC 6164: the all-zero
        // address of a /127 is used too).
        assert_eq!(
            v6.network(),
            addr_in(inv.plan.p2p(), 2 * i as u128),
            "{key}"
        );
        for (other, o) in &links[..i] {
            assert!(!overlaps(net, o), "{key} overlaps {other}");
        }
    }
}

#[test]
fn the_last_slash_127_of_the_block_is_used_and_then_the_pool_is_exhausted() {
    // A /125 holds four /127s: two communes, four circuits.
    let docs = with_infra(2, "2001:db8:1000:1::/64", "2001:db8:1000:2::/125");
    let (_, loaded) = load_one(&docs);
    let ledger = allocate_ok(&loaded, &empty(), today()).ledger;
    let values: Vec<String> = p2p_values(&ledger)
        .iter()
        .map(|(_, v)| v.to_string())
        .collect();
    assert_eq!(
        values,
        [
            "2001:db8:1000:2::/127",
            "2001:db8:1000:2::2/127",
            "2001:db8:1000:2::4/127",
            "2001:db8:1000:2::6/127"
        ]
    );
    // A third commune finds no room.
    let docs = with_infra(3, "2001:db8:1000:1::/64", "2001:db8:1000:2::/125");
    let (_, loaded) = load_one(&docs);
    let diags = errors_of(&loaded, &ledger, later(1), "pool-exhausted");
    assert_eq!(diags.len(), 2, "{}", common::render(&diags));
    assert!(
        diags
            .iter()
            .all(|d| d.message.contains("pool `p2p`") && d.message.contains("4 slots"))
    );

    // The last /127 of a /64 block can be pinned.
    let mut docs = Inv::plain(1).docs();
    edit(
        &mut docs,
        "Device/cpe-20000",
        "      description: primary uplink\n",
        "      description: primary uplink\n      addresses: [\"2001:db8:1000:2:ffff:ffff:ffff:ffff/127\"]\n",
    );
    let (_, loaded) = load_one(&docs);
    let ledger = allocate_ok(&loaded, &empty(), today()).ledger;
    assert_eq!(
        value(&ledger, "p2p/cpe-20000:eth0--edge-main-1:eth1.20000"),
        "2001:db8:1000:2:ffff:ffff:ffff:fffe/127"
    );
    assert_eq!(
        value(&ledger, "p2p/cpe-20000:eth1--edge-backup-1:ipsec20000"),
        "2001:db8:1000:2::/127"
    );
}

#[test]
fn a_block_of_exactly_one_slash_127() {
    let docs = with_infra(1, "2001:db8:1000:1::/64", "2001:db8:1000:2::4/127");
    let (_, loaded) = load_one(&docs);
    let diags = errors_of(&loaded, &empty(), today(), "pool-exhausted");
    // The first circuit in key order gets the whole block, the second finds none.
    assert_eq!(diags.len(), 1, "{}", common::render(&diags));
    assert!(
        diags[0]
            .message
            .contains("pool `p2p` is exhausted (1 slots"),
        "{}",
        diags[0]
    );
    assert!(
        diags[0]
            .message
            .contains("p2p/cpe-20000:eth1--edge-backup-1:ipsec20000"),
        "{}",
        diags[0]
    );

    // Pinning the block itself is fine.
    let mut docs = with_infra(1, "2001:db8:1000:1::/64", "2001:db8:1000:2::4/127");
    edit(
        &mut docs,
        "Device/cpe-20000",
        "      description: backup uplink\n",
        "      description: backup uplink\n      addresses: [\"2001:db8:1000:2::5/127\"]\n",
    );
    let (_, loaded) = load_one(&docs);
    let diags = errors_of(&loaded, &empty(), today(), "pool-exhausted");
    assert!(
        diags[0]
            .message
            .contains("p2p/cpe-20000:eth0--edge-main-1:eth1.20000"),
        "{}",
        diags[0]
    );
}

#[test]
fn loopbacks_are_slash_128s_and_never_the_all_zero_address() {
    let inv = Inv::plain(2);
    let (_, loaded) = load_one(&inv.docs());
    let ledger = allocate_ok(&loaded, &empty(), today()).ledger;
    let lo: Vec<(String, String)> = ledger
        .entries
        .iter()
        .filter(|(_, e)| e.pool == "loopback")
        .map(|(k, e)| (k.clone(), e.value.to_string()))
        .collect();
    let expected: Vec<(String, String)> = [
        "cpe-20000",
        "cpe-20001",
        "edge-backup-1",
        "edge-main-1",
        "fw-main-1",
    ]
    .iter()
    .enumerate()
    .map(|(i, d)| {
        (
            format!("loopback/{d}"),
            format!("2001:db8:1000:1::{:x}/128", i + 1),
        )
    })
    .collect();
    assert_eq!(lo, expected);

    // A /126 has four addresses of which three are usable: exactly the three DC devices.
    let docs = with_infra(0, "2001:db8:1000:1::/126", "2001:db8:1000:2::/64");
    let (_, loaded) = load_one(&docs);
    let ledger = allocate_ok(&loaded, &empty(), today()).ledger;
    let mut values: Vec<String> = ledger
        .entries
        .values()
        .filter(|e| e.pool == "loopback")
        .map(|e| e.value.to_string())
        .collect();
    values.sort();
    assert_eq!(
        values,
        [
            "2001:db8:1000:1::1/128",
            "2001:db8:1000:1::2/128",
            "2001:db8:1000:1::3/128"
        ]
    );
    let docs = with_infra(1, "2001:db8:1000:1::/126", "2001:db8:1000:2::/64");
    let (_, loaded) = load_one(&docs);
    let diags = errors_of(&loaded, &ledger, later(1), "pool-exhausted");
    assert_eq!(diags.len(), 1, "{}", common::render(&diags));
    assert!(diags[0].message.contains("pool `loopback`"), "{}", diags[0]);

    // A /128 block is only the all-zero address: nothing to give.
    let docs = with_infra(0, "2001:db8:1000:1::/128", "2001:db8:1000:2::/64");
    let (_, loaded) = load_one(&docs);
    let diags = errors_of(&loaded, &empty(), today(), "pool-exhausted");
    assert_eq!(diags.len(), 3, "{}", common::render(&diags));
}

// ---------------------------------------------------------------------------------------------
// IPv4 beside IPv6, spread placement
// ---------------------------------------------------------------------------------------------

#[test]
fn ipv4_sites_come_alongside_ipv6() {
    let v6_only = Inv::plain(4);
    let dual = Inv::new(
        Plan {
            v4: Some(10),
            ..Plan::default()
        },
        (0..4).map(Commune::plain),
    );
    let (_, loaded) = load_one(&v6_only.docs());
    let l6 = allocate_ok(&loaded, &empty(), today()).ledger;
    let (_, loaded) = load_one(&dual.docs());
    let l46 = allocate_ok(&loaded, &empty(), today()).ledger;
    assert_sound(&l46, &dual.plan);
    assert!(l6.entries.keys().all(|k| !k.starts_with("site-v4/")));
    // IPv6 values are the same with or without IPv4.
    for (k, e) in &l6.entries {
        assert_eq!(l46.entries[k].value, e.value, "{k}");
    }
    let v4: Vec<(String, String)> = l46
        .entries
        .iter()
        .filter(|(_, e)| e.pool == "site-v4")
        .map(|(k, e)| (k.clone(), e.value.to_string()))
        .collect();
    assert_eq!(
        v4,
        [
            (
                "site-v4/commune-20000".to_owned(),
                "10.10.0.0/24".to_owned()
            ),
            ("site-v4/commune-20001".into(), "10.10.128.0/24".into()),
            ("site-v4/commune-20002".into(), "10.10.64.0/24".into()),
            ("site-v4/commune-20003".into(), "10.10.192.0/24".into()),
        ]
    );
    // Data centres get no site prefix in either family.
    assert!(l46.entries.keys().all(|k| !k.contains("dc-")));
    assert_eq!(
        l46.entries["site-v4/commune-20000"].owner,
        "Site/ubnd-xa-20000"
    );
}

#[test]
fn sites_are_spread_so_that_each_can_grow() {
    // Slots 0x00 (infrastructure), 0x80 and 0x40 (services) are reserved: the spread order
    // 0x00, 0x80, 0x40, 0xc0, 0x20, 0xa0, 0x60, 0xe0, … skips them.
    let inv = Inv::plain(5);
    let (_, loaded) = load_one(&inv.docs());
    let ledger = allocate_ok(&loaded, &empty(), today()).ledger;
    let sites: Vec<String> = (0..5)
        .map(|i| value(&ledger, &format!("site/commune-{}", code(i))))
        .collect();
    assert_eq!(
        sites,
        [
            "2001:db8:10c0::/48",
            "2001:db8:1020::/48",
            "2001:db8:10a0::/48",
            "2001:db8:1060::/48",
            "2001:db8:10e0::/48"
        ]
    );
    // Each site is alone in its /43: 31 free /48s to grow into.
    let taken: Vec<IpNet> = ledger
        .entries
        .values()
        .filter_map(|e| e.value.prefix())
        .chain(inv.plan.reserved().into_iter().map(IpNet::V6))
        .collect();
    for s in &sites {
        let site: IpNet = s.parse().expect("prefix");
        let room = site
            .supernet()
            .and_then(|n| n.supernet())
            .and_then(|n| n.supernet())
            .expect("/45");
        let room = room.supernet().and_then(|n| n.supernet()).expect("/43");
        let others = taken
            .iter()
            .filter(|t| overlaps(t, &room) && !site.contains(*t))
            .count();
        assert_eq!(others, 0, "{s} shares {room}");
    }
    // Segments inside a site are sequential.
    let inv = Inv::new(
        Plan::default(),
        [Commune {
            lan1: true,
            ..Commune::plain(0)
        }],
    );
    let (_, loaded) = load_one(&inv.docs());
    let ledger = allocate_ok(&loaded, &empty(), today()).ledger;
    assert_eq!(
        value(&ledger, "segment/cpe-20000:lan0"),
        "2001:db8:10c0::/64"
    );
    assert_eq!(
        value(&ledger, "segment/cpe-20000:lan1"),
        "2001:db8:10c0:1::/64"
    );
    assert_eq!(
        ledger.entries["segment/cpe-20000:lan0"].pool,
        "segment:site/commune-20000"
    );
}

#[test]
fn the_base_plan_spreads_its_two_communes() {
    let loaded = common::load(&common::Docs::base().text());
    let ledger = allocate_ok(&loaded, &empty(), today()).ledger;
    assert_eq!(value(&ledger, "site/commune-00004"), "2001:db8::/48");
    assert_eq!(value(&ledger, "site/commune-00070"), "2001:db8:8000::/48");
}

// ---------------------------------------------------------------------------------------------
// Holds, releases, reactivation, moves
// ---------------------------------------------------------------------------------------------

fn without(inv: &Inv, i: usize) -> Inv {
    let mut out = inv.clone();
    out.communes.remove(&i);
    out
}

fn with(inv: &Inv, c: Commune) -> Inv {
    let mut out = inv.clone();
    out.communes.insert(c.i, c);
    out
}

#[test]
fn removed_values_are_held_then_released() {
    let inv = Inv::new(
        Plan {
            hold_days: 30,
            v4: Some(1),
            ..Plan::default()
        },
        (0..3).map(Commune::plain),
    );
    let (_, loaded) = load_one(&inv.docs());
    let l0 = allocate_ok(&loaded, &empty(), today()).ledger;
    let gone = Commune::plain(1).keys(&inv.plan);

    // Commune 1 goes on day 1 while commune 5 arrives: its values are held, not reused.
    let inv1 = with(&without(&inv, 1), Commune::plain(5));
    let (_, loaded) = load_one(&inv1.docs());
    let a1 = allocate_ok(&loaded, &l0, later(1));
    assert_sound(&a1.ledger, &inv1.plan);
    let held: BTreeSet<String> = a1
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Held)
        .map(|c| c.key.clone())
        .collect();
    assert_eq!(held, gone.iter().cloned().collect());
    for k in &gone {
        let e = &a1.ledger.entries[k];
        assert_eq!(e.value, l0.entries[k].value, "{k}");
        let h = e.held.expect("held");
        assert_eq!((h.since, h.release_after), (later(1), later(31)), "{k}");
    }
    // Commune 5's site is a new value, not the held one.
    assert_ne!(
        value(&a1.ledger, "site/commune-20005"),
        value(&l0, "site/commune-20001")
    );

    // Still held on the last day of the hold.
    let a2 = allocate_ok(&loaded, &a1.ledger, later(31));
    assert!(a2.changes.is_empty(), "{:?}", a2.changes);
    assert_eq!(a2.ledger, a1.ledger);

    // Released the day after, then free for the next new site.
    let a3 = allocate_ok(&loaded, &a2.ledger, later(32));
    let released: BTreeSet<String> = a3
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Released)
        .map(|c| c.key.clone())
        .collect();
    assert_eq!(released, gone.iter().cloned().collect());
    assert_eq!(a3.changes.len(), gone.len());
    assert!(gone.iter().all(|k| !a3.ledger.entries.contains_key(k)));
    let inv4 = with(&inv1, Commune::plain(9));
    let (_, loaded) = load_one(&inv4.docs());
    let a4 = allocate_ok(&loaded, &a3.ledger, later(33));
    assert_eq!(
        value(&a4.ledger, "site/commune-20009"),
        value(&l0, "site/commune-20001")
    );
    assert_sound(&a4.ledger, &inv4.plan);
}

#[test]
fn a_held_value_returns_to_its_object() {
    let inv = Inv::new(
        Plan::default(),
        [Commune::plain(0), Commune::pinned(1), Commune::plain(2)],
    );
    let (_, loaded) = load_one(&inv.docs());
    let l0 = allocate_ok(&loaded, &empty(), today()).ledger;
    let mut l = l0.clone();
    for (i, day) in [(0, 10), (1, 50)] {
        // Remove commune i, add another, bring commune i back.
        let gone = inv.communes[&i];
        let away = with(&without(&inv, i), Commune::plain(10 + i));
        let (_, loaded) = load_one(&away.docs());
        l = allocate_ok(&loaded, &l, later(day)).ledger;
        let back = with(&inv, Commune::plain(10 + i));
        let (_, loaded) = load_one(&back.docs());
        let a = allocate_ok(&loaded, &l, later(day + 10));
        let keys: BTreeSet<String> = gone.keys(&inv.plan).into_iter().collect();
        let reactivated: BTreeSet<String> = a
            .changes
            .iter()
            .filter(|c| c.kind == ChangeKind::Reactivated)
            .map(|c| c.key.clone())
            .collect();
        assert_eq!(reactivated, keys);
        assert_eq!(a.changes.len(), keys.len(), "{:?}", a.changes);
        for k in &keys {
            assert_eq!(a.ledger.entries[k].value, l0.entries[k].value, "{k}");
            assert!(a.ledger.entries[k].held.is_none());
        }
        assert_sound(&a.ledger, &inv.plan);
        l = a.ledger;
    }
}

#[test]
fn a_device_moved_to_another_site_gets_a_segment_there() {
    let inv = Inv::plain(2);
    let (_, loaded) = load_one(&inv.docs());
    let l0 = allocate_ok(&loaded, &empty(), today()).ledger;
    let mut docs = inv.docs();
    edit(
        &mut docs,
        "Device/cpe-20000",
        "  site: ubnd-xa-20000\n",
        "  site: ubnd-xa-20001\n",
    );
    let (_, loaded) = load_one(&docs);
    let a = allocate_ok(&loaded, &l0, later(1));
    assert_sound(&a.ledger, &inv.plan);
    let old = value(&l0, "segment/cpe-20000:lan0");
    let kinds: Vec<(ChangeKind, &str)> =
        a.changes.iter().map(|c| (c.kind, c.key.as_str())).collect();
    let previous = format!("segment/cpe-20000:lan0@{old}");
    assert_eq!(
        kinds,
        [
            (ChangeKind::Moved, "segment/cpe-20000:lan0"),
            (ChangeKind::Held, previous.as_str())
        ]
    );
    let c = &a.changes[0];
    assert_eq!(c.old.as_deref(), Some(old.as_str()));
    // The old segment is still routed at the old site until the change is applied: held.
    let held = &a.ledger.entries[&previous];
    assert_eq!(held.value.to_string(), old);
    assert!(held.held.is_some_and(|h| h.since == later(1)));
    let site1 = prefix(&l0, "site/commune-20001");
    let new = prefix(&a.ledger, "segment/cpe-20000:lan0");
    assert!(site1.contains(&new), "{new} should be inside {site1}");
    assert_eq!(
        new.to_string(),
        format!("{}:1::/64", site1.to_string().trim_end_matches("::/48"))
    );
    assert_eq!(
        a.ledger.entries["segment/cpe-20000:lan0"].pool,
        "segment:site/commune-20001"
    );
    // Its loopback and ASN do not depend on the site.
    for k in ["loopback/cpe-20000", "asn/cpe-20000"] {
        assert_eq!(a.ledger.entries[k], l0.entries[k]);
    }
}

#[test]
fn a_site_given_a_new_prefix_takes_its_segments_along() {
    let inv = Inv::new(
        Plan::default(),
        [
            Commune {
                lan1: true,
                ..Commune::plain(0)
            },
            Commune::plain(1),
        ],
    );
    let (_, loaded) = load_one(&inv.docs());
    let l0 = allocate_ok(&loaded, &empty(), today()).ledger;
    let old_site = value(&l0, "site/commune-20000");
    // Commune 0's site is pinned to another /48; commune 2 arrives in the same plan.
    let now = with(
        &Inv::new(
            Plan::default(),
            [
                Commune {
                    lan1: true,
                    pin_site: true,
                    ..Commune::plain(0)
                },
                Commune::plain(1),
            ],
        ),
        Commune::plain(2),
    );
    let (_, loaded) = load_one(&now.docs());
    let a = allocate_ok(&loaded, &l0, later(1));
    assert_sound(&a.ledger, &now.plan);
    let pin = Commune::plain(0).site_pin(&now.plan);
    let moved: Vec<(&str, Option<&str>, &str)> = a
        .changes
        .iter()
        .filter(|c| c.key != "site/commune-20000")
        .filter(|c| !matches!(c.kind, ChangeKind::Added | ChangeKind::Held))
        .map(|c| (c.key.as_str(), c.old.as_deref(), c.value.as_str()))
        .collect();
    let (lan0, lan1) = (sub64(pin, 0).to_string(), sub64(pin, 1).to_string());
    let (old0, old1) = (
        value(&l0, "segment/cpe-20000:lan0"),
        value(&l0, "segment/cpe-20000:lan1"),
    );
    assert_eq!(
        moved,
        [
            ("segment/cpe-20000:lan0", Some(old0.as_str()), lan0.as_str()),
            ("segment/cpe-20000:lan1", Some(old1.as_str()), lan1.as_str())
        ]
    );
    assert!(
        a.changes
            .iter()
            .filter(|c| c.key.starts_with("segment/cpe-20000"))
            .all(|c| c.kind == ChangeKind::Moved || c.key.contains('@'))
    );
    // The old /48 and the old segments are still routed until the change is applied
    // everywhere: they are held (not handed to commune 2) until the hold time ends.
    let held: Vec<&str> = a
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Held)
        .map(|c| c.key.as_str())
        .collect();
    let previous = [
        format!("segment/cpe-20000:lan0@{old0}"),
        format!("segment/cpe-20000:lan1@{old1}"),
        format!("site/commune-20000@{old_site}"),
    ];
    assert_eq!(
        held,
        previous.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_ne!(value(&a.ledger, "site/commune-20002"), old_site);
    // After the hold they are released, and the old /48 can be handed out again.
    let day = later(1) + chrono::Days::new(u64::from(Plan::default().hold_days) + 1);
    let b = allocate_ok(&loaded, &a.ledger, day);
    let released: Vec<&str> = b
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Released)
        .map(|c| c.key.as_str())
        .collect();
    assert_eq!(
        released,
        previous.iter().map(String::as_str).collect::<Vec<_>>()
    );
}

#[test]
fn a_pin_changed_back_takes_its_held_value_again() {
    let inv = Inv::plain(2);
    let (_, loaded) = load_one(&inv.docs());
    let l0 = allocate_ok(&loaded, &empty(), today()).ledger;
    let first = value(&l0, "site/commune-20001");
    let mut docs = inv.docs();
    let pin = Commune::plain(1).site_pin(&inv.plan);
    edit(
        &mut docs,
        "Site/ubnd-xa-20001",
        "  region: xa-20001\n",
        &format!("  region: xa-20001\n  ipv6Prefix: \"{pin}\"\n"),
    );
    let (_, pinned) = load_one(&docs);
    let a = allocate_ok(&pinned, &l0, later(1));
    let previous = format!("site/commune-20001@{first}");
    assert!(a.ledger.entries[&previous].held.is_some());
    // Pinning the first value again is not a conflict with the held copy: it is taken back.
    let mut docs = inv.docs();
    edit(
        &mut docs,
        "Site/ubnd-xa-20001",
        "  region: xa-20001\n",
        &format!("  region: xa-20001\n  ipv6Prefix: \"{first}\"\n"),
    );
    let (_, back) = load_one(&docs);
    let b = allocate_ok(&back, &a.ledger, later(2));
    assert_sound(&b.ledger, &inv.plan);
    assert_eq!(value(&b.ledger, "site/commune-20001"), first);
    assert!(!b.ledger.entries.contains_key(&previous));
    assert!(
        b.ledger
            .entries
            .contains_key(&format!("site/commune-20001@{pin}"))
    );
}

#[test]
fn a_held_segment_keeps_its_old_site_prefix_out_of_use() {
    // In one plan commune 0's CPE goes away (its LAN segment is held) and its site is pinned to
    // another /48; the old /48 must not go to commune 2 while the held segment lies in it.
    let inv = Inv::plain(2);
    let (_, loaded) = load_one(&inv.docs());
    let l0 = allocate_ok(&loaded, &empty(), today()).ledger;
    let old_site = prefix(&l0, "site/commune-20000");
    let mut docs = with(
        &Inv::new(
            Plan::default(),
            [
                Commune {
                    pin_site: true,
                    ..Commune::plain(0)
                },
                Commune::plain(1),
            ],
        ),
        Commune::plain(2),
    )
    .docs();
    docs.retain(|d| {
        ![
            "Device/cpe-20000",
            "Circuit/cpe-20000-primary",
            "Circuit/cpe-20000-backup",
        ]
        .contains(&doc_id(d).as_str())
    });
    let (_, loaded) = load_one(&docs);
    let a = allocate_ok(&loaded, &l0, later(1));
    assert_sound(&a.ledger, &inv.plan);
    assert!(a.ledger.entries["segment/cpe-20000:lan0"].held.is_some());
    assert!(old_site.contains(&prefix(&a.ledger, "segment/cpe-20000:lan0")));
    assert!(!overlaps(
        &prefix(&a.ledger, "site/commune-20002"),
        &old_site
    ));
}

#[test]
fn the_invariant_checker_sees_overlaps_and_strays() {
    // The property tests rely on `violations`: make sure it is not blind.
    let inv = Inv::plain(2);
    let (_, loaded) = load_one(&inv.docs());
    let good = allocate_ok(&loaded, &empty(), today()).ledger;
    assert!(violations(&good, &inv.plan).is_empty());
    let mut bad = good.clone();
    let seg0 = bad.entries["segment/cpe-20000:lan0"].value;
    bad.entries
        .get_mut("segment/cpe-20001:lan0")
        .expect("entry")
        .value = seg0;
    bad.entries.get_mut("asn/cpe-20001").expect("entry").value = AllocValue::Number(4200000000);
    bad.entries
        .get_mut("loopback/cpe-20001")
        .expect("entry")
        .value = format!("{}/128", inv.plan.loopbacks().network())
        .parse()
        .expect("value");
    let v = violations(&bad, &inv.plan);
    assert!(
        v.iter().any(|m| m.contains("not inside its site's prefix")),
        "{v:?}"
    );
    assert!(
        v.iter()
            .any(|m| m.contains("segment/cpe-20001:lan0") && m.contains("overlaps")),
        "{v:?}"
    );
    assert!(v.iter().any(|m| m.contains("both have asn")), "{v:?}");
    assert!(v.iter().any(|m| m.contains("all-zero")), "{v:?}");
}

#[test]
fn a_changed_pin_replaces_the_ledger_value() {
    let inv = Inv::plain(2);
    let (_, loaded) = load_one(&inv.docs());
    let l0 = allocate_ok(&loaded, &empty(), today()).ledger;
    let mut docs = inv.docs();
    let pin = Commune::plain(1).site_pin(&inv.plan);
    edit(
        &mut docs,
        "Site/ubnd-xa-20001",
        "  region: xa-20001\n",
        &format!("  region: xa-20001\n  ipv6Prefix: \"{pin}\"\n"),
    );
    let (_, loaded) = load_one(&docs);
    let a = allocate_ok(&loaded, &l0, later(1));
    let c = a
        .changes
        .iter()
        .find(|c| c.key == "site/commune-20001")
        .expect("change");
    assert_eq!(c.kind, ChangeKind::Repinned);
    assert_eq!(
        c.old.as_deref(),
        Some(value(&l0, "site/commune-20001").as_str())
    );
    assert_eq!(value(&a.ledger, "site/commune-20001"), pin.to_string());
    assert!(a.ledger.entries["site/commune-20001"].pinned);
}

// ---------------------------------------------------------------------------------------------
// The ledger file
// ---------------------------------------------------------------------------------------------

#[test]
fn an_empty_ledger_round_trips() {
    let text = Ledger::default().to_yaml();
    let back = Ledger::parse(Path::new("allocations.lock.yaml"), &text).expect("parses");
    assert_eq!(back, Ledger::default());
    assert_eq!(back.to_yaml(), text);
}

#[test]
fn a_ledger_with_every_kind_of_entry_round_trips() {
    let inv = Inv::new(
        Plan {
            v4: Some(4),
            ..Plan::default()
        },
        [Commune::pinned(0), Commune::plain(1), Commune::pinned(2)],
    );
    let (_, loaded) = load_one(&inv.docs());
    let l0 = allocate_ok(&loaded, &empty(), today()).ledger;
    let (_, loaded) = load_one(&without(&inv, 2).docs());
    let l1 = allocate_ok(&loaded, &l0, later(3)).ledger;
    assert!(l1.entries.values().any(|e| e.held.is_some() && e.pinned));
    assert!(
        l1.entries
            .values()
            .any(|e| matches!(e.value, AllocValue::Number(_)))
    );
    let text = l1.to_yaml();
    let back = Ledger::parse(Path::new("allocations.lock.yaml"), &text).expect("parses");
    assert_eq!(back, l1);
    assert_eq!(back.to_yaml(), text);
    // One entry per line, sorted by key.
    let keys: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("  - {key: \""))
        .map(|l| &l[..l.find('"').expect("closing quote")])
        .collect();
    assert_eq!(keys.len(), l1.entries.len());
    assert!(keys.windows(2).all(|w| w[0] < w[1]));
}

// ---------------------------------------------------------------------------------------------
// Large inventories: more sites and devices than one chunk of the planner's parallel parts
// ---------------------------------------------------------------------------------------------

/// 2,600 communes (more than a chunk of 2,048 sites and of 1,024 devices) give one ledger
/// whatever the order and split of the documents and the number of threads, and planning again
/// changes nothing.
#[test]
fn a_large_inventory_plans_the_same_in_any_order_on_any_number_of_threads() {
    let inv = Inv::new(Plan::default(), (0..2600).map(Commune::plain));
    // The generated plan's /40 holds 256 sites: give it a /32.
    let root = format!("\"{}\"", inv.plan.root_net());
    let docs: Vec<String> = inv
        .docs()
        .into_iter()
        .map(|d| d.replace(&root, "\"2001:db8::/32\""))
        .collect();
    let canonical = load_docs(&docs, Layout::CANONICAL);
    let shuffled = load_docs(
        &docs,
        Layout {
            seed: 7,
            files: 5,
            tag: "large",
        },
    );
    let x = allocate_ok(&canonical, &empty(), today());
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a thread pool");
    let y = one_thread.install(|| allocate_ok(&shuffled, &empty(), today()));
    let keys: BTreeSet<String> = x.ledger.entries.keys().cloned().collect();
    assert_eq!(keys, inv.keys());
    assert_eq!(x.ledger, y.ledger);
    assert_eq!(x.changes, y.changes);
    let again = allocate_ok(&shuffled, &x.ledger, later(1));
    assert!(again.changes.is_empty(), "{:?}", &again.changes[..3]);
    assert_eq!(again.ledger, x.ledger);
    // Every value once.
    let values: BTreeSet<String> = x
        .ledger
        .entries
        .values()
        .map(|e| format!("{}/{}", e.pool.split(':').next().unwrap_or(""), e.value))
        .collect();
    assert_eq!(values.len(), x.ledger.entries.len());
}

// ---------------------------------------------------------------------------------------------
// A plan made smaller under values the ledger holds
// ---------------------------------------------------------------------------------------------

#[test]
fn shrinking_a_pool_under_values_the_ledger_holds_names_the_orphaned_entries() {
    let inv = Inv::new(Plan::default(), (0..4).map(Commune::plain));
    let (_, loaded) = load_one(&inv.docs());
    let first = allocate_ok(&loaded, &empty(), today());
    let asns: Vec<(String, u32)> = first
        .ledger
        .entries
        .iter()
        .filter(|(_, e)| e.pool == "asn")
        .map(|(k, e)| (k.clone(), e.value.number().unwrap()))
        .collect();
    assert!(asns.len() >= 4, "{asns:?}");
    let lowest = asns.iter().map(|(_, n)| *n).min().unwrap();
    // Keep the two lowest numbers in the pool: every other ASN the ledger holds is orphaned.
    let last = lowest + 1;
    let mut docs = inv.docs();
    edit(
        &mut docs,
        "AddressPlan/generated",
        "    last: 4200099999\n",
        &format!("    last: {last}\n"),
    );
    // And the IPv6 root cut to its first /44 (sites are spread over the /40).
    let root = inv.plan.root_net();
    let small = IpNet::V6(ipnet::Ipv6Net::new(root.network(), 44).unwrap());
    edit(
        &mut docs,
        "AddressPlan/generated",
        &format!("    - \"{root}\"\n"),
        &format!("    - \"{small}\"\n"),
    );
    let (text, loaded) = load_one(&docs);
    let diags = errors_of(&loaded, &first.ledger, later(1), "ledger-orphaned");
    let by_pool = |pool: &str| {
        diags
            .iter()
            .find(|d| d.message.contains(&format!("`{pool}` pool")))
            .unwrap_or_else(|| panic!("no orphan error for `{pool}`:\n{}", common::render(&diags)))
    };
    let d = by_pool("asn");
    let orphaned: Vec<&(String, u32)> = asns.iter().filter(|(_, n)| *n > last).collect();
    assert!(
        d.message
            .contains(&format!("no longer covers {} value(s)", orphaned.len())),
        "{d}"
    );
    for (key, n) in &orphaned {
        assert!(d.message.contains(&format!("`{key}` ({n})")), "{d}");
    }
    for (key, _) in asns.iter().filter(|(_, n)| *n <= last) {
        assert!(
            !d.message.contains(&format!("`{key}`")),
            "{key} is still covered: {d}"
        );
    }
    common::assert_object(d, "AddressPlan/generated");
    common::assert_at(
        d,
        "inventory.yaml",
        common::pos_of(&text, "  asnPool:", "asnPool"),
    );

    let outside: Vec<String> = first
        .ledger
        .entries
        .iter()
        .filter(|(_, e)| e.pool == "site-v6")
        .filter(|(_, e)| !small.contains(&e.value.prefix().unwrap()))
        .map(|(k, _)| k.clone())
        .collect();
    assert!(
        !outside.is_empty(),
        "the /44 keeps every site: pick a smaller root"
    );
    let d = by_pool("site-v6");
    for key in &outside {
        assert!(d.message.contains(&format!("`{key}`")), "{d}");
    }
    common::assert_at(
        d,
        "inventory.yaml",
        common::pos_of(&text, "  ipv6Roots:", "ipv6Roots"),
    );
    assert_eq!(diags.len(), 2, "{}", common::render(&diags));

    // The unchanged plan loses nothing.
    let (_, loaded) = load_one(&inv.docs());
    assert!(allocate(&loaded, &first.ledger, later(1)).is_ok());
}
