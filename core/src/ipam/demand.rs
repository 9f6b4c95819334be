//! What an inventory asks to be allocated: one request per stable identity, with any static pin.

use bumpalo::Bump;
use bumpalo::collections::String as BumpString;

use ipnet::IpNet;
use rayon::prelude::*;

use std::sync::OnceLock;

use super::hash::FastMap;
use super::schema::{Family, KeyKind, LedgerKey, Owner, OwnerKind, PoolRef, SiteId};
use super::value::AllocValue;
use crate::load::Seg;
use crate::model::{
    CircuitEnd, CircuitSpec, DeviceRole, DeviceSpec, Inventory, Object, Origin, SiteRole,
};
use crate::validate::at;

/// Where in its owner a pin is written; the path is built only when an error points at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinAt {
    /// Not pinned.
    Nowhere,
    /// `spec.ipv6Prefix` of a Site.
    SiteV6,
    /// `spec.ipv4Prefix` of a Site.
    SiteV4,
    /// `spec.loopback` of a Device.
    Loopback,
    /// `spec.asn` of a Device.
    Asn,
    /// `spec.interfaces[i].addresses` of a Device.
    InterfaceAddresses(u32),
    /// `spec.a` of a Circuit (its ends' addresses pin the link).
    CircuitEnd,
}

impl PinAt {
    /// The path inside the owner.
    pub fn path(self) -> Vec<Seg> {
        match self {
            PinAt::Nowhere => Vec::new(),
            PinAt::SiteV6 => at!["spec", "ipv6Prefix"],
            PinAt::SiteV4 => at!["spec", "ipv4Prefix"],
            PinAt::Loopback => at!["spec", "loopback"],
            PinAt::Asn => at!["spec", "asn"],
            PinAt::InterfaceAddresses(i) => at!["spec", "interfaces", i as usize, "addresses"],
            PinAt::CircuitEnd => at!["spec", "a"],
        }
    }
}

/// One value an object needs.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// Stable identity (`site/commune-00004`, `loopback/cpe-00004`, …), in the plan's arena.
    pub key: &'a str,
    /// The key's head, for comparing keys without reading them.
    pub head: KeyHead,
    /// Where the value comes from.
    pub pool: PoolRef<'a>,
    /// The owner's name (see [`Request::owner`]; kept apart from its kind so that a request
    /// fits in two cache lines).
    pub owner_name: &'a str,
    /// The owner's kind.
    pub owner_kind: OwnerKind,
    /// Where the owner is written (for pin errors).
    pub origin: Origin,
    /// Where the pin is written inside the owner ([`PinAt::Nowhere`] when not pinned).
    pub pin_at: PinAt,
    /// A static pin from the inventory.
    pub pin: Option<AllocValue>,
}

// A nationwide plan holds some 64,000 requests, each read several times: two cache lines each.
const _: () = assert!(std::mem::size_of::<Request>() == 128);

impl<'a> Request<'a> {
    /// Orders two requests by key, as their keys' `str` order.
    pub fn cmp_key(&self, other: &Request<'_>) -> std::cmp::Ordering {
        self.head.cmp_keys(&other.head, self.key, other.key)
    }

    /// The object this request belongs to.
    pub fn owner(&self) -> Owner<'a> {
        Owner {
            kind: self.owner_kind,
            name: self.owner_name,
        }
    }

    fn new(
        key: &'a str,
        pool: PoolRef<'a>,
        owner: Owner<'a>,
        origin: Origin,
        pin: Option<AllocValue>,
        pin_at: PinAt,
    ) -> Self {
        Request {
            head: KeyHead::of(key),
            key,
            pool,
            owner_name: owner.name,
            owner_kind: owner.kind,
            origin,
            pin_at: if pin.is_some() {
                pin_at
            } else {
                PinAt::Nowhere
            },
            pin,
        }
    }
}

/// Every request of an inventory, kept where it was built; [`Demand::sorted`] gives them in key
/// order without moving them (a nationwide inventory asks for some 64,000 values, and moving
/// requests around costs more than sorting references to them).
pub(super) struct Demand<'a> {
    /// In the order of [`KeyKind::IN_KEY_ORDER`]; each kind in chunks, in inventory order.
    kinds: [Vec<Vec<Request<'a>>>; 7],
}

impl<'a> Demand<'a> {
    /// Every request, sorted by key, stably (of a key requested twice, the later request comes
    /// last). Every kind's keys start with a prefix of their own, so the kinds, each sorted and
    /// laid end to end in the order of their prefixes, are all requests sorted — and a kind
    /// built in inventory order is often sorted already.
    pub(super) fn sorted(&self) -> Vec<&Request<'a>> {
        let parts: Vec<Vec<&Request<'a>>> = self
            .kinds
            .par_iter()
            .map(|chunks| {
                let mut view: Vec<&Request<'a>> = chunks.iter().flatten().collect();
                if !view.is_sorted_by(|a, b| a.cmp_key(b).is_le()) {
                    view.par_sort_by(|a, b| a.cmp_key(b));
                }
                view
            })
            .collect();
        let out = parts.concat();
        debug_assert!(
            out.windows(2)
                .all(|w| w[0].key <= w[1].key && w[0].cmp_key(w[1]).is_le())
        );
        out
    }
}

/// Every request of `inv`.
///
/// Reading a nationwide inventory is bound by memory latency, so the independent parts are
/// built side by side (rayon keeps their order; the result does not depend on the number of
/// threads).
pub(super) fn requests<'a>(
    inv: &'a Inventory,
    arenas: &'a mut KeyArenas,
    dual_stack: bool,
    has_vlans: bool,
) -> Demand<'a> {
    let KeyArenas {
        regions: region_arena,
        sites: site_arenas,
        ends: end_arenas,
        circuits: circuit_arenas,
        leases: vlan_arena,
        devices: device_arenas,
        segments: segment_arenas,
    } = arenas;
    // First, side by side: what needs no lookup (loopbacks, ASNs, links) and the two tables
    // office LANs are looked up in (site keys and circuit ends).
    let (((sites, site_keys), ends), (p2p, (loopback, asn))) = rayon::join(
        || {
            rayon::join(
                || site_requests(inv, region_arena, site_arenas, dual_stack),
                || CircuitEnds::of(inv, end_arenas),
            )
        },
        || {
            rayon::join(
                || circuit_requests(inv, circuit_arenas),
                || device_requests(inv, device_arenas),
            )
        },
    );
    let segment = segment_requests(inv, &site_keys, &ends, segment_arenas);
    let mut vlans = Vec::new();
    let vlan_arena: &Bump = vlan_arena;
    if has_vlans {
        vlans.reserve(inv.colo_leases.len());
        for l in &inv.colo_leases {
            vlans.push(Request::new(
                write_key(
                    vlan_arena,
                    LedgerKey::Vlan {
                        namespace: l.metadata.namespace.as_deref().unwrap_or("-"),
                        lease: l.name(),
                    },
                ),
                PoolRef::Vlan,
                Owner {
                    kind: OwnerKind::ColoLease,
                    name: cat(vlan_arena, &[l.name()]),
                },
                l.origin,
                None,
                PinAt::Nowhere,
            ));
        }
    }
    let mut kinds: [Vec<Vec<Request<'a>>>; 7] = Default::default();
    for (kind, requests) in [
        (KeyKind::Asn, asn),
        (KeyKind::Loopback, loopback),
        (KeyKind::Link, p2p),
        (KeyKind::Segment, segment),
        (KeyKind::SiteV4, sites.v4),
        (KeyKind::Site, sites.v6),
        (KeyKind::Vlan, vec![vlans]),
    ] {
        kinds[kind.in_key_order()] = requests;
    }
    Demand { kinds }
}

/// Devices per chunk built on one thread.
const DEVICE_CHUNK: usize = 1024;

/// Sites per chunk built on one thread.
const SITE_CHUNK: usize = 2048;

/// Circuits per chunk built on one thread.
const CIRCUIT_CHUNK: usize = 4096;

/// Parts the circuit ends are indexed in, side by side.
const END_PARTS: usize = 2;

/// Where a plan's request keys live: a bump arena per part of the inventory read side by side,
/// freed at once when the plan ends. A nationwide plan builds some 64,000 keys, and allocating
/// and freeing each on the heap costs more than the rest of building it.
///
/// Every name the plan compares again later (owners, and the names it looks objects up by)
/// is copied here too, next to the keys: read in inventory order while building, the copies
/// are then compared in key order or by hash in a few compact megabytes, instead of in names
/// spread over the whole inventory's heap, where each comparison was a cache miss.
pub(super) struct KeyArenas {
    regions: Bump,
    sites: Vec<Bump>,
    ends: Vec<Bump>,
    circuits: Vec<Bump>,
    leases: Bump,
    devices: Vec<Bump>,
    segments: Vec<Bump>,
}

impl KeyArenas {
    /// Arenas for planning `inv`: one per chunk of sites or devices, one for circuits and
    /// one for leases.
    pub(super) fn new(inv: &Inventory) -> KeyArenas {
        let arenas = |n: usize| (0..n).map(|_| Bump::new()).collect();
        KeyArenas {
            regions: Bump::new(),
            sites: arenas(inv.sites.len().div_ceil(SITE_CHUNK)),
            ends: arenas(END_PARTS),
            circuits: arenas(inv.circuits.len().div_ceil(CIRCUIT_CHUNK)),
            leases: Bump::new(),
            devices: arenas(inv.devices.len().div_ceil(DEVICE_CHUNK)),
            segments: arenas(inv.devices.len().div_ceil(DEVICE_CHUNK)),
        }
    }
}

/// Site prefix requests, IPv6 and IPv4, in chunks.
struct SiteRequests<'a> {
    v6: Vec<Vec<Request<'a>>>,
    v4: Vec<Vec<Request<'a>>>,
}

/// Site prefix requests, and each branch site's key by site name (the pool of its segments).
/// Chunks of sites are read side by side; the keys are gathered in one map after.
fn site_requests<'a>(
    inv: &'a Inventory,
    region_arena: &'a mut Bump,
    arenas: &'a mut [Bump],
    dual_stack: bool,
) -> (SiteRequests<'a>, SiteKeys<'a>) {
    let region_arena: &'a Bump = region_arena;
    let mut regions = Directory::with_capacity(inv.regions.len());
    let mut codes = Vec::with_capacity(inv.regions.len());
    for r in &inv.regions {
        regions.push(cat(region_arena, &[r.name()]));
        codes.push(cat(region_arena, &[&r.spec.code]));
    }
    let (regions, codes) = (&regions, &codes);
    let chunks: Vec<(SiteRequests<'a>, Vec<(&'a str, &'a str)>)> =
        by_chunk(&inv.sites, SITE_CHUNK, arenas, |chunk, arena| {
            let mut keys = Vec::with_capacity(chunk.len());
            let mut v6 = Vec::with_capacity(chunk.len());
            let mut v4 = Vec::with_capacity(if dual_stack { chunk.len() } else { 0 });
            for s in chunk {
                if s.spec.role == SiteRole::Datacenter {
                    continue;
                }
                let code = match s.spec.role {
                    SiteRole::CommuneOffice => regions.find(&s.spec.region).map(|at| codes[at]),
                    _ => None,
                };
                let site = match code {
                    Some(code) => SiteId::Commune(code),
                    None => SiteId::Named(s.name()),
                };
                let site_key = |family| write_key(arena, LedgerKey::Site { family, site });
                let key = site_key(Family::V6);
                let owner = Owner {
                    kind: OwnerKind::Site,
                    name: cat(arena, &[s.name()]),
                };
                if dual_stack {
                    v4.push(Request::new(
                        site_key(Family::V4),
                        PoolRef::SiteV4,
                        owner,
                        s.origin,
                        s.spec
                            .ipv4_prefix
                            .map(|p| AllocValue::Prefix(IpNet::V4(p.0))),
                        PinAt::SiteV4,
                    ));
                }
                keys.push((owner.name, key));
                v6.push(Request::new(
                    key,
                    PoolRef::SiteV6,
                    owner,
                    s.origin,
                    s.spec
                        .ipv6_prefix
                        .map(|p| AllocValue::Prefix(IpNet::V6(p.0))),
                    PinAt::SiteV6,
                ));
            }
            (
                SiteRequests {
                    v6: vec![v6],
                    v4: vec![v4],
                },
                keys,
            )
        });
    let mut keys = SiteKeys {
        sites: Directory::with_capacity(inv.sites.len()),
        keys: Vec::with_capacity(inv.sites.len()),
    };
    let mut all = SiteRequests {
        v6: Vec::with_capacity(chunks.len()),
        v4: Vec::with_capacity(chunks.len()),
    };
    // In site order: of two sites of one name, the later one's key counts.
    for (requests, names) in chunks {
        all.v6.extend(requests.v6);
        all.v4.extend(requests.v4);
        for (name, key) in names {
            keys.sites.push(name);
            keys.keys.push(key);
        }
    }
    (all, keys)
}

/// Each branch site's key, by site name: the pool of its segments.
struct SiteKeys<'a> {
    sites: Directory<'a>,
    /// In the order of `sites`.
    keys: Vec<&'a str>,
}

/// Places of names in the order they were written, by name; of a name written twice, the last.
struct Directory<'a> {
    index: FastMap<&'a str, u32>,
    len: u32,
}

impl<'a> Directory<'a> {
    fn with_capacity(n: usize) -> Directory<'a> {
        Directory {
            index: FastMap::with_capacity_and_hasher(n, Default::default()),
            len: 0,
        }
    }

    /// Adds `name` (an arena copy) at the next place, and returns that place.
    fn push(&mut self, name: &'a str) -> u32 {
        let at = self.len;
        self.len = at.checked_add(1).expect("fewer than 2^32 names");
        self.index.insert(name, at);
        at
    }

    /// The place of `name`.
    fn find(&self, name: &str) -> Option<usize> {
        self.index.get(name).map(|&at| at as usize)
    }
}

/// Interfaces that are circuit ends, by device: a branch router is looked up once rather than
/// once per interface (a hub has an interface per circuit). Each device's interfaces are chained
/// through one list, so no device needs a list of its own (an edge router ends thousands).
/// The circuits are indexed in parts side by side; a device's ends may lie in any part.
struct CircuitEnds<'a> {
    parts: Vec<EndsPart<'a>>,
}

/// The circuit ends of some of the circuits.
struct EndsPart<'a> {
    /// The devices, in the order of their first end.
    devices: Directory<'a>,
    /// Per device: its last end in `ends`.
    last: Vec<u32>,
    /// Interface, and the device's previous end (`NONE` for its first).
    ends: Vec<(&'a str, u32)>,
}

const NONE: u32 = u32::MAX;

impl<'a> CircuitEnds<'a> {
    fn of(inv: &Inventory, arenas: &'a mut [Bump]) -> CircuitEnds<'a> {
        let per = inv.circuits.len().div_ceil(arenas.len().max(1)).max(1);
        CircuitEnds {
            parts: by_chunk(&inv.circuits, per, arenas, EndsPart::of),
        }
    }

    /// The interfaces of `device` that are circuit ends, sorted, into `out`.
    fn of_device(&self, device: &str, out: &mut Vec<&'a str>) {
        out.clear();
        for part in &self.parts {
            let mut at = part.devices.find(device).map_or(NONE, |d| part.last[d]);
            while let Some(&(name, previous)) = part.ends.get(at as usize) {
                out.push(name);
                at = previous;
            }
        }
        // A hub ends a circuit per commune: searching its list per interface was quadratic.
        out.sort_unstable();
    }
}

impl<'a> EndsPart<'a> {
    fn of(circuits: &[Object<CircuitSpec>], arena: &'a Bump) -> EndsPart<'a> {
        let mut devices = Directory::with_capacity(circuits.len());
        let mut last: Vec<u32> = Vec::with_capacity(circuits.len());
        let mut ends = Vec::with_capacity(circuits.len() * 2);
        for c in circuits {
            for end in [&c.spec.a, &c.spec.z] {
                let at = u32::try_from(ends.len()).expect("fewer than 2^32 circuit ends");
                let device = match devices.index.get(end.device.as_str()) {
                    Some(&device) => device,
                    None => {
                        last.push(NONE);
                        devices.push(cat(arena, &[&end.device]))
                    }
                };
                let previous = &mut last[device as usize];
                ends.push((cat(arena, &[&end.interface]), *previous));
                *previous = at;
            }
        }
        EndsPart {
            devices,
            last,
            ends,
        }
    }
}

/// Every device's loopback, and the ASN of every routed device, by chunk of devices.
#[allow(clippy::type_complexity)]
fn device_requests<'a>(
    inv: &'a Inventory,
    arenas: &'a mut [Bump],
) -> (Vec<Vec<Request<'a>>>, Vec<Vec<Request<'a>>>) {
    by_chunk(&inv.devices, DEVICE_CHUNK, arenas, |chunk, arena| {
        let mut loopbacks = Vec::with_capacity(chunk.len());
        let mut asns = Vec::with_capacity(chunk.len());
        for d in chunk {
            let loopback = write_key(arena, LedgerKey::Loopback { device: d.name() });
            // The device's name, as the key holds it.
            let owner = Owner {
                kind: OwnerKind::Device,
                name: &loopback[KeyKind::Loopback.prefix().len()..],
            };
            loopbacks.push(Request::new(
                loopback,
                PoolRef::Loopback,
                owner,
                d.origin,
                d.spec
                    .loopback
                    .map(|a| AllocValue::Prefix(IpNet::from(a.0))),
                PinAt::Loopback,
            ));
            let routed = matches!(
                d.spec.role,
                DeviceRole::Core | DeviceRole::WanEdge | DeviceRole::Cpe | DeviceRole::Hub
            );
            if routed {
                asns.push(Request::new(
                    write_key(arena, LedgerKey::Asn { device: owner.name }),
                    PoolRef::Asn,
                    owner,
                    d.origin,
                    d.spec.asn.map(AllocValue::Number),
                    PinAt::Asn,
                ));
            }
        }
        (loopbacks, asns)
    })
    .into_iter()
    .unzip()
}

/// A segment per office LAN: every interface of a branch router that is not a circuit end,
/// by chunk of devices.
fn segment_requests<'a>(
    inv: &'a Inventory,
    site_keys: &SiteKeys<'a>,
    circuit_ends: &CircuitEnds<'_>,
    arenas: &'a mut [Bump],
) -> Vec<Vec<Request<'a>>> {
    by_chunk(&inv.devices, DEVICE_CHUNK, arenas, |chunk, arena| {
        let mut out = Vec::with_capacity(chunk.len());
        let mut ends = Vec::new();
        for d in chunk {
            if !matches!(d.spec.role, DeviceRole::Cpe | DeviceRole::Hub) {
                continue;
            }
            circuit_ends.of_device(d.name(), &mut ends);
            let mut site_key = None;
            for (i, iface) in d.spec.interfaces.iter().enumerate() {
                if ends.binary_search(&iface.name.as_str()).is_ok() {
                    continue;
                }
                // Looked up only for a device with an office LAN (a hub has none).
                let pool = match site_key {
                    Some(key) => key,
                    None => match site_keys.sites.find(&d.spec.site) {
                        Some(at) => *site_key.insert(site_keys.keys[at]),
                        None => break,
                    },
                };
                let key = write_key(
                    arena,
                    LedgerKey::Segment {
                        device: d.name(),
                        interface: &iface.name,
                    },
                );
                let device = KeyKind::Segment.prefix().len();
                out.push(Request::new(
                    key,
                    PoolRef::Segment(pool),
                    Owner {
                        kind: OwnerKind::Device,
                        name: &key[device..device + d.name().len()],
                    },
                    d.origin,
                    v6_network(&iface.addresses),
                    PinAt::InterfaceAddresses(u32::try_from(i).unwrap_or(u32::MAX)),
                ));
            }
        }
        out
    })
}

/// A /127 per circuit, pinned by the addresses of its ends (see [`EndAddresses`]).
fn circuit_requests<'a>(inv: &'a Inventory, arenas: &'a mut [Bump]) -> Vec<Vec<Request<'a>>> {
    let ends = EndAddresses::of(inv);
    let ends = &ends;
    by_chunk(&inv.circuits, CIRCUIT_CHUNK, arenas, |chunk, arena| {
        chunk
            .iter()
            .map(|c| circuit_request(c, ends, arena))
            .collect()
    })
}

/// Interfaces up to this many are searched one by one; a device with more (a DC edge router
/// ends a circuit per commune) has its interfaces indexed by name, the first time one is asked.
const SEARCHED: usize = 32;

/// The pin a circuit end gives its link: the network of the first IPv6 address of the end's
/// interface (the first interface of that name on the device, the last device of that name).
struct EndAddresses<'a> {
    devices: &'a [Object<DeviceSpec>],
    /// Place in `devices` by name; empty when no interface has an address (nothing is pinned).
    by_name: FastMap<&'a str, u32>,
    /// Per device: its interfaces' places by name, for devices with more than `SEARCHED`.
    interfaces: Vec<OnceLock<FastMap<&'a str, u32>>>,
}

impl<'a> EndAddresses<'a> {
    fn of(inv: &'a Inventory) -> EndAddresses<'a> {
        let addressed = inv
            .devices
            .iter()
            .any(|d| d.spec.interfaces.iter().any(|i| !i.addresses.is_empty()));
        let mut by_name = FastMap::default();
        let mut interfaces = Vec::new();
        if addressed {
            by_name.reserve(inv.devices.len());
            for (at, d) in inv.devices.iter().enumerate() {
                by_name.insert(
                    d.name(),
                    u32::try_from(at).expect("fewer than 2^32 devices"),
                );
            }
            interfaces.resize_with(inv.devices.len(), OnceLock::new);
        }
        EndAddresses {
            devices: &inv.devices,
            by_name,
            interfaces,
        }
    }

    fn pin(&self, end: &CircuitEnd) -> Option<AllocValue> {
        if self.by_name.is_empty() {
            return None;
        }
        let at = *self.by_name.get(end.device.as_str())? as usize;
        let all = &self.devices[at].spec.interfaces;
        let iface = if all.len() <= SEARCHED {
            all.iter().find(|i| i.name == end.interface)?
        } else {
            let index = self.interfaces[at].get_or_init(|| {
                let mut index = FastMap::with_capacity_and_hasher(all.len(), Default::default());
                for (i, iface) in all.iter().enumerate() {
                    index
                        .entry(iface.name.as_str())
                        .or_insert(u32::try_from(i).expect("fewer than 2^32 interfaces"));
                }
                index
            });
            &all[*index.get(end.interface.as_str())? as usize]
        };
        v6_network(&iface.addresses)
    }
}

/// The /127 of one circuit: pinned by its a end's addresses, else its z end's.
fn circuit_request<'a>(
    c: &'a Object<CircuitSpec>,
    ends: &EndAddresses<'_>,
    arena: &'a Bump,
) -> Request<'a> {
    let (a, z) = (&c.spec.a, &c.spec.z);
    let pin = ends.pin(a).or_else(|| ends.pin(z));
    Request::new(
        write_key(
            arena,
            LedgerKey::Link {
                a: (&a.device, &a.interface),
                z: (&z.device, &z.interface),
            },
        ),
        PoolRef::PointToPoint,
        Owner {
            kind: OwnerKind::Circuit,
            name: cat(arena, &[c.name()]),
        },
        c.origin,
        pin,
        PinAt::CircuitEnd,
    )
}

/// The first 24 bytes of a key as big-endian integers (zero-padded); its length is the key's. Most
/// comparisons of two keys are settled by these alone: keys are long, share prefixes, and live
/// elsewhere on the heap, so comparing the strings costs a pointer chase and a `memcmp` each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyHead {
    hi: u64,
    mid: u64,
    lo: u64,
}

const _: () = assert!(std::mem::size_of::<KeyHead>() == 24);

impl KeyHead {
    /// The head of `key`.
    pub fn of(key: &str) -> KeyHead {
        let mut b = [0u8; 24];
        let n = key.len().min(24);
        b[..n].copy_from_slice(&key.as_bytes()[..n]);
        KeyHead {
            hi: u64::from_be_bytes(b[..8].try_into().expect("8 bytes")),
            mid: u64::from_be_bytes(b[8..16].try_into().expect("8 bytes")),
            lo: u64::from_be_bytes(b[16..].try_into().expect("8 bytes")),
        }
    }

    /// Compares the keys `a` and `b` headed by `self` and `other`, as `str` does: by the heads,
    /// where zero padding puts a key before its extensions; keys of up to 24 bytes with equal
    /// heads differ at most in trailing NULs, so their lengths decide; longer ones are compared
    /// whole.
    pub fn cmp_keys(&self, other: &KeyHead, a: &str, b: &str) -> std::cmp::Ordering {
        (self.hi, self.mid, self.lo)
            .cmp(&(other.hi, other.mid, other.lo))
            .then_with(|| {
                if a.len() <= 24 && b.len() <= 24 {
                    a.len().cmp(&b.len())
                } else {
                    a.cmp(b)
                }
            })
    }
}

/// `build` run on each chunk of `items` with the chunk's own arena, the chunks side by side;
/// the results in chunk order.
fn by_chunk<'i, 'a, T: Sync, R: Send>(
    items: &'i [T],
    size: usize,
    arenas: &'a mut [Bump],
    build: impl Fn(&'i [T], &'a Bump) -> R + Sync + Send,
) -> Vec<R> {
    items
        .par_chunks(size)
        .zip(arenas.par_iter_mut())
        .map(|(chunk, arena)| build(chunk, arena))
        .collect()
}

/// `key` written in the arena.
fn write_key<'b>(arena: &'b Bump, key: LedgerKey<'_>) -> &'b str {
    cat(arena, key.parts().as_slice())
}

/// The parts joined, in the arena.
fn cat<'b>(arena: &'b Bump, parts: &[&str]) -> &'b str {
    let mut out = BumpString::with_capacity_in(parts.iter().map(|p| p.len()).sum(), arena);
    for p in parts {
        out.push_str(p);
    }
    out.into_bump_str()
}

/// The network of the first IPv6 interface address, as a pin.
fn v6_network(addresses: &[crate::model::InterfaceAddress]) -> Option<AllocValue> {
    addresses
        .iter()
        .find(|a| matches!(a.0, IpNet::V6(_)))
        .map(|a| AllocValue::Prefix(a.0.trunc()))
}

#[cfg(test)]
mod tests {
    use super::{Directory, KeyHead};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// A directory gives a name's place: of a name written twice, the last; of a name not
        /// written, none.
        #[test]
        fn a_directory_finds_the_last_place_of_a_name(
            names in proptest::collection::vec("[a-e]{1,2}", 0..40),
            queries in proptest::collection::vec("[a-f]{1,2}", 0..60),
        ) {
            let mut directory = Directory::with_capacity(names.len());
            for n in &names {
                directory.push(n);
            }
            for q in &queries {
                let last = names.iter().rposition(|n| n == q);
                prop_assert_eq!(directory.find(q), last, "finding {}", q);
            }
        }
    }

    /// Keys that share long prefixes, differ around the 24th byte, or hold NULs.
    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-c]{0,30}",
            "p2p/cpe-0000[0-2]:eth[01]--hub-00[0-2]:eth1\\.10[0-9]",
            "(loopback/|asn/)[a-z\\x00]{14,18}[a-b]{0,12}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn key_heads_order_keys_as_str_does(a in key(), b in key()) {
            let (ha, hb) = (KeyHead::of(&a), KeyHead::of(&b));
            prop_assert_eq!(ha.cmp_keys(&hb, &a, &b), a.as_str().cmp(b.as_str()));
            prop_assert_eq!(hb.cmp_keys(&ha, &b, &a), b.as_str().cmp(a.as_str()));
        }
    }
}
