//! `hatang-operator` owns the Kubernetes side of hatang: how each inventory kind becomes a custom
//! resource (naming, scope, structural schema, status, printer columns, CEL rules), the manifests
//! that install it (CRDs, RBAC, Deployment, samples), the typed cluster client, and the
//! controllers that reconcile the resources and keep allocations in cluster ledgers.
//!
//! It must not reimplement inventory logic: specs, validation and allocation come from
//! `hatang-core`, so a file the CLI accepts is an object the operator accepts and allocates the
//! same way. It must not print or log credentials.
//!
//! Devices are pushed and audited through `hatang-driver`, as the CLI does: the apply policy and
//! approvals (`policy`), the SSH Secret (`credentials`), the per-device record behind the
//! `Applied` and `Drifted` conditions (`devices`), one fleet transaction per pass (`push`), and
//! the periodic drift audit (`drift`).

pub mod client;
pub mod controller;
pub mod crd;
pub mod credentials;
pub mod devices;
pub mod drift;
pub mod http;
pub mod inventory;
pub mod leader;
pub mod ledger;
pub mod manifests;
pub mod metrics;
pub mod names;
pub mod policy;
pub mod push;
pub mod rbac;
pub mod status;
pub mod structural;

pub use names::{GROUP, ResourceNames, Scope, api_version, resource_names};
