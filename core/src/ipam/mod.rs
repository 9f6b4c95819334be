//! IPv6-first address management: a pure, deterministic allocator over a ledger.
//!
//! `allocate(inventory, ledger, today)` gives the next ledger and what changed. The same inventory
//! and ledger give the same result on any machine: requests are keyed by stable identity and
//! handled in key order, pools hand out slots in a fixed order, and nothing depends on file
//! names, document order or hash iteration. Values in the ledger never move; values whose object
//! disappeared are held for the plan's hold time before they can be reused.

mod demand;
mod hash;
pub mod ledger;
mod pool;
mod prefetch;
pub mod renumber;
pub mod report;
mod value;
mod walk;

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use ipnet::IpNet;
use rayon::prelude::*;

pub use demand::{KeyHead, Owner, OwnerKind, PinAt, PoolRef, Request, site_key};
use hash::FastMap;
pub use ledger::{Entry, Hold, LEDGER_FILE, Ledger};
pub use pool::{Exhausted, NumberPool, Placement, PrefixPool};
pub use value::{AllocValue, Bits};

use crate::diag::Diagnostic;
use crate::load::{Locator, Seg};
use crate::model::{AddressPlanSpec, Inventory, Object};

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

    check_pins(&requests, &pools, plan, locator, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }

    let hold_until = today
        .checked_add_days(Days::new(u64::from(plan.spec.hold_days)))
        .unwrap_or(today);

    // 1. Existing entries: keep, repin, hold, release (walk.rs). Entries are updated where
    // they are; those leaving the ledger are removed after the walk.
    let hold = Hold {
        since: today,
        release_after: hold_until,
    };
    let walked = {
        let mut entries: Vec<(&String, &mut Entry)> = ledger.entries.iter_mut().collect();
        walk::walk(&mut entries, &requests, today, hold)
    };
    let walk::Walked {
        mut changes,
        mut kept,
        matched,
        moved_from,
        leaving,
        mut previous,
        any_repinned,
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

    // A site given a new prefix (a changed pin) takes its active segments along: those left
    // outside it are allocated again inside it, below, as moved.
    if any_repinned {
        let stale: Vec<String> = ledger
            .entries
            .iter()
            .filter(|(_, e)| !e.pinned && e.held.is_none())
            .filter(|(_, e)| {
                let site = e.pool.strip_prefix("segment:");
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
            pools.take(&req.pool.name(), &pin);
        }
    }
    conflicts_with_ledger(&requests, &ledger, locator, &mut problems);
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
        let pool_name = req.pool.name();
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
                if let PoolRef::Segment(site) = &req.pool
                    && !pools.segments.contains_key(&pool_name)
                {
                    match ledger.entries.get(&**site).and_then(|e| e.value.prefix()) {
                        Some(parent) => pools.add_segment_pool(
                            &pool_name,
                            parent,
                            plan.spec.prefix_lengths.segment,
                        ),
                        None => continue,
                    }
                }
                match pools.allocate(&pool_name) {
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
                pool: pool_name,
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

/// The ledger key under which the old value of `key` is held after a repin or a move:
/// `<key>@<value>`, sorted right after the key, released like any held value.
pub fn previous_key(key: &str, value: &AllocValue) -> String {
    format!("{key}@{value}")
}

/// Whether `entry_key` holds an old value of `key` (see [`previous_key`]).
fn is_previous_of(entry_key: &str, key: &str) -> bool {
    entry_key.len() > key.len() + 1
        && entry_key.starts_with(key)
        && entry_key.as_bytes()[key.len()] == b'@'
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

/// Pins must lie in their pool and must not collide with one another.
fn check_pins(
    requests: &[&Request],
    pools: &Pools,
    plan: &Object<AddressPlanSpec>,
    locator: &Locator<'_>,
    problems: &mut Vec<Diagnostic>,
) {
    let mut pinned: Vec<(&Request, AllocValue)> = requests
        .iter()
        .copied()
        .filter_map(|r| r.pin.map(|p| (r, p)))
        .collect();
    for (req, pin) in &pinned {
        let inside = match (&req.pool, pin) {
            (PoolRef::Segment(_), AllocValue::Prefix(_)) => true,
            (pool, AllocValue::Prefix(p)) => pools
                .prefix
                .get(&pool.name())
                .is_some_and(|pp| pp.covers(&Bits::of(p))),
            (pool, AllocValue::Number(n)) => pools
                .number
                .get(&pool.name())
                .is_some_and(|np| np.covers(*n)),
        };
        // Inside the pool but on reserved space (infrastructure, services, the loopback block's
        // all-zero address): before anything is taken, a pool's blocked list holds just those.
        let reserved = match (&req.pool, pin) {
            (PoolRef::Segment(_), _) | (_, AllocValue::Number(_)) => None,
            (pool, AllocValue::Prefix(p)) => pools
                .prefix
                .get(&pool.name())
                .and_then(|pp| pp.blocked.iter().find(|b| b.overlaps(&Bits::of(p)))),
        };
        if let (true, Some(block)) = (inside, reserved) {
            problems.push(
                Diagnostic::error(
                    "pin-outside-pool",
                    format!(
                        "pinned value {pin} for `{}` overlaps {}, reserved in the `{}` pool of the address plan",
                        req.key,
                        block.net(),
                        req.pool.name()
                    ),
                )
                .at(locator.locate(req.origin, &req.pin_at.path()))
                .object(req.owner().object_ref())
                .related(
                    "the address plan",
                    locator.locate(plan.origin, &[Seg::from("spec")]),
                )
                .hint("infrastructure and service blocks are never handed out; pin outside them"),
            );
        }
        if !inside {
            problems.push(
                Diagnostic::error(
                    "pin-outside-pool",
                    format!(
                        "pinned value {pin} for `{}` is outside the `{}` pool of the address plan",
                        req.key,
                        req.pool.name()
                    ),
                )
                .at(locator.locate(req.origin, &req.pin_at.path()))
                .object(req.owner().object_ref())
                .related(
                    "the address plan",
                    locator.locate(plan.origin, &[Seg::from("spec")]),
                ),
            );
        }
    }
    // Overlapping pins of different keys, found by sorting prefixes by start address.
    pinned.sort_by_key(|(_, v)| match v {
        AllocValue::Prefix(p) => {
            let b = Bits::of(p);
            (0u8, b.width, b.addr, b.len)
        }
        AllocValue::Number(n) => (1, 0, u128::from(*n), 0),
    });
    let mut open: Vec<(&Request, AllocValue)> = Vec::new();
    for (req, pin) in pinned {
        let collides = |other: &AllocValue| match (other, &pin) {
            (AllocValue::Prefix(a), AllocValue::Prefix(b)) => Bits::of(a).overlaps(&Bits::of(b)),
            (AllocValue::Number(a), AllocValue::Number(b)) => a == b,
            _ => false,
        };
        open.retain(|(_, v)| collides(v));
        for (other, value) in &open {
            let same_pool_numbers = matches!(
                (value, &pin),
                (AllocValue::Number(_), AllocValue::Number(_))
            ) && other.pool != req.pool;
            if other.key != req.key
                && !same_pool_numbers
                && !nested(other.key, &other.pool, req.key, &req.pool)
            {
                problems.push(
                    Diagnostic::error(
                        "pin-conflict",
                        format!(
                            "pinned {pin} for `{}` collides with pinned {value} for `{}`",
                            req.key, other.key
                        ),
                    )
                    .at(locator.locate(req.origin, &req.pin_at.path()))
                    .object(req.owner().object_ref())
                    .related(
                        format!("{} pins {value} here", other.owner()),
                        locator.locate(other.origin, &other.pin_at.path()),
                    )
                    .hint("every pinned value must be unique; change one of the pins"),
                );
            }
        }
        open.push((req, pin));
    }
}

/// Whether a value of one request may lie inside the other's: a segment inside its own site.
fn nested(a_key: &str, a_pool: &PoolRef, b_key: &str, b_pool: &PoolRef) -> bool {
    matches!(a_pool, PoolRef::Segment(site) if **site == *b_key)
        || matches!(b_pool, PoolRef::Segment(site) if **site == *a_key)
}

/// A new pin must not overlap a value the ledger already holds for someone else.
fn conflicts_with_ledger(
    requests: &[&Request],
    next: &Ledger,
    locator: &Locator<'_>,
    problems: &mut Vec<Diagnostic>,
) {
    let pins: Vec<&Request> = requests
        .iter()
        .copied()
        .filter(|r| r.pin.is_some())
        .collect();
    if pins.is_empty() {
        return;
    }
    for req in pins {
        let pin = req.pin.expect("filtered");
        for (key, e) in &next.entries {
            // A segment lies inside its own site's prefix.
            let nested = matches!(&req.pool, PoolRef::Segment(site) if **site == **key)
                || e.pool.strip_prefix("segment:") == Some(req.key);
            if key == req.key || nested || is_previous_of(key, req.key) {
                continue;
            }
            let hit = match (&e.value, &pin) {
                (AllocValue::Prefix(a), AllocValue::Prefix(b)) => {
                    Bits::of(a).overlaps(&Bits::of(b))
                }
                (AllocValue::Number(a), AllocValue::Number(b)) => {
                    a == b && e.pool == req.pool.name()
                }
                _ => false,
            };
            if hit {
                problems.push(
                    Diagnostic::error(
                        "pin-conflict",
                        format!("pinned {pin} for `{}` overlaps {} already allocated to `{key}` ({})", req.key, e.value, e.owner),
                    )
                    .at(locator.locate(req.origin, &req.pin_at.path()))
                    .object(req.owner().object_ref())
                    .hint("allocations never move; choose a free value for the pin, or release the other one first"),
                );
            }
        }
    }
}

/// The key of a segment pool's site, hashed (see `Pools::pending`).
fn site_hash(site: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = hash::FastHasher::default();
    h.write(site.as_bytes());
    h.finish()
}

/// Ledger names of the prefix and number pools a plan always has (or may have).
const PREFIX_POOLS: [&str; 4] = ["site-v6", "site-v4", "loopback", "p2p"];
const NUMBER_POOLS: [&str; 2] = ["asn", "vlan"];

/// Values the ledger keeps, gathered by pool while it is walked (see `Pools::take_gathered`).
#[derive(Default)]
pub(crate) struct Gathered {
    /// In the order of `PREFIX_POOLS`.
    prefixes: [Vec<Bits>; 4],
    /// In the order of `NUMBER_POOLS`.
    numbers: [Vec<u32>; 2],
    /// Segments, by the hash of their site's key.
    segments: Vec<(u64, Bits)>,
}

impl Gathered {
    /// A value kept for a request of `pool` (the entry's pool is that one's name).
    pub(crate) fn add(&mut self, pool: &PoolRef<'_>, value: AllocValue) {
        match (pool, value) {
            (PoolRef::Segment(site), AllocValue::Prefix(p)) => {
                self.segments.push((site_hash(site), Bits::of(&p)));
            }
            (PoolRef::SiteV6, AllocValue::Prefix(p)) => self.prefixes[0].push(Bits::of(&p)),
            (PoolRef::SiteV4, AllocValue::Prefix(p)) => self.prefixes[1].push(Bits::of(&p)),
            (PoolRef::Loopback, AllocValue::Prefix(p)) => self.prefixes[2].push(Bits::of(&p)),
            (PoolRef::PointToPoint, AllocValue::Prefix(p)) => self.prefixes[3].push(Bits::of(&p)),
            (PoolRef::Asn, AllocValue::Number(n)) => self.numbers[0].push(n),
            (PoolRef::Vlan, AllocValue::Number(n)) => self.numbers[1].push(n),
            // A value of the wrong type for its pool takes nothing there.
            _ => {}
        }
    }

    /// A value kept in the pool named `pool` (held values: their object is gone).
    pub(crate) fn add_named(&mut self, pool: &str, value: AllocValue) {
        match value {
            AllocValue::Prefix(p) => {
                if let Some(site) = pool.strip_prefix("segment:") {
                    self.segments.push((site_hash(site), Bits::of(&p)));
                } else if let Some(i) = PREFIX_POOLS.iter().position(|n| *n == pool) {
                    self.prefixes[i].push(Bits::of(&p));
                }
            }
            AllocValue::Number(n) => {
                if let Some(i) = NUMBER_POOLS.iter().position(|n| *n == pool) {
                    self.numbers[i].push(n);
                }
            }
        }
    }

    /// Room for the values of a run of ledger entries, by the kind of their keys (every key
    /// of a kind starts with the kind's prefix, and a run is sorted, so each kind is a range).
    pub(crate) fn for_run(run: &[(&String, &mut Entry)]) -> Gathered {
        let count = |prefix: &str| {
            let after = run.partition_point(|(k, _)| k.as_str() < prefix);
            run[after..].partition_point(|(k, _)| k.starts_with(prefix))
        };
        Gathered {
            prefixes: ["site/", "site-v4/", "loopback/", "p2p/"]
                .map(|p| Vec::with_capacity(count(p))),
            numbers: ["asn/", "vlan/"].map(|p| Vec::with_capacity(count(p))),
            segments: Vec::with_capacity(count("segment/")),
        }
    }
}

/// All pools of a plan, by ledger name.
struct Pools {
    prefix: BTreeMap<String, PrefixPool>,
    number: BTreeMap<String, NumberPool>,
    /// Segment pools, one per site, made once the site has a prefix.
    segments: FastMap<String, PrefixPool>,
    /// Values taken in segment pools not made yet (the ledger's segments and new pins), by a
    /// hash of the pool's name: a nationwide ledger has a segment pool per commune, and most
    /// are never made. Sorted when the first pool is made.
    pending: Vec<(u64, Bits)>,
    pending_sorted: bool,
}

impl Pools {
    fn new(plan: &Object<AddressPlanSpec>) -> Self {
        let spec = &plan.spec;
        let bits = |p: IpNet| Bits::of(&p);
        let mut reserved: Vec<Bits> = vec![
            bits(IpNet::V6(spec.infrastructure.loopbacks.0)),
            bits(IpNet::V6(spec.infrastructure.point_to_point.0)),
        ];
        reserved.extend(spec.services.values().map(|p| bits(IpNet::V6(p.0))));
        let mut prefix = BTreeMap::new();
        let v6_roots: Vec<Bits> = spec
            .ipv6_roots
            .iter()
            .map(|p| bits(IpNet::V6(p.0)))
            .collect();
        prefix.insert(
            "site-v6".to_owned(),
            PrefixPool::new(
                "site-v6".into(),
                v6_roots,
                spec.prefix_lengths.site,
                Placement::Spread,
                reserved,
            ),
        );
        if !spec.ipv4_roots.is_empty() {
            let v4: Vec<Bits> = spec
                .ipv4_roots
                .iter()
                .map(|p| bits(IpNet::V4(p.0)))
                .collect();
            prefix.insert(
                "site-v4".to_owned(),
                PrefixPool::new(
                    "site-v4".into(),
                    v4,
                    spec.prefix_lengths.site_v4,
                    Placement::Spread,
                    vec![],
                ),
            );
        }
        let lo = bits(IpNet::V6(spec.infrastructure.loopbacks.0));
        // The all-zero address of the block is the subnet-router anycast address: never a loopback.
        prefix.insert(
            "loopback".to_owned(),
            PrefixPool::new(
                "loopback".into(),
                vec![lo],
                128,
                Placement::Sequential,
                vec![lo.child(128, 0)],
            ),
        );
        let p2p = bits(IpNet::V6(spec.infrastructure.point_to_point.0));
        prefix.insert(
            "p2p".to_owned(),
            PrefixPool::new("p2p".into(), vec![p2p], 127, Placement::Sequential, vec![]),
        );
        let mut number = BTreeMap::new();
        number.insert(
            "asn".to_owned(),
            NumberPool::new("asn".into(), spec.asn_pool.first, spec.asn_pool.last),
        );
        if let Some(v) = spec.vlan_pool {
            number.insert(
                "vlan".to_owned(),
                NumberPool::new("vlan".into(), v.first, v.last),
            );
        }
        Pools {
            prefix,
            number,
            segments: FastMap::default(),
            pending: Vec::new(),
            pending_sorted: false,
        }
    }

    /// Takes every value the ledger keeps (gathered while walking it): each pool takes its
    /// own in bulk, the pools side by side.
    fn take_gathered(&mut self, parts: Vec<Gathered>) {
        // Each pool's values in one list, reserved once.
        let segments = parts.iter().map(|g| g.segments.len()).sum::<usize>();
        let mut prefixes: [Vec<Bits>; 4] = std::array::from_fn(|i| {
            let site = if i < 2 { segments } else { 0 };
            Vec::with_capacity(parts.iter().map(|g| g.prefixes[i].len()).sum::<usize>() + site)
        });
        let mut numbers: [Vec<u32>; 2] = std::array::from_fn(|i| {
            Vec::with_capacity(parts.iter().map(|g| g.numbers[i].len()).sum())
        });
        self.pending.reserve(segments);
        for g in parts {
            for (all, part) in prefixes.iter_mut().zip(&g.prefixes) {
                all.extend_from_slice(part);
            }
            for (all, part) in numbers.iter_mut().zip(&g.numbers) {
                all.extend_from_slice(part);
            }
            // See `take`: the site slot around a segment stays out of use while the segment
            // lives.
            for (_, b) in &g.segments {
                let i = if b.width == 128 { 0 } else { 1 };
                if let Some(sp) = self.prefix.get(PREFIX_POOLS[i])
                    && sp.covers(b)
                {
                    prefixes[i].push(b.truncate(sp.child_len));
                }
            }
            self.pending.extend_from_slice(&g.segments);
        }
        self.pending_sorted = false;
        let mut prefixes = prefixes.map(Some);
        let mut numbers = numbers.map(Some);
        rayon::join(
            || {
                let pools: Vec<(&mut PrefixPool, Vec<Bits>)> = self
                    .prefix
                    .iter_mut()
                    .filter_map(|(name, p)| {
                        let i = PREFIX_POOLS.iter().position(|n| n == name)?;
                        Some((p, prefixes[i].take()?))
                    })
                    .collect();
                pools.into_par_iter().for_each(|(p, v)| p.take_all(v));
            },
            || {
                for (name, p) in self.number.iter_mut() {
                    if let Some(v) = NUMBER_POOLS
                        .iter()
                        .position(|n| n == name)
                        .and_then(|i| numbers[i].take())
                    {
                        p.take_all(v);
                    }
                }
            },
        );
    }

    /// A segment pool for one site, seeded with the segments taken there: those the ledger
    /// already has and pinned ones.
    fn add_segment_pool(&mut self, name: &str, parent: IpNet, len: u8) {
        let mut pool = PrefixPool::new(
            name.to_owned(),
            vec![Bits::of(&parent)],
            len,
            Placement::Sequential,
            vec![],
        );
        if !self.pending_sorted {
            self.pending.sort_unstable_by_key(|(h, _)| *h);
            self.pending_sorted = true;
        }
        // Another pool's values under the same hash lie outside this site's prefix, and a
        // pool takes only what lies inside it: a collision costs a comparison, nothing more.
        let h = site_hash(name.strip_prefix("segment:").unwrap_or(name));
        let from = self.pending.partition_point(|(p, _)| *p < h);
        for (_, b) in self.pending[from..].iter().take_while(|(p, _)| *p == h) {
            pool.take(b);
        }
        self.segments.insert(name.to_owned(), pool);
    }

    fn take(&mut self, pool: &str, value: &AllocValue) {
        match value {
            AllocValue::Prefix(p) => {
                let b = Bits::of(p);
                // Loopbacks, links and segments lie inside blocks the site pool already keeps out
                // of use, so a value only needs marking in its own pool.
                if !pool.starts_with("segment:") {
                    if let Some(pp) = self.prefix.get_mut(pool) {
                        pp.take(&b);
                    }
                    return;
                }
                if !self.segments.is_empty()
                    && let Some(pp) = self.segments.get_mut(pool)
                {
                    pp.take(&b);
                    return;
                }
                self.pending.push((site_hash(&pool["segment:".len()..]), b));
                self.pending_sorted = false;
                // The site slot around a segment stays out of use while the segment lives,
                // even if its own site has a new prefix now (a no-op otherwise: that slot is
                // the site's own).
                let site_pool = if b.width == 128 { "site-v6" } else { "site-v4" };
                if let Some(sp) = self.prefix.get_mut(site_pool)
                    && sp.covers(&b)
                {
                    sp.take(&b.truncate(sp.child_len));
                }
            }
            AllocValue::Number(n) => {
                if let Some(np) = self.number.get_mut(pool) {
                    np.take(*n);
                }
            }
        }
    }

    fn allocate(&mut self, pool: &str) -> Result<AllocValue, Exhausted> {
        if let Some(p) = self.segments.get_mut(pool) {
            return p.allocate().map(|b| AllocValue::Prefix(b.net()));
        }
        if let Some(p) = self.prefix.get_mut(pool) {
            return p.allocate().map(|b| AllocValue::Prefix(b.net()));
        }
        if let Some(n) = self.number.get_mut(pool) {
            return n.allocate().map(AllocValue::Number);
        }
        Err(Exhausted {
            pool: pool.to_owned(),
            slots: 0,
        })
    }

    fn usage(&self) -> Vec<PoolUse> {
        let mut out = Vec::new();
        for (name, p) in &self.prefix {
            if name.starts_with("segment:") {
                continue;
            }
            out.push(PoolUse {
                name: name.clone(),
                from: p.parents.iter().map(|b| b.net().to_string()).collect(),
                child_len: Some(p.child_len),
                total: p.total(),
                used: p.used() as u128,
                reserved: p.blocked_slots(),
            });
        }
        // All segment pools have the plan's segment length; only sums are reported.
        let segs: Vec<&PrefixPool> = self.segments.values().collect();
        if !segs.is_empty() {
            out.push(PoolUse {
                name: "segment".into(),
                from: vec![format!("{} site prefixes", segs.len())],
                child_len: segs.first().map(|p| p.child_len),
                total: segs
                    .iter()
                    .map(|p| p.total())
                    .fold(0u128, u128::saturating_add),
                used: segs.iter().map(|p| p.used() as u128).sum(),
                reserved: 0,
            });
        }
        for (name, n) in &self.number {
            out.push(PoolUse {
                name: name.clone(),
                from: vec![format!("{}–{}", n.first, n.last)],
                child_len: None,
                total: n.total(),
                used: n.used() as u128,
                reserved: 0,
            });
        }
        out
    }
}
