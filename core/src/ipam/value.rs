//! Allocated values: prefixes and numbers, and the arithmetic the pools need.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// What a ledger entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AllocValue {
    /// An IPv6 or IPv4 prefix (a /128 or /32 for single addresses).
    Prefix(IpNet),
    /// An AS number or VLAN id.
    Number(u32),
}

impl fmt::Display for AllocValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllocValue::Prefix(p) => p.fmt(f),
            AllocValue::Number(n) => n.fmt(f),
        }
    }
}

impl FromStr for AllocValue {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Ok(n) = s.parse::<u32>() {
            return Ok(AllocValue::Number(n));
        }
        let net: IpNet = s
            .parse()
            .map_err(|_| format!("`{s}` is neither a prefix nor a number"))?;
        if net.trunc() != net {
            return Err(format!("`{s}` has host bits set"));
        }
        Ok(AllocValue::Prefix(net))
    }
}

impl AllocValue {
    /// The prefix, if this is one.
    pub fn prefix(&self) -> Option<IpNet> {
        match self {
            AllocValue::Prefix(p) => Some(*p),
            AllocValue::Number(_) => None,
        }
    }

    /// The number, if this is one.
    pub fn number(&self) -> Option<u32> {
        match self {
            AllocValue::Prefix(_) => None,
            AllocValue::Number(n) => Some(*n),
        }
    }
}

/// A prefix as (family, first address as an integer, length): uniform arithmetic for v4 and v6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bits {
    /// 32 for IPv4, 128 for IPv6.
    pub width: u8,
    /// Network address.
    pub addr: u128,
    /// Prefix length.
    pub len: u8,
}

impl Bits {
    /// Converts a prefix.
    pub fn of(net: &IpNet) -> Bits {
        match net {
            IpNet::V4(n) => Bits {
                width: 32,
                addr: u128::from(u32::from(n.network())),
                len: n.prefix_len(),
            },
            IpNet::V6(n) => Bits {
                width: 128,
                addr: u128::from(n.network()),
                len: n.prefix_len(),
            },
        }
    }

    /// Back to a prefix.
    pub fn net(&self) -> IpNet {
        if self.width == 32 {
            IpNet::V4(
                Ipv4Net::new(Ipv4Addr::from(self.addr as u32), self.len).expect("valid length"),
            )
        } else {
            IpNet::V6(Ipv6Net::new(Ipv6Addr::from(self.addr), self.len).expect("valid length"))
        }
    }

    /// Number of addresses covered, as a power of two.
    fn host_bits(&self) -> u32 {
        u32::from(self.width - self.len)
    }

    /// Last address covered.
    pub fn last(&self) -> u128 {
        let hb = self.host_bits();
        if hb >= 128 {
            u128::MAX
        } else {
            self.addr | ((1u128 << hb) - 1)
        }
    }

    /// Whether the two prefixes share an address.
    pub fn overlaps(&self, other: &Bits) -> bool {
        self.width == other.width && self.addr <= other.last() && other.addr <= self.last()
    }

    /// Whether `other` lies inside this prefix.
    pub fn contains(&self, other: &Bits) -> bool {
        self.width == other.width
            && self.len <= other.len
            && self.addr <= other.addr
            && other.last() <= self.last()
    }

    /// The `index`-th child of length `len`.
    pub fn child(&self, len: u8, index: u128) -> Bits {
        let shift = u32::from(self.width - len);
        let offset = if shift >= 128 { 0 } else { index << shift };
        Bits {
            width: self.width,
            addr: self.addr + offset,
            len,
        }
    }

    /// The prefix of length `len` that contains this one (itself when it is shorter).
    pub fn truncate(&self, len: u8) -> Bits {
        if len >= self.len {
            return *self;
        }
        let host = u32::from(self.width - len);
        let mask = if host >= 128 {
            0
        } else {
            !((1u128 << host) - 1)
        };
        Bits {
            width: self.width,
            addr: self.addr & mask,
            len,
        }
    }

    /// Index of this prefix among the children of `parent` of its own length.
    pub fn index_in(&self, parent: &Bits) -> u128 {
        let shift = u32::from(self.width - self.len);
        if shift >= 128 {
            0
        } else {
            (self.addr - parent.addr) >> shift
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bits {
        Bits::of(&s.parse().unwrap())
    }

    #[test]
    fn children_and_containment() {
        let root = b("2001:db8::/32");
        assert_eq!(root.child(48, 1).net().to_string(), "2001:db8:1::/48");
        assert_eq!(
            root.child(48, 0xffff).net().to_string(),
            "2001:db8:ffff::/48"
        );
        assert!(root.contains(&b("2001:db8:5::/48")));
        assert!(!root.contains(&b("2001:db9::/48")));
        assert!(b("2001:db8::/48").overlaps(&b("2001:db8:0:1::/64")));
        assert_eq!(b("2001:db8:7::/48").index_in(&root), 7);
        let v4 = b("10.10.0.0/16");
        assert_eq!(v4.child(24, 3).net().to_string(), "10.10.3.0/24");
        assert!(!v4.overlaps(&b("2001:db8::/32")));
        let p2p = b("2001:db8:0:2::/64");
        assert_eq!(p2p.child(127, 1).net().to_string(), "2001:db8:0:2::2/127");
        assert_eq!(b("::/0").last(), u128::MAX);
    }

    #[test]
    fn values_parse_and_print() {
        assert_eq!(
            "4200000001".parse::<AllocValue>().unwrap(),
            AllocValue::Number(4200000001)
        );
        assert_eq!(
            "2001:db8::/48".parse::<AllocValue>().unwrap().to_string(),
            "2001:db8::/48"
        );
        assert!("2001:db8::1/48".parse::<AllocValue>().is_err());
    }
}
