//! `systems-with-dr-replica`: systems at security level 3 and above with a usable DR replica.
//! What counts follows the city's data-center model (docs/datacenter-models.md): with a main
//! and a backup data center, a replica in another data center; in a single data center with
//! in-DC redundancy, a replica on another rack that does not hang on the same single feed.

use super::{Context, Measure, Scope};
use crate::model::{DataCenterModel, InformationSystemSpec, Kind};
use crate::validate::shared_single_feed;

pub(super) fn measure(ctx: &Context<'_>, scope: &Scope, m: &mut Measure) {
    let model = DataCenterModel::declared(ctx.inventory.data_centers.iter().map(|d| &d.spec.tier));
    for s in ctx.systems_in_scope(scope) {
        if s.spec.security_level < 3 {
            continue;
        }
        let reason = shortfall(ctx, model, &s.spec);
        m.count(
            ctx,
            Kind::InformationSystem,
            s,
            &s.spec.display_name,
            reason,
        );
    }
}

/// Why the system's replica does not protect it, if it does not.
pub(crate) fn shortfall(
    ctx: &Context<'_>,
    model: DataCenterModel,
    s: &InformationSystemSpec,
) -> Option<String> {
    let Some(dr) = &s.dr else {
        return Some("no DR policy".to_owned());
    };
    if !ctx
        .index
        .data_centers
        .contains_key(dr.replica_data_center.as_str())
    {
        return Some(format!(
            "replica data center `{}` does not exist",
            dr.replica_data_center
        ));
    }
    match model {
        DataCenterModel::MainAndBackup if dr.replica_data_center == s.data_center => {
            Some("replica in the same data center".to_owned())
        }
        DataCenterModel::MainAndBackup => None,
        DataCenterModel::SingleWithRedundancy => {
            let dc = ctx.index.data_centers.get(s.data_center.as_str())?;
            if dr.replica_data_center != s.data_center {
                return Some(format!(
                    "replica outside the single data center `{}`",
                    dc.name()
                ));
            }
            let (Some(rack), Some(replica)) = (&s.rack, &dr.replica_rack) else {
                return Some("racks of the system and its replica not recorded".to_owned());
            };
            if rack == replica {
                return Some(format!("replica on the same rack `{rack}`"));
            }
            shared_single_feed(&dc.spec, rack, replica)
                .map(|feed| format!("racks `{rack}` and `{replica}` share feed `{feed}` alone"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{failing, inventory, measure};
    use super::super::{Metric, testing_systems::SYSTEMS};

    #[test]
    fn main_and_backup_needs_the_other_data_center() {
        let m = measure(&inventory(SYSTEMS), Metric::SystemsDrReplica, "city");
        assert_eq!((m.passed, failing(&m)), (1, vec!["same-dc"]));
        assert_eq!(m.failing[0].reason, "replica in the same data center");
    }

    /// One data center, racks A01 (feeds A, B), A02 (A, B) and A03 (A only), A04 (A only).
    const SINGLE: &str = r#"
apiVersion: hatang.io/v1alpha1
kind: Region
metadata: {name: dn}
spec: {displayName: Đà Nẵng, level: province, type: thành phố, code: "48"}
---
apiVersion: hatang.io/v1alpha1
kind: Site
metadata: {name: dc-site}
spec: {displayName: TTDL, role: datacenter, region: dn, uplink: none}
---
apiVersion: hatang.io/v1alpha1
kind: DataCenter
metadata: {name: dc}
spec:
  displayName: TTDL
  site: dc-site
  tier: single
  powerFeeds: [{name: A, capacityKw: 100}, {name: B, capacityKw: 100}]
  rooms:
  - name: R1
    racks:
    - {name: A01, heightU: 42, powerKw: 5, feeds: [A, B]}
    - {name: A02, heightU: 42, powerKw: 5, feeds: [A, B]}
    - {name: A03, heightU: 42, powerKw: 5, feeds: [A]}
    - {name: A04, heightU: 42, powerKw: 5, feeds: [A]}
---
apiVersion: hatang.io/v1alpha1
kind: Tenant
metadata: {name: so}
spec: {displayName: Sở, kind: department}
---
apiVersion: hatang.io/v1alpha1
kind: InformationSystem
metadata: {name: good, namespace: so}
spec: {displayName: Tốt, owner: so, dataCenter: dc, rack: A01, securityLevel: 3,
       dr: {replicaDataCenter: dc, replicaRack: A02, rpoMinutes: 5, rtoMinutes: 5}}
---
apiVersion: hatang.io/v1alpha1
kind: InformationSystem
metadata: {name: one-feed, namespace: so}
spec: {displayName: Một nguồn, owner: so, dataCenter: dc, rack: A03, securityLevel: 3,
       dr: {replicaDataCenter: dc, replicaRack: A04, rpoMinutes: 5, rtoMinutes: 5}}
---
apiVersion: hatang.io/v1alpha1
kind: InformationSystem
metadata: {name: same-rack, namespace: so}
spec: {displayName: Cùng tủ, owner: so, dataCenter: dc, rack: A01, securityLevel: 4,
       dr: {replicaDataCenter: dc, replicaRack: A01, rpoMinutes: 5, rtoMinutes: 5}}
"#;

    #[test]
    fn a_single_data_center_counts_another_rack_and_feed() {
        let loaded = crate::load::load_str(
            std::path::Path::new("dn.yaml"),
            SINGLE,
            &crate::load::LoadOptions::default(),
        );
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let m = measure(&loaded.inventory, Metric::SystemsDrReplica, "city");
        assert_eq!((m.passed, failing(&m)), (1, vec!["one-feed", "same-rack"]));
        assert_eq!(
            m.failing[0].reason,
            "racks `A03` and `A04` share feed `A` alone"
        );
    }
}
