//! Tenants and systems for the system metrics' tests (on top of [`super::testing::BASE`]).

/// `portal` (level 2, approved, off-site backup), `replicated` (level 3, replica in the backup
/// data center), `same-dc` (level 4, replica in its own data center) and their department.
pub(crate) const SYSTEMS: &str = r#"
apiVersion: hatang.io/v1alpha1
kind: Tenant
metadata: {name: so-a}
spec: {displayName: Sở A, kind: department, site: office-a}
---
apiVersion: hatang.io/v1alpha1
kind: InformationSystem
metadata: {name: portal, namespace: so-a}
spec:
  displayName: Cổng thông tin
  owner: so-a
  dataCenter: dc-main
  securityLevel: 2
  approval: {date: 2024-01-10, body: Sở Thông tin và Truyền thông}
  backup: {offSite: true, location: dc-backup}
---
apiVersion: hatang.io/v1alpha1
kind: InformationSystem
metadata: {name: replicated, namespace: so-a}
spec:
  displayName: Hệ thống một cửa
  owner: so-a
  dataCenter: dc-main
  securityLevel: 3
  dr: {replicaDataCenter: dc-backup, rpoMinutes: 15, rtoMinutes: 60, lastDrill: 2025-03-01}
  backup: {offSite: false}
---
apiVersion: hatang.io/v1alpha1
kind: InformationSystem
metadata: {name: same-dc, namespace: so-a}
spec:
  displayName: Hệ thống văn bản
  owner: so-a
  dataCenter: dc-main
  securityLevel: 4
  dr: {replicaDataCenter: dc-main, rpoMinutes: 5, rtoMinutes: 30}
"#;
