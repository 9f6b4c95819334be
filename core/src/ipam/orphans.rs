//! Values the ledger gives to objects that the address plan no longer covers: a root, block or
//! number range made smaller (or removed) under them. Each would be lost silently — kept in the
//! ledger but outside every pool, so utilisation under-reports and nothing keeps it out of use —
//! so each pool that lost values is an error naming them.
//!
//! Held values are not judged: a value held after its object left (or a prefix draining after a
//! renumbering, docs/renumbering.md) may lie outside a plan that moved on; it is released when
//! its hold ends, and nothing hands it out meanwhile.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::ledger::{Entry, Ledger};
use super::pools::Pools;
use super::schema::PoolRef;
use super::value::{AllocValue, Bits};
use crate::diag::{Diagnostic, ObjectRef};
use crate::load::{Locator, Seg};
use crate::model::{AddressPlanSpec, Kind, Object};

/// How many orphaned entries one diagnostic names before it counts the rest.
const NAMED: usize = 20;

/// Whether the plan's pool `pool` still covers `value` (segments are judged by their site).
fn covered(pools: &Pools, pool: &PoolRef<'_>, value: &AllocValue) -> bool {
    match (pool, value) {
        (PoolRef::Segment(_), _) => true,
        (pool, AllocValue::Prefix(p)) => pools
            .fixed_prefix(pool)
            .is_some_and(|pp| pp.covers(&Bits::of(p))),
        (pool, AllocValue::Number(n)) => pools.number(pool).is_some_and(|np| np.covers(*n)),
    }
}

/// The AddressPlan field that defines `pool`, for the diagnostic's position.
fn field(pool: &PoolRef<'_>) -> Vec<Seg> {
    let path: &[&str] = match pool {
        PoolRef::SiteV6 | PoolRef::Segment(_) => &["spec", "ipv6Roots"],
        PoolRef::SiteV4 => &["spec", "ipv4Roots"],
        PoolRef::Loopback => &["spec", "infrastructure", "loopbacks"],
        PoolRef::PointToPoint => &["spec", "infrastructure", "pointToPoint"],
        PoolRef::Asn => &["spec", "asnPool"],
        PoolRef::Vlan => &["spec", "vlanPool"],
    };
    path.iter().map(|s| Seg::from(*s)).collect()
}

/// One error per pool whose plan no longer covers values the ledger holds for it.
pub(super) fn report(
    ledger: &Ledger,
    pools: &Pools,
    plan: &Object<AddressPlanSpec>,
    locator: &Locator<'_>,
    problems: &mut Vec<Diagnostic>,
) {
    // Every entry is looked at on every plan: side by side (a nationwide ledger has 64,000).
    // Pools this build does not know were never the plan's: not judged here.
    let found: Vec<(&String, &Entry)> = ledger
        .entries
        .par_iter()
        .filter(|(_, e)| e.held.is_none())
        .filter(|(_, e)| PoolRef::parse(&e.pool).is_some_and(|p| !covered(pools, &p, &e.value)))
        .collect();
    // By pool name (in name order), the orphaned entries in key order.
    let mut orphaned: BTreeMap<&str, Vec<(&str, &AllocValue)>> = BTreeMap::new();
    for (key, entry) in found {
        orphaned
            .entry(entry.pool.as_str())
            .or_default()
            .push((key.as_str(), &entry.value));
    }
    for (name, entries) in orphaned {
        let Some(pool) = PoolRef::parse(name) else {
            continue;
        };
        let mut named: Vec<String> = entries
            .iter()
            .take(NAMED)
            .map(|(key, value)| format!("`{key}` ({value})"))
            .collect();
        if entries.len() > NAMED {
            named.push(format!("and {} more", entries.len() - NAMED));
        }
        problems.push(
            Diagnostic::error(
                "ledger-orphaned",
                format!(
                    "the address plan's `{name}` pool no longer covers {} value(s) the ledger holds: {}",
                    entries.len(),
                    named.join(", ")
                ),
            )
            .at(locator.locate(plan.origin, &field(&pool)))
            .object(ObjectRef::of(Kind::AddressPlan, plan))
            .hint("a value in the ledger is in use (or held) until it is released; keep the roots, blocks or ranges that hold it, move its objects first (docs/renumbering.md), or release held values with `hatang ipam release`"),
        );
    }
}
