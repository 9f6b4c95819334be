//! What can fail: a device, a circuit, a site or a whole data center, named `KIND/NAME` on the
//! command line, and what each takes down in the routing graph.

use serde::Serialize;

use super::graph::{DcId, Network, RouterId, SiteId};
use super::select::Down;

/// One thing that can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Element {
    /// A routing device.
    Device(RouterId),
    /// A circuit (its eBGP session).
    Circuit(u32),
    /// A site: every device there.
    Site(SiteId),
    /// A data center: every device at its site.
    DataCenter(DcId),
}

/// An element by kind and name, as printed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ElementName {
    /// `device`, `circuit`, `site` or `datacenter`.
    pub kind: &'static str,
    /// The object's name.
    pub name: String,
}

impl std::fmt::Display for ElementName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

/// A `--fail` argument that names nothing failable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadElement {
    /// Not `KIND/NAME`, or an unknown kind.
    #[error("`{0}` is not KIND/NAME with KIND one of device, circuit, site, datacenter")]
    Syntax(String),
    /// No such object of that kind (or, for a device, no routing device: it has no AS).
    #[error("no {kind} `{name}` in the routing graph (devices must route: have an AS)")]
    Unknown {
        /// The kind asked for.
        kind: &'static str,
        /// The name asked for.
        name: String,
    },
}

impl Element {
    /// Parses `KIND/NAME` against `net`.
    pub fn parse(net: &Network, text: &str) -> Result<Element, BadElement> {
        let (kind, name) = text
            .split_once('/')
            .ok_or_else(|| BadElement::Syntax(text.to_owned()))?;
        let (kind, found) = match kind.to_ascii_lowercase().as_str() {
            "device" => ("device", net.router(name).map(Element::Device)),
            "circuit" => ("circuit", net.circuit(name).map(Element::Circuit)),
            "site" => ("site", net.site(name).map(Element::Site)),
            "datacenter" | "dc" => ("datacenter", net.data_center(name).map(Element::DataCenter)),
            _ => return Err(BadElement::Syntax(text.to_owned())),
        };
        found.ok_or_else(|| BadElement::Unknown {
            kind,
            name: name.to_owned(),
        })
    }

    /// Its kind and name.
    pub fn name(self, net: &Network) -> ElementName {
        match self {
            Element::Device(r) => ElementName {
                kind: "device",
                name: net.routers[r as usize].name.clone(),
            },
            Element::Circuit(c) => ElementName {
                kind: "circuit",
                name: net.circuits[c as usize].name.clone(),
            },
            Element::Site(s) => ElementName {
                kind: "site",
                name: net.sites[s as usize].name.clone(),
            },
            Element::DataCenter(d) => ElementName {
                kind: "datacenter",
                name: net.data_centers[d as usize].name.clone(),
            },
        }
    }

    /// Adds what failing it takes down to `down` (normalise afterwards).
    pub fn take_down(self, net: &Network, down: &mut Down) {
        match self {
            Element::Device(r) => down.routers.push(r),
            Element::Circuit(c) => down.sessions.extend(net.circuits[c as usize].session),
            Element::Site(s) => down
                .routers
                .extend_from_slice(&net.sites[s as usize].routers),
            Element::DataCenter(d) => {
                if let Some(s) = net.data_centers[d as usize].site {
                    down.routers
                        .extend_from_slice(&net.sites[s as usize].routers);
                }
            }
        }
    }

    /// Every element of the estate: devices, circuits, sites, data centers.
    pub fn all(net: &Network) -> Vec<Element> {
        let devices = (0..net.routers.len() as u32).map(Element::Device);
        let circuits = (0..net.circuits.len() as u32).map(Element::Circuit);
        let sites = (0..net.sites.len() as u32).map(Element::Site);
        let dcs = (0..net.data_centers.len() as u32).map(Element::DataCenter);
        devices.chain(circuits).chain(sites).chain(dcs).collect()
    }
}

/// What failing all of `elements` takes down.
pub fn down_of(net: &Network, elements: &[Element]) -> Down {
    let mut down = Down::none();
    for e in elements {
        e.take_down(net, &mut down);
    }
    down.normalise()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::whatif::graph::sketch::network;

    #[test]
    fn elements_parse_by_kind_and_take_down_what_they_hold() {
        let net = network(
            &[
                ("e1", "dc-main", &[]),
                ("e2", "dc-main", &[]),
                ("c", "office", &[]),
            ],
            &[
                ("e1", "c", 200, 200, 0, 0, &[], &[]),
                ("e2", "c", 200, 200, 0, 0, &[], &[]),
            ],
        );
        let dc = Element::parse(&net, "dc/dc-main").unwrap();
        assert_eq!(dc.name(&net).to_string(), "datacenter/dc-main");
        assert_eq!(down_of(&net, &[dc]).routers, vec![0, 1]);
        let circuit = Element::parse(&net, "Circuit/e2-c").unwrap();
        assert_eq!(
            down_of(&net, &[circuit]),
            Down {
                routers: vec![],
                sessions: vec![1]
            }
        );
        let both = down_of(&net, &[Element::parse(&net, "device/e2").unwrap(), dc]);
        assert_eq!(both.routers, vec![0, 1], "deduplicated and sorted");
        assert_eq!(
            Element::parse(&net, "site/nowhere"),
            Err(BadElement::Unknown {
                kind: "site",
                name: "nowhere".into()
            })
        );
        assert_eq!(
            Element::parse(&net, "e1"),
            Err(BadElement::Syntax("e1".into()))
        );
        assert_eq!(Element::all(&net).len(), 3 + 2 + 2 + 1);
    }
}
