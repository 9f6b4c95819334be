//! Address plan sanity: roots do not overlap, blocks sit inside roots, pools are private and sane.

use ipnet::Ipv6Net;

use super::{Index, Report, at, obj};
use crate::diag::{Diagnostic, Subject};
use crate::load::Seg;
use crate::model::{AddressPlanSpec, Inventory, Kind, Object};

const PRIVATE_ASN: (u32, u32) = (4_200_000_000, 4_294_967_294);

pub(super) fn check(inv: &Inventory, _ix: &Index<'_>, report: &mut Report<'_>) {
    if inv.address_plans.is_empty()
        && let Some(first) = inv.devices.first()
    {
        report.push(
            first.origin,
            at!["metadata", "name"],
            obj(Kind::Device, first),
            Diagnostic::warning(
                "no-address-plan",
                "the inventory has devices but no AddressPlan; nothing can be addressed",
            )
            .hint("add an AddressPlan with at least one IPv6 root"),
        );
    }
    for extra in inv.address_plans.iter().skip(1) {
        report.push(
            extra.origin,
            at!["metadata", "name"],
            obj(Kind::AddressPlan, extra),
            Diagnostic::error(
                "second-address-plan",
                format!(
                    "a second AddressPlan (the first is `{}`)",
                    inv.address_plans[0].name()
                ),
            )
            .hint("an inventory has one address plan; add roots to it instead")
            .subject(Subject::object(
                Kind::AddressPlan,
                inv.address_plans[0].name(),
            )),
        );
    }
    for plan in &inv.address_plans {
        check_plan(plan, report);
    }
}

fn check_plan(plan: &Object<AddressPlanSpec>, report: &mut Report<'_>) {
    let o = || obj(Kind::AddressPlan, plan);
    let spec = &plan.spec;
    let mut err = |path: Vec<Seg>, code: &'static str, msg: String| {
        report.push(plan.origin, path, o(), Diagnostic::error(code, msg));
    };
    if spec.ipv6_roots.is_empty() {
        err(
            at!["spec", "ipv6Roots"],
            "no-ipv6-root",
            "the plan needs at least one IPv6 root".into(),
        );
    }
    let roots: Vec<Ipv6Net> = spec.ipv6_roots.iter().map(|p| p.0).collect();
    for (i, a) in roots.iter().enumerate() {
        for b in &roots[..i] {
            if a.contains(b) || b.contains(a) {
                err(
                    at!["spec", "ipv6Roots", i],
                    "overlapping-prefix",
                    format!("root {a} overlaps root {b}"),
                );
            }
        }
    }
    let v4: Vec<_> = spec.ipv4_roots.iter().map(|p| p.0).collect();
    for (i, a) in v4.iter().enumerate() {
        for b in &v4[..i] {
            if a.contains(b) || b.contains(a) {
                err(
                    at!["spec", "ipv4Roots", i],
                    "overlapping-prefix",
                    format!("root {a} overlaps root {b}"),
                );
            }
        }
    }
    let lens = &spec.prefix_lengths;
    let shortest_root = roots.iter().map(Ipv6Net::prefix_len).min().unwrap_or(0);
    if lens.site <= shortest_root || lens.site > lens.segment {
        err(
            at!["spec", "prefixLengths", "site"],
            "bad-prefix-length",
            format!(
                "site length /{} must be longer than the roots (/{shortest_root}) and not longer than the segment length /{}",
                lens.site, lens.segment
            ),
        );
    }
    if lens.segment > 64 {
        err(
            at!["spec", "prefixLengths", "segment"],
            "bad-prefix-length",
            format!(
                "segment length /{} is longer than /64 (SLAAC needs /64)",
                lens.segment
            ),
        );
    }

    // Blocks carved out of the roots must lie inside one and must not overlap each other.
    let mut blocks: Vec<(Vec<Seg>, Ipv6Net)> = vec![
        (
            at!["spec", "infrastructure", "loopbacks"],
            spec.infrastructure.loopbacks.0,
        ),
        (
            at!["spec", "infrastructure", "pointToPoint"],
            spec.infrastructure.point_to_point.0,
        ),
    ];
    for (name, p) in &spec.services {
        blocks.push((at!["spec", "services", name.as_str()], p.0));
    }
    for (i, (path, net)) in blocks.iter().enumerate() {
        if !roots.iter().any(|r| r.contains(net)) {
            err(
                path.clone(),
                "outside-root",
                format!("{net} is not inside any IPv6 root"),
            );
        }
        for (_, other) in &blocks[..i] {
            if net.contains(other) || other.contains(net) {
                err(
                    path.clone(),
                    "overlapping-prefix",
                    format!("{net} overlaps {other}"),
                );
            }
        }
    }

    let asn = spec.asn_pool;
    if asn.first > asn.last || asn.first < PRIVATE_ASN.0 || asn.last > PRIVATE_ASN.1 {
        err(
            at!["spec", "asnPool"],
            "bad-asn-pool",
            format!(
                "ASN pool {}–{} must be a non-empty range within the private 4-byte range {}–{}",
                asn.first, asn.last, PRIVATE_ASN.0, PRIVATE_ASN.1
            ),
        );
    }
    if let Some(v) = spec.vlan_pool
        && (v.first > v.last || v.first < 1 || v.last > 4094)
    {
        err(
            at!["spec", "vlanPool"],
            "bad-vlan-pool",
            format!(
                "VLAN pool {}–{} must be a non-empty range within 1–4094",
                v.first, v.last
            ),
        );
    }
}
