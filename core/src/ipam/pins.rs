//! Checking pins: inside their pool and off reserved space, unique among themselves, and not
//! over a value the ledger holds for someone else.
//!
//! A city importing its existing addressing pins every value (some 64,000 nationwide), so both
//! checks compare sorted lists, never every pin with every value.

use std::cmp::Ordering;

use super::Request;
use super::ledger::{Entry, Ledger};
use super::pools::Pools;
use super::schema::{PoolRef, is_previous_of};
use super::value::{AllocValue, Bits};
use crate::diag::Diagnostic;
use crate::load::{Locator, Seg};
use crate::model::{AddressPlanSpec, Object};

/// A pinned request.
#[derive(Clone, Copy)]
pub(super) struct Pin<'r, 'a> {
    /// Its place among the requests (diagnostics come in this order).
    index: usize,
    req: &'r Request<'a>,
    value: AllocValue,
}

/// The order values are compared in: prefixes by family, then start address, shortest first
/// (a prefix before those inside it); then numbers.
fn value_order(v: &AllocValue) -> (u8, u8, u128, u8) {
    match v {
        AllocValue::Prefix(p) => {
            let b = Bits::of(p);
            (0, b.width, b.addr, b.len)
        }
        AllocValue::Number(n) => (1, 0, u128::from(*n), 0),
    }
}

/// Whether two values share an address (prefixes) or are the same number.
fn overlap(a: &AllocValue, b: &AllocValue) -> bool {
    match (a, b) {
        (AllocValue::Prefix(a), AllocValue::Prefix(b)) => Bits::of(a).overlaps(&Bits::of(b)),
        (AllocValue::Number(a), AllocValue::Number(b)) => a == b,
        _ => false,
    }
}

/// Pins must lie in their pool and must not collide with one another. Returns the pins sorted
/// by value, for [`conflicts_with_ledger`].
pub(super) fn check<'r, 'a>(
    requests: &[&'r Request<'a>],
    pools: &Pools,
    plan: &Object<AddressPlanSpec>,
    locator: &Locator<'_>,
    problems: &mut Vec<Diagnostic>,
) -> Vec<Pin<'r, 'a>> {
    let mut pins: Vec<Pin> = requests
        .iter()
        .enumerate()
        .filter_map(|(index, req)| {
            req.pin.map(|value| Pin {
                index,
                req: *req,
                value,
            })
        })
        .collect();
    for pin in &pins {
        if let Some(d) = outside_pool(pin, pools, plan, locator) {
            problems.push(d);
        }
    }
    pins.sort_by_key(|p| value_order(&p.value));
    collisions(&pins, locator, problems);
    pins
}

/// A pin outside its pool, or inside it but on reserved space (infrastructure, services, the
/// loopback block's all-zero address: before anything is taken, a pool's blocked list holds
/// just those).
fn outside_pool(
    pin: &Pin,
    pools: &Pools,
    plan: &Object<AddressPlanSpec>,
    locator: &Locator<'_>,
) -> Option<Diagnostic> {
    let (req, value) = (pin.req, &pin.value);
    let inside = match (&req.pool, value) {
        (PoolRef::Segment(_), AllocValue::Prefix(_)) => true,
        (pool, AllocValue::Prefix(p)) => pools
            .fixed_prefix(pool)
            .is_some_and(|pp| pp.covers(&Bits::of(p))),
        (pool, AllocValue::Number(n)) => pools.number(pool).is_some_and(|np| np.covers(*n)),
    };
    let reserved = match (&req.pool, value) {
        (PoolRef::Segment(_), _) | (_, AllocValue::Number(_)) => None,
        (pool, AllocValue::Prefix(p)) => pools
            .fixed_prefix(pool)
            .and_then(|pp| pp.blocked.iter().find(|b| b.overlaps(&Bits::of(p)))),
    };
    let message = match (inside, reserved) {
        (true, None) => return None,
        (true, Some(block)) => format!(
            "pinned value {value} for `{}` overlaps {}, reserved in the `{}` pool of the address plan",
            req.key,
            block.net(),
            req.pool.name()
        ),
        (false, _) => format!(
            "pinned value {value} for `{}` is outside the `{}` pool of the address plan",
            req.key,
            req.pool.name()
        ),
    };
    let d = Diagnostic::error("pin-outside-pool", message)
        .at(locator.locate(req.origin, &req.pin_at.path()))
        .object(req.owner().to_string())
        .related(
            "the address plan",
            locator.locate(plan.origin, &[Seg::from("spec")]),
        );
    Some(match inside {
        true => d.hint("infrastructure and service blocks are never handed out; pin outside them"),
        false => d,
    })
}

/// Overlapping pins of different keys, found in `pins` sorted by value: a pin can only
/// overlap the ones before it that are still open (that contain its start).
fn collisions(pins: &[Pin], locator: &Locator<'_>, problems: &mut Vec<Diagnostic>) {
    let mut open: Vec<&Pin> = Vec::new();
    for pin in pins {
        let req = pin.req;
        open.retain(|other| overlap(&other.value, &pin.value));
        for other in &open {
            let numbers_of_other_pools = matches!(
                (other.value, pin.value),
                (AllocValue::Number(_), AllocValue::Number(_))
            ) && other.req.pool != req.pool;
            if other.req.key != req.key
                && !numbers_of_other_pools
                && !nested(other.req.key, &other.req.pool, req.key, &req.pool)
            {
                problems.push(
                    Diagnostic::error(
                        "pin-conflict",
                        format!(
                            "pinned {} for `{}` collides with pinned {} for `{}`",
                            pin.value, req.key, other.value, other.req.key
                        ),
                    )
                    .at(locator.locate(req.origin, &req.pin_at.path()))
                    .object(req.owner().to_string())
                    .related(
                        format!("{} pins {} here", other.req.owner(), other.value),
                        locator.locate(other.req.origin, &other.req.pin_at.path()),
                    )
                    .hint("every pinned value must be unique; change one of the pins"),
                );
            }
        }
        open.push(pin);
    }
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
    let mut unpinned: Vec<(usize, &str, &Entry)> = next
        .entries
        .iter()
        .filter(|(_, e)| !(e.pinned && e.held.is_none()))
        .enumerate()
        .map(|(at, (key, e))| (at, key.as_str(), e))
        .collect();
    unpinned.sort_by_key(|(_, _, e)| value_order(&e.value));
    let mut found: Vec<(usize, usize, &Pin, &str, &Entry)> = overlapping(pins, &unpinned)
        .filter(|(pin, (_, key, e))| is_conflict(pin, key, e))
        .map(|(pin, (at, key, e))| (pin.index, *at, pin, *key, *e))
        .collect();
    // As a pin-by-pin scan of the ledger in key order would report them.
    found.sort_by_key(|(pin, at, ..)| (*pin, *at));
    for (_, _, pin, key, e) in found {
        let req = pin.req;
        problems.push(
            Diagnostic::error(
                "pin-conflict",
                format!("pinned {} for `{}` overlaps {} already allocated to `{key}` ({})", pin.value, req.key, e.value, e.owner),
            )
            .at(locator.locate(req.origin, &req.pin_at.path()))
            .object(req.owner().to_string())
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
    match (&e.value, &pin.value) {
        (AllocValue::Prefix(_), AllocValue::Prefix(_)) => true,
        (AllocValue::Number(_), AllocValue::Number(_)) => req.pool.is_named(&e.pool),
        _ => false,
    }
}

/// Every pair of a pin and an entry whose values overlap, from both lists sorted by value:
/// each item is compared with the items of the other list still open at its start.
fn overlapping<'p, 'e, 'r, 'a>(
    pins: &'p [Pin<'r, 'a>],
    entries: &'e [(usize, &'e str, &'e Entry)],
) -> impl Iterator<Item = (&'p Pin<'r, 'a>, &'e (usize, &'e str, &'e Entry))> {
    let mut pairs = Vec::new();
    let mut open_pins: Vec<&Pin> = Vec::new();
    let mut open_entries: Vec<&(usize, &str, &Entry)> = Vec::new();
    let (mut p, mut e) = (0, 0);
    loop {
        let next_is_pin = match (pins.get(p), entries.get(e)) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            // On equal values the pin goes first; the entry then meets it open.
            (Some(pin), Some(entry)) => {
                value_order(&pin.value).cmp(&value_order(&entry.2.value)) != Ordering::Greater
            }
        };
        let start = if next_is_pin {
            pins[p].value
        } else {
            entries[e].2.value
        };
        open_pins.retain(|o| overlap(&o.value, &start));
        open_entries.retain(|o| overlap(&o.2.value, &start));
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

    fn request(value: AllocValue) -> Request<'static> {
        Request {
            key: "k",
            head: KeyHead::of("k"),
            pool: PoolRef::PointToPoint,
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
        /// The sweep finds exactly the pairs that comparing every pin with every entry finds.
        #[test]
        fn the_sweep_finds_every_overlapping_pair(
            pin_values in proptest::collection::vec(value(), 0..12),
            entry_values in proptest::collection::vec(value(), 0..12),
        ) {
            let requests: Vec<Request> = pin_values.iter().map(|v| request(*v)).collect();
            let mut pins: Vec<Pin> = requests
                .iter()
                .enumerate()
                .map(|(index, req)| Pin { index, req, value: req.pin.unwrap() })
                .collect();
            pins.sort_by_key(|p| value_order(&p.value));
            let stored: Vec<Entry> = entry_values.iter().map(|v| entry(*v)).collect();
            let mut entries: Vec<(usize, &str, &Entry)> =
                stored.iter().enumerate().map(|(at, e)| (at, "e", e)).collect();
            entries.sort_by_key(|(_, _, e)| value_order(&e.value));
            let mut swept: Vec<(usize, usize)> = overlapping(&pins, &entries)
                .map(|(pin, (at, _, _))| (pin.index, *at))
                .collect();
            swept.sort_unstable();
            let mut every: Vec<(usize, usize)> = Vec::new();
            for (i, p) in pin_values.iter().enumerate() {
                for (j, e) in entry_values.iter().enumerate() {
                    if overlap(p, e) {
                        every.push((i, j));
                    }
                }
            }
            prop_assert_eq!(swept, every);
        }
    }
}
