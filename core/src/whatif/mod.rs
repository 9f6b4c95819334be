//! Failure analysis before anything fails (`hatang whatif`): which commune offices lose which
//! services, and which reach them only through the backup data center, when named devices,
//! circuits, sites or data centers fail; and the single points of failure of the whole estate.
//!
//! Pure and offline: it works on the compiled models (`crate::compile`), following the policy
//! the templates render — prefix lists, local preference, prepends, AS-path loop rejection —
//! not mere connectivity. Any wiring works (hub and spoke, rings of aggregation sites).
//!
//! - `prefix` — interned prefixes and prefix-list matching;
//! - `graph` — routers, sessions and what crosses each direction of a session;
//! - `scope` — the part of the graph one prefix's selection needs;
//! - `select` — BGP route selection on a scope;
//! - `failure` — what can fail and what it takes down;
//! - `reach` — whether an office reaches a service, and through which data center;
//! - `spof` — the per-office single-failure search;
//! - `report` — the output types.

pub mod failure;
pub mod graph;
pub mod prefix;
pub mod reach;
pub mod report;
pub mod scope;
pub mod select;
pub mod spof;

pub use failure::{BadElement, Element, ElementName};
pub use graph::Network;
pub use report::{Spof, WhatIf};
pub use select::Unstable;

/// What happens to every commune office when all of `failed` fail at once.
pub fn what_if(net: &Network, failed: &[Element]) -> Result<WhatIf, Unstable> {
    let intact = reach::whole_network(net, &select::Down::none())?;
    let now = reach::whole_network(net, &failure::down_of(net, failed))?;
    let offices: Vec<report::OfficeReach> = reach::offices(net)
        .iter()
        .zip(now.iter().zip(&intact))
        .map(|(o, (now, intact))| report::office_reach(net, o, now, intact))
        .collect();
    let mut failed_names: Vec<ElementName> = failed.iter().map(|e| e.name(net)).collect();
    failed_names.sort();
    failed_names.dedup();
    Ok(WhatIf {
        failed: failed_names,
        services: report::services(net),
        summary: report::summary(&offices),
        offices,
    })
}

/// Every single device, circuit, site or data center whose failure alone cuts a commune office
/// off a service, and the offices that depend on one data center.
pub fn spof(net: &Network) -> Result<Spof, Unstable> {
    Ok(report::spof(net, &spof::search(net)?))
}
