//! `hatang stats`.

use anyhow::Result;

use crate::args::{Output, ReportArgs};
use crate::exit::Verdict;
use crate::output::print_json;
use hatang_core::stats::{self, Stats};

pub(super) fn run(args: &ReportArgs) -> Result<Verdict> {
    let inventory = &args.inventory;
    let checked = super::check(inventory)?;
    // Findings (an office without a backup circuit …) are what the figures show; only a
    // malformed inventory stops them.
    if checked.errors() > 0 {
        let message = format!(
            "{} errors: fix the inventory before asking for figures",
            checked.errors()
        );
        return crate::output::invalid_inventory(
            &checked,
            args.output.format,
            inventory.max_problems,
            message,
        );
    }
    let s = stats::compute(&checked.loaded.inventory, super::today(inventory.today));
    match args.output.format {
        Output::Json => print_json(&s)?,
        Output::Text => print_text(&s),
    }
    Ok(Verdict::Ok)
}

fn counts<K: std::fmt::Display>(title: &str, map: &std::collections::BTreeMap<K, usize>) {
    if map.is_empty() {
        return;
    }
    let parts: Vec<String> = map.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    println!("{title:<26} {}", parts.join(", "));
}

fn print_text(s: &Stats) {
    println!("Objects");
    let nonzero: std::collections::BTreeMap<_, _> =
        s.objects.iter().filter(|(_, v)| **v > 0).collect();
    for (k, v) in nonzero {
        println!("  {k:<20} {v:>7}");
    }
    println!();
    counts("Regions by level", &s.regions_by_level);
    counts("Sites by role", &s.sites_by_role);
    counts("Devices by role", &s.devices_by_role);
    counts("Circuits by medium", &s.circuits_by_medium);
    counts("Systems by security level", &s.systems_by_security_level);
    println!();

    let c = &s.coverage;
    println!("Commune coverage");
    println!("  commune-level regions        {:>6}", c.commune_regions);
    println!("  commune offices              {:>6}", c.commune_offices);
    println!(
        "  with primary + backup        {:>6}  ({:.1}% of those not excluded)",
        c.dual_homed, c.percent
    );
    if c.over_the_ring > 0 {
        println!(
            "    of which over the metro ring {:>4}  (one access circuit; the ring is the second path)",
            c.over_the_ring
        );
    }
    println!("  missing a circuit            {:>6}", c.incomplete);
    for o in &c.incomplete_offices {
        println!(
            "    {} ({}, GSO {}): no {} circuit — {}",
            o.display_name,
            o.name,
            o.gso_code.as_deref().unwrap_or("?"),
            o.missing.join(" and no "),
            o.location
        );
    }
    println!("  excluded                     {:>6}", c.excluded.len());
    for e in &c.excluded {
        println!("    {} ({}): {}", e.display_name, e.name, e.reason);
    }
    println!();

    for (i, m) in s.metro.iter().enumerate() {
        println!(
            "Metro network {} (joins {})",
            i + 1,
            m.data_center_routers.join(", ")
        );
        println!("  metro circuits               {:>6}", m.circuits);
        println!(
            "  aggregation routers          {:>6}  ({} with two paths to the data center)",
            m.aggregation_routers, m.aggregation_with_two_paths
        );
        println!(
            "  attached sites               {:>6}  ({} with two paths beyond their access circuit)",
            m.attached_sites, m.attached_with_two_paths
        );
        counts("  attached by role", &m.attached_by_role);
        println!();
    }

    println!("Data centers ({} model)", s.data_center_model.as_str());
    println!(
        "  {:<28} {:<7} {:<24} {:>5} {:>13} {:>17}",
        "name", "tier", "peer", "racks", "units used", "power used kW"
    );
    for d in &s.data_centers {
        println!(
            "  {:<28} {:<7} {:<24} {:>5} {:>6}/{:<6} {:>8.1}/{:<8.1}",
            d.name,
            d.tier.as_str(),
            d.peer.as_deref().unwrap_or("—"),
            d.racks,
            d.units_used,
            d.units_total,
            d.power_used_kw,
            d.power_budget_kw
        );
        println!("    {}", d.display_name);
    }
    println!();

    println!("Co-location leases by tenant");
    for t in &s.tenants {
        println!("  {} ({})", t.display_name, t.tenant);
        for l in &t.leases {
            let end = match (l.end, l.days_left) {
                (Some(e), Some(d)) if d < 0 => format!("ended {e}"),
                (Some(e), Some(d)) => format!("ends {e} ({d} days left)"),
                _ => "open-ended".to_owned(),
            };
            println!(
                "    {:<36} {:<20} {:>5.1} kW  {}{}  [{}]",
                l.name,
                l.data_center,
                l.power_kw,
                end,
                if l.temporary { ", temporary" } else { "" },
                l.space.join(", ")
            );
        }
    }
}
