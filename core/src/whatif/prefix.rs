//! Prefixes as the routers compare them: every prefix some router originates is interned once,
//! and a prefix-list entry (`permit X le 64`, as the templates render it) is turned into the
//! interned prefixes it lets through.

use std::collections::HashMap;

use ipnet::IpNet;

/// Index of an interned prefix.
pub type PrefixId = u32;

/// The longest prefix a list entry lets through (`le 64` in the templates).
pub const LIST_MAX_LEN: u8 = 64;

/// A prefix as one number line: the family keeps IPv4 and IPv6 apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Key {
    v6: bool,
    network: u128,
    len: u8,
}

impl Key {
    fn of(net: IpNet) -> Key {
        let net = net.trunc();
        match net {
            IpNet::V4(n) => Key {
                v6: false,
                network: u128::from(u32::from(n.network())),
                len: n.prefix_len(),
            },
            IpNet::V6(n) => Key {
                v6: true,
                network: u128::from(n.network()),
                len: n.prefix_len(),
            },
        }
    }

    /// The last address of the prefix, on the same number line.
    fn last(self) -> u128 {
        let bits = if self.v6 { 128 } else { 32 };
        let host = bits - u32::from(self.len);
        if host == 0 {
            self.network
        } else if host >= 128 {
            u128::MAX
        } else {
            self.network | ((1u128 << host) - 1)
        }
    }
}

/// Every originated prefix, interned, with an index sorted by position for list matching.
#[derive(Debug, Default)]
pub struct Prefixes {
    nets: Vec<IpNet>,
    ids: HashMap<Key, PrefixId>,
    sorted: Vec<(Key, PrefixId)>,
}

impl Prefixes {
    /// Interns `net` (idempotent). Call [`Prefixes::seal`] before matching lists.
    pub fn intern(&mut self, net: IpNet) -> PrefixId {
        let key = Key::of(net);
        let next = self.nets.len() as PrefixId;
        *self.ids.entry(key).or_insert_with(|| {
            self.nets.push(net.trunc());
            next
        })
    }

    /// Builds the position index; interning after this is not seen by [`Prefixes::permitted`].
    pub fn seal(&mut self) {
        self.sorted = self.ids.iter().map(|(k, id)| (*k, *id)).collect();
        self.sorted.sort_unstable();
    }

    /// The id of `net` if some router originates it.
    pub fn id(&self, net: IpNet) -> Option<PrefixId> {
        self.ids.get(&Key::of(net)).copied()
    }

    /// The prefix of `id`.
    pub fn net(&self, id: PrefixId) -> IpNet {
        self.nets[id as usize]
    }

    /// How many prefixes are interned.
    pub fn len(&self) -> usize {
        self.nets.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// The interned prefixes the entry `permit entry le 64` lets through: inside `entry`, no
    /// shorter than it and no longer than 64 bits.
    pub fn permitted(&self, entry: IpNet, out: &mut Vec<PrefixId>) {
        let e = Key::of(entry);
        let from = self
            .sorted
            .partition_point(|(k, _)| (k.v6, k.network) < (e.v6, e.network));
        for (k, id) in &self.sorted[from..] {
            if k.v6 != e.v6 || k.network > e.last() {
                break;
            }
            if k.len >= e.len && k.len <= LIST_MAX_LEN {
                out.push(*id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn a_list_entry_lets_through_what_it_covers_up_to_64_bits() {
        let mut p = Prefixes::default();
        let site = p.intern(net("3fff:ab:100::/48"));
        let inner = p.intern(net("3fff:ab:100:5::/64"));
        let too_long = p.intern(net("3fff:ab:100:5::1/128"));
        let outside = p.intern(net("3fff:ab:101::/48"));
        let wider = p.intern(net("3fff:ab::/32"));
        p.seal();
        let mut out = Vec::new();
        p.permitted(net("3fff:ab:100::/48"), &mut out);
        out.sort();
        assert_eq!(out, vec![site, inner]);
        for id in [too_long, outside, wider] {
            assert!(!out.contains(&id));
        }
    }

    #[test]
    fn families_do_not_mix_and_interning_is_idempotent() {
        let mut p = Prefixes::default();
        let v4 = p.intern(net("10.0.0.0/24"));
        assert_eq!(p.intern(net("10.0.0.0/24")), v4);
        let v6 = p.intern(net("2001:db8::/48"));
        p.seal();
        let mut out = Vec::new();
        p.permitted(net("10.0.0.0/8"), &mut out);
        assert_eq!(out, vec![v4]);
        out.clear();
        p.permitted(net("::/0"), &mut out);
        assert_eq!(out, vec![v6]);
        assert_eq!(p.id(net("10.0.0.0/24")), Some(v4));
        assert_eq!(p.len(), 2);
    }
}
