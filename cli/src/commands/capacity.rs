//! `hatang capacity`: free rack units, power headroom per rack and feed, lease shares and
//! releases (`hatang_core::capacity`), printed as text, JSON or Markdown.

use std::fmt::Write as _;

use anyhow::{Context, Result};

use crate::args::{CapacityArgs, Output};
use crate::exit::Verdict;
use crate::output::print_json;
use hatang_core::capacity::{self, Capacity, DataCenterCapacity, UnitRange};

pub(super) fn run(args: &CapacityArgs) -> Result<Verdict> {
    let inventory = &args.inventory;
    let checked = super::check(inventory)?;
    if checked.errors() > 0 {
        let message = format!(
            "{} errors: fix the inventory before asking for capacity",
            checked.errors()
        );
        return crate::output::invalid_inventory(
            &checked,
            args.output.format,
            inventory.max_problems,
            message,
        );
    }
    let today = super::today(inventory.today);
    let c = capacity::compute(&checked.loaded.inventory, today, args.until);
    match args.output.format {
        Output::Json => print_json(&c)?,
        Output::Text => print!("{}", text(&c)),
    }
    if let Some(f) = &args.markdown {
        std::fs::write(f, markdown(&c))
            .with_context(|| format!("cannot write `{}`", f.display()))?;
    }
    Ok(Verdict::Ok)
}

fn ranges(free: &[UnitRange]) -> String {
    if free.is_empty() {
        return "none".to_owned();
    }
    free.iter()
        .map(|r| match r.from_u == r.to_u {
            true => format!("U{}", r.from_u),
            false => format!("U{}–U{}", r.from_u, r.to_u),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn until(c: &Capacity) -> String {
    c.until.map_or("every end".to_owned(), |u| u.to_string())
}

fn text(c: &Capacity) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "Capacity on {} (releases up to {})", c.today, until(c));
    for dc in &c.data_centers {
        text_dc(&mut o, dc);
    }
    let _ = writeln!(o, "\nLease power: {}.", c.lease_power_rule);
    o
}

fn text_dc(o: &mut String, dc: &DataCenterCapacity) {
    let _ = writeln!(
        o,
        "\n{} ({}, {}): {}/{} U free, {:.2}/{:.2} kW used",
        dc.name,
        dc.tier.as_str(),
        dc.display_name,
        dc.units_free,
        dc.units_total,
        dc.power_used_kw,
        dc.power_budget_kw
    );
    let _ = writeln!(o, "  feeds (2N: each carries every rack it serves alone)");
    for f in &dc.feeds {
        let _ = writeln!(
            o,
            "    {:<4} {:>8.2}/{:<8.2} kW  headroom {:>8.2} kW  ({} racks)",
            f.name,
            f.load_kw,
            f.capacity_kw,
            f.headroom_kw,
            f.racks.len()
        );
    }
    for room in &dc.rooms {
        let _ = writeln!(o, "  room {}", room.name);
        for r in &room.racks {
            let _ = writeln!(
                o,
                "    {:<6} {:>2}/{:<2} U free  {:>6.2}/{:<6.2} kW  headroom {:>6.2} kW  feeds {:<6} free {}",
                r.name,
                r.units_free,
                r.height_u,
                r.power_used_kw,
                r.power_budget_kw,
                r.power_headroom_kw,
                r.feeds.join("+"),
                ranges(&r.free)
            );
            for s in &r.lease_shares {
                let _ = writeln!(
                    o,
                    "           lease {} ({}): {:.2} kW of {:.2} kW over {} space entr{}",
                    s.lease,
                    s.tenant,
                    s.share_kw,
                    s.lease_power_kw,
                    s.spaces,
                    if s.spaces == 1 { "y" } else { "ies" }
                );
            }
        }
    }
    if dc.releases.is_empty() {
        let _ = writeln!(o, "  releases: none");
    } else {
        let _ = writeln!(o, "  releases");
    }
    for r in &dc.releases {
        let _ = writeln!(
            o,
            "    {}  {} {}  {:.2} kW  lease {} ({})",
            r.date,
            r.rack,
            ranges(&[r.units]),
            r.power_kw,
            r.lease,
            r.tenant
        );
    }
}

fn markdown(c: &Capacity) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Capacity on {}\n", c.today);
    let _ = writeln!(
        o,
        "Releases up to {}. Lease power: {}.",
        until(c),
        c.lease_power_rule
    );
    for dc in &c.data_centers {
        let _ = writeln!(
            o,
            "\n## {} — {} ({})\n\n{}/{} U free, {:.2}/{:.2} kW used.\n",
            dc.name,
            dc.display_name,
            dc.tier.as_str(),
            dc.units_free,
            dc.units_total,
            dc.power_used_kw,
            dc.power_budget_kw
        );
        let _ = writeln!(
            o,
            "| feed | load kW (2N) | capacity kW | headroom kW | racks |"
        );
        let _ = writeln!(o, "|---|---:|---:|---:|---:|");
        for f in &dc.feeds {
            let _ = writeln!(
                o,
                "| {} | {:.2} | {:.2} | {:.2} | {} |",
                f.name,
                f.load_kw,
                f.capacity_kw,
                f.headroom_kw,
                f.racks.len()
            );
        }
        let _ = writeln!(
            o,
            "\n| room | rack | free U | free ranges | used kW | budget kW | headroom kW | feeds | lease shares |"
        );
        let _ = writeln!(o, "|---|---|---:|---|---:|---:|---:|---|---|");
        for room in &dc.rooms {
            for r in &room.racks {
                let shares: Vec<String> = r
                    .lease_shares
                    .iter()
                    .map(|s| format!("{} {:.2}/{:.2} kW", s.lease, s.share_kw, s.lease_power_kw))
                    .collect();
                let _ = writeln!(
                    o,
                    "| {} | {} | {}/{} | {} | {:.2} | {:.2} | {:.2} | {} | {} |",
                    room.name,
                    r.name,
                    r.units_free,
                    r.height_u,
                    ranges(&r.free),
                    r.power_used_kw,
                    r.power_budget_kw,
                    r.power_headroom_kw,
                    r.feeds.join("+"),
                    shares.join("; ")
                );
            }
        }
        if !dc.releases.is_empty() {
            let _ = writeln!(o, "\n| frees on | rack | units | kW | lease | tenant |");
            let _ = writeln!(o, "|---|---|---|---:|---|---|");
            for r in &dc.releases {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {:.2} | {} | {} |",
                    r.date,
                    r.rack,
                    ranges(&[r.units]),
                    r.power_kw,
                    r.lease,
                    r.tenant
                );
            }
        }
    }
    o
}
