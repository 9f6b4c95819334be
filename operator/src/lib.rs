//! `hatang-operator` owns the controllers that reconcile hatang's custom resources: the
//! whole-estate pass (validate, allocate into the cluster ledger, compile and render each device,
//! status, finalizers, events), leader election, health and metrics. The resources themselves,
//! their schemas, manifests and the cluster client are `hatang-kube-api`'s.
//!
//! It must not reimplement inventory logic: specs, validation and allocation come from
//! `hatang-core`, so a file the CLI accepts is an object the operator accepts and allocates the
//! same way. It must not print or log credentials.
//!
//! Devices are pushed and audited through `hatang-driver`, as the CLI does: the apply policy and
//! approvals (`policy`), the SSH Secret (`credentials`), the per-device record behind the
//! `Applied` and `Drifted` conditions (`devices`), one fleet transaction per pass (`push`), and
//! the periodic drift audit (`drift`).

pub mod backups;
pub mod controller;
pub mod credentials;
pub mod devices;
pub mod drift;
pub mod http;
pub mod leader;
pub mod metrics;
pub mod policy;
pub mod push;
