//! Generated inventories for the IPAM tests: any subset of a universe of commune offices (each a
//! Region, a Site, a CPE with `eth0`/`eth1`/`lan0` and a primary and a backup circuit to the two
//! DC edge routers) on top of the fixed data-center part of the base inventory
//! ([`Docs::base`]), with a parameterised AddressPlan.
//!
//! Names derive from the commune's GSO code only (edge interfaces too: `eth1.<code>`,
//! `ipsec<code>`), so adding or removing one commune changes no other object's identity.
//!
//! Pins are placed where the allocator never goes by itself in these small inventories: site
//! pins at /48 (and IPv4 /24) slot `4·i + 3` of the root (spread placement hands out slots whose
//! index is a multiple of 4 first, and never reaches others before 64 allocations), loopback,
//! point-to-point and ASN pins far beyond what sequential placement reaches.

#![allow(dead_code)] // Each test crate uses a different part of this module.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use hatang_core::Diagnostic;
use hatang_core::ipam::{self, Allocation, Bits, Ledger};
use hatang_core::load::{self, LoadOptions, Loaded};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::common::{Docs, render};

/// Number of communes the generator can draw from.
pub(crate) const UNIVERSE: usize = 64;

/// First ASN of the pinned range (far above what sequential allocation reaches).
pub(crate) const ASN_PIN_BASE: u32 = 4_200_050_000;

/// The GSO code of commune `i` of the universe.
pub(crate) fn code(i: usize) -> String {
    format!("{:05}", 20000 + i)
}

/// The address plan of a generated inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The IPv6 root is `2001:db8:RR00::/40` (256 /48 slots).
    pub root: u8,
    /// /48 slot holding the loopback (`:1::/64`) and point-to-point (`:2::/64`) blocks.
    pub infra: u8,
    /// Service blocks: `dc-main` a /47 at slot `services[0]` (even), `dc-backup` a /48.
    pub services: [u8; 2],
    /// IPv4 root `10.X.0.0/16` with /24 sites, for dual-stack plans.
    pub v4: Option<u8>,
    /// Hold time in days.
    pub hold_days: u32,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            root: 0x10,
            infra: 0x00,
            services: [0x80, 0x40],
            v4: None,
            hold_days: 90,
        }
    }
}

impl Plan {
    /// The /48 at slot `slot` of the IPv6 root.
    pub(crate) fn site(&self, slot: u8) -> Ipv6Net {
        format!("2001:db8:{:02x}{slot:02x}::/48", self.root)
            .parse()
            .expect("valid")
    }

    /// The IPv6 root.
    pub(crate) fn root_net(&self) -> Ipv6Net {
        format!("2001:db8:{:02x}00::/40", self.root)
            .parse()
            .expect("valid")
    }

    /// The IPv4 root, if any.
    pub(crate) fn v4_net(&self) -> Option<Ipv4Net> {
        self.v4
            .map(|x| format!("10.{x}.0.0/16").parse().expect("valid"))
    }

    /// The /24 at slot `slot` of the IPv4 root.
    pub(crate) fn site_v4(&self, slot: u8) -> Option<Ipv4Net> {
        self.v4
            .map(|x| format!("10.{x}.{slot}.0/24").parse().expect("valid"))
    }

    /// The loopback block.
    pub(crate) fn loopbacks(&self) -> Ipv6Net {
        sub64(self.site(self.infra), 1)
    }

    /// The point-to-point block.
    pub(crate) fn p2p(&self) -> Ipv6Net {
        sub64(self.site(self.infra), 2)
    }

    /// The service blocks, `dc-main` first.
    pub(crate) fn service_nets(&self) -> [Ipv6Net; 2] {
        let main = Ipv6Net::new(self.site(self.services[0]).network(), 47).expect("valid");
        [main, self.site(self.services[1])]
    }

    /// Every block the site pools must never hand out.
    pub(crate) fn reserved(&self) -> Vec<Ipv6Net> {
        let mut out = vec![self.loopbacks(), self.p2p()];
        out.extend(self.service_nets());
        out
    }

    /// The AddressPlan document.
    pub(crate) fn yaml(&self) -> String {
        let [main, backup] = self.service_nets();
        let mut out = format!(
            "apiVersion: hatang.io/v1alpha1\nkind: AddressPlan\nmetadata:\n  name: generated\nspec:\n  ipv6Roots:\n    - \"{}\"\n",
            self.root_net()
        );
        if let Some(v4) = self.v4_net() {
            let _ = writeln!(out, "  ipv4Roots: [\"{v4}\"]");
        }
        let _ = write!(
            out,
            "  infrastructure:\n    loopbacks: \"{}\"\n    pointToPoint: \"{}\"\n  services:\n    dc-main: \"{main}\"\n    dc-backup: \"{backup}\"\n  asnPool:\n    first: 4200000000\n    last: 4200099999\n  vlanPool:\n    first: 100\n    last: 3999\n  holdDays: {}\n",
            self.loopbacks(),
            self.p2p(),
            self.hold_days
        );
        out
    }
}

/// The `n`-th /64 of a /48.
pub(crate) fn sub64(site: Ipv6Net, n: u16) -> Ipv6Net {
    let mut s = site.network().segments();
    s[3] = n;
    Ipv6Net::new(Ipv6Addr::from(s), 64).expect("valid")
}

/// Address `index` inside an IPv6 block.
pub(crate) fn addr_in(block: Ipv6Net, index: u128) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(block.network()) + index)
}

/// How a commune office's LAN segments are pinned (only when its site prefix is pinned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LanPin {
    /// Nothing pinned.
    None,
    /// `lan0` pinned to the site's second /64.
    Lan0Second,
    /// `lan1` pinned to the site's first /64 (`lan0`, which sorts first, is allocated).
    Lan1First,
}

/// One commune office of the universe and what it pins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Commune {
    /// Index in the universe.
    pub i: usize,
    /// `Site.ipv6Prefix` (and `ipv4Prefix` in dual-stack plans).
    pub pin_site: bool,
    /// A second LAN interface `lan1`.
    pub lan1: bool,
    /// LAN pins.
    pub lan_pin: LanPin,
    /// `Device.loopback`.
    pub pin_loopback: bool,
    /// `Device.asn`.
    pub pin_asn: bool,
    /// An address on the CPE end of the primary circuit.
    pub pin_p2p: bool,
}

impl Commune {
    /// Commune `i` without pins or extras.
    pub(crate) fn plain(i: usize) -> Commune {
        Commune {
            i,
            pin_site: false,
            lan1: false,
            lan_pin: LanPin::None,
            pin_loopback: false,
            pin_asn: false,
            pin_p2p: false,
        }
    }

    /// Commune `i` with every pin.
    pub(crate) fn pinned(i: usize) -> Commune {
        Commune {
            i,
            pin_site: true,
            lan1: true,
            lan_pin: LanPin::Lan1First,
            pin_loopback: true,
            pin_asn: true,
            pin_p2p: true,
        }
    }

    /// Makes the flags consistent (LAN pins need a pinned site; `lan1` pins need `lan1`).
    pub(crate) fn normalised(mut self) -> Commune {
        if !self.pin_site {
            self.lan_pin = LanPin::None;
        }
        if self.lan_pin == LanPin::Lan1First {
            self.lan1 = true;
        }
        self
    }

    pub(crate) fn code(&self) -> String {
        code(self.i)
    }
    pub(crate) fn region(&self) -> String {
        format!("xa-{}", self.code())
    }
    pub(crate) fn site(&self) -> String {
        format!("ubnd-xa-{}", self.code())
    }
    pub(crate) fn cpe(&self) -> String {
        format!("cpe-{}", self.code())
    }
    /// Ledger key of its site prefix.
    pub(crate) fn site_key(&self) -> String {
        format!("site/commune-{}", self.code())
    }
    /// Slot of its pinned site prefix.
    pub(crate) fn pin_slot(&self) -> u8 {
        u8::try_from(4 * self.i + 3).expect("universe fits the root")
    }
    /// Its pinned IPv6 site prefix.
    pub(crate) fn site_pin(&self, plan: &Plan) -> Ipv6Net {
        plan.site(self.pin_slot())
    }
    /// Its pinned loopback.
    pub(crate) fn loopback_pin(&self, plan: &Plan) -> Ipv6Addr {
        addr_in(plan.loopbacks(), 0x1_0000 + self.i as u128)
    }
    /// Its pinned primary-circuit /127.
    pub(crate) fn p2p_pin(&self, plan: &Plan) -> Ipv6Net {
        Ipv6Net::new(addr_in(plan.p2p(), 0x1_0000 + 2 * self.i as u128), 127).expect("valid")
    }
    /// Its pinned ASN.
    pub(crate) fn asn_pin(&self) -> u32 {
        ASN_PIN_BASE + self.i as u32
    }
    /// The ledger keys this commune needs in `plan`.
    pub(crate) fn keys(&self, plan: &Plan) -> Vec<String> {
        let (cpe, code) = (self.cpe(), self.code());
        let mut keys = vec![
            self.site_key(),
            format!("loopback/{cpe}"),
            format!("asn/{cpe}"),
            format!("segment/{cpe}:lan0"),
            format!("p2p/{cpe}:eth0--edge-main-1:eth1.{code}"),
            format!("p2p/{cpe}:eth1--edge-backup-1:ipsec{code}"),
        ];
        if self.lan1 {
            keys.push(format!("segment/{cpe}:lan1"));
        }
        if plan.v4.is_some() {
            keys.push(format!("site-v4/commune-{code}"));
        }
        keys
    }

    /// Region, Site, Device and the two Circuits, as documents.
    pub(crate) fn docs(&self, plan: &Plan) -> Vec<String> {
        let (code, region, site, cpe) = (self.code(), self.region(), self.site(), self.cpe());
        let mut site_doc = format!(
            "apiVersion: hatang.io/v1alpha1\nkind: Site\nmetadata:\n  name: {site}\nspec:\n  displayName: UBND Xã {code}\n  role: commune-office\n  region: {region}\n"
        );
        let mut device = format!(
            "apiVersion: hatang.io/v1alpha1\nkind: Device\nmetadata:\n  name: {cpe}\nspec:\n  site: {site}\n  platform: frr\n  role: cpe\n"
        );
        let (mut lan0, mut lan1, mut eth0) = (String::new(), String::new(), String::new());
        if self.pin_site {
            let pin = self.site_pin(plan);
            let _ = writeln!(site_doc, "  ipv6Prefix: \"{pin}\"");
            if let Some(v4) = plan.site_v4(self.pin_slot()) {
                let _ = writeln!(site_doc, "  ipv4Prefix: \"{v4}\"");
            }
            match self.lan_pin {
                LanPin::None => {}
                LanPin::Lan0Second => {
                    lan0 = format!("      addresses: [\"{}/64\"]\n", addr_in(sub64(pin, 1), 1));
                }
                LanPin::Lan1First => {
                    lan1 = format!("      addresses: [\"{}/64\"]\n", addr_in(sub64(pin, 0), 1));
                }
            }
        }
        if self.pin_asn {
            let _ = writeln!(device, "  asn: {}", self.asn_pin());
        }
        if self.pin_loopback {
            let _ = writeln!(device, "  loopback: \"{}\"", self.loopback_pin(plan));
        }
        if self.pin_p2p {
            let p = self.p2p_pin(plan);
            eth0 = format!("      addresses: [\"{}/127\"]\n", p.network());
        }
        let _ = write!(
            device,
            "  interfaces:\n    - name: eth0\n      description: primary uplink\n{eth0}    - name: eth1\n      description: backup uplink\n    - name: lan0\n      description: office LAN\n{lan0}"
        );
        if self.lan1 {
            let _ = write!(
                device,
                "    - name: lan1\n      description: guest LAN\n{lan1}"
            );
        }
        vec![
            format!(
                "apiVersion: hatang.io/v1alpha1\nkind: Region\nmetadata:\n  name: {region}\nspec:\n  displayName: Xã {code}\n  code: \"{code}\"\n  level: commune\n  type: xã\n  parent: thanh-pho-ha-noi-01\n"
            ),
            site_doc,
            device,
            format!(
                "apiVersion: hatang.io/v1alpha1\nkind: Circuit\nmetadata:\n  name: {cpe}-primary\nspec:\n  a:\n    device: {cpe}\n    interface: eth0\n  z:\n    device: edge-main-1\n    interface: eth1.{code}\n  medium: government-data-network\n  provider: VNPT\n  bandwidthMbps: 100\n  role: primary\n"
            ),
            format!(
                "apiVersion: hatang.io/v1alpha1\nkind: Circuit\nmetadata:\n  name: {cpe}-backup\nspec:\n  a:\n    device: {cpe}\n    interface: eth1\n  z:\n    device: edge-backup-1\n    interface: ipsec{code}\n  medium: lte\n  provider: Viettel\n  role: backup\n"
            ),
        ]
    }
}

/// Documents of the base inventory kept as the fixed data-center part.
const FIXED: &[&str] = &[
    "Region/thanh-pho-ha-noi-01",
    "Site/dc-giang-vo",
    "Site/dc-hoa-lac",
    "DataCenter/dc-main",
    "DataCenter/dc-backup",
    "Device/fw-main-1",
    "Tenant/so-tai-chinh",
    "ColoLease/so-tai-chinh-tam-thoi",
    "InformationSystem/cong-dich-vu-cong",
];

/// A generated inventory: plan and communes.
#[derive(Debug, Clone)]
pub(crate) struct Inv {
    pub plan: Plan,
    pub communes: BTreeMap<usize, Commune>,
}

impl Inv {
    pub(crate) fn new(plan: Plan, communes: impl IntoIterator<Item = Commune>) -> Inv {
        Inv {
            plan,
            communes: communes
                .into_iter()
                .map(|c| (c.i, c.normalised()))
                .collect(),
        }
    }

    /// Plain communes `0..n` under the default plan.
    pub(crate) fn plain(n: usize) -> Inv {
        Inv::new(Plan::default(), (0..n).map(Commune::plain))
    }

    /// Every ledger key the inventory needs.
    pub(crate) fn keys(&self) -> BTreeSet<String> {
        let mut keys: BTreeSet<String> = [
            "loopback/edge-main-1",
            "loopback/edge-backup-1",
            "loopback/fw-main-1",
            "asn/edge-main-1",
            "asn/edge-backup-1",
            "vlan/so-tai-chinh/so-tai-chinh-tam-thoi",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        for c in self.communes.values() {
            keys.extend(c.keys(&self.plan));
        }
        keys
    }

    /// Every document, in a canonical order: the fixed part, the plan, the edges, the communes.
    pub(crate) fn docs(&self) -> Vec<String> {
        let base = Docs::base();
        let mut out: Vec<String> = FIXED
            .iter()
            .map(|id| {
                // Leases and systems name prefixes inside the main data center's services.
                base.get(id)
                    .replace(
                        "2001:db8:100:10::/64",
                        &sub64(self.plan.site(self.plan.services[0]), 0x10).to_string(),
                    )
                    .replace(
                        "2001:db8:100:1::/64",
                        &sub64(self.plan.site(self.plan.services[0]), 1).to_string(),
                    )
            })
            .collect();
        out.push(self.plan.yaml());
        for (id, prefix) in [
            ("Device/edge-main-1", "eth1."),
            ("Device/edge-backup-1", "ipsec"),
        ] {
            let text = base.get(id);
            let head = &text[..text.find("  interfaces:\n").expect("edge has interfaces")];
            let mut doc =
                format!("{head}  interfaces:\n    - name: eth0\n      description: core uplink\n");
            for c in self.communes.values() {
                let _ = writeln!(doc, "    - name: {prefix}{}", c.code());
            }
            out.push(doc);
        }
        for c in self.communes.values() {
            out.extend(c.docs(&self.plan));
        }
        out
    }

    /// The inventory as one multi-document text (canonical order).
    pub(crate) fn text(&self) -> String {
        join(&self.docs())
    }
}

/// Documents joined into one multi-document YAML text.
pub(crate) fn join(docs: &[String]) -> String {
    let mut out = String::new();
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(d);
    }
    out
}

/// A small deterministic generator for shuffles and splits driven by a proptest seed.
pub(crate) struct Mix(u64);

impl Mix {
    pub(crate) fn new(seed: u64) -> Mix {
        Mix(seed)
    }
    /// splitmix64.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub(crate) fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// How documents are laid out on disk: order, number of files, file names.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    /// Drives the shuffle and the split; 0 keeps the canonical order in one file.
    pub seed: u64,
    /// Number of files (at least 1).
    pub files: usize,
    /// Part of every file name, so that two layouts name their files differently.
    pub tag: &'static str,
}

impl Layout {
    pub(crate) const CANONICAL: Layout = Layout {
        seed: 0,
        files: 1,
        tag: "inventory",
    };

    /// The files and their texts.
    pub(crate) fn render(&self, docs: &[String]) -> Vec<(PathBuf, String)> {
        let mut docs: Vec<&String> = docs.iter().collect();
        let files = self.files.max(1);
        let mut buckets: Vec<Vec<&String>> = vec![Vec::new(); files];
        if self.seed == 0 {
            buckets[0] = docs;
        } else {
            let mut mix = Mix::new(self.seed);
            mix.shuffle(&mut docs);
            for d in docs {
                let b = mix.below(files);
                buckets[b].push(d);
            }
        }
        buckets
            .into_iter()
            .enumerate()
            .filter(|(_, b)| !b.is_empty())
            .map(|(i, b)| {
                let owned: Vec<String> = b.into_iter().cloned().collect();
                // Nested directories for some files: discovery order must not matter either.
                let name = if i % 3 == 2 {
                    format!("sub-{}/{}-{i}.yaml", self.tag, self.tag)
                } else {
                    format!("{}-{i}.yaml", self.tag)
                };
                (PathBuf::from(name), join(&owned))
            })
            .collect()
    }
}

/// Loads documents laid out as `layout` (in a temporary directory when split), asserting that
/// they load without problems.
pub(crate) fn load_docs(docs: &[String], layout: Layout) -> Loaded {
    let loaded = if layout.files <= 1 && layout.seed == 0 {
        load::load_str(
            Path::new("inventory.yaml"),
            &join(docs),
            &LoadOptions::default(),
        )
    } else {
        let dir = tempfile::tempdir().expect("temporary directory");
        for (rel, text) in layout.render(docs) {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
            std::fs::write(&path, text).expect("write");
        }
        let mut loaded =
            load::load_paths(&[dir.path().to_owned()], &LoadOptions::default()).expect("loads");
        // The texts are kept in memory; name files relative to the directory, which can go.
        let relative = |p: &mut PathBuf| {
            if let Ok(r) = p.strip_prefix(dir.path()) {
                *p = r.to_owned();
            }
        };
        loaded.inventory.files.iter_mut().for_each(relative);
        loaded
            .sources
            .iter_mut()
            .for_each(|s| relative(&mut s.path));
        loaded
    };
    assert!(
        loaded.diagnostics.is_empty(),
        "generated inventory should load:\n{}",
        render(&loaded.diagnostics)
    );
    loaded
}

/// Allocates for `loaded` on top of `ledger`, as of `today`.
pub(crate) fn allocate(
    loaded: &Loaded,
    ledger: &Ledger,
    today: NaiveDate,
) -> Result<Allocation, Vec<Diagnostic>> {
    ipam::allocate(&loaded.inventory, ledger.clone(), &loaded.locator(), today)
}

/// Allocates and expects success.
#[track_caller]
pub(crate) fn allocate_ok(loaded: &Loaded, ledger: &Ledger, today: NaiveDate) -> Allocation {
    allocate(loaded, ledger, today).unwrap_or_else(|d| panic!("allocation failed:\n{}", render(&d)))
}

/// Whether two prefixes share an address.
pub(crate) fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(b) || b.contains(a)
}

/// Every invariant a ledger must keep, for a generated plan. Returns the violations.
pub(crate) fn violations(ledger: &Ledger, plan: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    let reserved = plan.reserved();
    for (key, e) in &ledger.entries {
        let value = e.value;
        let bad = |why: &str| format!("{key} = {value} ({}): {why}", e.pool);
        match (e.pool.as_str(), value) {
            ("site-v6", ipam::AllocValue::Prefix(IpNet::V6(p))) => {
                if p.prefix_len() != 48 || !plan.root_net().contains(&p) {
                    out.push(bad("not a /48 of the root"));
                }
                if reserved
                    .iter()
                    .any(|r| overlaps(&IpNet::V6(*r), &IpNet::V6(p)))
                {
                    out.push(bad("overlaps a reserved block"));
                }
            }
            ("site-v4", ipam::AllocValue::Prefix(IpNet::V4(p))) => {
                if p.prefix_len() != 24 || !plan.v4_net().is_some_and(|r| r.contains(&p)) {
                    out.push(bad("not a /24 of the IPv4 root"));
                }
            }
            ("loopback", ipam::AllocValue::Prefix(IpNet::V6(p))) => {
                if p.prefix_len() != 128 || !plan.loopbacks().contains(&p) {
                    out.push(bad("not a /128 of the loopback block"));
                }
                if p.network() == plan.loopbacks().network() {
                    out.push(bad("the block's all-zero address"));
                }
            }
            ("p2p", ipam::AllocValue::Prefix(IpNet::V6(p))) => {
                if p.prefix_len() != 127 || !plan.p2p().contains(&p) {
                    out.push(bad("not a /127 of the point-to-point block"));
                }
            }
            ("asn", ipam::AllocValue::Number(n)) => {
                if !(4_200_000_000..=4_200_099_999).contains(&n) {
                    out.push(bad("outside the ASN pool"));
                }
            }
            ("vlan", ipam::AllocValue::Number(n)) => {
                if !(100..=3999).contains(&n) {
                    out.push(bad("outside the VLAN pool"));
                }
            }
            (pool, ipam::AllocValue::Prefix(IpNet::V6(p))) if pool.starts_with("segment:") => {
                let site = &pool["segment:".len()..];
                if p.prefix_len() != 64 {
                    out.push(bad("not a /64"));
                }
                match ledger.entries.get(site) {
                    Some(s)
                        if s.value
                            .prefix()
                            .is_some_and(|sp| sp.contains(&IpNet::V6(p))) => {}
                    // A held segment stays where it was, even if its site has moved on.
                    Some(_) if e.held.is_some() => {}
                    Some(_) => out.push(bad("not inside its site's prefix")),
                    None if e.held.is_some() => {}
                    None => out.push(bad("its site has no prefix")),
                }
            }
            _ => out.push(bad("unexpected pool or value type")),
        }
    }
    // Pairwise: prefixes never overlap (but a segment lies inside its own site), numbers never
    // repeat within a pool. Prefixes either nest or are disjoint: sorted by start address (the
    // shorter first), each one overlaps exactly the open prefixes that contain it.
    let mut prefixes: Vec<(Bits, &String, &ipam::Entry)> = ledger
        .entries
        .iter()
        .filter_map(|(k, e)| e.value.prefix().map(|p| (Bits::of(&p), k, e)))
        .collect();
    prefixes.sort_by_key(|(b, _, _)| (b.width, b.addr, b.len));
    let mut open: Vec<(Bits, &String, &ipam::Entry)> = Vec::new();
    for (b, k, e) in prefixes {
        open.retain(|(o, _, _)| o.contains(&b));
        for (o, ko, eo) in &open {
            // A repinned site's old prefix is held under `<key>@<value>`: still that site's.
            let site = |key: &'_ str| key.split('@').next().unwrap_or(key).to_owned();
            let nested = e.pool.strip_prefix("segment:") == Some(site(ko).as_str())
                || eo.pool.strip_prefix("segment:") == Some(site(k).as_str());
            if !nested {
                out.push(format!("{k} = {} overlaps {ko} = {}", b.net(), o.net()));
            }
        }
        open.push((b, k, e));
    }
    let mut numbers: BTreeMap<(&str, u32), &String> = BTreeMap::new();
    for (k, e) in &ledger.entries {
        if let ipam::AllocValue::Number(n) = e.value
            && let Some(other) = numbers.insert((e.pool.as_str(), n), k)
        {
            out.push(format!("{k} and {other} both have {} {n}", e.pool));
        }
    }
    out
}

/// Asserts [`violations`] finds nothing.
#[track_caller]
pub(crate) fn assert_sound(ledger: &Ledger, plan: &Plan) {
    let v = violations(ledger, plan);
    assert!(
        v.is_empty(),
        "ledger breaks invariants:\n{}\n{}",
        v.join("\n"),
        ledger.to_yaml()
    );
}

/// The pins a commune set asks for, by ledger key.
pub(crate) fn pins(inv: &Inv) -> BTreeMap<String, String> {
    let plan = &inv.plan;
    let mut out = BTreeMap::new();
    for c in inv.communes.values() {
        let (cpe, code) = (c.cpe(), c.code());
        if c.pin_site {
            out.insert(c.site_key(), c.site_pin(plan).to_string());
            if let Some(v4) = plan.site_v4(c.pin_slot()) {
                out.insert(format!("site-v4/commune-{code}"), v4.to_string());
            }
            match c.lan_pin {
                LanPin::None => {}
                LanPin::Lan0Second => {
                    out.insert(
                        format!("segment/{cpe}:lan0"),
                        sub64(c.site_pin(plan), 1).to_string(),
                    );
                }
                LanPin::Lan1First => {
                    out.insert(
                        format!("segment/{cpe}:lan1"),
                        sub64(c.site_pin(plan), 0).to_string(),
                    );
                }
            }
        }
        if c.pin_loopback {
            out.insert(
                format!("loopback/{cpe}"),
                format!("{}/128", c.loopback_pin(plan)),
            );
        }
        if c.pin_asn {
            out.insert(format!("asn/{cpe}"), c.asn_pin().to_string());
        }
        if c.pin_p2p {
            out.insert(
                format!("p2p/{cpe}:eth0--edge-main-1:eth1.{code}"),
                c.p2p_pin(plan).to_string(),
            );
        }
    }
    out
}

/// `Kind/name` of a generated or base document.
pub(crate) fn doc_id(doc: &str) -> String {
    let kind = doc
        .lines()
        .find_map(|l| l.strip_prefix("kind: "))
        .expect("kind");
    let name = doc
        .lines()
        .find_map(|l| l.strip_prefix("  name: "))
        .expect("name");
    format!("{}/{}", kind.trim(), name.trim())
}

/// Replaces the one occurrence of `from` in document `id` by `to`.
#[track_caller]
pub(crate) fn edit(docs: &mut [String], id: &str, from: &str, to: &str) {
    let doc = docs
        .iter_mut()
        .find(|d| doc_id(d) == id)
        .unwrap_or_else(|| panic!("no document {id}"));
    assert_eq!(
        doc.matches(from).count(),
        1,
        "`{from}` should occur once in {id}:\n{doc}"
    );
    *doc = doc.replacen(from, to, 1);
}

/// Replaces document `id` entirely.
#[track_caller]
pub(crate) fn replace(docs: &mut [String], id: &str, text: &str) {
    let doc = docs
        .iter_mut()
        .find(|d| doc_id(d) == id)
        .unwrap_or_else(|| panic!("no document {id}"));
    *doc = text.to_owned();
}

/// Loads several named in-memory files (written to a temporary directory).
pub(crate) fn load_files(files: &[(&str, String)]) -> Loaded {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (rel, text) in files {
        std::fs::write(dir.path().join(rel), text).expect("write");
    }
    let mut loaded =
        load::load_paths(&[dir.path().to_owned()], &LoadOptions::default()).expect("loads");
    for s in &mut loaded.sources {
        s.path = PathBuf::from(s.path.file_name().expect("file name"));
    }
    for p in &mut loaded.inventory.files {
        *p = PathBuf::from(p.file_name().expect("file name"));
    }
    assert!(
        loaded.diagnostics.is_empty(),
        "{}",
        render(&loaded.diagnostics)
    );
    loaded
}
