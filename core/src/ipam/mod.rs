//! IPv6-first address management: a pure, deterministic allocator over a ledger.
//!
//! `allocate(inventory, ledger, today)` gives the next ledger and what changed. The same inventory
//! and ledger give the same result on any machine: requests are keyed by stable identity and
//! handled in key order, pools hand out slots in a fixed order, and nothing depends on file
//! names, document order or hash iteration. Values in the ledger never move; values whose object
//! disappeared are held for the plan's hold time before they can be reused.

pub mod brownfield;
mod demand;
mod hash;
pub mod ledger;
mod orphans;
mod pins;
mod pool;
mod pools;
pub mod renumber;
pub mod report;
pub mod schema;
mod value;
mod walk;
pub mod zones;

use chrono::{Days, NaiveDate};

pub use demand::{KeyHead, PinAt, Request};
use hash::FastMap;
pub use ledger::{Entry, Hold, LEDGER_FILE, Ledger};
pub use pool::{Exhausted, NumberPool, Placement, PrefixPool};
use pools::{Gathered, Pools};
pub use schema::{Owner, OwnerKind, PoolRef, previous_key, site_key};
pub use value::{AllocValue, Bits};

use crate::diag::Diagnostic;
use crate::load::{Locator, Seg};
use crate::model::Inventory;

/// What happened to one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// A new value was allocated (or pinned) for a new object.
    Added,
    /// A pin in the inventory replaced the ledger value.
    Repinned,
    /// The object moved to another pool (a device moved site) and got a new value there.
    Moved,
    /// The object is gone; its value is held until the hold time ends.
    Held,
    /// A held value reached the end of its hold time and was freed.
    Released,
    /// A held value's object came back and took it again.
    Reactivated,
}

/// One change to the ledger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// What happened.
    pub kind: ChangeKind,
    /// Ledger key.
    pub key: String,
    /// Owner.
    pub owner: String,
    /// New (or held/released) value.
    pub value: String,
    /// Previous value, when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
}

/// The result of planning allocations.
#[derive(Debug, Clone)]
pub struct Allocation {
    /// The ledger after this plan.
    pub ledger: Ledger,
    /// Changes against the ledger given, sorted by key.
    pub changes: Vec<Change>,
    /// Entries kept as they were.
    pub kept: usize,
    /// Pools with their use, for reports.
    pub pools: Vec<PoolUse>,
}

/// Use of one pool after planning.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolUse {
    /// Ledger name.
    pub name: String,
    /// Parent prefixes or number range.
    pub from: Vec<String>,
    /// Child prefix length (none for numbers).
    pub child_len: Option<u8>,
    /// Slots in total.
    #[serde(serialize_with = "report::ser_count")]
    pub total: u128,
    /// Slots taken by allocated, held or pinned values.
    #[serde(serialize_with = "report::ser_count")]
    pub used: u128,
    /// Slots unusable because reserved blocks overlap them.
    #[serde(serialize_with = "report::ser_count")]
    pub reserved: u128,
}

/// Allocates everything `inventory` needs on top of `ledger`, as of `today`.
///
/// The ledger is taken by value and patched in place: a re-plan that changes a few entries of a
/// large ledger touches those entries, not every one (callers own the ledger they read from disk).
pub fn allocate(
    inventory: &Inventory,
    mut ledger: Ledger,
    locator: &Locator<'_>,
    today: NaiveDate,
) -> Result<Allocation, Vec<Diagnostic>> {
    let Some(plan) = inventory.address_plans.first() else {
        return Err(vec![
            Diagnostic::error(
                "no-address-plan",
                "the inventory has no AddressPlan, so nothing can be allocated",
            )
            .hint("add an AddressPlan with ipv6Roots, infrastructure blocks and an asnPool"),
        ]);
    };
    let mut arenas = demand::KeyArenas::new(inventory);
    let demand = demand::requests(
        inventory,
        &mut arenas,
        !plan.spec.ipv4_roots.is_empty(),
        plan.spec.vlan_pool.is_some(),
    );
    let requests = demand.sorted();
    let mut pools = Pools::new(plan);
    let mut problems = Vec::new();

    let hold_until = today
        .checked_add_days(Days::new(u64::from(plan.spec.hold_days)))
        .unwrap_or(today);
    let hold = Hold {
        since: today,
        release_after: hold_until,
    };

    // Pins are checked among themselves while (1.) the ledger's entries are walked: keep,
    // repin, hold, release (walk.rs). Entries are updated where they are; those leaving the
    // ledger are removed after the walk. If a pin is wrong, the walked ledger is dropped.
    let (pins, walked) = rayon::join(
        || pins::check(&requests, &pools),
        || {
            let mut entries: Vec<(&String, &mut Entry)> = ledger.entries.iter_mut().collect();
            walk::walk(&mut entries, &requests, today, hold)
        },
    );
    pins.report(plan, locator, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    let walk::Walked {
        mut changes,
        mut kept,
        matched,
        moved_from,
        leaving,
        mut previous,
        any_repinned,
        unpinned,
        mut gathered,
    } = walked;
    // `in_ledger[i]`: request i keeps its ledger entry; the others are allocated in step 3.
    let mut in_ledger = vec![false; requests.len()];
    for i in matched {
        in_ledger[i] = true;
    }
    // Values of requests allocated again although the ledger has their key (they moved).
    let mut moved_from: FastMap<usize, AllocValue> = moved_from.into_iter().collect();
    for key in leaving {
        ledger.entries.remove(&key);
    }
    // A plan made smaller under values the ledger still holds would lose them silently (kept,
    // but outside every pool, so no report counts them and nothing keeps them out of use).
    orphans::report(&ledger, &pools, plan, locator, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }

    // A site given a new prefix (a changed pin) takes its active segments along: those left
    // outside it are allocated again inside it, below, as moved.
    if any_repinned {
        let stale: Vec<String> = ledger
            .entries
            .iter()
            .filter(|(_, e)| !e.pinned && e.held.is_none())
            .filter(|(_, e)| {
                let site = PoolRef::parse(&e.pool).and_then(|p| p.segment_site());
                match (site.and_then(|s| ledger.entries.get(s)), e.value.prefix()) {
                    (Some(site), Some(seg)) => site
                        .value
                        .prefix()
                        .is_some_and(|p| !Bits::of(&p).contains(&Bits::of(&seg))),
                    _ => false,
                }
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in stale {
            let Some(e) = ledger.entries.remove(&key) else {
                continue;
            };
            previous.push(as_previous(&key, &e, hold));
            // Its request (the last of that key) is allocated again below.
            let last = requests.partition_point(|r| r.key <= key.as_str());
            if last > 0 && requests[last - 1].key == key {
                in_ledger[last - 1] = false;
                moved_from.insert(last - 1, e.value);
            }
            let before = changes.len();
            changes.retain(|c| c.key != key);
            if changes.len() == before {
                kept -= 1;
            }
        }
    }

    // Entries a new pin may conflict with: those left unpinned or held, and the old values
    // held below.
    let may_conflict = unpinned + previous.len();
    let mut moved_values = Gathered::default();
    for (key, e) in previous {
        moved_values.add_named(&e.pool, e.value);
        changes.push(change(ChangeKind::Held, &key, &e.owner, e.value, None));
        ledger.entries.insert(key, e);
    }

    // 2. Everything in the ledger (held values too) is taken.
    gathered.push(moved_values);
    pools.take_gathered(gathered);
    // Pins of new requests are taken before anything is allocated around them.
    for (req, _) in requests.iter().zip(&in_ledger).filter(|(_, kept)| !**kept) {
        let req: &Request = req;
        if let Some(pin) = req.pin {
            pools.take(&req.pool, &pin);
        }
    }
    if may_conflict > 0 {
        pins::conflicts_with_ledger(&pins.by_value, &ledger, locator, &mut problems);
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    // 3. New requests, sites first (segments are carved from site prefixes), each in key order;
    // of a key requested twice, the last request counts.
    type Numbered<'r, 'a> = Vec<(usize, &'r Request<'a>)>;
    let (sites, rest): (Numbered, Numbered) = requests
        .iter()
        .enumerate()
        .filter(|(i, r)| !in_ledger[*i] && requests.get(i + 1).is_none_or(|n| n.key != r.key))
        .map(|(i, r)| (i, *r))
        .partition(|(_, r)| matches!(r.pool, PoolRef::SiteV6 | PoolRef::SiteV4));
    for (index, req) in sites.into_iter().chain(rest) {
        let value = match req.pin {
            Some(pin) => {
                // A pinned segment must lie inside its site's prefix (known by now: sites first).
                if let (PoolRef::Segment(site), AllocValue::Prefix(p)) = (&req.pool, pin)
                    && let Some(parent) = ledger.entries.get(&**site).and_then(|e| e.value.prefix())
                    && !Bits::of(&parent).contains(&Bits::of(&p))
                {
                    problems.push(
                        Diagnostic::error(
                            "pin-outside-pool",
                            format!(
                                "pinned value {pin} for `{}` is outside {parent}, the prefix of its site `{site}`",
                                req.key
                            ),
                        )
                        .at(locator.locate(req.origin, &req.pin_at.path()))
                        .object(req.owner().object_ref())
                        .hint("a segment lies inside its site's prefix; pin an address inside it"),
                    );
                    continue;
                }
                pin
            }
            None => {
                if let PoolRef::Segment(site) = req.pool
                    && !pools.has_segment_pool(site)
                {
                    match ledger.entries.get(site).and_then(|e| e.value.prefix()) {
                        Some(parent) => {
                            pools.add_segment_pool(site, parent, plan.spec.prefix_lengths.segment)
                        }
                        None => continue,
                    }
                }
                match pools.allocate(&req.pool) {
                    Ok(v) => v,
                    Err(e) => {
                        problems.push(exhausted(&e, req, locator));
                        continue;
                    }
                }
            }
        };
        // Allocated again although the ledger had it: it moved (another site, or its site's
        // prefix changed).
        let moved = moved_from.get(&index).copied();
        let kind = if moved.is_some() {
            ChangeKind::Moved
        } else {
            ChangeKind::Added
        };
        changes.push(change(kind, req.key, req.owner(), value, moved));
        ledger.entries.insert(
            req.key.to_owned(),
            Entry {
                pool: req.pool.name(),
                value,
                owner: req.owner().to_string(),
                pinned: req.pin.is_some(),
                held: None,
            },
        );
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    changes.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(Allocation {
        pools: pools.usage(),
        ledger,
        changes,
        kept,
    })
}

/// The pin problems `allocate` would refuse — pins outside their pool or on reserved space,
/// pins colliding with one another, pins over a value `ledger` gives someone else — without
/// allocating anything, so that `hatang validate` reports them as `hatang plan` would. Values
/// whose hold ended before `today` are not counted (planning releases them first). Nothing
/// when the inventory has no AddressPlan (validation reports that).
pub fn check_pins(
    inventory: &Inventory,
    ledger: &Ledger,
    locator: &Locator<'_>,
    today: NaiveDate,
) -> Vec<Diagnostic> {
    let Some(plan) = inventory.address_plans.first() else {
        return Vec::new();
    };
    let mut arenas = demand::KeyArenas::new(inventory);
    let demand = demand::requests(
        inventory,
        &mut arenas,
        !plan.spec.ipv4_roots.is_empty(),
        plan.spec.vlan_pool.is_some(),
    );
    let requests = demand.sorted();
    let pools = Pools::new(plan);
    let pins = pins::check(&requests, &pools);
    let mut problems = Vec::new();
    pins.report(plan, locator, &mut problems);
    if problems.is_empty() {
        let live = |e: &Entry| e.held.is_none_or(|h| h.release_after >= today);
        if ledger.entries.values().all(live) {
            pins::conflicts_with_ledger(&pins.by_value, ledger, locator, &mut problems);
        } else {
            let kept = Ledger {
                entries: ledger
                    .entries
                    .iter()
                    .filter(|(_, e)| live(e))
                    .map(|(k, e)| (k.clone(), e.clone()))
                    .collect(),
            };
            pins::conflicts_with_ledger(&pins.by_value, &kept, locator, &mut problems);
        }
    }
    problems
}

fn as_previous(key: &str, e: &Entry, hold: Hold) -> (String, Entry) {
    (
        previous_key(key, &e.value),
        Entry {
            pool: e.pool.clone(),
            value: e.value,
            owner: e.owner.clone(),
            pinned: false,
            held: Some(hold),
        },
    )
}

fn change(
    kind: ChangeKind,
    key: &str,
    owner: impl std::fmt::Display,
    value: AllocValue,
    old: Option<AllocValue>,
) -> Change {
    Change {
        kind,
        key: key.to_owned(),
        owner: owner.to_string(),
        value: value.to_string(),
        old: old.map(|v| v.to_string()),
    }
}

fn exhausted(e: &Exhausted, req: &Request, locator: &Locator<'_>) -> Diagnostic {
    Diagnostic::error(
        "pool-exhausted",
        format!("pool `{}` is exhausted ({} slots all taken) while allocating `{}`", e.pool, e.slots, req.key),
    )
    .at(locator.locate(req.origin, &[Seg::from("metadata"), Seg::from("name")]))
    .object(req.owner().object_ref())
    .hint("add a root or a larger block to the AddressPlan, or release held values with `hatang ipam release`")
}
