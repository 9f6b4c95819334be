//! The ledger's schema: the pools values come from, the keys they are filed under and how
//! owners are written. Every key and pool name is built and read here and nowhere else, so
//! demand, allocation, reports, renumbering, compile and the ledger file cannot drift apart.
//!
//! | key | pool | value |
//! |---|---|---|
//! | `site/commune-<code>`, `site/<site>` | `site-v6` | a site's IPv6 prefix (communes by GSO code: it survives renaming the site) |
//! | `site-v4/commune-<code>`, `site-v4/<site>` | `site-v4` | its IPv4 prefix (dual-stack plans) |
//! | `segment/<device>:<interface>` | `segment:<site key>` | an office LAN's /64, inside its site's prefix |
//! | `loopback/<device>` | `loopback` | a /128 |
//! | `p2p/<device>:<interface>--<device>:<interface>` | `p2p` | a circuit's /127 (its a end first) |
//! | `asn/<device>` | `asn` | a private AS number |
//! | `vlan/<namespace>/<lease>` | `vlan` | a co-location lease's VLAN id |
//! | `<key>@<value>` | the key's | an old value of a repinned or moved key, held |
//! | `site-secondary/commune-<new>/<old>`, `site-unmapped/commune-<old>`, `site-retired/commune-<old>` (and `site-v4-…`) | `site-v6`, `site-v4` | prefixes a renumbering keeps draining |
//!
//! Owners are written `Kind/name` ([`Owner`]).

use std::fmt;

use crate::model::SiteRole;

/// Which pool a value is drawn from (the ledger writes it by [`PoolRef::name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PoolRef<'a> {
    /// Site prefixes from the IPv6 roots.
    SiteV6,
    /// Site prefixes from the IPv4 roots.
    SiteV4,
    /// A /64 inside the site prefix allocated under this key (shared by the site's segments).
    Segment(&'a str),
    /// /128 loopbacks.
    Loopback,
    /// /127 point-to-point links.
    PointToPoint,
    /// Private AS numbers.
    Asn,
    /// VLAN ids.
    Vlan,
}

/// How a segment pool's name starts; the site's key follows.
const SEGMENT_POOL: &str = "segment:";

/// The name under which pool reports sum every site's segment pool.
pub const SEGMENT_POOLS: &str = "segment";

impl<'a> PoolRef<'a> {
    /// The pools a plan has whatever its sites, in the order [`PoolRef::name`] sorts them.
    pub const FIXED: [PoolRef<'static>; 6] = [
        PoolRef::Asn,
        PoolRef::Loopback,
        PoolRef::PointToPoint,
        PoolRef::SiteV4,
        PoolRef::SiteV6,
        PoolRef::Vlan,
    ];

    /// The name of a pool other than a segment pool.
    const fn fixed_name(&self) -> Option<&'static str> {
        match self {
            PoolRef::SiteV6 => Some("site-v6"),
            PoolRef::SiteV4 => Some("site-v4"),
            PoolRef::Segment(_) => None,
            PoolRef::Loopback => Some("loopback"),
            PoolRef::PointToPoint => Some("p2p"),
            PoolRef::Asn => Some("asn"),
            PoolRef::Vlan => Some("vlan"),
        }
    }

    /// The pool's name in the ledger.
    pub fn name(&self) -> String {
        match (self, self.fixed_name()) {
            (PoolRef::Segment(site), _) => concat(&[SEGMENT_POOL, site]),
            (_, Some(name)) => name.to_owned(),
            (_, None) => unreachable!("only segment pools have no fixed name"),
        }
    }

    /// Whether `name` is this pool's name in the ledger (without building it).
    pub fn is_named(&self, name: &str) -> bool {
        match (self, self.fixed_name()) {
            (PoolRef::Segment(site), _) => name.strip_prefix(SEGMENT_POOL) == Some(*site),
            (_, fixed) => fixed == Some(name),
        }
    }

    /// The pool a ledger names `name`, if it is one of the plan's.
    pub fn parse(name: &'a str) -> Option<PoolRef<'a>> {
        if let Some(site) = name.strip_prefix(SEGMENT_POOL) {
            return Some(PoolRef::Segment(site));
        }
        PoolRef::FIXED
            .into_iter()
            .find(|p| p.fixed_name() == Some(name))
    }

    /// The kind of the keys whose values come from this pool.
    pub const fn key_kind(&self) -> KeyKind {
        match self {
            PoolRef::SiteV6 => KeyKind::Site,
            PoolRef::SiteV4 => KeyKind::SiteV4,
            PoolRef::Segment(_) => KeyKind::Segment,
            PoolRef::Loopback => KeyKind::Loopback,
            PoolRef::PointToPoint => KeyKind::Link,
            PoolRef::Asn => KeyKind::Asn,
            PoolRef::Vlan => KeyKind::Vlan,
        }
    }

    /// The site key of a segment pool.
    pub fn segment_site(&self) -> Option<&'a str> {
        match self {
            PoolRef::Segment(site) => Some(site),
            _ => None,
        }
    }
}

const _: () = {
    let mut i = 1;
    while i < PoolRef::FIXED.len() {
        match (
            PoolRef::FIXED[i - 1].fixed_name(),
            PoolRef::FIXED[i].fixed_name(),
        ) {
            (Some(a), Some(b)) => assert!(before(a, b)),
            _ => panic!("fixed pools have fixed names"),
        }
        i += 1;
    }
};

/// Which site a site prefix belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteId<'a> {
    /// A commune office, by its region's GSO code (it survives renaming the site).
    Commune(&'a str),
    /// Any other site, by name.
    Named(&'a str),
}

impl<'a> SiteId<'a> {
    /// The identity of a site of `role` named `site` whose region has the code `region_code`.
    pub fn of(region_code: Option<&'a str>, role: SiteRole, site: &'a str) -> SiteId<'a> {
        match (role, region_code) {
            (SiteRole::CommuneOffice, Some(code)) => SiteId::Commune(code),
            _ => SiteId::Named(site),
        }
    }
}

/// IPv6 or IPv4, for the keys that exist once per family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// IPv6 (`site/…`).
    V6,
    /// IPv4 (`site-v4/…`).
    V4,
}

/// What a renumbering keeps of a commune's old prefix, under a key of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Draining<'a> {
    /// A predecessor's prefix a successor keeps routing during the drain window.
    Secondary {
        /// The successor's code.
        new: &'a str,
        /// The predecessor's code.
        old: &'a str,
    },
    /// An old prefix no successor takes.
    Unmapped {
        /// The old commune's code.
        old: &'a str,
    },
    /// An old prefix that was already held before the renumbering.
    Retired {
        /// The old commune's code.
        old: &'a str,
    },
}

/// A ledger key, read into its parts ([`LedgerKey::parse`]) or about to be written
/// ([`fmt::Display`]; the requests of a plan are written through [`LedgerKey::parts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerKey<'a> {
    /// A site's prefix.
    Site {
        /// IPv6 or IPv4.
        family: Family,
        /// Whose.
        site: SiteId<'a>,
    },
    /// An office LAN.
    Segment {
        /// The branch router.
        device: &'a str,
        /// Its LAN interface.
        interface: &'a str,
    },
    /// A device's loopback.
    Loopback {
        /// The device.
        device: &'a str,
    },
    /// A circuit's /127, named by its ends.
    Link {
        /// The a end: device and interface.
        a: (&'a str, &'a str),
        /// The z end.
        z: (&'a str, &'a str),
    },
    /// A routed device's AS number.
    Asn {
        /// The device.
        device: &'a str,
    },
    /// A co-location lease's VLAN.
    Vlan {
        /// The lease's namespace (`-` for none).
        namespace: &'a str,
        /// The lease.
        lease: &'a str,
    },
    /// A commune prefix a renumbering keeps draining.
    Draining {
        /// IPv6 or IPv4.
        family: Family,
        /// What is kept.
        what: Draining<'a>,
    },
}

/// The parts of a written key, joined without separators (at most 8: a link).
pub struct Parts<'a> {
    parts: [&'a str; 8],
    len: usize,
}

impl<'a> Parts<'a> {
    fn of<const N: usize>(parts: [&'a str; N]) -> Parts<'a> {
        const { assert!(N <= 8) };
        let mut out = Parts {
            parts: [""; 8],
            len: N,
        };
        out.parts[..N].copy_from_slice(&parts);
        out
    }

    /// The parts, in order.
    pub fn as_slice(&self) -> &[&'a str] {
        &self.parts[..self.len]
    }

    /// The length of the key they make.
    pub fn key_len(&self) -> usize {
        self.as_slice().iter().map(|p| p.len()).sum()
    }
}

/// What a kind of key starts with, by family.
const fn site_prefix(family: Family) -> &'static str {
    match family {
        Family::V6 => "site/",
        Family::V4 => "site-v4/",
    }
}

const COMMUNE: &str = "commune-";

impl<'a> LedgerKey<'a> {
    /// The key's text, in parts (building it in an arena needs no formatting machinery).
    pub fn parts(&self) -> Parts<'a> {
        match *self {
            LedgerKey::Site {
                family,
                site: SiteId::Commune(code),
            } => Parts::of([site_prefix(family), COMMUNE, code]),
            LedgerKey::Site {
                family,
                site: SiteId::Named(name),
            } => Parts::of([site_prefix(family), name]),
            LedgerKey::Segment { device, interface } => {
                Parts::of([KeyKind::Segment.prefix(), device, ":", interface])
            }
            LedgerKey::Loopback { device } => Parts::of([KeyKind::Loopback.prefix(), device]),
            LedgerKey::Link { a, z } => {
                Parts::of([KeyKind::Link.prefix(), a.0, ":", a.1, "--", z.0, ":", z.1])
            }
            LedgerKey::Asn { device } => Parts::of([KeyKind::Asn.prefix(), device]),
            LedgerKey::Vlan { namespace, lease } => {
                Parts::of([KeyKind::Vlan.prefix(), namespace, "/", lease])
            }
            LedgerKey::Draining { family, what } => {
                let v = match family {
                    Family::V6 => "site-",
                    Family::V4 => "site-v4-",
                };
                match what {
                    Draining::Secondary { new, old } => {
                        Parts::of([v, "secondary/", COMMUNE, new, "/", old])
                    }
                    Draining::Unmapped { old } => Parts::of([v, "unmapped/", COMMUNE, old]),
                    Draining::Retired { old } => Parts::of([v, "retired/", COMMUNE, old]),
                }
            }
        }
    }

    /// The key's text.
    pub fn write(&self) -> String {
        concat(self.parts().as_slice())
    }

    /// Reads a key. A site named `commune-…` reads as a commune (the two share their keys).
    pub fn parse(key: &'a str) -> Option<LedgerKey<'a>> {
        let (kind, rest) = KeyKind::split(key)
            .map(|(k, rest)| (Some(k), rest))
            .unwrap_or((None, key));
        Some(match kind {
            Some(KeyKind::Site) => site(Family::V6, rest),
            Some(KeyKind::SiteV4) => site(Family::V4, rest),
            Some(KeyKind::Segment) => {
                let (device, interface) = rest.split_once(':')?;
                LedgerKey::Segment { device, interface }
            }
            Some(KeyKind::Loopback) => LedgerKey::Loopback { device: rest },
            Some(KeyKind::Link) => {
                let (a, z) = rest.split_once("--")?;
                LedgerKey::Link {
                    a: a.split_once(':')?,
                    z: z.split_once(':')?,
                }
            }
            Some(KeyKind::Asn) => LedgerKey::Asn { device: rest },
            Some(KeyKind::Vlan) => {
                let (namespace, lease) = rest.split_once('/')?;
                LedgerKey::Vlan { namespace, lease }
            }
            None => draining(key)?,
        })
    }

    /// The commune code of a commune's site prefix key.
    pub fn commune_code(&self) -> Option<&'a str> {
        match self {
            LedgerKey::Site {
                site: SiteId::Commune(code),
                ..
            } => Some(code),
            _ => None,
        }
    }
}

fn site(family: Family, rest: &str) -> LedgerKey<'_> {
    let site = match rest.strip_prefix(COMMUNE) {
        Some(code) => SiteId::Commune(code),
        None => SiteId::Named(rest),
    };
    LedgerKey::Site { family, site }
}

fn draining(key: &str) -> Option<LedgerKey<'_>> {
    let (family, rest) = match key.strip_prefix("site-v4-") {
        Some(rest) => (Family::V4, rest),
        None => (Family::V6, key.strip_prefix("site-")?),
    };
    let (what, codes) = rest.split_once('/')?;
    let codes = codes.strip_prefix(COMMUNE)?;
    let what = match what {
        "secondary" => {
            let (new, old) = codes.split_once('/')?;
            Draining::Secondary { new, old }
        }
        "unmapped" => Draining::Unmapped { old: codes },
        "retired" => Draining::Retired { old: codes },
        _ => return None,
    };
    Some(LedgerKey::Draining { family, what })
}

impl fmt::Display for LedgerKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.parts()
            .as_slice()
            .iter()
            .try_for_each(|p| f.write_str(p))
    }
}

/// The kinds of key an inventory asks for, each with a prefix of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `asn/…`
    Asn,
    /// `loopback/…`
    Loopback,
    /// `p2p/…`
    Link,
    /// `segment/…`
    Segment,
    /// `site-v4/…`
    SiteV4,
    /// `site/…`
    Site,
    /// `vlan/…`
    Vlan,
}

impl KeyKind {
    /// Every kind, in the order of their prefixes: keys sorted kind by kind, the kinds laid end
    /// to end in this order, are sorted (checked below).
    pub const IN_KEY_ORDER: [KeyKind; 7] = [
        KeyKind::Asn,
        KeyKind::Loopback,
        KeyKind::Link,
        KeyKind::Segment,
        KeyKind::SiteV4,
        KeyKind::Site,
        KeyKind::Vlan,
    ];

    /// The kind's place in [`KeyKind::IN_KEY_ORDER`].
    pub const fn in_key_order(self) -> usize {
        self as usize
    }

    /// What every key of the kind starts with.
    pub const fn prefix(self) -> &'static str {
        match self {
            KeyKind::Asn => "asn/",
            KeyKind::Loopback => "loopback/",
            KeyKind::Link => "p2p/",
            KeyKind::Segment => "segment/",
            KeyKind::SiteV4 => site_prefix(Family::V4),
            KeyKind::Site => site_prefix(Family::V6),
            KeyKind::Vlan => "vlan/",
        }
    }

    /// The kind of `key` and what follows its prefix.
    fn split(key: &str) -> Option<(KeyKind, &str)> {
        KeyKind::IN_KEY_ORDER
            .into_iter()
            .find_map(|k| Some((k, key.strip_prefix(k.prefix())?)))
    }
}

/// Whether `a` sorts strictly before `b`, as `str` does (usable in constants).
const fn before(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut i = 0;
    while i < a.len() && i < b.len() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
        i += 1;
    }
    a.len() < b.len()
}

/// Whether no prefix of `kinds` is a prefix of another one, and they are in order: then every
/// key of a kind sorts before every key of the next.
const fn in_key_order(kinds: &[KeyKind]) -> bool {
    let mut i = 1;
    while i < kinds.len() {
        let (a, b) = (kinds[i - 1].prefix(), kinds[i].prefix());
        if !before(a, b) || starts_with(b, a) {
            return false;
        }
        i += 1;
    }
    true
}

const fn starts_with(s: &str, prefix: &str) -> bool {
    let (s, p) = (s.as_bytes(), prefix.as_bytes());
    if p.len() > s.len() {
        return false;
    }
    let mut i = 0;
    while i < p.len() {
        if s[i] != p[i] {
            return false;
        }
        i += 1;
    }
    true
}

const _: () = assert!(in_key_order(&KeyKind::IN_KEY_ORDER));
const _: () = {
    let mut i = 0;
    while i < KeyKind::IN_KEY_ORDER.len() {
        assert!(KeyKind::IN_KEY_ORDER[i].in_key_order() == i);
        i += 1;
    }
};

/// The ledger key of a site's IPv6 prefix: communes by GSO code (it survives renaming the site),
/// other sites by name.
pub fn site_key(region_code: Option<&str>, role: SiteRole, site: &str) -> String {
    LedgerKey::Site {
        family: Family::V6,
        site: SiteId::of(region_code, role, site),
    }
    .write()
}

/// The key of the IPv4 prefix of the site whose IPv6 prefix is filed under `site_key`.
pub fn site_v4_key(site_key: &str) -> String {
    concat(&[
        KeyKind::SiteV4.prefix(),
        site_key
            .strip_prefix(KeyKind::Site.prefix())
            .unwrap_or(site_key),
    ])
}

/// The key of `device`'s loopback.
pub fn loopback_key(device: &str) -> String {
    LedgerKey::Loopback { device }.write()
}

/// The key of `device`'s AS number.
pub fn asn_key(device: &str) -> String {
    LedgerKey::Asn { device }.write()
}

/// The key under which the old value of `key` is held after a repin or a move:
/// `<key>@<value>`, sorted right after the key, released like any held value.
pub fn previous_key(key: &str, value: &impl fmt::Display) -> String {
    format!("{key}{PREVIOUS}{value}")
}

const PREVIOUS: char = '@';

/// Whether `entry_key` holds an old value of `key` (see [`previous_key`]).
pub fn is_previous_of(entry_key: &str, key: &str) -> bool {
    entry_key.len() > key.len() + 1
        && entry_key.starts_with(key)
        && entry_key.as_bytes()[key.len()] == PREVIOUS as u8
}

/// The object an allocation belongs to, written `Kind/name` in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner<'a> {
    /// The object's kind.
    pub kind: OwnerKind,
    /// The object's name.
    pub name: &'a str,
}

impl<'a> Owner<'a> {
    /// Whether `written` (a ledger entry's owner) names this object.
    pub fn is(&self, written: &str) -> bool {
        let kind = self.kind.as_str();
        written.len() == kind.len() + 1 + self.name.len()
            && written.starts_with(kind)
            && written.as_bytes()[kind.len()] == b'/'
            && written.ends_with(self.name)
    }

    /// The object, for diagnostics.
    pub fn object_ref(&self) -> crate::diag::ObjectRef {
        let kind = match self.kind {
            OwnerKind::Site => crate::model::Kind::Site,
            OwnerKind::Device => crate::model::Kind::Device,
            OwnerKind::Circuit => crate::model::Kind::Circuit,
            OwnerKind::ColoLease => crate::model::Kind::ColoLease,
        };
        crate::diag::ObjectRef::new(kind, self.name)
    }

    /// Reads an owner as the ledger writes it.
    pub fn parse(written: &'a str) -> Option<Owner<'a>> {
        let (kind, name) = written.split_once('/')?;
        let kind = OwnerKind::ALL.into_iter().find(|k| k.as_str() == kind)?;
        Some(Owner { kind, name })
    }
}

impl fmt::Display for Owner<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind.as_str(), self.name)
    }
}

/// The kinds of object that own allocations (a byte, not a string: a nationwide plan holds some
/// 64,000 requests, and every byte of a request is read several times).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerKind {
    /// A Site.
    Site,
    /// A Device.
    Device,
    /// A Circuit.
    Circuit,
    /// A ColoLease.
    ColoLease,
}

const _: () = assert!(std::mem::size_of::<OwnerKind>() == 1);

impl OwnerKind {
    const ALL: [OwnerKind; 4] = [
        OwnerKind::Site,
        OwnerKind::Device,
        OwnerKind::Circuit,
        OwnerKind::ColoLease,
    ];

    /// The kind as written in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerKind::Site => "Site",
            OwnerKind::Device => "Device",
            OwnerKind::Circuit => "Circuit",
            OwnerKind::ColoLease => "ColoLease",
        }
    }
}

/// The parts joined, in a string of exactly their length (`format!` is several times slower).
pub(crate) fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        out.push_str(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Names as inventories write them, without the separators keys are cut at (`:`, `/`,
    /// `--`) and not starting like a commune's key.
    fn name() -> impl Strategy<Value = String> {
        "[a-b0-9]([a-b0-9.]{0,6}[a-b0-9])?"
    }

    fn family() -> impl Strategy<Value = Family> {
        prop_oneof![Just(Family::V6), Just(Family::V4)]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        /// Every key reads back as what wrote it.
        #[test]
        fn keys_read_back_as_written(
            (a, b, c, d) in (name(), name(), name(), name()),
            family in family(),
            pick in 0usize..11,
        ) {
            let key = match pick {
                0 => LedgerKey::Site { family, site: SiteId::Commune(&a) },
                1 => LedgerKey::Site { family, site: SiteId::Named(&a) },
                2 => LedgerKey::Segment { device: &a, interface: &b },
                3 => LedgerKey::Loopback { device: &a },
                4 => LedgerKey::Link { a: (&a, &b), z: (&c, &d) },
                5 => LedgerKey::Asn { device: &a },
                6 => LedgerKey::Vlan { namespace: &a, lease: &b },
                7 => LedgerKey::Draining { family, what: Draining::Secondary { new: &a, old: &b } },
                8 => LedgerKey::Draining { family, what: Draining::Unmapped { old: &a } },
                9 => LedgerKey::Draining { family, what: Draining::Retired { old: &a } },
                _ => LedgerKey::Site { family: Family::V6, site: SiteId::Commune(&a) },
            };
            let written = key.write();
            prop_assert_eq!(written.clone(), key.to_string());
            prop_assert_eq!(key.parts().key_len(), written.len());
            prop_assert_eq!(LedgerKey::parse(&written), Some(key));
        }

        /// Every pool reads back from its name, and no other pool has that name.
        #[test]
        fn pools_read_back_from_their_names(site in name()) {
            let key = site_key(None, SiteRole::DistrictHub, &site);
            let pools = PoolRef::FIXED.into_iter().chain([PoolRef::Segment(&key)]);
            for pool in pools {
                let name = pool.name();
                prop_assert_eq!(PoolRef::parse(&name), Some(pool));
                for other in PoolRef::FIXED.into_iter().filter(|o| *o != pool) {
                    prop_assert!(!other.is_named(&name));
                }
                prop_assert!(pool.is_named(&name));
            }
        }
    }

    #[test]
    fn keys_are_written_as_the_ledger_files_have_them() {
        assert_eq!(
            site_key(Some("00004"), SiteRole::CommuneOffice, "ubnd-a"),
            "site/commune-00004"
        );
        assert_eq!(
            site_key(Some("00004"), SiteRole::DistrictHub, "hub-a"),
            "site/hub-a"
        );
        assert_eq!(site_v4_key("site/commune-00004"), "site-v4/commune-00004");
        assert_eq!(loopback_key("cpe-00004"), "loopback/cpe-00004");
        assert_eq!(asn_key("cpe-00004"), "asn/cpe-00004");
        let link = LedgerKey::Link {
            a: ("cpe-00004", "eth0"),
            z: ("edge-1", "eth1.101"),
        };
        assert_eq!(link.write(), "p2p/cpe-00004:eth0--edge-1:eth1.101");
        assert_eq!(
            PoolRef::Segment("site/commune-00004").name(),
            "segment:site/commune-00004"
        );
        let held = previous_key("site/commune-00004", &"2001:db8::/48");
        assert_eq!(held, "site/commune-00004@2001:db8::/48");
        assert!(is_previous_of(&held, "site/commune-00004"));
        assert!(!is_previous_of("site/commune-000041", "site/commune-00004"));
        assert_eq!(
            Owner::parse("Device/cpe-00004"),
            Some(Owner {
                kind: OwnerKind::Device,
                name: "cpe-00004"
            })
        );
        assert_eq!(Owner::parse("Router/r"), None);
    }
}
