//! The pools of one plan, by [`PoolRef`]: what the address plan gives, what the ledger already
//! holds (taken in bulk), and one segment pool per site that gets a new segment.

use ipnet::IpNet;
use rayon::prelude::*;

use super::hash::{self, FastMap};
use super::pool::{Exhausted, NumberPool, Placement, PrefixPool};
use super::schema::{KeyKind, PoolRef};
use super::value::{AllocValue, Bits};
use super::{Entry, PoolUse};
use crate::model::{AddressPlanSpec, Object};

/// The key of a segment pool's site, hashed (see `Pools::pending`).
fn site_hash(site: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = hash::FastHasher::default();
    h.write(site.as_bytes());
    h.finish()
}

/// The prefix and number pools a plan always has (or may have), in the order [`Gathered`]
/// keeps their values.
const PREFIX_POOLS: [PoolRef<'static>; 4] = [
    PoolRef::SiteV6,
    PoolRef::SiteV4,
    PoolRef::Loopback,
    PoolRef::PointToPoint,
];
const NUMBER_POOLS: [PoolRef<'static>; 2] = [PoolRef::Asn, PoolRef::Vlan];

/// The site pool of a family (`width` 128 or 32), in the order of `PREFIX_POOLS`.
fn site_pool_of(width: u8) -> usize {
    if width == 128 { 0 } else { 1 }
}

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
        if let Some(pool) = PoolRef::parse(pool) {
            self.add(&pool, value);
        }
    }

    /// Room for the values of a run of ledger entries, by the kind of their keys (every key
    /// of a kind starts with the kind's prefix, and a run is sorted, so each kind is a range).
    pub(crate) fn for_run(run: &[(&String, &mut Entry)]) -> Gathered {
        let count = |kind: KeyKind| {
            let prefix = kind.prefix();
            let after = run.partition_point(|(k, _)| k.as_str() < prefix);
            run[after..].partition_point(|(k, _)| k.starts_with(prefix))
        };
        Gathered {
            prefixes: PREFIX_POOLS.map(|p| Vec::with_capacity(count(p.key_kind()))),
            numbers: NUMBER_POOLS.map(|p| Vec::with_capacity(count(p.key_kind()))),
            segments: Vec::with_capacity(count(KeyKind::Segment)),
        }
    }
}

/// All pools of a plan.
pub(crate) struct Pools {
    /// In the order of `PREFIX_POOLS` (IPv4 sites only in dual-stack plans).
    prefix: [Option<PrefixPool>; 4],
    /// In the order of `NUMBER_POOLS` (VLANs only in plans with a VLAN pool).
    number: [Option<NumberPool>; 2],
    /// Segment pools by their site's key, made once the site has a prefix.
    segments: FastMap<String, PrefixPool>,
    /// Values taken in segment pools not made yet (the ledger's segments and new pins), by a
    /// hash of the pool's site: a nationwide ledger has a segment pool per commune, and most
    /// are never made. Sorted when the first pool is made.
    pending: Vec<(u64, Bits)>,
    pending_sorted: bool,
}

impl Pools {
    pub(crate) fn new(plan: &Object<AddressPlanSpec>) -> Self {
        let spec = &plan.spec;
        let bits = |p: IpNet| Bits::of(&p);
        let pool = |pool: PoolRef, parents, len, placement, blocked| {
            Some(PrefixPool::new(
                pool.name(),
                parents,
                len,
                placement,
                blocked,
            ))
        };
        let mut reserved: Vec<Bits> = vec![
            bits(IpNet::V6(spec.infrastructure.loopbacks.0)),
            bits(IpNet::V6(spec.infrastructure.point_to_point.0)),
        ];
        reserved.extend(spec.services.values().map(|p| bits(IpNet::V6(p.0))));
        let v6_roots: Vec<Bits> = spec
            .ipv6_roots
            .iter()
            .map(|p| bits(IpNet::V6(p.0)))
            .collect();
        let site_v6 = pool(
            PoolRef::SiteV6,
            v6_roots,
            spec.prefix_lengths.site,
            Placement::Spread,
            reserved,
        );
        let site_v4 = if spec.ipv4_roots.is_empty() {
            None
        } else {
            let v4: Vec<Bits> = spec
                .ipv4_roots
                .iter()
                .map(|p| bits(IpNet::V4(p.0)))
                .collect();
            pool(
                PoolRef::SiteV4,
                v4,
                spec.prefix_lengths.site_v4,
                Placement::Spread,
                vec![],
            )
        };
        let lo = bits(IpNet::V6(spec.infrastructure.loopbacks.0));
        // The all-zero address of the block is the subnet-router anycast address: never a loopback.
        let loopback = pool(
            PoolRef::Loopback,
            vec![lo],
            128,
            Placement::Sequential,
            vec![lo.child(128, 0)],
        );
        let p2p = bits(IpNet::V6(spec.infrastructure.point_to_point.0));
        let p2p = pool(
            PoolRef::PointToPoint,
            vec![p2p],
            127,
            Placement::Sequential,
            vec![],
        );
        let numbers = |pool: PoolRef, first, last| Some(NumberPool::new(pool.name(), first, last));
        Pools {
            prefix: [site_v6, site_v4, loopback, p2p],
            number: [
                numbers(PoolRef::Asn, spec.asn_pool.first, spec.asn_pool.last),
                spec.vlan_pool
                    .and_then(|v| numbers(PoolRef::Vlan, v.first, v.last)),
            ],
            segments: FastMap::default(),
            pending: Vec::new(),
            pending_sorted: false,
        }
    }

    /// The prefix pool of `pool`, unless it is a segment pool (those are per site).
    pub(crate) fn fixed_prefix(&self, pool: &PoolRef<'_>) -> Option<&PrefixPool> {
        let i = PREFIX_POOLS.iter().position(|p| p == pool)?;
        self.prefix[i].as_ref()
    }

    fn fixed_prefix_mut(&mut self, pool: &PoolRef<'_>) -> Option<&mut PrefixPool> {
        let i = PREFIX_POOLS.iter().position(|p| p == pool)?;
        self.prefix[i].as_mut()
    }

    /// The number pool of `pool`.
    pub(crate) fn number(&self, pool: &PoolRef<'_>) -> Option<&NumberPool> {
        let i = NUMBER_POOLS.iter().position(|p| p == pool)?;
        self.number[i].as_ref()
    }

    fn number_mut(&mut self, pool: &PoolRef<'_>) -> Option<&mut NumberPool> {
        let i = NUMBER_POOLS.iter().position(|p| p == pool)?;
        self.number[i].as_mut()
    }

    /// Whether the segment pool of `site` is made.
    pub(crate) fn has_segment_pool(&self, site: &str) -> bool {
        self.segments.contains_key(site)
    }

    /// Takes every value the ledger keeps (gathered while walking it): each pool takes its
    /// own in bulk, the pools side by side.
    pub(crate) fn take_gathered(&mut self, parts: Vec<Gathered>) {
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
                let i = site_pool_of(b.width);
                if let Some(sp) = &self.prefix[i]
                    && sp.covers(b)
                {
                    prefixes[i].push(b.truncate(sp.child_len));
                }
            }
            self.pending.extend_from_slice(&g.segments);
        }
        self.pending_sorted = false;
        let (prefix_pools, number_pools) = (&mut self.prefix, &mut self.number);
        rayon::join(
            || {
                let pools: Vec<(&mut PrefixPool, Vec<Bits>)> = prefix_pools
                    .iter_mut()
                    .zip(prefixes)
                    .filter_map(|(p, v)| Some((p.as_mut()?, v)))
                    .collect();
                pools.into_par_iter().for_each(|(p, v)| p.take_all(v));
            },
            || {
                for (p, v) in number_pools.iter_mut().zip(numbers) {
                    if let Some(p) = p {
                        p.take_all(v);
                    }
                }
            },
        );
    }

    /// A segment pool for `site` (the key of its site prefix), seeded with the segments taken
    /// there: those the ledger already has and pinned ones.
    pub(crate) fn add_segment_pool(&mut self, site: &str, parent: IpNet, len: u8) {
        let mut pool = PrefixPool::new(
            PoolRef::Segment(site).name(),
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
        let h = site_hash(site);
        let from = self.pending.partition_point(|(p, _)| *p < h);
        for (_, b) in self.pending[from..].iter().take_while(|(p, _)| *p == h) {
            pool.take(b);
        }
        self.segments.insert(site.to_owned(), pool);
    }

    /// Marks `value` taken in `pool` (a pin of a new request).
    pub(crate) fn take(&mut self, pool: &PoolRef<'_>, value: &AllocValue) {
        match value {
            AllocValue::Prefix(p) => {
                let b = Bits::of(p);
                // Loopbacks, links and segments lie inside blocks the site pool already keeps out
                // of use, so a value only needs marking in its own pool.
                let PoolRef::Segment(site) = pool else {
                    if let Some(pp) = self.fixed_prefix_mut(pool) {
                        pp.take(&b);
                    }
                    return;
                };
                if !self.segments.is_empty()
                    && let Some(pp) = self.segments.get_mut(*site)
                {
                    pp.take(&b);
                    return;
                }
                self.pending.push((site_hash(site), b));
                self.pending_sorted = false;
                // The site slot around a segment stays out of use while the segment lives,
                // even if its own site has a new prefix now (a no-op otherwise: that slot is
                // the site's own).
                if let Some(sp) = &mut self.prefix[site_pool_of(b.width)]
                    && sp.covers(&b)
                {
                    sp.take(&b.truncate(sp.child_len));
                }
            }
            AllocValue::Number(n) => {
                if let Some(np) = self.number_mut(pool) {
                    np.take(*n);
                }
            }
        }
    }

    /// The next free value of `pool`.
    pub(crate) fn allocate(&mut self, pool: &PoolRef<'_>) -> Result<AllocValue, Exhausted> {
        if let PoolRef::Segment(site) = pool
            && let Some(p) = self.segments.get_mut(*site)
        {
            return p.allocate().map(|b| AllocValue::Prefix(b.net()));
        }
        if let Some(p) = self.fixed_prefix_mut(pool) {
            return p.allocate().map(|b| AllocValue::Prefix(b.net()));
        }
        if let Some(n) = self.number_mut(pool) {
            return n.allocate().map(AllocValue::Number);
        }
        Err(Exhausted {
            pool: pool.name(),
            slots: 0,
        })
    }

    /// The use of every pool, for reports: prefix pools by name, the segment pools summed,
    /// then number pools by name.
    pub(crate) fn usage(&self) -> Vec<PoolUse> {
        let mut out = Vec::new();
        for pool in PoolRef::FIXED {
            if let Some(p) = self.fixed_prefix(&pool) {
                out.push(PoolUse {
                    name: pool.name(),
                    from: p.parents.iter().map(|b| b.net().to_string()).collect(),
                    child_len: Some(p.child_len),
                    total: p.total(),
                    used: p.used() as u128,
                    reserved: p.blocked_slots(),
                });
            }
        }
        // All segment pools have the plan's segment length; only sums are reported.
        let segs: Vec<&PrefixPool> = self.segments.values().collect();
        if !segs.is_empty() {
            out.push(PoolUse {
                name: super::schema::SEGMENT_POOLS.into(),
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
        for pool in PoolRef::FIXED {
            if let Some(n) = self.number(&pool) {
                out.push(PoolUse {
                    name: pool.name(),
                    from: vec![format!("{}–{}", n.first, n.last)],
                    child_len: None,
                    total: n.total(),
                    used: n.used() as u128,
                    reserved: 0,
                });
            }
        }
        out
    }
}
