//! `whatif` on real compiled models: wirings written as inventories, allocated, compiled, and
//! analysed. The single-failure search is checked against brute force — every element failed
//! alone and the whole network's routes recomputed — on random small wirings (hub and spoke,
//! rings of hubs, offices with one or two routers of one or two circuits each, landing anywhere).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use chrono::NaiveDate;
use hatang_core::compile::compile;
use hatang_core::ipam::{Ledger, allocate};
use hatang_core::load::{LoadOptions, load_str};
use hatang_core::whatif::reach::{Reach, offices, whole_network};
use hatang_core::whatif::select::Down;
use hatang_core::whatif::{Element, Network, failure, spof, what_if};
use proptest::prelude::*;

/// Where a circuit of a wiring lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Main,
    Backup,
    Hub(usize),
}

/// A small estate: hubs with uplinks and ring links, offices with circuits.
#[derive(Debug, Clone)]
struct Wiring {
    /// Per hub: its uplinks (to `Main`/`Backup`), each with its role (true: primary).
    hubs: Vec<Vec<(End, bool)>>,
    /// Hub-to-hub links (a, b, primary).
    ring: Vec<(usize, usize, bool)>,
    /// Per office, per router of the office: its circuits (where, primary).
    offices: Vec<Vec<Vec<(End, bool)>>>,
}

const HEAD: &str = r#"apiVersion: hatang.io/v1alpha1
kind: Site
metadata: {name: dc-main}
spec: {displayName: Main DC, role: datacenter, region: r, uplink: none}
---
apiVersion: hatang.io/v1alpha1
kind: Site
metadata: {name: dc-backup}
spec: {displayName: Backup DC, role: datacenter, region: r, uplink: none}
---
apiVersion: hatang.io/v1alpha1
kind: DataCenter
metadata: {name: dc-main}
spec: {displayName: Main, site: dc-main, tier: main, peer: dc-backup}
---
apiVersion: hatang.io/v1alpha1
kind: DataCenter
metadata: {name: dc-backup}
spec: {displayName: Backup, site: dc-backup, tier: backup, peer: dc-main}
---
apiVersion: hatang.io/v1alpha1
kind: AddressPlan
metadata: {name: plan}
spec:
  ipv6Roots: ["3fff:ab::/32"]
  infrastructure: {loopbacks: "3fff:ab:0:1::/64", pointToPoint: "3fff:ab:0:2::/64"}
  services: {dc-main: "3fff:ab:10::/48", dc-backup: "3fff:ab:11::/48"}
  asnPool: {first: 4200000100, last: 4200000999}
"#;

impl Wiring {
    fn device_of(end: End) -> String {
        match end {
            End::Main => "edge-main".into(),
            End::Backup => "edge-backup".into(),
            End::Hub(h) => format!("hub-{h}"),
        }
    }

    /// The name of office `o`'s router `k`.
    fn cpe(o: usize, k: usize) -> String {
        match k {
            0 => format!("cpe-{o}"),
            k => format!("cpe-{o}-{k}"),
        }
    }

    /// The wiring as one inventory text.
    fn yaml(&self) -> String {
        let mut circuits: Vec<(String, String, String, bool)> = Vec::new();
        for (h, ups) in self.hubs.iter().enumerate() {
            for (i, (end, primary)) in ups.iter().enumerate() {
                circuits.push((
                    format!("hub-{h}-up-{i}"),
                    format!("hub-{h}"),
                    Self::device_of(*end),
                    *primary,
                ));
            }
        }
        for (i, (a, b, primary)) in self.ring.iter().enumerate() {
            circuits.push((
                format!("ring-{i}"),
                format!("hub-{a}"),
                format!("hub-{b}"),
                *primary,
            ));
        }
        for (o, routers) in self.offices.iter().enumerate() {
            for (k, ends) in routers.iter().enumerate() {
                for (i, (end, primary)) in ends.iter().enumerate() {
                    circuits.push((
                        format!("cpe-{o}-{k}-c{i}"),
                        Self::cpe(o, k),
                        Self::device_of(*end),
                        *primary,
                    ));
                }
            }
        }
        let mut interfaces: std::collections::BTreeMap<String, usize> = Default::default();
        let mut out = HEAD.to_owned();
        let mut ends = Vec::new();
        for (name, a, z, primary) in &circuits {
            let mut next = |d: &String| {
                let n = interfaces.entry(d.clone()).or_default();
                *n += 1;
                format!("eth{n}")
            };
            let (ia, iz) = (next(a), next(z));
            ends.push((name.clone(), a.clone(), ia, z.clone(), iz, *primary));
        }
        let mut device = |name: &str, site: &str, role: &str| {
            let n = interfaces.get(name).copied().unwrap_or(0);
            let ifaces: Vec<String> = (1..=n).map(|i| format!("{{name: eth{i}}}")).collect();
            let _ = write!(
                out,
                "---\napiVersion: hatang.io/v1alpha1\nkind: Device\nmetadata: {{name: {name}}}\nspec: {{site: {site}, platform: frr, role: {role}, powerW: 0, interfaces: [{}]}}\n",
                ifaces.join(", ")
            );
        };
        device("edge-main", "dc-main", "wan-edge");
        device("edge-backup", "dc-backup", "wan-edge");
        for h in 0..self.hubs.len() {
            device(&format!("hub-{h}"), &format!("site-hub-{h}"), "hub");
        }
        for (o, routers) in self.offices.iter().enumerate() {
            for k in 0..routers.len() {
                device(&Self::cpe(o, k), &format!("office-{o}"), "cpe");
            }
        }
        for h in 0..self.hubs.len() {
            let _ = write!(
                out,
                "---\napiVersion: hatang.io/v1alpha1\nkind: Site\nmetadata: {{name: site-hub-{h}}}\nspec: {{displayName: Hub {h}, role: district-hub, region: r, uplink: dual-homed}}\n"
            );
        }
        for o in 0..self.offices.len() {
            let _ = write!(
                out,
                "---\napiVersion: hatang.io/v1alpha1\nkind: Site\nmetadata: {{name: office-{o}}}\nspec: {{displayName: Office {o}, role: commune-office, region: r, uplink: dual-homed}}\n"
            );
        }
        for (name, a, ia, z, iz, primary) in ends {
            let role = if primary { "primary" } else { "backup" };
            let _ = write!(
                out,
                "---\napiVersion: hatang.io/v1alpha1\nkind: Circuit\nmetadata: {{name: {name}}}\nspec: {{a: {{device: {a}, interface: {ia}}}, z: {{device: {z}, interface: {iz}}}, medium: fiber, provider: VNPT, circuitId: {name}, bandwidthMbps: 100, role: {role}}}\n"
            );
        }
        out
    }

    /// Loaded, allocated from an empty ledger, compiled, as a routing graph.
    fn network(&self) -> Network {
        let loaded = load_str(
            Path::new("wiring.yaml"),
            &self.yaml(),
            &LoadOptions::default(),
        );
        assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
        let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let a = allocate(&loaded.inventory, Ledger::default(), &loaded.locator(), day)
            .unwrap_or_else(|d| panic!("{d:#?}"));
        let models = compile(&loaded.inventory, &a.ledger).unwrap_or_else(|d| panic!("{d:#?}"));
        Network::new(&loaded.inventory, &models)
    }
}

/// (element, office site, lost services) for every single failure, from whole-network runs.
fn brute_force(net: &Network) -> BTreeSet<(String, String, Vec<usize>)> {
    let intact = whole_network(net, &Down::none()).unwrap();
    let offices = offices(net);
    let mut found = BTreeSet::new();
    for e in Element::all(net) {
        let now = whole_network(net, &failure::down_of(net, &[e])).unwrap();
        for (i, office) in offices.iter().enumerate() {
            let own = match e {
                Element::Site(s) => s == office.site,
                Element::Device(r) => net.routers[r as usize].site == office.site,
                _ => false,
            };
            let lost: Vec<usize> = (0..net.services.len())
                .filter(|&s| now[i][s] == Reach::Lost && intact[i][s] != Reach::Lost)
                .collect();
            if !own && !lost.is_empty() {
                found.insert((
                    e.name(net).to_string(),
                    net.sites[office.site as usize].name.clone(),
                    lost,
                ));
            }
        }
    }
    found
}

/// The same triples from `--spof`.
fn searched(net: &Network) -> BTreeSet<(String, String, Vec<usize>)> {
    let s = spof(net).unwrap();
    let index = |name: &String| net.services.iter().position(|s| &s.name == name).unwrap();
    let mut found = BTreeSet::new();
    for p in &s.points {
        for o in &p.offices {
            let mut lost: Vec<usize> = o.lost.iter().map(index).collect();
            lost.sort();
            found.insert((p.element.to_string(), o.site.clone(), lost));
        }
    }
    found
}

fn end(hubs: usize) -> impl Strategy<Value = End> {
    prop_oneof![
        Just(End::Main),
        Just(End::Backup),
        (0..hubs).prop_map(End::Hub)
    ]
}

fn wiring() -> impl Strategy<Value = Wiring> {
    (1usize..4).prop_flat_map(|hubs| {
        let uplink = (
            prop_oneof![Just(End::Main), Just(End::Backup)],
            any::<bool>(),
        );
        let ring = (0..hubs, 0..hubs, any::<bool>());
        let circuit = (end(hubs), any::<bool>());
        (
            prop::collection::vec(prop::collection::vec(uplink, 0..3), hubs),
            prop::collection::vec(ring, 0..4),
            prop::collection::vec(
                prop::collection::vec(prop::collection::vec(circuit, 1..3), 1..3),
                1..6,
            ),
        )
            .prop_map(|(hubs, ring, offices)| Wiring {
                hubs,
                ring: ring.into_iter().filter(|(a, b, _)| a != b).collect(),
                offices,
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn the_search_finds_what_failing_every_element_on_the_whole_network_finds(w in wiring()) {
        let net = w.network();
        prop_assert_eq!(searched(&net), brute_force(&net));
    }
}

/// Two offices behind one hub: one dual-homed (hub primary, backup DC edge backup), one with
/// both circuits on the hub.
fn shared_hub() -> Wiring {
    Wiring {
        hubs: vec![vec![(End::Main, true), (End::Backup, false)]],
        ring: vec![],
        offices: vec![
            vec![vec![(End::Hub(0), true), (End::Backup, false)]],
            vec![vec![(End::Hub(0), true), (End::Hub(0), false)]],
        ],
    }
}

#[test]
fn both_circuits_on_one_hub_make_the_hub_a_single_point_of_failure() {
    let net = shared_hub().network();
    let s = spof(&net).unwrap();
    let hub = s
        .points
        .iter()
        .find(|p| p.element.to_string() == "device/hub-0")
        .unwrap();
    let sites: Vec<&str> = hub.offices.iter().map(|o| o.site.as_str()).collect();
    assert_eq!(sites, ["office-1"]);
    assert_eq!(hub.offices[0].lost, ["dc-backup", "dc-main"]);
    // Neither data center alone cuts anyone off: the hub has an uplink to each.
    assert!(
        s.single_data_center.is_empty(),
        "{:?}",
        s.single_data_center
    );
    assert!(s.already_lost.is_empty());
}

#[test]
fn losing_the_main_data_center_sends_everyone_to_the_backup_one() {
    let net = shared_hub().network();
    let dc = Element::parse(&net, "datacenter/dc-main").unwrap();
    let w = what_if(&net, &[dc]).unwrap();
    assert_eq!(w.offices.len(), 2);
    for o in &w.offices {
        assert!(o.lost.is_empty(), "{o:?}");
        assert_eq!(o.via_backup, ["dc-backup", "dc-main"]);
        assert!(o.changed);
        for s in &o.services {
            assert_eq!(s.data_center.as_deref(), Some("dc-backup"));
        }
    }
    let intact = what_if(&net, &[]).unwrap();
    for o in &intact.offices {
        assert!(
            o.services
                .iter()
                .all(|s| s.data_center.as_deref() == Some("dc-main")),
            "{o:?}"
        );
    }
}

#[test]
fn an_office_whose_return_path_is_filtered_loses_the_service() {
    // The office hangs off hub 1, which reaches the data centers only around the ring through
    // hub 0. Hub 0 passes the services down the ring, but its export list towards the data
    // centers carries only its own offices' prefixes: replies to office 0 have no way back.
    let w = Wiring {
        hubs: vec![vec![(End::Main, true), (End::Backup, false)], vec![]],
        ring: vec![(0, 1, true)],
        offices: vec![vec![vec![(End::Hub(1), true)]]],
    };
    let net = w.network();
    let r = what_if(&net, &[]).unwrap();
    assert_eq!(
        r.offices[0].lost,
        ["dc-backup", "dc-main"],
        "{:?}",
        r.offices[0]
    );
    let s = spof(&net).unwrap();
    assert_eq!(s.already_lost.len(), 1);
}

#[test]
fn unknown_and_malformed_elements_are_named() {
    let net = shared_hub().network();
    assert_eq!(
        Element::parse(&net, "device/nope").unwrap_err().to_string(),
        "no device `nope` in the routing graph (devices must route: have an AS)"
    );
    assert!(matches!(
        Element::parse(&net, "router/hub-0"),
        Err(hatang_core::whatif::BadElement::Syntax(_))
    ));
    assert!(matches!(
        Element::parse(&net, "circuit/ring-9"),
        Err(hatang_core::whatif::BadElement::Unknown {
            kind: "circuit",
            ..
        })
    ));
}
