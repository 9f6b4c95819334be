//! Checking pins: inside their pool and off reserved space, unique among themselves, and not
//! over a value the ledger holds for someone else.
//!
//! A city importing its existing addressing pins every value (some 64,000 nationwide), so both
//! checks compare sorted lists, never every pin with every value.

use rayon::prelude::*;

use super::Request;
use super::ledger::{Entry, Ledger};
use super::pools::Pools;
use super::schema::{PoolRef, is_previous_of};
use super::value::{AllocValue, Bits};
use crate::diag::Diagnostic;
use crate::load::{Locator, Seg};
use crate::model::{AddressPlanSpec, Object};

/// A pinned request (a nationwide brownfield inventory has some 64,000, sorted by value: the
/// smaller, the cheaper).
#[derive(Clone, Copy)]
pub(super) struct Pin<'r, 'a> {
    /// Where its value lies ([`Span::first`]; the other fields of its span are below, so that
    /// a pin fills half a cache line).
    first: u128,
    req: &'r Request<'a>,
    /// Its place among the requests (diagnostics come in this order).
    index: u32,
    class: u8,
    len: u8,
}

const _: () = assert!(std::mem::size_of::<Pin>() == 32);

impl<'r, 'a> Pin<'r, 'a> {
    fn new(index: usize, req: &'r Request<'a>, value: &AllocValue) -> Pin<'r, 'a> {
        let at = Span::of(value);
        Pin {
            first: at.first,
            req,
            index: u32::try_from(index).expect("fewer than 2^32 requests"),
            class: at.class,
            len: at.len,
        }
    }

    fn at(&self) -> Span {
        Span {
            class: self.class,
            first: self.first,
            len: self.len,
        }
    }

    fn value(&self) -> AllocValue {
        self.req.pin.expect("a pin is a pinned request")
    }
}

/// Where a value lies, as the checks compare values: prefixes by family, then first address,
/// shortest first (a prefix comes before those inside it); then numbers. Computed once per
/// value, since a sort compares each value many times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Span {
    /// 32 or 128 for prefixes (their width), `NUMBER` for numbers.
    class: u8,
    first: u128,
    /// The prefix length (0 for numbers).
    len: u8,
}

const NUMBER: u8 = u8::MAX;

impl Span {
    fn of(value: &AllocValue) -> Span {
        match value {
            AllocValue::Prefix(p) => {
                let b = Bits::of(p);
                Span {
                    class: b.width,
                    first: b.addr,
                    len: b.len,
                }
            }
            AllocValue::Number(n) => Span {
                class: NUMBER,
                first: u128::from(*n),
                len: 0,
            },
        }
    }

    fn last(&self) -> u128 {
        match self.class {
            NUMBER => self.first,
            width => Bits {
                width,
                addr: self.first,
                len: self.len,
            }
            .last(),
        }
    }

    /// Whether two values share an address (prefixes) or are the same number.
    fn overlaps(&self, other: &Span) -> bool {
        self.class == other.class && self.first <= other.last() && other.first <= self.last()
    }
}

/// What checking the pins among themselves found, before any diagnostic is written (this part
/// runs beside the ledger walk, away from the locator).
pub(super) struct Checked<'r, 'a> {
    /// Every pin, sorted by value (ties in request order).
    pub(super) by_value: Vec<Pin<'r, 'a>>,
    /// Pins outside their pool or on reserved space, in request order.
    misplaced: Vec<(Pin<'r, 'a>, Misplaced)>,
    /// Pins of different keys that overlap: a pin and one before it, in value order.
    collisions: Vec<(Pin<'r, 'a>, Pin<'r, 'a>)>,
}

/// Pins must lie in their pool and must not collide with one another.
pub(super) fn check<'r, 'a>(requests: &[&'r Request<'a>], pools: &Pools) -> Checked<'r, 'a> {
    // A brownfield inventory pins every value: the pins are read and placed side by side.
    let pins: Vec<Pin> = requests
        .par_iter()
        .enumerate()
        .filter_map(|(index, req)| req.pin.map(|value| Pin::new(index, req, &value)))
        .collect();
    let misplaced = pins
        .par_iter()
        .filter_map(|pin| Some((*pin, misplaced(pin, pools)?)))
        .collect();
    let by_value = by_value(pins);
    let collisions = collisions(&by_value);
    Checked {
        by_value,
        misplaced,
        collisions,
    }
}

impl Checked<'_, '_> {
    /// The problems found, as diagnostics: misplaced pins, then collisions.
    pub(super) fn report(
        &self,
        plan: &Object<AddressPlanSpec>,
        locator: &Locator<'_>,
        problems: &mut Vec<Diagnostic>,
    ) {
        for (pin, how) in &self.misplaced {
            problems.push(outside_pool(pin, *how, plan, locator));
        }
        for (pin, other) in &self.collisions {
            problems.push(collision(pin, other, locator));
        }
    }
}

/// The order pins are compared in: by value, ties in request order (the index makes every key
/// unique, so an unstable sort keeps them as a stable one would).
fn order(pin: &Pin) -> (Span, u32) {
    (pin.at(), pin.index)
}

/// `pins` sorted by value.
///
/// Pins come in request order: one run per kind of key (every kind's keys have a prefix of
/// their own). Pools hand values out in key order, so most runs are sorted already, and most
/// pools lie in blocks of their own (sites and their segments share the roots): runs whose
/// values lie apart are laid end to end, and only runs that interleave are sorted together.
fn by_value<'r, 'a>(pins: Vec<Pin<'r, 'a>>) -> Vec<Pin<'r, 'a>> {
    let runs: Vec<&[Pin]> = pins
        .chunk_by(|a, b| a.req.pool.key_kind() == b.req.pool.key_kind())
        .collect();
    let mut groups: Vec<Group> = runs
        .par_iter()
        .enumerate()
        .map(|(at, run)| Group::of(at, run))
        .collect();
    groups.sort_unstable_by_key(|g| g.from);
    let groups = Group::joined(groups);
    let sorted: Vec<Vec<Pin>> = groups
        .par_iter()
        .map(|g| {
            let mut pins: Vec<Pin> = g
                .runs
                .iter()
                .flat_map(|r| runs[*r].iter().copied())
                .collect();
            if !(g.runs.len() == 1 && g.sorted) {
                pins.sort_unstable_by_key(order);
            }
            pins
        })
        .collect();
    sorted.concat()
}

/// Runs of pins whose values lie in one range, apart from every other group's.
struct Group {
    /// The first value's place in the order.
    from: (Span, u32),
    /// The class and last address of the furthest value.
    to: (u8, u128),
    /// The runs, by place among the runs.
    runs: Vec<usize>,
    /// Whether its one run is sorted already.
    sorted: bool,
}

impl Group {
    /// The group of the run at place `at` alone.
    fn of(at: usize, run: &[Pin]) -> Group {
        let sorted = run.is_sorted_by_key(order);
        let from = run.iter().map(order).min().expect("runs are not empty");
        let to = run
            .iter()
            .map(|p| (p.class, p.at().last()))
            .max()
            .expect("runs are not empty");
        Group {
            from,
            to,
            runs: vec![at],
            sorted,
        }
    }

    /// Groups sorted by their first values, with those that overlap joined.
    fn joined(groups: Vec<Group>) -> Vec<Group> {
        let mut out: Vec<Group> = Vec::with_capacity(groups.len());
        for mut g in groups {
            match out.last_mut() {
                Some(last) if (g.from.0.class, g.from.0.first) <= last.to => {
                    last.to = last.to.max(g.to);
                    last.runs.append(&mut g.runs);
                    last.sorted = false;
                }
                _ => out.push(g),
            }
        }
        out
    }
}

/// How a pin lies outside what its pool may hand out.
#[derive(Clone, Copy)]
enum Misplaced {
    /// Outside the pool.
    Outside,
    /// Inside it, but on this reserved block (infrastructure, services, the loopback block's
    /// all-zero address: before anything is taken, a pool's blocked list holds just those).
    Reserved(Bits),
}

fn misplaced(pin: &Pin, pools: &Pools) -> Option<Misplaced> {
    let inside = match (&pin.req.pool, &pin.value()) {
        (PoolRef::Segment(_), AllocValue::Prefix(_)) => true,
        (pool, AllocValue::Prefix(p)) => pools
            .fixed_prefix(pool)
            .is_some_and(|pp| pp.covers(&Bits::of(p))),
        (pool, AllocValue::Number(n)) => pools.number(pool).is_some_and(|np| np.covers(*n)),
    };
    if !inside {
        return Some(Misplaced::Outside);
    }
    match (&pin.req.pool, &pin.value()) {
        (PoolRef::Segment(_), _) | (_, AllocValue::Number(_)) => None,
        (pool, AllocValue::Prefix(p)) => {
            let b = Bits::of(p);
            let pool = pools.fixed_prefix(pool)?;
            let block = pool.blocked.iter().find(|blocked| blocked.overlaps(&b))?;
            Some(Misplaced::Reserved(*block))
        }
    }
}

fn outside_pool(
    pin: &Pin,
    how: Misplaced,
    plan: &Object<AddressPlanSpec>,
    locator: &Locator<'_>,
) -> Diagnostic {
    let (req, value) = (pin.req, pin.value());
    let message = match how {
        Misplaced::Reserved(block) => format!(
            "pinned value {value} for `{}` overlaps {}, reserved in the `{}` pool of the address plan",
            req.key,
            block.net(),
            req.pool.name()
        ),
        Misplaced::Outside => format!(
            "pinned value {value} for `{}` is outside the `{}` pool of the address plan",
            req.key,
            req.pool.name()
        ),
    };
    let d = Diagnostic::error("pin-outside-pool", message)
        .at(locator.locate(req.origin, &req.pin_at.path()))
        .object(req.owner().object_ref())
        .related(
            "the address plan",
            locator.locate(plan.origin, &[Seg::from("spec")]),
        );
    match how {
        Misplaced::Reserved(_) => {
            d.hint("infrastructure and service blocks are never handed out; pin outside them")
        }
        Misplaced::Outside => d,
    }
}

/// Overlapping pins of different keys, found in `pins` sorted by value: a pin can only
/// overlap the ones before it that are still open (that contain its start).
fn collisions<'r, 'a>(pins: &[Pin<'r, 'a>]) -> Vec<(Pin<'r, 'a>, Pin<'r, 'a>)> {
    let mut found = Vec::new();
    let mut open: Vec<&Pin> = Vec::new();
    for pin in pins {
        let req = pin.req;
        open.retain(|other| other.at().overlaps(&pin.at()));
        for other in &open {
            let numbers_of_other_pools = matches!(
                (other.value(), pin.value()),
                (AllocValue::Number(_), AllocValue::Number(_))
            ) && other.req.pool != req.pool;
            if other.req.key != req.key
                && !numbers_of_other_pools
                && !nested(other.req.key, &other.req.pool, req.key, &req.pool)
            {
                found.push((*pin, **other));
            }
        }
        open.push(pin);
    }
    found
}

fn collision(pin: &Pin, other: &Pin, locator: &Locator<'_>) -> Diagnostic {
    let req = pin.req;
    Diagnostic::error(
        "pin-conflict",
        format!(
            "pinned {} for `{}` collides with pinned {} for `{}`",
            pin.value(),
            req.key,
            other.value(),
            other.req.key
        ),
    )
    .at(locator.locate(req.origin, &req.pin_at.path()))
    .object(req.owner().object_ref())
    .related(
        format!("{} pins {} here", other.req.owner(), other.value()),
        locator.locate(other.req.origin, &other.req.pin_at.path()),
    )
    .hint("every pinned value must be unique; change one of the pins")
}

/// Whether a value of one request may lie inside the other's: a segment inside its own site.
fn nested(a_key: &str, a_pool: &PoolRef, b_key: &str, b_pool: &PoolRef) -> bool {
    matches!(a_pool, PoolRef::Segment(site) if **site == *b_key)
        || matches!(b_pool, PoolRef::Segment(site) if **site == *a_key)
}

/// A new pin must not overlap a value the ledger already holds for someone else.
///
/// `pins` come sorted by value from [`check`], which found no collision among them. Entries the
/// walk kept for a pinned request hold exactly that pin (in that request's pool), so any overlap
/// with one of them was a collision of two pins: only the other entries (unpinned or held) need
/// comparing, and in a ledger whose every value is pinned there are hardly any. Those are
/// sorted by value and swept together with the pins.
pub(super) fn conflicts_with_ledger(
    pins: &[Pin],
    next: &Ledger,
    locator: &Locator<'_>,
    problems: &mut Vec<Diagnostic>,
) {
    if pins.is_empty() {
        return;
    }
    // In key order; the place is the order diagnostics name entries in.
    let mut unpinned: Vec<Stored> = next
        .entries
        .iter()
        .filter(|(_, e)| !(e.pinned && e.held.is_none()))
        .enumerate()
        .map(|(place, (key, entry))| Stored {
            at: Span::of(&entry.value),
            place,
            key,
            entry,
        })
        .collect();
    unpinned.sort_by_key(|s| s.at);
    let mut found: Vec<(&Pin, &Stored)> = overlapping(pins, &unpinned)
        .filter(|(pin, s)| is_conflict(pin, s.key, s.entry))
        .collect();
    // As a pin-by-pin scan of the ledger in key order would report them.
    found.sort_by_key(|(pin, s)| (pin.index, s.place));
    for (pin, s) in found {
        let (key, e) = (s.key, s.entry);
        let req = pin.req;
        problems.push(
            Diagnostic::error(
                "pin-conflict",
                format!("pinned {} for `{}` overlaps {} already allocated to `{key}` ({})", pin.value(), req.key, e.value, e.owner),
            )
            .at(locator.locate(req.origin, &req.pin_at.path()))
            .object(req.owner().object_ref())
            .hint("allocations never move; choose a free value for the pin, or release the other one first"),
        );
    }
}

/// Whether `pin`, whose value overlaps the value of entry `key`, conflicts with it: not its own
/// entry or an old value of its key, not a segment inside its own site, numbers of one pool.
fn is_conflict(pin: &Pin, key: &str, e: &Entry) -> bool {
    let req = pin.req;
    let nested = matches!(req.pool, PoolRef::Segment(site) if site == key)
        || PoolRef::parse(&e.pool).and_then(|p| p.segment_site()) == Some(req.key);
    if key == req.key || nested || is_previous_of(key, req.key) {
        return false;
    }
    match (&e.value, &pin.value()) {
        (AllocValue::Prefix(_), AllocValue::Prefix(_)) => true,
        (AllocValue::Number(_), AllocValue::Number(_)) => req.pool.is_named(&e.pool),
        _ => false,
    }
}

/// A ledger entry to compare pins with.
struct Stored<'l> {
    at: Span,
    /// Its place in key order (diagnostics name entries in this order).
    place: usize,
    key: &'l str,
    entry: &'l Entry,
}

/// Every pair of a pin and an entry whose values overlap, from both lists sorted by value:
/// each item is compared with the items of the other list still open at its start (that
/// contain it: prefixes either nest or do not meet).
fn overlapping<'p, 'e, 'r, 'a>(
    pins: &'p [Pin<'r, 'a>],
    entries: &'e [Stored<'e>],
) -> impl Iterator<Item = (&'p Pin<'r, 'a>, &'e Stored<'e>)> {
    let mut pairs = Vec::new();
    let mut open_pins: Vec<&Pin> = Vec::new();
    let mut open_entries: Vec<&Stored> = Vec::new();
    let (mut p, mut e) = (0, 0);
    loop {
        // On equal values the pin goes first; the entry then meets it open.
        let next_is_pin = match (pins.get(p), entries.get(e)) {
            (None, None) => break,
            (Some(pin), Some(entry)) => pin.at() <= entry.at,
            (pin, _) => pin.is_some(),
        };
        let at = if next_is_pin {
            pins[p].at()
        } else {
            entries[e].at
        };
        open_pins.retain(|o| o.at().overlaps(&at));
        open_entries.retain(|o| o.at.overlaps(&at));
        if next_is_pin {
            let pin = &pins[p];
            pairs.extend(open_entries.iter().map(|entry| (pin, *entry)));
            open_pins.push(pin);
            p += 1;
        } else {
            let entry = &entries[e];
            pairs.extend(open_pins.iter().map(|pin| (*pin, entry)));
            open_entries.push(entry);
            e += 1;
        }
    }
    pairs.into_iter()
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipam::demand::{KeyHead, PinAt};
    use crate::ipam::schema::OwnerKind;
    use crate::model::Origin;
    use proptest::prelude::*;

    /// Prefixes in a small corner of both families (so that many overlap), and numbers.
    fn value() -> impl Strategy<Value = AllocValue> {
        prop_oneof![
            (0u128..64, 120u8..=128).prop_map(|(a, len)| {
                let b = Bits {
                    width: 128,
                    addr: a,
                    len,
                };
                AllocValue::Prefix(b.truncate(len).net())
            }),
            (0u128..16, 28u8..=32).prop_map(|(a, len)| {
                let b = Bits {
                    width: 32,
                    addr: a,
                    len,
                };
                AllocValue::Prefix(b.truncate(len).net())
            }),
            (0u32..6).prop_map(AllocValue::Number),
        ]
    }

    fn entry(value: AllocValue) -> Entry {
        Entry {
            pool: "p2p".into(),
            value,
            owner: "Device/r".into(),
            pinned: false,
            held: None,
        }
    }

    /// A request for `value` from one of a few pools (so that pins come in runs of kinds).
    fn request(value: AllocValue, pool: usize) -> Request<'static> {
        Request {
            key: "k",
            head: KeyHead::of("k"),
            pool: [PoolRef::PointToPoint, PoolRef::Loopback, PoolRef::SiteV6][pool % 3],
            owner_name: "r",
            owner_kind: OwnerKind::Device,
            origin: Origin {
                file: 0,
                doc: 0,
                line: 1,
                column: 1,
            },
            pin_at: PinAt::CircuitEnd,
            pin: Some(value),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Pins sorted run by run and merged are in value order, and the sweep finds exactly
        /// the pairs that comparing every pin with every entry finds.
        #[test]
        fn the_sweep_finds_every_overlapping_pair(
            pin_values in proptest::collection::vec((value(), 0..3usize), 0..16),
            entry_values in proptest::collection::vec(value(), 0..12),
        ) {
            let requests: Vec<Request> =
                pin_values.iter().map(|(v, pool)| request(*v, *pool)).collect();
            let mut pins: Vec<Pin> = requests
                .iter()
                .enumerate()
                .map(|(index, req)| Pin::new(index, req, &req.pin.unwrap()))
                .collect();
            // Merged runs of kinds come out as a stable sort of them all by value.
            let mut stable = pins.clone();
            stable.sort_by_key(|p| p.at());
            pins = by_value(pins);
            let indices = |pins: &[Pin]| pins.iter().map(|p| p.index).collect::<Vec<_>>();
            prop_assert_eq!(indices(&pins), indices(&stable));
            let stored: Vec<Entry> = entry_values.iter().map(|v| entry(*v)).collect();
            let mut entries: Vec<Stored> = stored
                .iter()
                .enumerate()
                .map(|(place, entry)| Stored { at: Span::of(&entry.value), place, key: "e", entry })
                .collect();
            entries.sort_by_key(|s| s.at);
            let mut swept: Vec<(usize, usize)> = overlapping(&pins, &entries)
                .map(|(pin, s)| (pin.index as usize, s.place))
                .collect();
            swept.sort_unstable();
            let mut every: Vec<(usize, usize)> = Vec::new();
            for (i, (p, _)) in pin_values.iter().enumerate() {
                for (j, e) in entry_values.iter().enumerate() {
                    if Span::of(p).overlaps(&Span::of(e)) {
                        every.push((i, j));
                    }
                }
            }
            prop_assert_eq!(swept, every);
        }
    }
}
