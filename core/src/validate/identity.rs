//! Uniqueness beyond names: GSO codes, interfaces, circuit ids, management addresses.

use std::collections::HashMap;

use super::{Report, at, obj};
use crate::diag::{Diagnostic, Subject};
use crate::model::{Inventory, Kind, Origin, RegionLevel};

pub(super) fn check(inv: &Inventory, report: &mut Report<'_>) {
    regions(inv, report);
    interfaces(inv, report);
    circuits(inv, report);
    management(inv, report);
}

fn regions(inv: &Inventory, report: &mut Report<'_>) {
    let mut codes: HashMap<(RegionLevel, &str), (Origin, &str)> = HashMap::new();
    for r in &inv.regions {
        let spec = &r.spec;
        let digits = spec.level.code_digits();
        if spec.code.len() != digits || !spec.code.bytes().all(|b| b.is_ascii_digit()) {
            report.push(
                r.origin,
                at!["spec", "code"],
                obj(Kind::Region, r),
                Diagnostic::error(
                    "bad-gso-code",
                    format!("GSO code `{}` is not {digits} digits", spec.code),
                )
                .hint(format!(
                    "{} codes are zero-padded to {digits} digits and quoted, e.g. \"{}\"",
                    format!("{:?}", spec.level).to_lowercase(),
                    "0".repeat(digits - 1) + "1"
                )),
            );
        }
        if !spec.region_type.fits_level(spec.level) {
            report.push(
                r.origin,
                at!["spec", "type"],
                obj(Kind::Region, r),
                Diagnostic::error(
                    "type-level-mismatch",
                    format!(
                        "type `{}` does not exist at level {:?}",
                        spec.region_type.as_str(),
                        spec.level
                    ),
                ),
            );
        }
        if let Some((first, first_name)) =
            codes.insert((spec.level, &spec.code), (r.origin, r.name()))
        {
            report.push(
                r.origin,
                at!["spec", "code"],
                obj(Kind::Region, r),
                Diagnostic::error(
                    "duplicate-gso-code",
                    format!(
                        "GSO code `{}` is also used by Region `{first_name}`",
                        spec.code
                    ),
                )
                .subject(Subject::object(Kind::Region, first_name)),
            );
            report.also("first used here", first, at!["spec", "code"]);
        }
    }
}

fn interfaces(inv: &Inventory, report: &mut Report<'_>) {
    for d in &inv.devices {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, iface) in d.spec.interfaces.iter().enumerate() {
            if let Some(first) = seen.insert(&iface.name, i) {
                report.push(
                    d.origin,
                    at!["spec", "interfaces", i, "name"],
                    obj(Kind::Device, d),
                    Diagnostic::error(
                        "duplicate-interface",
                        format!("interface `{}` is listed twice", iface.name),
                    )
                    .subject(interface(d.name(), &iface.name)),
                );
                report.also(
                    "first listed here",
                    d.origin,
                    at!["spec", "interfaces", first, "name"],
                );
            }
        }
    }
}

fn circuits(inv: &Inventory, report: &mut Report<'_>) {
    let mut ends: HashMap<(&str, &str), (Origin, &str)> = HashMap::new();
    let mut ids: HashMap<(Option<&str>, &str), (Origin, &str)> = HashMap::new();
    for c in &inv.circuits {
        for (end_name, end) in [("a", &c.spec.a), ("z", &c.spec.z)] {
            let key = (end.device.as_str(), end.interface.as_str());
            if let Some((first, other)) = ends.insert(key, (c.origin, c.name())) {
                report.push(
                    c.origin,
                    at!["spec", end_name, "interface"],
                    obj(Kind::Circuit, c),
                    Diagnostic::error(
                        "interface-in-use",
                        format!(
                            "interface `{}` of `{}` is already the end of Circuit `{other}`",
                            end.interface, end.device
                        ),
                    )
                    .hint(
                        "one interface terminates one circuit; use a sub-interface or another port",
                    )
                    .subject(interface(&end.device, &end.interface))
                    .subject(Subject::object(Kind::Circuit, other)),
                );
                report.also("the other circuit", first, at!["metadata", "name"]);
            }
        }
        if let Some(id) = &c.spec.circuit_id {
            let key = (c.spec.provider.as_deref(), id.as_str());
            if let Some((first, other)) = ids.insert(key, (c.origin, c.name())) {
                report.push(
                    c.origin,
                    at!["spec", "circuitId"],
                    obj(Kind::Circuit, c),
                    Diagnostic::error(
                        "duplicate-circuit-id",
                        format!("circuit id `{id}` is also used by Circuit `{other}` of the same provider"),
                    )
                    .subject(Subject::object(Kind::Circuit, other)),
                );
                report.also("first used here", first, at!["spec", "circuitId"]);
            }
        }
    }
}

fn management(inv: &Inventory, report: &mut Report<'_>) {
    let mut seen: HashMap<std::net::IpAddr, (Origin, &str)> = HashMap::new();
    for d in &inv.devices {
        let Some(m) = &d.spec.management else {
            continue;
        };
        if let Some((first, other)) = seen.insert(m.address.0, (d.origin, d.name())) {
            report.push(
                d.origin,
                at!["spec", "management", "address"],
                obj(Kind::Device, d),
                Diagnostic::error(
                    "duplicate-management-address",
                    format!(
                        "management address {} is also used by Device `{other}`",
                        m.address
                    ),
                )
                .subject(Subject::object(Kind::Device, other)),
            );
            report.also(
                "first used here",
                first,
                at!["spec", "management", "address"],
            );
        }
        if let Some(key) = &m.ssh_host_key {
            let ok = key.split_whitespace().count() >= 2
                && (key.starts_with("ssh-") || key.starts_with("ecdsa-"));
            if !ok || key.contains("PRIVATE KEY") {
                report.push(
                    d.origin,
                    at!["spec", "management", "sshHostKey"],
                    obj(Kind::Device, d),
                    Diagnostic::error(
                        "bad-host-key",
                        "sshHostKey is not an OpenSSH public key (`ssh-ed25519 AAAA…`)",
                    )
                    .hint(
                        "pin the device's public host key; never put private keys in an inventory",
                    ),
                );
            }
        }
    }
}

fn interface(device: &str, interface: &str) -> Subject {
    Subject::Interface {
        device: device.to_owned(),
        interface: interface.to_owned(),
    }
}
