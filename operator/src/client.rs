//! Cluster-side client functions the CLI and tests call: apply an inventory as custom resources
//! (server-side apply), and list what is in the cluster.

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::{Client, ResourceExt};
use serde_json::Value;

use hatang_core::model::Kind;

use crate::crd::VERSION;
use crate::names::{GROUP, resource_names};

/// Field manager of writes made on a person's behalf (`hatang apply --cluster`).
pub const FIELD_MANAGER: &str = "hatang";

/// Why a cluster call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A document is not a hatang resource.
    #[error("document {index}: {reason}")]
    NotHatang {
        /// Position in the stream.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// The API server refused or could not be reached.
    #[error("{kind} {name}: {source}")]
    Api {
        /// Kind of the object.
        kind: String,
        /// Name of the object.
        name: String,
        /// The client error.
        source: kube::Error,
    },
}

/// The API resource of `kind`.
pub fn api_resource(kind: Kind) -> ApiResource {
    let gvk = GroupVersionKind::gvk(GROUP, VERSION, kind.as_str());
    ApiResource::from_gvk_with_plural(&gvk, &resource_names(kind).plural)
}

/// A dynamic API handle for `kind` (namespaced kinds in `namespace`, or across all).
pub fn api(client: &Client, kind: Kind, namespace: Option<&str>) -> Api<DynamicObject> {
    let ar = api_resource(kind);
    match (kind.namespaced(), namespace) {
        (true, Some(ns)) => Api::namespaced_with(client.clone(), ns, &ar),
        _ => Api::all_with(client.clone(), &ar),
    }
}

/// Applies `docs` (from [`crate::manifests::resources`]) with server-side apply, in order.
/// Returns the number of objects whose resourceVersion changed (created or updated).
pub async fn apply(client: &Client, docs: &[Value]) -> Result<usize, ClientError> {
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let mut changed = 0;
    for (index, doc) in docs.iter().enumerate() {
        let kind_str = doc["kind"].as_str().unwrap_or_default();
        let kind = Kind::parse(kind_str).ok_or_else(|| ClientError::NotHatang {
            index,
            reason: format!("unknown kind `{kind_str}`"),
        })?;
        let name = doc["metadata"]["name"].as_str().unwrap_or_default();
        let ns = doc["metadata"]["namespace"].as_str();
        if kind.namespaced() && ns.is_none() {
            return Err(ClientError::NotHatang {
                index,
                reason: format!("{kind} {name} has no namespace"),
            });
        }
        let api = api(client, kind, ns);
        let err = |source| ClientError::Api {
            kind: kind_str.to_owned(),
            name: name.to_owned(),
            source,
        };
        let before = api
            .get_opt(name)
            .await
            .map_err(err)?
            .and_then(|o| o.resource_version());
        let after = api
            .patch(name, &params, &Patch::Apply(doc))
            .await
            .map_err(err)?;
        if after.resource_version() != before {
            changed += 1;
        }
    }
    Ok(changed)
}

/// Why a cluster plan failed.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Reading the cluster ledger failed.
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    /// The allocator refused (pin conflicts, exhausted pools, no address plan).
    #[error("allocation failed: {}", .0.iter().map(|d| d.message.as_str()).collect::<Vec<_>>().join("; "))]
    Allocate(Vec<hatang_core::Diagnostic>),
}

/// What the operator would allocate for `inventory` on top of the cluster ledger
/// (`namespace`/`ledger`), as `hatang plan` does on top of `allocations.lock.yaml`. Writes nothing.
pub async fn plan(
    client: &Client,
    inventory: &hatang_core::Inventory,
    locator: &hatang_core::load::Locator<'_>,
    namespace: &str,
    ledger: &str,
    today: chrono::NaiveDate,
) -> Result<hatang_core::ipam::Allocation, PlanError> {
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client.clone(), namespace);
    let stored = crate::ledger::read(&cms, ledger).await?;
    hatang_core::ipam::allocate(inventory, stored.ledger, locator, today)
        .map_err(PlanError::Allocate)
}
