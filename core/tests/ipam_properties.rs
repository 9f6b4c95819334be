//! Property tests of the IPAM allocator (proptest), over generated inventories of commune offices
//! (`ipam_gen`): determinism whatever the document order and file layout, no overlapping or
//! repeated values, every value in its pool and off reserved space, stability of every remaining
//! allocation when objects are inserted, removed, reordered or moved between renamed files,
//! holds and releases, and exact ledger round trips. Pool-level properties run on
//! `PrefixPool` directly.
//!
//! Case counts are chosen so that the file runs in well under a minute in a debug build on two
//! cores; `PROPTEST_CASES` overrides them all.

mod common;
mod ipam_gen;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{Days, NaiveDate};
use hatang_core::ipam::{AllocValue, Bits, ChangeKind, Entry, Hold, Ledger, Placement, PrefixPool};
use ipam_gen::*;
use proptest::prelude::*;

fn day(n: u64) -> NaiveDate {
    common::today()
        .checked_add_days(Days::new(n))
        .expect("valid date")
}

/// Cases for a test: `PROPTEST_CASES` when set, else `default`.
fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        // Every generated inventory loads; nothing is rejected, so keep shrinking short.
        max_shrink_iters: 256,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

fn plan() -> impl Strategy<Value = Plan> {
    (
        any::<u8>(),
        // Infrastructure and service slots: distinct multiples of 4, so that spread placement
        // meets them early.
        prop::sample::subsequence((0u8..64).collect::<Vec<_>>(), 3).prop_shuffle(),
        prop::option::weighted(0.4, any::<u8>()),
        prop_oneof![Just(0u32), 1u32..=120],
    )
        .prop_map(|(root, slots, v4, hold_days)| Plan {
            root,
            infra: slots[0] * 4,
            services: [slots[1] * 4, slots[2] * 4],
            v4,
            hold_days,
        })
}

fn commune(i: usize) -> impl Strategy<Value = Commune> {
    let pin = || prop::bool::weighted(0.2);
    (
        pin(),
        prop::bool::weighted(0.3),
        0u8..3,
        pin(),
        pin(),
        pin(),
    )
        .prop_map(
            move |(pin_site, lan1, lan, pin_loopback, pin_asn, pin_p2p)| {
                Commune {
                    i,
                    pin_site,
                    lan1,
                    lan_pin: [LanPin::None, LanPin::Lan0Second, LanPin::Lan1First][lan as usize],
                    pin_loopback,
                    pin_asn,
                    pin_p2p,
                }
                .normalised()
            },
        )
}

/// Communes drawn from the universe: `size` of them, each with random pins.
fn communes(size: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<Commune>> {
    prop::sample::subsequence((0..UNIVERSE).collect::<Vec<_>>(), size)
        .prop_flat_map(|idx| idx.into_iter().map(commune).collect::<Vec<_>>())
}

fn layout(tag: &'static str) -> impl Strategy<Value = Layout> {
    (1u64.., 1usize..=5).prop_map(move |(seed, files)| Layout { seed, files, tag })
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn alloc(
    inv: &Inv,
    layout: Layout,
    ledger: &Ledger,
    today: NaiveDate,
) -> hatang_core::ipam::Allocation {
    let loaded = load_docs(&inv.docs(), layout);
    allocate_ok(&loaded, ledger, today)
}

/// Checks the invariants of a ledger and that every pin of `inv` is what the ledger holds.
fn check_sound(ledger: &Ledger, inv: &Inv) -> Result<(), TestCaseError> {
    let v = violations(ledger, &inv.plan);
    prop_assert!(
        v.is_empty(),
        "invariants broken:\n{}\n{}",
        v.join("\n"),
        ledger.to_yaml()
    );
    for (key, pin) in pins(inv) {
        let e = ledger.entries.get(&key);
        prop_assert!(
            e.is_some_and(|e| e.value.to_string() == pin && e.pinned && e.held.is_none()),
            "pin {pin} of {key} not honoured: {e:?}"
        );
    }
    Ok(())
}

/// Whether two entries of one pool hold the same number or prefixes that share an address
/// (every pair compared: the ledgers here are small).
fn shares_a_value(ledger: &Ledger) -> bool {
    let entries: Vec<&Entry> = ledger.entries.values().collect();
    entries.iter().enumerate().any(|(i, a)| {
        entries[i + 1..].iter().any(|b| {
            a.pool == b.pool
                && match (&a.value, &b.value) {
                    (AllocValue::Number(x), AllocValue::Number(y)) => x == y,
                    (AllocValue::Prefix(x), AllocValue::Prefix(y)) => {
                        x.contains(&y.network()) || y.contains(&x.network())
                    }
                    _ => false,
                }
        })
    })
}

fn round_trip(ledger: &Ledger) -> Result<(), TestCaseError> {
    let text = ledger.to_yaml();
    let back = Ledger::parse(Path::new("allocations.lock.yaml"), &text)
        .map_err(|d| TestCaseError::fail(format!("{d}\n{text}")))?;
    prop_assert_eq!(&back, ledger);
    prop_assert_eq!(back.to_yaml(), text);
    Ok(())
}

fn kinds(changes: &[hatang_core::ipam::Change], kind: ChangeKind) -> BTreeSet<String> {
    changes
        .iter()
        .filter(|c| c.kind == kind)
        .map(|c| c.key.clone())
        .collect()
}

fn keys_of(inv: &Inv) -> BTreeSet<String> {
    inv.keys()
}

// ---------------------------------------------------------------------------------------------
// Determinism
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(400))]

    /// Same inventory + same ledger ⇒ same ledger, same changes, whatever the order of the
    /// documents, how they are split into files and how the files are named; and every value is
    /// sound.
    #[test]
    fn same_inventory_and_ledger_give_the_same_result(
        plan in plan(),
        before in communes(0..=16),
        now in communes(1..=24),
        a in layout("north"),
        b in layout("south"),
        gap in 0u64..200,
    ) {
        // A commune's LANs and LAN pins are the same in both inventories (a LAN pin that appears
        // on a value the ledger gave another LAN is a conflict, tested elsewhere); its other pins
        // may come and go (a new site pin moves its segments).
        let lans: BTreeMap<usize, (bool, LanPin)> = now.iter().map(|c| (c.i, (c.lan1, c.lan_pin))).collect();
        let before = before.into_iter().map(|mut c| {
            if let Some(&(lan1, lan_pin)) = lans.get(&c.i) {
                c.lan1 = lan1;
                c.lan_pin = lan_pin;
            }
            c.normalised()
        });
        let inv0 = Inv::new(plan.clone(), before);
        let inv = Inv::new(plan, now);
        // The starting ledger: empty, or what an earlier inventory left (some values held).
        let l0 = if inv0.communes.is_empty() {
            Ledger::default()
        } else {
            alloc(&inv0, Layout::CANONICAL, &Ledger::default(), day(0)).ledger
        };
        let loaded = load_docs(&inv.docs(), a);
        let x = allocate_ok(&loaded, &l0, day(gap));
        let y = allocate_ok(&loaded, &l0, day(gap));
        let z = alloc(&inv, b, &l0, day(gap));
        prop_assert_eq!(&x.ledger, &y.ledger);
        prop_assert_eq!(&x.ledger, &z.ledger);
        prop_assert_eq!(&x.changes, &y.changes);
        prop_assert_eq!(&x.changes, &z.changes);
        prop_assert_eq!((x.kept, &x.pools), (y.kept, &y.pools));
        prop_assert_eq!(x.ledger.to_yaml(), z.ledger.to_yaml());
        check_sound(&x.ledger, &inv)?;
        // Every request of the inventory is in the ledger, active.
        for k in keys_of(&inv) {
            prop_assert!(x.ledger.entries.get(&k).is_some_and(|e| e.held.is_none()), "{} missing", k);
        }
        round_trip(&x.ledger)?;
    }
}

// ---------------------------------------------------------------------------------------------
// Stability, holds, releases, reactivation
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(400))]

    /// Allocate; then remove some communes, insert others, reorder every document and move them
    /// into differently named files: no remaining object's value changes, removed objects'
    /// values are held (not reused), new objects get fresh values. Within the hold time nothing
    /// changes; once it has passed, exactly the removed values are released; a removed commune
    /// that comes back within the hold gets its old values again.
    #[test]
    fn remaining_allocations_never_move(
        plan in plan(),
        first in communes(1..=24),
        remove in prop::collection::vec(prop::bool::weighted(0.3), UNIVERSE),
        insert in communes(0..=8),
        a in layout("before"),
        b in layout("after"),
        gap in 0u64..400,
        within in 0u64..1000,
        beyond in 1u64..1000,
    ) {
        let d0 = day(0);
        let inv1 = Inv::new(plan.clone(), first);
        let a1 = alloc(&inv1, a, &Ledger::default(), d0);
        check_sound(&a1.ledger, &inv1)?;
        prop_assert!(a1.changes.iter().all(|c| c.kind == ChangeKind::Added));
        let l1 = a1.ledger;

        // Insert and remove.
        let mut inv2 = inv1.clone();
        let removed: Vec<Commune> = inv1.communes.values().filter(|c| remove[c.i]).copied().collect();
        for c in &removed {
            inv2.communes.remove(&c.i);
        }
        for c in insert.iter().filter(|c| !inv1.communes.contains_key(&c.i)) {
            inv2.communes.insert(c.i, *c);
        }
        let d1 = day(gap);
        let loaded2 = load_docs(&inv2.docs(), b);
        let a2 = allocate_ok(&loaded2, &l1, d1);
        check_sound(&a2.ledger, &inv2)?;
        let keys1: BTreeSet<String> = l1.entries.keys().cloned().collect();
        let keys2 = keys_of(&inv2);
        let gone: BTreeSet<String> = keys1.difference(&keys2).cloned().collect();
        let new: BTreeSet<String> = keys2.difference(&keys1).cloned().collect();
        for (k, e) in &l1.entries {
            let now = &a2.ledger.entries[k];
            prop_assert_eq!(now.value, e.value, "{} moved", k);
            if gone.contains(k) {
                prop_assert_eq!(now.held, Some(Hold { since: d1, release_after: d1 + Days::new(u64::from(plan.hold_days)) }));
            } else {
                prop_assert!(now.held.is_none());
            }
        }
        prop_assert_eq!(kinds(&a2.changes, ChangeKind::Held), gone.clone());
        prop_assert_eq!(kinds(&a2.changes, ChangeKind::Added), new.clone());
        prop_assert_eq!(a2.changes.len(), gone.len() + new.len());
        prop_assert_eq!(a2.kept, keys1.len() - gone.len());
        let all: BTreeSet<String> = keys2.union(&gone).cloned().collect();
        prop_assert_eq!(a2.ledger.entries.keys().cloned().collect::<BTreeSet<_>>(), all);
        round_trip(&a2.ledger)?;
        let l2 = a2.ledger;

        // Within the hold time (up to its last day), planning again changes nothing.
        if plan.hold_days > 0 {
            let d = d1 + Days::new(within % (u64::from(plan.hold_days) + 1));
            let same = allocate_ok(&loaded2, &l2, d);
            prop_assert!(same.changes.is_empty(), "{:?}", same.changes);
            prop_assert_eq!(&same.ledger, &l2);

            // A removed commune that comes back in time takes its own values again.
            let mut inv4 = inv2.clone();
            for c in &removed {
                inv4.communes.insert(c.i, *c);
            }
            let back = alloc(&inv4, a, &l2, d);
            check_sound(&back.ledger, &inv4)?;
            prop_assert_eq!(kinds(&back.changes, ChangeKind::Reactivated), gone.clone());
            prop_assert_eq!(back.changes.len(), gone.len());
            for k in &gone {
                prop_assert_eq!(back.ledger.entries[k].value, l1.entries[k].value);
            }
        }

        // After the hold, exactly the removed values are released; nothing else changes.
        let d3 = d1 + Days::new(u64::from(plan.hold_days) + beyond);
        let a3 = allocate_ok(&loaded2, &l2, d3);
        prop_assert_eq!(kinds(&a3.changes, ChangeKind::Released), gone.clone());
        prop_assert_eq!(a3.changes.len(), gone.len());
        prop_assert_eq!(a3.ledger.entries.keys().cloned().collect::<BTreeSet<_>>(), keys2.clone());
        for (k, e) in &a3.ledger.entries {
            prop_assert_eq!(e, &l2.entries[k]);
        }
        check_sound(&a3.ledger, &inv2)?;
    }
}

// ---------------------------------------------------------------------------------------------
// The ledger file
// ---------------------------------------------------------------------------------------------

fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z0-9:/.-]{1,40}", "\\PC{0,24}", any::<String>(),]
}

fn alloc_value() -> impl Strategy<Value = AllocValue> {
    prop_oneof![
        (any::<u128>(), 0u8..=128).prop_map(|(a, l)| {
            let net = ipnet::Ipv6Net::new(std::net::Ipv6Addr::from(a), l).expect("valid");
            AllocValue::Prefix(ipnet::IpNet::V6(net.trunc()))
        }),
        (any::<u32>(), 0u8..=32).prop_map(|(a, l)| {
            let net = ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(a), l).expect("valid");
            AllocValue::Prefix(ipnet::IpNet::V4(net.trunc()))
        }),
        any::<u32>().prop_map(AllocValue::Number),
    ]
}

fn entry() -> impl Strategy<Value = Entry> {
    (
        text(),
        alloc_value(),
        text(),
        any::<bool>(),
        prop::option::of((0u64..100_000, 0u64..100_000)),
    )
        .prop_map(|(pool, value, owner, pinned, held)| Entry {
            pool,
            value,
            owner,
            pinned,
            held: held.map(|(s, r)| Hold {
                since: NaiveDate::from_ymd_opt(1970, 1, 1).expect("date") + Days::new(s),
                release_after: NaiveDate::from_ymd_opt(1970, 1, 1).expect("date") + Days::new(r),
            }),
        })
}

proptest! {
    #![proptest_config(cases(1000))]

    /// `to_yaml` then `parse` gives the same ledger back, and writing it again the same text,
    /// whatever the keys, pools, owners and values hold.
    #[test]
    fn ledger_text_round_trips(entries in prop::collection::btree_map(text(), entry(), 0..12)) {
        let ledger = Ledger { entries };
        if shares_a_value(&ledger) {
            // Two keys of one pool on one value: refused, naming both lines.
            let text = ledger.to_yaml();
            let err = Ledger::parse(Path::new("allocations.lock.yaml"), &text)
                .expect_err("two keys on one value are refused");
            prop_assert_eq!(err.code, "ledger-invalid");
            prop_assert!(err.message.contains("hold the same value"), "{}", err);
            prop_assert_eq!(err.related.len(), 1);
        } else {
            round_trip(&ledger)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Pools
// ---------------------------------------------------------------------------------------------

/// A pool scenario: parents, child length, what is blocked or already taken.
#[derive(Debug, Clone)]
struct PoolCase {
    parents: Vec<Bits>,
    child_len: u8,
    placement: Placement,
    blocked: Vec<Bits>,
    taken: Vec<Bits>,
}

fn v6(addr: u128, len: u8) -> Bits {
    let host = 128 - u32::from(len);
    let addr = if host >= 128 { 0 } else { addr >> host << host };
    Bits {
        width: 128,
        addr,
        len,
    }
}

fn pool_case() -> impl Strategy<Value = PoolCase> {
    let base = 0x2001_0db8_0000_0000_0000_0000_0000_0000u128;
    (
        // Two candidate parents /112 apart, each /p with p in 118..=126; child length up to +8.
        118u8..=126,
        0u8..=8,
        prop::bool::ANY,
        prop::bool::ANY,
        prop::collection::vec((any::<u16>(), 0u8..=10), 0..4),
        prop::collection::vec((any::<u16>(), 0u8..=4), 0..12),
    )
        .prop_map(move |(p, extra, spread, two, blocked, taken)| {
            let child_len = (p + extra).min(128);
            let mut parents = vec![v6(base, p)];
            if two {
                parents.push(v6(base + (1 << 16), p));
            }
            let pick = |parents: &[Bits], r: u16| {
                let parent = parents[usize::from(r) % parents.len()];
                parent.addr + u128::from(r >> 1) % (1u128 << (128 - u32::from(parent.len)))
            };
            PoolCase {
                blocked: blocked
                    .iter()
                    .map(|&(r, d)| v6(pick(&parents, r), (p + d).clamp(p, 128)))
                    .collect(),
                // Taken values: mostly of the child length, some longer or shorter (pins).
                taken: taken
                    .iter()
                    .map(|&(r, d)| {
                        v6(
                            pick(&parents, r),
                            match d {
                                0 => child_len.saturating_sub(1).max(p),
                                1 => (child_len + 1).min(128),
                                _ => child_len,
                            },
                        )
                    })
                    .collect(),
                parents,
                child_len,
                placement: if spread {
                    Placement::Spread
                } else {
                    Placement::Sequential
                },
            }
        })
}

proptest! {
    #![proptest_config(cases(3000))]

    /// A pool hands out every free slot exactly once, in its placement order, inside its
    /// parents, off blocked space and off values taken before, then reports exhaustion.
    #[test]
    fn pools_hand_out_each_free_slot_once_then_exhaust(case in pool_case()) {
        let mut pool = PrefixPool::new("test".into(), case.parents.clone(), case.child_len, case.placement, case.blocked.clone());
        for t in &case.taken {
            pool.take(t);
        }
        let mut got: Vec<Bits> = Vec::new();
        let err = loop {
            match pool.allocate() {
                Ok(b) => got.push(b),
                Err(e) => break e,
            }
            prop_assert!(got.len() <= 1 << 16, "runaway pool");
        };
        prop_assert_eq!(err.pool.as_str(), "test");
        prop_assert_eq!(err.slots, pool.total());

        // Every slot of every parent: free ones were handed out, in order; no other was.
        let mut expected = Vec::new();
        for parent in &case.parents {
            let w = u32::from(case.child_len - parent.len);
            let mut slots: Vec<Bits> = (0..1u128 << w).map(|i| parent.child(case.child_len, i)).collect();
            if case.placement == Placement::Spread && w > 0 {
                slots.sort_by_key(|s| s.index_in(parent).reverse_bits() >> (128 - w));
            }
            for s in slots {
                let blocked = case.blocked.iter().any(|b| b.overlaps(&s))
                    || case.taken.iter().any(|t| if t.len == case.child_len { t.addr == s.addr } else { t.overlaps(&s) });
                if !blocked {
                    expected.push(s);
                }
            }
        }
        prop_assert_eq!(got, expected);
    }
}

// ---------------------------------------------------------------------------------------------
// Sanity of the generator (cheap, runs once)
// ---------------------------------------------------------------------------------------------

#[test]
fn the_generator_covers_what_the_properties_need() {
    // Pins, a second LAN, both segment pin styles, dual stack, every kind of request.
    let plan = Plan {
        v4: Some(1),
        ..Plan::default()
    };
    let inv = Inv::new(
        plan,
        [
            Commune::pinned(0),
            Commune {
                lan_pin: LanPin::Lan0Second,
                ..Commune::pinned(1)
            },
            Commune::plain(2),
        ],
    );
    let keys = inv.keys();
    let pools: BTreeMap<&str, usize> = keys.iter().fold(BTreeMap::new(), |mut m, k| {
        *m.entry(k.split('/').next().expect("prefix")).or_default() += 1;
        m
    });
    assert_eq!(
        pools,
        BTreeMap::from([
            ("asn", 5),
            ("loopback", 6),
            ("p2p", 6),
            ("segment", 5),
            ("site", 3),
            ("site-v4", 3),
            ("vlan", 1)
        ])
    );
    let a = alloc(
        &inv,
        Layout {
            seed: 7,
            files: 4,
            tag: "x",
        },
        &Ledger::default(),
        day(0),
    );
    assert_eq!(
        a.ledger.entries.keys().cloned().collect::<BTreeSet<_>>(),
        keys
    );
    check_sound(&a.ledger, &inv).expect("sound");
}
