//! IPAM allocator benchmarks (goals from the IPAM issue):
//!
//! - `ipam/nationwide-from-empty`: allocate everything the nationwide inventory needs (every
//!   commune of the 2024 GSO list with a CPE and two circuits, a hub per district, two data
//!   centres) on an empty ledger. Goal < 200 ms.
//! - `ipam/nationwide-add-one-commune`: re-plan after adding one commune to a full ledger.
//!   Goal < 20 ms.
//! - `ipam/nationwide-replan` and `ipam/nationwide-replan-pinned`: re-plan the nationwide
//!   inventory on its up-to-date ledger, as it is and with every value pinned to what the ledger
//!   holds (site prefixes, loopbacks, ASNs, link and LAN addresses), as a city importing its
//!   existing addressing writes it. Goal (brownfield pins): pinned within 1.2× of unpinned.
//! - `ipam/pool-1M-slash64-{sequential,spread}`: one million /64s from a /44 with `PrefixPool`.
//!   Goal < 1 s.
//!
//! Generate the nationwide inventory first: `cargo run --release -p xtask -- nationwide` (writes
//! target/nationwide). Run: `cargo bench -p hatang-core --bench ipam -- --noplot`.

use std::collections::HashSet;
use std::hint::black_box;
use std::path::PathBuf;

use chrono::NaiveDate;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use hatang_core::ipam::{self, Bits, ChangeKind, Ledger, Placement, PrefixPool};
use hatang_core::model::{Inventory, SiteRole};
use hatang_core::{LoadOptions, load_paths};

// The same allocator as the `hatang` binary, so figures match whole-process runs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn nationwide() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/nationwide");
    assert!(
        dir.exists(),
        "{} is missing: run `cargo run --release -p xtask -- nationwide` first (scripts/bench.sh does)",
        dir.display()
    );
    dir
}

/// The inventory without one commune: its Region, office Site, CPE, the CPE's circuits and the
/// far-end interfaces those circuits used on the hub and the DC edge.
fn without_commune(inv: &Inventory, site: &str) -> Inventory {
    let mut out = inv.clone();
    let region = inv
        .sites
        .iter()
        .find(|s| s.name() == site)
        .map(|s| s.spec.region.clone())
        .expect("site exists");
    let cpes: HashSet<String> = inv
        .devices
        .iter()
        .filter(|d| d.spec.site == site)
        .map(|d| d.name().to_owned())
        .collect();
    let mut far_ends: HashSet<(String, String)> = HashSet::new();
    out.circuits.retain(|c| {
        let mine = cpes.contains(&c.spec.a.device) || cpes.contains(&c.spec.z.device);
        if mine {
            for end in [&c.spec.a, &c.spec.z] {
                far_ends.insert((end.device.clone(), end.interface.clone()));
            }
        }
        !mine
    });
    out.sites.retain(|s| s.name() != site);
    out.regions.retain(|r| r.name() != region);
    out.devices.retain(|d| !cpes.contains(d.name()));
    for d in &mut out.devices {
        let name = d.name().to_owned();
        d.spec
            .interfaces
            .retain(|i| !far_ends.contains(&(name.clone(), i.name.clone())));
    }
    out
}

fn bench(c: &mut Criterion) {
    let dir = vec![nationwide()];
    let loaded = load_paths(&dir, &LoadOptions::default()).unwrap();
    assert!(!loaded.has_errors());
    let inv = &loaded.inventory;
    let locator = loaded.locator();
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();

    let mut group = c.benchmark_group("ipam");
    group.sample_size(10);

    group.bench_function("nationwide-from-empty", |b| {
        b.iter(|| ipam::allocate(inv, Ledger::default(), &locator, today).unwrap())
    });

    // A full ledger for the inventory without one commune (one in the middle of the list);
    // planning the whole inventory on it adds that commune.
    let communes: Vec<&str> = inv
        .sites
        .iter()
        .filter(|s| s.spec.role == SiteRole::CommuneOffice)
        .map(|s| s.name())
        .collect();
    let site = communes[communes.len() / 2];
    let before = without_commune(inv, site);
    let full = ipam::allocate(&before, Ledger::default(), &locator, today)
        .unwrap()
        .ledger;
    let after = ipam::allocate(inv, full.clone(), &locator, today).unwrap();
    let added = after
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Added)
        .count();
    assert_eq!(
        (added, after.changes.len()),
        (6, 6),
        "adding {site} should add a site, a loopback, an ASN, a LAN and two links: {:?}",
        after.changes
    );
    eprintln!(
        "ledger: {} entries from empty, {} before adding {site}",
        ipam::allocate(inv, Ledger::default(), &locator, today)
            .unwrap()
            .ledger
            .entries
            .len(),
        full.entries.len()
    );
    // The ledger read from disk is handed to the planner (as `hatang plan` does); copying it
    // and dropping the result are not part of the measurement.
    group.bench_function("nationwide-add-one-commune", |b| {
        b.iter_batched(
            || full.clone(),
            |ledger| ipam::allocate(inv, ledger, &locator, today).unwrap(),
            BatchSize::LargeInput,
        )
    });

    // Brownfield: the same inventory with every value pinned to what its ledger holds. The
    // ledger is the one a plan of the pinned inventory wrote (every entry marked pinned), so
    // both re-plans change nothing.
    let current = ipam::allocate(inv, Ledger::default(), &locator, today)
        .unwrap()
        .ledger;
    let mut pinned = inv.clone();
    ipam::brownfield::pin_all(&mut pinned, &current);
    let pinned_ledger = ipam::allocate(&pinned, current.clone(), &locator, today)
        .unwrap()
        .ledger;
    let again = ipam::allocate(&pinned, pinned_ledger.clone(), &locator, today).unwrap();
    assert!(again.changes.is_empty(), "{:?}", &again.changes[..3]);
    assert!(
        pinned_ledger.entries.values().all(|e| e.pinned),
        "every value is pinned"
    );
    for (name, inventory, ledger) in [
        ("nationwide-replan", inv, &current),
        ("nationwide-replan-pinned", &pinned, &pinned_ledger),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || ledger.clone(),
                |ledger| ipam::allocate(inventory, ledger, &locator, today).unwrap(),
                BatchSize::LargeInput,
            )
        });
    }

    // One million /64s out of a /44 (2^20 slots), with two reserved /64s in the way.
    let parent = Bits::of(&"2001:db8:100::/44".parse().unwrap());
    let reserved = vec![
        Bits::of(&"2001:db8:100::/64".parse().unwrap()),
        Bits::of(&"2001:db8:108::/64".parse().unwrap()),
    ];
    for (name, placement) in [
        ("pool-1M-slash64-sequential", Placement::Sequential),
        ("pool-1M-slash64-spread", Placement::Spread),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut pool = PrefixPool::new(
                    "segment".into(),
                    vec![parent],
                    64,
                    placement,
                    reserved.clone(),
                );
                let mut last = None;
                for _ in 0..1_000_000 {
                    last = Some(pool.allocate().unwrap());
                }
                black_box(last);
                pool
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
