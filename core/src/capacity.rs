//! Capacity of the data centers: free rack units, power used and headroom per rack and per feed
//! (2N: each feed carries every rack it serves alone), and what frees up as leases end. What
//! `hatang capacity` prints; the figures are those validation judges (`validate::rack_loads`,
//! `validate::feed_loads`), computed once.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::model::{ColoLeaseSpec, DataCenterSpec, DataCenterTier, Inventory, Object, Rack};
use crate::validate::{Index, feed_loads, rack_loads};

/// How a lease's power is divided between its racks, as every report states it.
pub const LEASE_POWER_RULE: &str = "a lease's powerKw is divided evenly between the entries of its \
space (one share per entry, so a rack listed twice carries two shares); a rack carries the \
highest sum of the shares of the leases in force on any one day from today on";

/// Everything `hatang capacity` prints.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Capacity {
    /// The day occupancy is judged on.
    pub today: NaiveDate,
    /// The last day of the release timeline, if bounded.
    pub until: Option<NaiveDate>,
    /// How a lease's power is divided between its racks ([`LEASE_POWER_RULE`]).
    pub lease_power_rule: &'static str,
    /// Per data center.
    pub data_centers: Vec<DataCenterCapacity>,
}

/// One data center's capacity.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataCenterCapacity {
    /// Object name.
    pub name: String,
    /// Human name.
    pub display_name: String,
    /// main, backup or single.
    pub tier: DataCenterTier,
    /// Rack units in total.
    pub units_total: u32,
    /// Rack units free today.
    pub units_free: u32,
    /// Sum of rack power budgets, kW.
    pub power_budget_kw: f64,
    /// Power drawn or reserved, kW.
    pub power_used_kw: f64,
    /// Each power feed under the 2N rule.
    pub feeds: Vec<FeedCapacity>,
    /// Rooms and their racks.
    pub rooms: Vec<RoomCapacity>,
    /// What frees up as leases end, by date.
    pub releases: Vec<Release>,
}

/// A room's racks.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomCapacity {
    /// Room name.
    pub name: String,
    /// Its racks.
    pub racks: Vec<RackCapacity>,
}

/// One rack's space and power.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RackCapacity {
    /// Rack name.
    pub name: String,
    /// Usable height.
    pub height_u: u32,
    /// Units taken today by devices and leases in force.
    pub units_used: u32,
    /// Units free today.
    pub units_free: u32,
    /// Free units as ranges, lowest first.
    pub free: Vec<UnitRange>,
    /// Power budget, kW.
    pub power_budget_kw: f64,
    /// Power drawn by devices plus the leases' peak reservation, kW.
    pub power_used_kw: f64,
    /// Budget minus use (negative when over), kW.
    pub power_headroom_kw: f64,
    /// Feeds serving the rack.
    pub feeds: Vec<String>,
    /// The share of each lease's power this rack carries.
    pub lease_shares: Vec<LeaseShare>,
}

/// An inclusive range of rack units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitRange {
    /// Lowest unit.
    pub from_u: u32,
    /// Highest unit.
    pub to_u: u32,
}

/// A feed's load when its partner has failed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedCapacity {
    /// Feed name.
    pub name: String,
    /// Capacity, kW.
    pub capacity_kw: f64,
    /// Load of every rack it serves (2N: each feed alone carries them all), kW.
    pub load_kw: f64,
    /// Capacity minus load (negative when over), kW.
    pub headroom_kw: f64,
    /// Racks it serves.
    pub racks: Vec<String>,
}

/// The part of a lease's power one rack carries.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaseShare {
    /// Lease object name.
    pub lease: String,
    /// Tenant.
    pub tenant: String,
    /// The lease's whole power, kW.
    pub lease_power_kw: f64,
    /// Entries of the lease's space (the divisor).
    pub spaces: usize,
    /// This rack's share, kW.
    pub share_kw: f64,
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: Option<NaiveDate>,
}

/// Space and power a lease gives back on the day after its last.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Release {
    /// The first day the space is free.
    pub date: NaiveDate,
    /// Lease object name.
    pub lease: String,
    /// Tenant.
    pub tenant: String,
    /// Rack.
    pub rack: String,
    /// Units freed.
    pub units: UnitRange,
    /// Power share freed, kW.
    pub power_kw: f64,
}

/// A lease's units in one rack: the given range, or the whole rack when none is given.
pub(crate) fn lease_units(space: &crate::model::RackSpace, rack: &Rack) -> (u32, u32) {
    (
        space.from_u.unwrap_or(1),
        space.to_u.unwrap_or(rack.height_u),
    )
}

/// Occupied units per rack of `dc` as bit sets (bit u = unit u; racks are at most 60U), from
/// devices and the leases `counts` keeps.
pub(crate) fn occupied_units<'a>(
    inv: &Inventory,
    dc: &'a Object<DataCenterSpec>,
    counts: impl Fn(&ColoLeaseSpec) -> bool,
) -> HashMap<&'a str, u64> {
    let mut used: HashMap<&str, u64> = HashMap::new();
    let mut mark = |rack: &'a Rack, from: u32, to: u32| {
        let mut bits = 0u64;
        for u in from.max(1)..=to.min(rack.height_u).min(63) {
            bits |= 1 << u;
        }
        *used.entry(rack.name.as_str()).or_default() |= bits;
    };
    for d in &inv.devices {
        if let Some(p) = d.spec.rack.as_ref().filter(|p| p.data_center == dc.name())
            && let Some(r) = dc.spec.rack(&p.rack)
        {
            mark(r, p.position, p.position + p.height_u.max(1) - 1);
        }
    }
    for l in inv
        .colo_leases
        .iter()
        .filter(|l| l.spec.data_center == dc.name() && counts(&l.spec))
    {
        for s in &l.spec.space {
            if let Some(r) = dc.spec.rack(&s.rack) {
                let (from, to) = lease_units(s, r);
                mark(r, from, to);
            }
        }
    }
    used
}

/// The free units of a rack of `height` whose occupied units are `bits`, as ranges.
pub fn free_ranges(height: u32, bits: u64) -> Vec<UnitRange> {
    let mut out: Vec<UnitRange> = Vec::new();
    for u in 1..=height.min(63) {
        if bits & (1 << u) != 0 {
            continue;
        }
        match out.last_mut() {
            Some(r) if r.to_u + 1 == u => r.to_u = u,
            _ => out.push(UnitRange { from_u: u, to_u: u }),
        }
    }
    out
}

/// The capacity of every data center of `inv` on `today`; releases up to `until` (all when
/// `None`). Space counts the leases in force on `today`; power counts every lease from today on,
/// at its peak, as validation does.
pub fn compute(inv: &Inventory, today: NaiveDate, until: Option<NaiveDate>) -> Capacity {
    let ix = Index::new(inv);
    let loads = rack_loads(inv, &ix, today);
    let data_centers = inv
        .data_centers
        .iter()
        .map(|dc| data_center(inv, dc, &loads, today, until))
        .collect();
    Capacity {
        today,
        until,
        lease_power_rule: LEASE_POWER_RULE,
        data_centers,
    }
}

fn data_center(
    inv: &Inventory,
    dc: &Object<DataCenterSpec>,
    loads: &HashMap<(&str, &str), f64>,
    today: NaiveDate,
    until: Option<NaiveDate>,
) -> DataCenterCapacity {
    let used = occupied_units(inv, dc, |l| l.active_on(today));
    let load_of = |rack: &str| loads.get(&(dc.name(), rack)).copied().unwrap_or(0.0);
    let rooms: Vec<RoomCapacity> = dc
        .spec
        .rooms
        .iter()
        .map(|room| RoomCapacity {
            name: room.name.clone(),
            racks: room
                .racks
                .iter()
                .map(|rack| {
                    let bits = used.get(rack.name.as_str()).copied().unwrap_or(0);
                    let free = free_ranges(rack.height_u, bits);
                    let units_free: u32 = free.iter().map(|r| r.to_u - r.from_u + 1).sum();
                    let power_used_kw = load_of(&rack.name);
                    RackCapacity {
                        name: rack.name.clone(),
                        height_u: rack.height_u,
                        units_used: rack.height_u - units_free,
                        units_free,
                        free,
                        power_budget_kw: rack.power_kw,
                        power_used_kw,
                        power_headroom_kw: rack.power_kw - power_used_kw,
                        feeds: rack.feeds.clone(),
                        lease_shares: shares(inv, dc.name(), &rack.name, today),
                    }
                })
                .collect(),
        })
        .collect();
    let feed_load = feed_loads(dc, loads);
    let feeds = dc
        .spec
        .power_feeds
        .iter()
        .zip(feed_load)
        .map(|(f, load_kw)| FeedCapacity {
            name: f.name.clone(),
            capacity_kw: f.capacity_kw,
            load_kw,
            headroom_kw: f.capacity_kw - load_kw,
            racks: dc
                .spec
                .racks()
                .filter(|(_, r)| r.feeds.contains(&f.name))
                .map(|(_, r)| r.name.clone())
                .collect(),
        })
        .collect();
    let racks = || rooms.iter().flat_map(|r| &r.racks);
    DataCenterCapacity {
        name: dc.name().to_owned(),
        display_name: dc.spec.display_name.clone(),
        tier: dc.spec.tier,
        units_total: racks().map(|r| r.height_u).sum(),
        units_free: racks().map(|r| r.units_free).sum(),
        power_budget_kw: racks().map(|r| r.power_budget_kw).sum(),
        power_used_kw: racks().map(|r| r.power_used_kw).sum(),
        feeds,
        releases: releases(inv, dc, today, until),
        rooms,
    }
}

/// Each not-yet-ended lease's share of power in one rack.
fn shares(inv: &Inventory, dc: &str, rack: &str, today: NaiveDate) -> Vec<LeaseShare> {
    let mut out = Vec::new();
    for l in inv
        .colo_leases
        .iter()
        .filter(|l| l.spec.data_center == dc && l.spec.end.is_none_or(|e| e >= today))
    {
        let spaces = l.spec.space.len().max(1);
        let entries = l.spec.space.iter().filter(|s| s.rack == rack).count();
        if entries == 0 {
            continue;
        }
        out.push(LeaseShare {
            lease: l.name().to_owned(),
            tenant: l.spec.tenant.clone(),
            lease_power_kw: l.spec.power_kw,
            spaces,
            share_kw: l.spec.power_kw / spaces as f64 * entries as f64,
            start: l.spec.start,
            end: l.spec.end,
        });
    }
    out
}

/// What leases ending from `today` up to `until` give back, by date then rack.
fn releases(
    inv: &Inventory,
    dc: &Object<DataCenterSpec>,
    today: NaiveDate,
    until: Option<NaiveDate>,
) -> Vec<Release> {
    let mut out = Vec::new();
    for l in inv
        .colo_leases
        .iter()
        .filter(|l| l.spec.data_center == dc.name())
    {
        let Some(end) = l.spec.end else { continue };
        if end < today || until.is_some_and(|u| end > u) {
            continue;
        }
        let share = l.spec.power_kw / l.spec.space.len().max(1) as f64;
        for s in &l.spec.space {
            let Some(rack) = dc.spec.rack(&s.rack) else {
                continue;
            };
            let (from_u, to_u) = lease_units(s, rack);
            out.push(Release {
                date: end.succ_opt().unwrap_or(end),
                lease: l.name().to_owned(),
                tenant: l.spec.tenant.clone(),
                rack: s.rack.clone(),
                units: UnitRange { from_u, to_u },
                power_kw: share,
            });
        }
    }
    out.sort_by(|a, b| (a.date, &a.rack, a.units.from_u).cmp(&(b.date, &b.rack, b.units.from_u)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ranges_split_around_occupied_units() {
        // Units 3–4 and 10 taken in a 12U rack.
        let bits = (1 << 3) | (1 << 4) | (1 << 10);
        assert_eq!(
            free_ranges(12, bits),
            vec![
                UnitRange { from_u: 1, to_u: 2 },
                UnitRange { from_u: 5, to_u: 9 },
                UnitRange {
                    from_u: 11,
                    to_u: 12
                },
            ]
        );
        assert!(free_ranges(2, 0b110).is_empty());
        assert_eq!(free_ranges(3, 0), vec![UnitRange { from_u: 1, to_u: 3 }]);
    }
}
