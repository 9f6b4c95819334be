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
        check_dns(plan, report);
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

/// The zones' names must be names a DNS server accepts: the domain and each name server a host
/// name (RFC 1123 labels), the contact an e-mail address on one.
fn check_dns(plan: &Object<AddressPlanSpec>, report: &mut Report<'_>) {
    let Some(dns) = &plan.spec.dns else {
        return;
    };
    let mut err = |path: Vec<Seg>, msg: String, hint: &str| {
        report.push(
            plan.origin,
            path,
            obj(Kind::AddressPlan, plan),
            Diagnostic::error("bad-dns-name", msg).hint(hint),
        );
    };
    if !is_host_name(&dns.domain) {
        err(
            at!["spec", "dns", "domain"],
            format!("`{}` is not a DNS domain name", dns.domain),
            "labels of letters, digits and hyphens, 1–63 characters each, separated by dots",
        );
    }
    if dns.name_servers.is_empty() {
        err(
            at!["spec", "dns", "nameServers"],
            "the zones need at least one name server".into(),
            "list the host names of the zones' authoritative servers",
        );
    }
    for (i, ns) in dns.name_servers.iter().enumerate() {
        if !is_host_name(ns) {
            err(
                at!["spec", "dns", "nameServers", i],
                format!("`{ns}` is not a host name"),
                "a fully qualified host name, e.g. ns1.example.gov.vn",
            );
        }
    }
    let contact_ok = dns.contact.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && local
                .chars()
                .all(|c| c.is_ascii_graphic() && c != '@' && c != '\\')
            && is_host_name(domain)
    });
    if !contact_ok {
        err(
            at!["spec", "dns", "contact"],
            format!("`{}` is not an e-mail address", dns.contact),
            "the zones' contact, e.g. hostmaster@example.gov.vn",
        );
    }
}

/// A host name of RFC 1123 labels (a final dot allowed), at most 253 characters.
fn is_host_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}
