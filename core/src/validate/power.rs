//! Power: each rack within its budget, each feed able to carry every rack it serves alone (2N).

use std::collections::HashMap;

use chrono::NaiveDate;

use super::{Index, Report, ValidateOptions, at, obj};
use crate::diag::{Diagnostic, Subject};
use crate::model::{Inventory, Kind};

/// A lease's days in force and the power it reserves in one rack.
type LeaseSpan = (NaiveDate, Option<NaiveDate>, f64);

/// Power drawn or reserved per (data center, rack), in kW.
pub(crate) fn rack_loads<'a>(
    inv: &'a Inventory,
    ix: &Index<'_>,
    today: NaiveDate,
) -> HashMap<(&'a str, &'a str), f64> {
    let mut load: HashMap<(&str, &str), f64> = HashMap::new();
    for d in &inv.devices {
        if let Some(p) = &d.spec.rack {
            *load
                .entry((p.data_center.as_str(), p.rack.as_str()))
                .or_default() += f64::from(d.spec.power_w) / 1000.0;
        }
    }
    // Leases reserve power only while they run: a rack carries the peak of the leases in force
    // on any one day from today on, so a lease that follows another does not count twice.
    let mut leases: HashMap<(&str, &str), Vec<LeaseSpan>> = HashMap::new();
    for l in &inv.colo_leases {
        if l.spec.end.is_some_and(|e| e < today)
            || !ix.data_centers.contains_key(l.spec.data_center.as_str())
        {
            continue;
        }
        // A lease over several racks reserves its power evenly across them.
        let share = l.spec.power_kw / l.spec.space.len().max(1) as f64;
        for space in &l.spec.space {
            leases
                .entry((l.spec.data_center.as_str(), space.rack.as_str()))
                .or_default()
                .push((l.spec.start, l.spec.end, share));
        }
    }
    for (rack, spans) in leases {
        let days = std::iter::once(today).chain(spans.iter().map(|s| s.0).filter(|d| *d > today));
        let peak = days
            .map(|day| {
                spans
                    .iter()
                    .filter(|(start, end, _)| *start <= day && end.is_none_or(|e| day <= e))
                    .map(|s| s.2)
                    .sum::<f64>()
            })
            .fold(0.0, f64::max);
        *load.entry(rack).or_default() += peak;
    }
    load
}

pub(super) fn check(
    inv: &Inventory,
    ix: &Index<'_>,
    opts: &ValidateOptions,
    report: &mut Report<'_>,
) {
    let load = rack_loads(inv, ix, opts.today);
    for dc in &inv.data_centers {
        let feeds: HashMap<&str, usize> = dc
            .spec
            .power_feeds
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.as_str(), i))
            .collect();
        let mut feed_load = vec![0.0f64; dc.spec.power_feeds.len()];
        for (ri, room) in dc.spec.rooms.iter().enumerate() {
            for (ki, rack) in room.racks.iter().enumerate() {
                let used = load
                    .get(&(dc.name(), rack.name.as_str()))
                    .copied()
                    .unwrap_or(0.0);
                if used > rack.power_kw + 1e-9 {
                    report.push(
                        dc.origin,
                        at!["spec", "rooms", ri, "racks", ki, "powerKw"],
                        obj(Kind::DataCenter, dc),
                        Diagnostic::error(
                            "rack-power",
                            format!(
                                "rack `{}` carries {used:.2} kW of devices and leases, over its budget of {:.2} kW",
                                rack.name, rack.power_kw
                            ),
                        )
                        .hint("move load to another rack or raise the rack's budget if the facility allows")
                        .subject(Subject::rack(dc.name(), &rack.name)),
                    );
                }
                for (fi, feed) in rack.feeds.iter().enumerate() {
                    match feeds.get(feed.as_str()) {
                        Some(&i) => feed_load[i] += used,
                        None => report.push(
                            dc.origin,
                            at!["spec", "rooms", ri, "racks", ki, "feeds", fi],
                            obj(Kind::DataCenter, dc),
                            Diagnostic::error(
                                "dangling-reference",
                                format!("rack `{}` is fed by `{feed}`, which is not a power feed of this data center", rack.name),
                            )
                            .subject(Subject::rack(dc.name(), &rack.name))
                            .subject(feed_subject(dc.name(), feed)),
                        ),
                    }
                }
            }
        }
        for (i, feed) in dc.spec.power_feeds.iter().enumerate() {
            if feed_load[i] > feed.capacity_kw + 1e-9 {
                report.push(
                    dc.origin,
                    at!["spec", "powerFeeds", i, "capacityKw"],
                    obj(Kind::DataCenter, dc),
                    Diagnostic::error(
                        "feed-power",
                        format!(
                            "feed `{}` must carry {:.2} kW if its partner fails, over its capacity of {:.2} kW",
                            feed.name, feed_load[i], feed.capacity_kw
                        ),
                    )
                    .hint("with A/B feeds each feed must carry every rack it serves on its own")
                    .subject(feed_subject(dc.name(), &feed.name)),
                );
            }
        }
    }
}

fn feed_subject(data_center: &str, feed: &str) -> Subject {
    Subject::Feed {
        data_center: data_center.to_owned(),
        feed: feed.to_owned(),
    }
}
