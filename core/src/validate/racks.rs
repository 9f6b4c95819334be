//! Rack space: rooms and racks are unique, devices and leases fit their racks and never share a unit.

use std::collections::{BTreeMap, HashMap};

use super::{Index, Report, ValidateOptions, at, obj};
use crate::diag::{Diagnostic, ObjectRef, Subject};
use crate::load::Seg;
use crate::model::{ColoLeaseSpec, Inventory, Kind, Object, Origin};

/// Something that occupies a range of units in a rack.
struct Occupant<'a> {
    from: u32,
    to: u32,
    label: String,
    object: ObjectRef,
    origin: Origin,
    path: Vec<Seg>,
    lease: Option<&'a ColoLeaseSpec>,
}

pub(super) fn check(
    inv: &Inventory,
    ix: &Index<'_>,
    opts: &ValidateOptions,
    report: &mut Report<'_>,
) {
    unique_rooms_and_racks(inv, report);

    let mut racks: BTreeMap<(&str, &str), Vec<Occupant<'_>>> = BTreeMap::new();
    for d in &inv.devices {
        let Some(p) = &d.spec.rack else { continue };
        let Some(dc) = ix.data_centers.get(p.data_center.as_str()) else {
            continue;
        };
        let Some(rack) = dc.spec.rack(&p.rack) else {
            continue;
        };
        let to = p.position + p.height_u.max(1) - 1;
        if p.position == 0 || to > rack.height_u {
            report.push(
                d.origin,
                at!["spec", "rack", "position"],
                obj(Kind::Device, d),
                Diagnostic::error(
                    "rack-overflow",
                    format!(
                        "device occupies U{}–U{} but rack `{}` has units 1–{}",
                        p.position, to, rack.name, rack.height_u
                    ),
                )
                .subject(Subject::rack(dc.name(), &rack.name)),
            );
            continue;
        }
        racks
            .entry((p.data_center.as_str(), p.rack.as_str()))
            .or_default()
            .push(Occupant {
                from: p.position,
                to,
                label: format!("Device `{}`", d.name()),
                object: obj(Kind::Device, d),
                origin: d.origin,
                path: at!["spec", "rack", "position"],
                lease: None,
            });
    }
    for l in &inv.colo_leases {
        lease_space(l, ix, opts, report, &mut racks);
    }

    for ((dc, rack), mut occupants) in racks {
        occupants.sort_by_key(|o| (o.from, o.to));
        for (i, a) in occupants.iter().enumerate() {
            for b in &occupants[i + 1..] {
                if b.from > a.to {
                    break;
                }
                let in_time = match (a.lease, b.lease) {
                    (Some(x), Some(y)) => x.overlaps_in_time(y),
                    _ => true,
                };
                if !in_time {
                    continue;
                }
                let (lo, hi) = (b.from.max(a.from), b.to.min(a.to));
                report.push(
                    b.origin,
                    b.path.clone(),
                    b.object.clone(),
                    Diagnostic::error(
                        "rack-overlap",
                        format!(
                            "{} and {} both occupy U{lo}–U{hi} of rack `{rack}` in `{dc}`",
                            b.label, a.label
                        ),
                    )
                    .hint("move one of them or shrink the unit range")
                    .subject(Subject::rack(dc, rack))
                    .subject(Subject::Object(a.object.clone())),
                );
                report.also(&format!("{} is here", a.label), a.origin, a.path.clone());
            }
        }
    }
}

fn lease_space<'a>(
    l: &'a Object<ColoLeaseSpec>,
    ix: &Index<'_>,
    opts: &ValidateOptions,
    report: &mut Report<'_>,
    racks: &mut BTreeMap<(&'a str, &'a str), Vec<Occupant<'a>>>,
) {
    let Some(dc) = ix.data_centers.get(l.spec.data_center.as_str()) else {
        return;
    };
    let expired = l.spec.end.is_some_and(|e| e < opts.today);
    for (i, space) in l.spec.space.iter().enumerate() {
        let Some(rack) = dc.spec.rack(&space.rack) else {
            let known: Vec<&str> = dc.spec.racks().map(|(_, r)| r.name.as_str()).collect();
            let mut d = Diagnostic::error(
                "dangling-reference",
                format!(
                    "refers to rack `{}`, which does not exist in DataCenter `{}`",
                    space.rack,
                    dc.name()
                ),
            );
            if let Some(c) = crate::names::closest(&space.rack, known.iter().copied()) {
                d = d.hint(format!("did you mean `{c}`?"));
            }
            d = d.subject(Subject::rack(dc.name(), &space.rack));
            report.push(
                l.origin,
                at!["spec", "space", i, "rack"],
                obj(Kind::ColoLease, l),
                d,
            );
            continue;
        };
        let (from, to) = match (space.from_u, space.to_u) {
            (None, None) => (1, rack.height_u),
            (Some(f), Some(t)) if f >= 1 && f <= t && t <= rack.height_u => (f, t),
            (Some(f), Some(t)) => {
                report.push(
                    l.origin,
                    at!["spec", "space", i, "fromU"],
                    obj(Kind::ColoLease, l),
                    Diagnostic::error(
                        "rack-overflow",
                        format!(
                            "units U{f}–U{t} do not fit rack `{}` (units 1–{})",
                            rack.name, rack.height_u
                        ),
                    )
                    .subject(Subject::rack(dc.name(), &rack.name)),
                );
                continue;
            }
            _ => {
                report.push(
                    l.origin,
                    at!["spec", "space", i],
                    obj(Kind::ColoLease, l),
                    Diagnostic::error(
                        "half-range",
                        "give both fromU and toU, or neither for the whole rack",
                    ),
                );
                continue;
            }
        };
        if expired {
            continue;
        }
        racks
            .entry((l.spec.data_center.as_str(), space.rack.as_str()))
            .or_default()
            .push(Occupant {
                from,
                to,
                label: format!("ColoLease `{}`", l.name()),
                object: obj(Kind::ColoLease, l),
                origin: l.origin,
                path: at!["spec", "space", i, "rack"],
                lease: Some(&l.spec),
            });
    }
}

fn unique_rooms_and_racks(inv: &Inventory, report: &mut Report<'_>) {
    for dc in &inv.data_centers {
        let mut rooms: HashMap<&str, usize> = HashMap::new();
        let mut racks: HashMap<&str, (usize, usize)> = HashMap::new();
        for (ri, room) in dc.spec.rooms.iter().enumerate() {
            if rooms.insert(&room.name, ri).is_some() {
                report.push(
                    dc.origin,
                    at!["spec", "rooms", ri, "name"],
                    obj(Kind::DataCenter, dc),
                    Diagnostic::error(
                        "duplicate-room",
                        format!("room `{}` is listed twice", room.name),
                    )
                    .subject(Subject::Room {
                        data_center: dc.name().to_owned(),
                        room: room.name.clone(),
                    }),
                );
            }
            for (ki, rack) in room.racks.iter().enumerate() {
                if let Some((fr, fk)) = racks.insert(&rack.name, (ri, ki)) {
                    report.push(
                        dc.origin,
                        at!["spec", "rooms", ri, "racks", ki, "name"],
                        obj(Kind::DataCenter, dc),
                        Diagnostic::error(
                            "duplicate-rack",
                            format!("rack `{}` is listed twice in the data center", rack.name),
                        )
                        .hint("rack names are unique per data center, across rooms")
                        .subject(Subject::rack(dc.name(), &rack.name)),
                    );
                    report.also(
                        "first listed here",
                        dc.origin,
                        at!["spec", "rooms", fr, "racks", fk, "name"],
                    );
                }
                if rack.height_u == 0 || rack.height_u > 60 {
                    report.push(
                        dc.origin,
                        at!["spec", "rooms", ri, "racks", ki, "heightU"],
                        obj(Kind::DataCenter, dc),
                        Diagnostic::error(
                            "bad-rack-height",
                            format!(
                                "rack `{}` height {}U is outside 1–60",
                                rack.name, rack.height_u
                            ),
                        )
                        .subject(Subject::rack(dc.name(), &rack.name)),
                    );
                }
            }
        }
    }
}
