//! Checking pins: inside their pool and off reserved space, unique among themselves, and not
//! over a value the ledger holds for someone else.

use super::Request;
use super::ledger::Ledger;
use super::pools::Pools;
use super::schema::{PoolRef, is_previous_of};
use super::value::{AllocValue, Bits};
use crate::diag::Diagnostic;
use crate::load::{Locator, Seg};
use crate::model::{AddressPlanSpec, Object};

/// Pins must lie in their pool and must not collide with one another.
pub(super) fn check(
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
                .fixed_prefix(pool)
                .is_some_and(|pp| pp.covers(&Bits::of(p))),
            (pool, AllocValue::Number(n)) => pools.number(pool).is_some_and(|np| np.covers(*n)),
        };
        // Inside the pool but on reserved space (infrastructure, services, the loopback block's
        // all-zero address): before anything is taken, a pool's blocked list holds just those.
        let reserved = match (&req.pool, pin) {
            (PoolRef::Segment(_), _) | (_, AllocValue::Number(_)) => None,
            (pool, AllocValue::Prefix(p)) => pools
                .fixed_prefix(pool)
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
                .object(req.owner().to_string())
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
                .object(req.owner().to_string())
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
                    .object(req.owner().to_string())
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
pub(super) fn conflicts_with_ledger(
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
                || PoolRef::parse(&e.pool).and_then(|p| p.segment_site()) == Some(req.key);
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
                    .object(req.owner().to_string())
                    .hint("allocations never move; choose a free value for the pin, or release the other one first"),
                );
            }
        }
    }
}
