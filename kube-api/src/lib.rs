//! `hatang-kube-api` owns hatang's Kubernetes API surface: how each inventory kind becomes a
//! custom resource (naming, scope, structural schema, status types, printer columns, CEL rules),
//! the manifests that install it (CRDs, RBAC, Deployment, samples), the server-side-apply client
//! and field-level diff behind `hatang apply|plan --cluster`, the cluster ledger ConfigMap, and
//! cluster objects turned back into an `Inventory`. The CLI and the operator both use it.
//!
//! It must not reconcile, elect leaders, serve metrics or talk to devices (that is the
//! operator and the driver), and must not reimplement inventory logic: specs, validation and
//! allocation come from `hatang-core`.

pub mod client;
pub mod crd;
pub mod inventory;
pub mod ledger;
pub mod manifests;
pub mod names;
pub mod rbac;
pub mod secret;
pub mod status;
pub mod structural;

pub use names::{GROUP, ResourceNames, Scope, api_version, resource_names};
