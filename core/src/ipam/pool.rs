//! Pools: where values come from, in what order free slots are tried, what is already taken.

use std::collections::HashSet;

use super::hash::FastSet;

use super::value::Bits;

/// In what order a pool hands out its slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Lowest free slot first (loopbacks, links, numbers: nothing grows).
    Sequential,
    /// Bit-reversed order (RFC 3531 spirit): each new block lands as far as possible from the
    /// others, so every block keeps room to grow into its neighbours.
    Spread,
}

/// A prefix pool: parents to carve from, child length, what is reserved.
#[derive(Debug, Clone)]
pub struct PrefixPool {
    /// Ledger name.
    pub name: String,
    /// Parents, used in order.
    pub parents: Vec<Bits>,
    /// Length of each allocation.
    pub child_len: u8,
    /// Order of slots.
    pub placement: Placement,
    /// Prefixes nothing may overlap (service blocks, infrastructure, pins of other lengths).
    pub blocked: Vec<Bits>,
    /// Network addresses of children already taken.
    used: Taken<u128>,
    /// Per parent: next slot counter to try (slots before it are known to be taken).
    cursor: Vec<u128>,
    /// Per parent: whether a spread pool's cursor skipped the ledger's run already.
    spread_skipped: Vec<bool>,
}

/// Why a pool could not give a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exhausted {
    /// Pool name.
    pub pool: String,
    /// Total slots across parents.
    pub slots: u128,
}

impl PrefixPool {
    /// A new, empty pool.
    pub fn new(
        name: String,
        parents: Vec<Bits>,
        child_len: u8,
        placement: Placement,
        blocked: Vec<Bits>,
    ) -> Self {
        let cursor = vec![0; parents.len()];
        let spread_skipped = vec![false; parents.len()];
        PrefixPool {
            name,
            parents,
            child_len,
            placement,
            blocked,
            used: Taken::default(),
            cursor,
            spread_skipped,
        }
    }

    /// Marks many values as taken at once (a ledger's worth): cheaper than one by one.
    pub fn take_all(&mut self, values: Vec<Bits>) {
        let mut slots = Vec::with_capacity(values.len());
        for v in values {
            if v.len == self.child_len {
                if self.parents.iter().any(|p| p.contains(&v)) {
                    slots.push(v.addr);
                }
            } else {
                self.take(&v);
            }
        }
        self.used.extend(slots);
    }

    /// Marks a value as taken (an existing allocation, a pin, a held value).
    pub fn take(&mut self, value: &Bits) {
        if value.len == self.child_len {
            // Values outside the parents (kept from an older plan) take no slot here.
            if self.parents.iter().any(|p| p.contains(value)) {
                self.used.insert(value.addr);
            }
        } else if self.parents.iter().any(|p| p.overlaps(value)) {
            self.blocked.push(*value);
        }
    }

    /// Whether the value lies inside one of the parents.
    pub fn covers(&self, value: &Bits) -> bool {
        self.parents.iter().any(|p| p.contains(value))
    }

    /// Slots per parent.
    pub fn slots(&self, parent: &Bits) -> u128 {
        let w = u32::from(self.child_len.saturating_sub(parent.len));
        if w >= 127 { u128::MAX } else { 1u128 << w }
    }

    /// Total slots.
    pub fn total(&self) -> u128 {
        self.parents
            .iter()
            .map(|p| self.slots(p))
            .fold(0u128, u128::saturating_add)
    }

    /// Slots taken (allocated, held or pinned) at the child length.
    pub fn used(&self) -> usize {
        self.used.len()
    }

    /// Slots unusable because they overlap a blocked prefix.
    pub fn blocked_slots(&self) -> u128 {
        let mut partial = HashSet::new();
        let mut whole = 0u128;
        for b in &self.blocked {
            for (pi, p) in self
                .parents
                .iter()
                .enumerate()
                .filter(|(_, p)| p.overlaps(b))
            {
                if b.len <= self.child_len {
                    let w = u32::from(self.child_len - b.len.max(p.len));
                    whole = whole.saturating_add(if w >= 127 { u128::MAX } else { 1u128 << w });
                } else {
                    // A small block inside one slot: count the slot once.
                    partial.insert((
                        pi,
                        Bits {
                            len: self.child_len,
                            ..*b
                        }
                        .index_in(p),
                    ));
                }
            }
        }
        whole.saturating_add(partial.len() as u128)
    }

    fn slot_of(&self, parent: usize, k: u128) -> Bits {
        let p = &self.parents[parent];
        let w = u32::from(self.child_len - p.len);
        let index = match self.placement {
            Placement::Sequential => k,
            Placement::Spread if w == 0 => 0,
            Placement::Spread => k.reverse_bits() >> (128 - w),
        };
        p.child(self.child_len, index)
    }

    /// Moves a sequential pool's cursor past the slots taken in bulk right after it, at once:
    /// a re-plan starts from slot 0 of pools whose first thousands of slots are all taken.
    fn skip_taken(&mut self, parent: usize, slots: u128) {
        let p = self.parents[parent];
        let shift = u32::from(p.width - self.child_len);
        if shift >= 128 || self.used.sorted.is_empty() {
            return;
        }
        let k = self.cursor[parent];
        let slot = |i: u128| p.addr + ((k + i) << shift);
        let sorted = &self.used.sorted;
        let from = sorted.partition_point(|a| *a < slot(0));
        // The list is sorted, unique and slot-aligned: if its i-th value from here is slot
        // k + i, so is every one before it, so the run of taken slots is found by bisection.
        let run = &sorted[from..];
        let limit = run
            .len()
            .min(usize::try_from(slots - k).unwrap_or(usize::MAX));
        let (mut taken, mut free) = (0usize, limit);
        while taken < free {
            let mid = taken + (free - taken) / 2;
            if run[mid] == slot(mid as u128) {
                taken = mid + 1;
            } else {
                free = mid;
            }
        }
        self.cursor[parent] = k + taken as u128;
    }

    /// Moves a spread pool's cursor past the slots taken in bulk or blocked right after it. Spread order
    /// visits slots out of address order, so the run is found on a bitmap of the parent's slots
    /// (site pools have a few thousand to a few million slots), once per pool: after that the
    /// cursor is past the ledger's run and the slots it meets are mostly free.
    fn skip_spread(&mut self, parent: usize, slots: u128) {
        const MAX_WIDTH: u32 = 24;
        let p = self.parents[parent];
        let w = u32::from(self.child_len - p.len);
        let shift = u32::from(p.width - self.child_len);
        if self.spread_skipped[parent] || w == 0 || w > MAX_WIDTH || self.used.sorted.is_empty() {
            return;
        }
        self.spread_skipped[parent] = true;
        let mut taken = vec![0u64; (slots as usize).div_ceil(64)];
        let last = p.addr + ((slots - 1) << shift);
        let sorted = &self.used.sorted;
        for a in &sorted[sorted.partition_point(|a| *a < p.addr)..] {
            if *a > last {
                break;
            }
            let i = ((a - p.addr) >> shift) as usize;
            taken[i / 64] |= 1 << (i % 64);
        }
        // Blocked space (infrastructure, services, pins of other lengths) is as good as taken.
        for b in self.blocked.iter().filter(|b| b.overlaps(&p)) {
            let first = (b.addr.max(p.addr) - p.addr) >> shift;
            let last = (b.last().min(p.last()) - p.addr) >> shift;
            for i in first..=last {
                let i = i as usize;
                taken[i / 64] |= 1 << (i % 64);
            }
        }
        let mut k = self.cursor[parent];
        while k < slots {
            let i = (k.reverse_bits() >> (128 - w)) as usize;
            if taken[i / 64] & (1 << (i % 64)) == 0 {
                break;
            }
            k += 1;
        }
        self.cursor[parent] = k;
    }

    /// The next free slot, marked as taken.
    pub fn allocate(&mut self) -> Result<Bits, Exhausted> {
        for parent in 0..self.parents.len() {
            let slots = self.slots(&self.parents[parent]);
            while self.cursor[parent] < slots {
                match self.placement {
                    Placement::Sequential => self.skip_taken(parent, slots),
                    Placement::Spread => self.skip_spread(parent, slots),
                }
                if self.cursor[parent] >= slots {
                    break;
                }
                let k = self.cursor[parent];
                self.cursor[parent] += 1;
                let candidate = self.slot_of(parent, k);
                if self.used.contains(&candidate.addr)
                    || self.blocked.iter().any(|b| b.overlaps(&candidate))
                {
                    continue;
                }
                self.used.insert_free(candidate.addr);
                return Ok(candidate);
            }
        }
        Err(Exhausted {
            pool: self.name.clone(),
            slots: self.total(),
        })
    }
}

/// A pool of numbers (ASNs, VLAN ids), handed out lowest first.
#[derive(Debug, Clone)]
pub struct NumberPool {
    /// Ledger name.
    pub name: String,
    /// First value.
    pub first: u32,
    /// Last value (inclusive).
    pub last: u32,
    used: Taken<u32>,
    cursor: u64,
}

impl NumberPool {
    /// A new, empty pool.
    pub fn new(name: String, first: u32, last: u32) -> Self {
        NumberPool {
            name,
            first,
            last,
            used: Taken::default(),
            cursor: u64::from(first),
        }
    }

    /// Marks many numbers as taken at once.
    pub fn take_all(&mut self, numbers: Vec<u32>) {
        self.used.extend(numbers);
    }

    /// Marks a number as taken.
    pub fn take(&mut self, n: u32) {
        self.used.insert(n);
    }

    /// Whether `n` is inside the range.
    pub fn covers(&self, n: u32) -> bool {
        (self.first..=self.last).contains(&n)
    }

    /// Numbers in the range.
    pub fn total(&self) -> u128 {
        u128::from(self.last.saturating_sub(self.first)) + 1
    }

    /// Numbers taken inside the range.
    pub fn used(&self) -> usize {
        self.used.count(|n| self.covers(n))
    }

    /// The lowest free number, marked as taken.
    pub fn allocate(&mut self) -> Result<u32, Exhausted> {
        // Skip the run of numbers taken in bulk from the cursor on (see `PrefixPool::skip_taken`).
        let sorted = &self.used.sorted;
        let run = &sorted[sorted.partition_point(|n| u64::from(*n) < self.cursor)..];
        let (mut taken, mut free) = (0usize, run.len());
        while taken < free {
            let mid = taken + (free - taken) / 2;
            if u64::from(run[mid]) == self.cursor + mid as u64 {
                taken = mid + 1;
            } else {
                free = mid;
            }
        }
        self.cursor += taken as u64;
        while self.cursor <= u64::from(self.last) {
            let n = self.cursor as u32;
            self.cursor += 1;
            if self.used.insert(n) {
                return Ok(n);
            }
        }
        Err(Exhausted {
            pool: self.name.clone(),
            slots: self.total(),
        })
    }
}

/// What a pool has handed out: the values taken in bulk (a ledger's) in a sorted list, and
/// those taken one by one in a set. Sorting a ledger's worth of values is several times
/// cheaper than inserting them into a hash set one by one; the two never share a value.
#[derive(Debug, Clone, Default)]
struct Taken<T> {
    sorted: Vec<T>,
    each: FastSet<T>,
}

impl<T: Copy + Ord + std::hash::Hash> Taken<T> {
    fn contains(&self, v: &T) -> bool {
        self.each.contains(v) || (!self.sorted.is_empty() && self.sorted.binary_search(v).is_ok())
    }

    /// Inserts `v`; false if it was taken already.
    fn insert(&mut self, v: T) -> bool {
        (self.sorted.is_empty() || self.sorted.binary_search(&v).is_err()) && self.each.insert(v)
    }

    fn extend(&mut self, mut values: Vec<T>) {
        if values.is_empty() {
            return;
        }
        values.append(&mut self.sorted);
        values.sort_unstable();
        values.dedup();
        if !self.each.is_empty() {
            values.retain(|v| !self.each.contains(v));
        }
        self.sorted = values;
    }

    /// Inserts `v`, known not to be taken.
    fn insert_free(&mut self, v: T) {
        self.each.insert(v);
    }

    fn len(&self) -> usize {
        self.sorted.len() + self.each.len()
    }

    fn count(&self, f: impl Fn(T) -> bool) -> usize {
        self.sorted
            .iter()
            .chain(&self.each)
            .filter(|v| f(**v))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bits {
        Bits::of(&s.parse().unwrap())
    }

    #[test]
    fn spread_placement_halves_the_gaps() {
        let mut pool = PrefixPool::new(
            "site-v6".into(),
            vec![b("2001:db8::/32")],
            48,
            Placement::Spread,
            vec![b("2001:db8::/48")],
        );
        let got: Vec<String> = (0..4)
            .map(|_| pool.allocate().unwrap().net().to_string())
            .collect();
        // Slot 0 is blocked (infrastructure); then the middle, the quarters, …
        assert_eq!(
            got,
            [
                "2001:db8:8000::/48",
                "2001:db8:4000::/48",
                "2001:db8:c000::/48",
                "2001:db8:2000::/48"
            ]
        );
    }

    #[test]
    fn sequential_skips_taken_and_reports_exhaustion() {
        let mut pool = PrefixPool::new(
            "p2p".into(),
            vec![b("2001:db8:0:2::/126")],
            127,
            Placement::Sequential,
            vec![],
        );
        pool.take(&b("2001:db8:0:2::/127"));
        assert_eq!(
            pool.allocate().unwrap().net().to_string(),
            "2001:db8:0:2::2/127"
        );
        let err = pool.allocate().unwrap_err();
        assert_eq!(err.pool, "p2p");
        assert_eq!(err.slots, 2);
    }

    #[test]
    fn loopbacks_are_single_addresses() {
        let mut pool = PrefixPool::new(
            "loopback".into(),
            vec![b("2001:db8:0:1::/64")],
            128,
            Placement::Sequential,
            vec![],
        );
        assert_eq!(
            pool.allocate().unwrap().net().to_string(),
            "2001:db8:0:1::/128"
        );
        assert_eq!(
            pool.allocate().unwrap().net().to_string(),
            "2001:db8:0:1::1/128"
        );
    }

    #[test]
    fn numbers() {
        let mut pool = NumberPool::new("asn".into(), 4200000000, 4200000002);
        pool.take(4200000000);
        assert_eq!(pool.allocate().unwrap(), 4200000001);
        assert_eq!(pool.allocate().unwrap(), 4200000002);
        assert!(pool.allocate().is_err());
    }

    /// A sequential pool of 128 /127s over two parents, with values taken in bulk (as from a
    /// ledger), one by one (as pins) and blocked, hands out exactly what the plain rule says:
    /// the lowest slot that is neither taken nor blocked, parent by parent.
    mod lowest_free_first {
        use super::*;
        use proptest::prelude::*;

        fn parents() -> Vec<Bits> {
            vec![b("2001:db8:0:2::/121"), b("2001:db8:0:3::/121")]
        }

        /// A pool of `parents` with the slots `blocked` kept out of use, `bulk` taken in bulk
        /// and `single` one by one; and the slots so taken or blocked.
        fn seeded(
            parents: Vec<Bits>,
            child_len: u8,
            placement: Placement,
            slot: &dyn Fn(u128) -> Bits,
            (bulk, single, blocked): (&[u128], &[u128], &[u128]),
        ) -> (PrefixPool, std::collections::BTreeSet<u128>) {
            let mut pool = PrefixPool::new(
                "pool".into(),
                parents,
                child_len,
                placement,
                blocked.iter().map(|i| slot(*i)).collect(),
            );
            pool.take_all(bulk.iter().map(|i| slot(*i)).collect());
            for i in single {
                pool.take(&slot(*i));
            }
            let taken = bulk.iter().chain(single).chain(blocked).copied().collect();
            (pool, taken)
        }

        /// Allocates `wanted` times (or until the pool is exhausted), checking that each value
        /// is the first slot of `order` not taken yet.
        fn allocates_in_order(
            pool: &mut PrefixPool,
            taken: &mut std::collections::BTreeSet<u128>,
            order: &[u128],
            slot: &dyn Fn(u128) -> Bits,
            wanted: usize,
        ) -> Result<(), TestCaseError> {
            for _ in 0..wanted {
                let expected = order.iter().copied().find(|i| !taken.contains(i));
                match (pool.allocate(), expected) {
                    (Ok(got), Some(i)) => {
                        prop_assert_eq!(got, slot(i));
                        taken.insert(i);
                    }
                    (Err(_), None) => break,
                    (got, expected) => {
                        prop_assert!(false, "got {got:?}, expected slot {expected:?}")
                    }
                }
            }
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(400))]
            #[test]
            fn after_bulk_and_single_takes(
                bulk in proptest::collection::vec(0u128..128, 0..120),
                single in proptest::collection::vec(0u128..128, 0..8),
                blocked in proptest::collection::vec(0u128..128, 0..3),
                wanted in 1usize..40,
            ) {
                let slot = |i: u128| {
                    let parents = parents();
                    parents[(i / 64) as usize].child(127, i % 64)
                };
                let (mut pool, mut taken) = seeded(
                    parents(),
                    127,
                    Placement::Sequential,
                    &slot,
                    (&bulk, &single, &blocked),
                );
                let order: Vec<u128> = (0..128u128).collect();
                allocates_in_order(&mut pool, &mut taken, &order, &slot, wanted)?;
                prop_assert_eq!(pool.used(), taken.len() - blocked.iter().filter(|i| !bulk.contains(i) && !single.contains(i)).collect::<std::collections::BTreeSet<_>>().len());
            }

            #[test]
            fn spread_after_bulk_and_single_takes(
                bulk in proptest::collection::vec(0u128..32, 0..32),
                single in proptest::collection::vec(0u128..32, 0..4),
                blocked in proptest::collection::vec(0u128..32, 0..2),
                wanted in 1usize..20,
            ) {
                // Two /44s of sixteen /48s each; slot i is the i-th /48 in address order.
                let parents = vec![b("2001:db8::/44"), b("2001:db8:10::/44")];
                let slot = |i: u128| parents[(i / 16) as usize].child(48, i % 16);
                let (mut pool, mut taken) = seeded(
                    parents.clone(),
                    48,
                    Placement::Spread,
                    &slot,
                    (&bulk, &single, &blocked),
                );
                // Spread order: within each parent, the bit-reversed counter.
                let order: Vec<u128> = (0..2u128)
                    .flat_map(|p| (0..16u128).map(move |k| p * 16 + (k.reverse_bits() >> 124)))
                    .collect();
                allocates_in_order(&mut pool, &mut taken, &order, &slot, wanted)?;
            }

            #[test]
            fn numbers_after_bulk_and_single_takes(
                bulk in proptest::collection::vec(100u32..164, 0..80),
                single in proptest::collection::vec(100u32..164, 0..8),
                wanted in 1usize..40,
            ) {
                let mut pool = NumberPool::new("asn".into(), 100, 163);
                pool.take_all(bulk.clone());
                for n in &single {
                    pool.take(*n);
                }
                let mut taken: std::collections::BTreeSet<u32> =
                    bulk.iter().chain(&single).copied().collect();
                for _ in 0..wanted {
                    let expected = (100..164).find(|n| !taken.contains(n));
                    match (pool.allocate(), expected) {
                        (Ok(got), Some(n)) => {
                            prop_assert_eq!(got, n);
                            taken.insert(n);
                        }
                        (Err(_), None) => break,
                        (got, expected) => prop_assert!(false, "got {got:?}, expected {expected:?}"),
                    }
                }
                prop_assert_eq!(pool.used(), taken.len());
            }
        }
    }
}
