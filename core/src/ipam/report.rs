//! Reports over a planned ledger: utilisation in the units that matter, the prefix tree, who owns
//! an address, interface addresses, and exports (CSV, JSON, reverse-DNS zones).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use super::schema::{LedgerKey, PoolRef, SEGMENT_POOLS};
use super::value::Bits;
use super::{Entry, Ledger, PoolUse};

/// The largest integer every JSON reader holds exactly (a double's 53-bit mantissa, as in
/// JavaScript's `Number.MAX_SAFE_INTEGER`).
pub const MAX_EXACT_JSON_INTEGER: u128 = (1 << 53) - 1;

/// A count as JSON: a number up to [`MAX_EXACT_JSON_INTEGER`], above it a string of its digits
/// (/128s in a /64), so no reader rounds it.
pub fn ser_count<S: serde::Serializer>(n: &u128, s: S) -> Result<S::Ok, S::Error> {
    if *n <= MAX_EXACT_JSON_INTEGER {
        s.serialize_u64(*n as u64)
    } else {
        s.collect_str(n)
    }
}

/// Counts by unit as a JSON object, each count as [`ser_count`] writes it.
fn ser_counts<S: serde::Serializer>(v: &[(String, u128)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;

    /// One count, serialised by [`ser_count`].
    struct Count(u128);
    impl Serialize for Count {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            ser_count(&self.0, s)
        }
    }

    let mut m = s.serialize_map(Some(v.len()))?;
    for (unit, n) in v {
        m.serialize_entry(unit, &Count(*n))?;
    }
    m.end()
}

/// Share of a pool above which utilisation warns.
pub const WARN_PERCENT: f64 = 80.0;

/// One line of `hatang ipam utilization`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Utilization {
    /// Pool name.
    pub pool: String,
    /// What a slot is, e.g. `/48` or `ASN`.
    pub unit: String,
    /// Where from.
    pub from: Vec<String>,
    /// Slots in total.
    #[serde(serialize_with = "ser_count")]
    pub total: u128,
    /// Slots taken.
    #[serde(serialize_with = "ser_count")]
    pub used: u128,
    /// Slots blocked by reserved blocks.
    #[serde(serialize_with = "ser_count")]
    pub reserved: u128,
    /// Slots still free.
    #[serde(serialize_with = "ser_count")]
    pub free: u128,
    /// Used and reserved, in percent of the total.
    pub percent: f64,
    /// Free space in the other units planners count in (/48s, /56s, /64s), for prefix pools.
    #[serde(serialize_with = "ser_counts")]
    pub free_as: Vec<(String, u128)>,
    /// Set when the pool is nearly exhausted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// Utilisation of every pool.
pub fn utilization(pools: &[PoolUse]) -> Vec<Utilization> {
    pools
        .iter()
        .map(|p| {
            let taken = p.used.saturating_add(p.reserved);
            let free = p.total.saturating_sub(taken);
            let percent = if p.total == 0 {
                100.0
            } else {
                100.0 * taken as f64 / p.total as f64
            };
            let unit = match (PoolRef::parse(&p.name), p.child_len) {
                (Some(PoolRef::Asn), _) => "ASN".to_owned(),
                (Some(PoolRef::Vlan), _) => "VLAN".to_owned(),
                (_, Some(len)) => format!("/{len}"),
                _ => String::new(),
            };
            let warning = (percent >= WARN_PERCENT).then(|| {
                format!(
                    "{} is {percent:.1}% used: {free} {unit} left; add a root or a larger block",
                    p.name
                )
            });
            let free_as = match p.child_len {
                Some(len) if len <= 64 && !p.from.iter().any(|f| f.contains('.')) => [48u8, 56, 64]
                    .into_iter()
                    .filter(|u| *u >= len)
                    .map(|u| (format!("/{u}"), free.saturating_mul(1u128 << (u - len))))
                    .collect(),
                _ => Vec::new(),
            };
            Utilization {
                free_as,
                pool: p.name.clone(),
                unit,
                from: p.from.clone(),
                total: p.total,
                used: p.used,
                reserved: p.reserved,
                free,
                percent,
                warning,
            }
        })
        .collect()
}

/// How many more sites (communes) fit: the free slots of the site pool.
pub fn room_for_sites(util: &[Utilization]) -> u128 {
    util.iter()
        .find(|u| PoolRef::SiteV6.is_named(&u.pool))
        .map_or(0, |u| u.free)
}

/// Ledger entries that contain `query` or lie inside it, most specific first.
pub fn find<'a>(ledger: &'a Ledger, query: &IpNet) -> Vec<(&'a str, &'a Entry)> {
    let q = Bits::of(query);
    let mut hits: Vec<(&str, &Entry)> = ledger
        .entries
        .iter()
        .filter(|(_, e)| e.value.prefix().is_some_and(|p| Bits::of(&p).overlaps(&q)))
        .map(|(k, e)| (k.as_str(), e))
        .collect();
    hits.sort_by_key(|(k, e)| {
        (
            std::cmp::Reverse(e.value.prefix().map_or(0, |p| p.prefix_len())),
            *k,
        )
    });
    hits
}

/// An address configured on a device interface, derived from the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InterfaceAddress {
    /// Device name.
    pub device: String,
    /// Interface name (`lo` for the loopback).
    pub interface: String,
    /// The address.
    pub address: IpAddr,
    /// Prefix length on the interface.
    pub prefix_len: u8,
}

/// Interface addresses implied by the ledger: loopbacks, both ends of each /127, and the router's
/// `::1` in each segment. Held entries configure nothing.
pub fn interface_addresses(ledger: &Ledger) -> Vec<InterfaceAddress> {
    let mut out = Vec::new();
    for (key, e) in &ledger.entries {
        if e.held.is_some() {
            continue;
        }
        let Some(net) = e.value.prefix() else {
            continue;
        };
        let b = Bits::of(&net);
        let addr = |offset: u128| -> IpAddr {
            let a = b.addr + offset;
            if b.width == 32 {
                IpAddr::from((a as u32).to_be_bytes())
            } else {
                IpAddr::from(a.to_be_bytes())
            }
        };
        match LedgerKey::parse(key) {
            Some(LedgerKey::Loopback { device }) => out.push(InterfaceAddress {
                device: device.into(),
                interface: "lo".into(),
                address: addr(0),
                prefix_len: b.width,
            }),
            Some(LedgerKey::Link { a, z }) => {
                for (i, (dev, iface)) in [a, z].into_iter().enumerate() {
                    out.push(InterfaceAddress {
                        device: dev.into(),
                        interface: iface.into(),
                        address: addr(i as u128),
                        prefix_len: b.len,
                    });
                }
            }
            Some(LedgerKey::Segment { device, interface }) => out.push(InterfaceAddress {
                device: device.into(),
                interface: interface.into(),
                address: addr(1),
                prefix_len: b.len,
            }),
            _ => {}
        }
    }
    out
}

/// The prefix tree: roots and blocks, the sites in them, the segments in each site.
pub fn tree(ledger: &Ledger, pools: &[PoolUse]) -> String {
    let mut out = String::new();
    let mut segments: BTreeMap<&str, Vec<(&str, &Entry)>> = BTreeMap::new();
    for (k, e) in &ledger.entries {
        if let Some(site) = PoolRef::parse(&e.pool).and_then(|p| p.segment_site()) {
            segments.entry(site).or_default().push((k, e));
        }
    }
    for pool in pools {
        if pool.name == SEGMENT_POOLS {
            continue;
        }
        let _ = writeln!(
            out,
            "{} [{}] {} of {} used",
            pool.from.join(", "),
            pool.name,
            pool.used,
            pool.total
        );
        let mut members: Vec<(&String, &Entry)> = ledger
            .entries
            .iter()
            .filter(|(_, e)| e.pool == pool.name)
            .collect();
        members.sort_by_key(|(k, e)| (e.value, *k));
        for (k, e) in members {
            let state = if e.held.is_some() {
                " (held)"
            } else if e.pinned {
                " (pinned)"
            } else {
                ""
            };
            let _ = writeln!(out, "  {:<28} {}  {k}{state}", e.value.to_string(), e.owner);
            for (sk, se) in segments.get(k.as_str()).into_iter().flatten() {
                let _ = writeln!(out, "    {:<26} {}  {sk}", se.value.to_string(), se.owner);
            }
        }
    }
    out
}

/// CSV of the ledger: key, pool, value, owner, state, pinned, held since, release after.
pub fn to_csv(ledger: &Ledger) -> String {
    let mut out = String::from("key,pool,value,owner,state,pinned,held_since,release_after\n");
    for (k, e) in &ledger.entries {
        let (state, since, after) = match e.held {
            Some(h) => ("held", h.since.to_string(), h.release_after.to_string()),
            None => ("allocated", String::new(), String::new()),
        };
        let _ = writeln!(
            out,
            "{},{},{},{},{state},{},{since},{after}",
            csv_field(k),
            csv_field(&e.pool),
            e.value,
            csv_field(&e.owner),
            e.pinned
        );
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// One ledger entry as JSON.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonEntry<'a> {
    /// Key.
    pub key: &'a str,
    /// Pool.
    pub pool: &'a str,
    /// Value.
    pub value: String,
    /// Owner.
    pub owner: &'a str,
    /// Pinned.
    pub pinned: bool,
    /// Held since.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_since: Option<chrono::NaiveDate>,
    /// Release after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_after: Option<chrono::NaiveDate>,
}

/// The ledger as JSON values.
pub fn to_json(ledger: &Ledger) -> Vec<JsonEntry<'_>> {
    ledger
        .entries
        .iter()
        .map(|(k, e)| JsonEntry {
            key: k,
            pool: &e.pool,
            value: e.value.to_string(),
            owner: &e.owner,
            pinned: e.pinned,
            held_since: e.held.map(|h| h.since),
            release_after: e.held.map(|h| h.release_after),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipam::Entry;

    #[test]
    fn counts_past_what_json_holds_exactly_are_strings() {
        #[derive(Serialize)]
        struct C(#[serde(serialize_with = "ser_count")] u128);
        let json = |n: u128| serde_json::to_value(C(n)).unwrap();
        assert_eq!(json(8), serde_json::json!(8));
        assert_eq!(
            json(MAX_EXACT_JSON_INTEGER),
            serde_json::json!(9_007_199_254_740_991u64)
        );
        assert_eq!(json(1 << 53), serde_json::json!("9007199254740992"));
        assert_eq!(json(1 << 64), serde_json::json!("18446744073709551616"));

        let u = Utilization {
            pool: "p2p-v6".into(),
            unit: "/127".into(),
            from: vec![],
            total: 1 << 79,
            used: 3,
            reserved: 0,
            free: (1 << 79) - 3,
            percent: 0.0,
            free_as: vec![("/64".into(), 1 << 16), ("/128".into(), 1 << 80)],
            warning: None,
        };
        let v = serde_json::to_value(&u).unwrap();
        assert_eq!(v["total"], "604462909807314587353088");
        assert_eq!(v["used"], 3);
        assert_eq!(v["freeAs"]["/64"], 65536);
        assert_eq!(v["freeAs"]["/128"], "1208925819614629174706176");
    }

    fn entry(pool: &str, value: &str, owner: &str) -> Entry {
        Entry {
            pool: pool.into(),
            value: value.parse().unwrap(),
            owner: owner.into(),
            pinned: false,
            held: None,
        }
    }

    fn ledger() -> Ledger {
        let mut l = Ledger::default();
        l.entries.insert(
            "site/commune-00004".into(),
            entry("site-v6", "2001:db8:8000::/48", "Site/ubnd-a"),
        );
        l.entries.insert(
            "segment/cpe-00004:lan0".into(),
            entry(
                "segment:site/commune-00004",
                "2001:db8:8000::/64",
                "Device/cpe-00004",
            ),
        );
        l.entries.insert(
            "loopback/cpe-00004".into(),
            entry("loopback", "2001:db8:0:1::1/128", "Device/cpe-00004"),
        );
        l.entries.insert(
            "p2p/cpe-00004:eth0--edge-1:eth1.101".into(),
            entry("p2p", "2001:db8:0:2::/127", "Circuit/c"),
        );
        l
    }

    #[test]
    fn interface_addresses_from_keys() {
        let ia = interface_addresses(&ledger());
        let find = |d: &str, i: &str| {
            ia.iter()
                .find(|x| x.device == d && x.interface == i)
                .unwrap()
                .address
                .to_string()
        };
        assert_eq!(find("cpe-00004", "lo"), "2001:db8:0:1::1");
        assert_eq!(find("cpe-00004", "eth0"), "2001:db8:0:2::");
        assert_eq!(find("edge-1", "eth1.101"), "2001:db8:0:2::1");
        assert_eq!(find("cpe-00004", "lan0"), "2001:db8:8000::1");
    }

    #[test]
    fn find_is_most_specific_first() {
        let l = ledger();
        let hits = find(&l, &"2001:db8:8000::1/128".parse().unwrap());
        assert_eq!(hits[0].0, "segment/cpe-00004:lan0");
        assert_eq!(hits[1].0, "site/commune-00004");
    }

    #[test]
    fn zones_hold_ptr_records() {
        let pools = vec![
            PoolUse {
                name: "loopback".into(),
                from: vec!["2001:db8:0:1::/64".into()],
                child_len: Some(128),
                total: 0,
                used: 0,
                reserved: 0,
            },
            PoolUse {
                name: "p2p".into(),
                from: vec!["2001:db8:0:2::/64".into()],
                child_len: Some(127),
                total: 0,
                used: 0,
                reserved: 0,
            },
        ];
        let settings = crate::ipam::zones::ZoneSettings::of(
            &crate::model::DnsSpec {
                domain: "hanoi.example".into(),
                name_servers: vec!["ns1.hanoi.example".into()],
                contact: "hostmaster@hanoi.example".into(),
                ttl: 3600,
            },
            None,
        );
        let zones: Vec<(String, String)> = crate::ipam::zones::zones(&ledger(), &pools, &settings)
            .iter()
            .map(|z| (z.file_name(), z.text(&settings, 1)))
            .collect();
        // The forward zone and three reverse zones.
        assert_eq!(zones.len(), 4, "{zones:?}");
        let site = zones
            .iter()
            .find(|(n, _)| n.starts_with("0.0.0.8.8.b.d"))
            .unwrap();
        assert!(
            site.1.contains("IN PTR lan0.cpe-00004.hanoi.example."),
            "{}",
            site.1
        );
        let p2p = zones
            .iter()
            .find(|(_, t)| t.contains("eth1-101.edge-1"))
            .unwrap();
        assert!(
            p2p.1
                .contains("$ORIGIN 2.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."),
            "{}",
            p2p.1
        );
        let forward = &zones
            .iter()
            .find(|(n, _)| n == "hanoi.example.zone")
            .unwrap()
            .1;
        assert!(
            forward.contains("lan0.cpe-00004 IN AAAA 2001:db8:8000::1\n"),
            "{forward}"
        );
    }
}
