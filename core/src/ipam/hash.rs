//! A fast, deterministic hasher for the allocator's internal maps (keys are addresses and
//! names the inventory already trusts; no map is ever iterated in an order that matters).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Word-at-a-time multiply-rotate mixing with a final avalanche, so that structured keys
/// (prefixes differing only in a few middle bits) spread over all buckets.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct FastHasher(u64);

const K: u64 = 0x517c_c1b7_2722_0a95;

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let n = bytes.len();
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder().len();
        if rest == 0 {
            return;
        }
        // The tail is read with whole-word loads that may overlap bytes already mixed in: copying
        // it into a zeroed buffer cost a `memcpy` call and a stalled load, more than the rest
        // of hashing a short name together.
        let tail = if n >= 8 {
            u64::from_le_bytes(bytes[n - 8..].try_into().expect("8 bytes"))
        } else if n >= 4 {
            let lo = u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes"));
            let hi = u32::from_le_bytes(bytes[n - 4..].try_into().expect("4 bytes"));
            u64::from(lo) | (u64::from(hi) << 32)
        } else {
            u64::from(bytes[0]) | (u64::from(bytes[n / 2]) << 8) | (u64::from(bytes[n - 1]) << 16)
        };
        self.add(tail ^ ((rest as u64) << 59));
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.add(i as u64);
        self.add((i >> 64) as u64);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // splitmix64 / murmur3 finaliser.
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Builds [`FastHasher`]s.
pub(super) type FastBuild = BuildHasherDefault<FastHasher>;
/// A `HashMap` with [`FastHasher`].
pub(super) type FastMap<K, V> = HashMap<K, V, FastBuild>;
/// A `HashSet` with [`FastHasher`].
pub(super) type FastSet<T> = HashSet<T, FastBuild>;

#[cfg(test)]
mod tests {
    use super::FastHasher;
    use std::collections::HashSet;
    use std::hash::Hasher;

    fn hash(bytes: &[u8]) -> u64 {
        let mut h = FastHasher::default();
        h.write(bytes);
        h.finish()
    }

    /// Every byte of a name counts, whatever its length: names that differ in one byte of the
    /// tail (read with overlapping loads) or of a whole word hash apart.
    #[test]
    fn names_differing_in_any_byte_hash_apart() {
        let mut seen = HashSet::new();
        let mut count = 0;
        for len in 0..=20usize {
            for at in 0..len {
                for byte in [b'0', b'1', b'7'] {
                    let mut name = vec![b'x'; len];
                    name[at] = byte;
                    count += 1;
                    assert!(seen.insert((name.clone(), hash(&name))));
                }
            }
        }
        let hashes: HashSet<u64> = seen.iter().map(|(_, h)| *h).collect();
        assert_eq!(hashes.len(), count, "two different names hashed alike");
        assert_eq!(hash(b"cpe-00691"), hash(b"cpe-00691"));
    }
}
