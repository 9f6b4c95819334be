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

/// Kind, name and namespace of document `index`, checked.
fn identity(index: usize, doc: &Value) -> Result<(Kind, &str, Option<&str>), ClientError> {
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
    Ok((kind, name, ns))
}

/// Applies `docs` (from [`crate::manifests::resources`]) with server-side apply, in order.
/// Returns the number of objects whose resourceVersion changed (created or updated).
pub async fn apply(client: &Client, docs: &[Value]) -> Result<usize, ClientError> {
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let mut changed = 0;
    for (index, doc) in docs.iter().enumerate() {
        let (kind, name, ns) = identity(index, doc)?;
        let api = api(client, kind, ns);
        let err = |source| ClientError::Api {
            kind: kind.as_str().to_owned(),
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

/// How one inventory object compares with the cluster.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectState {
    /// Not in the cluster: `apply --cluster` creates it.
    Create,
    /// In the cluster with another spec (or labels): `apply --cluster` updates these fields.
    Update(Vec<String>),
    /// The same in the cluster.
    Unchanged,
}

/// One inventory object against the cluster.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ObjectDiff {
    /// Kind.
    pub kind: String,
    /// Namespace (tenant kinds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// What applying would do.
    pub state: ObjectState,
}

/// Compares `docs` (from [`crate::manifests::resources`]) with the objects in the cluster,
/// field by field under `spec` (and the labels), reading only: what `apply` would change.
pub async fn diff(client: &Client, docs: &[Value]) -> Result<Vec<ObjectDiff>, ClientError> {
    let mut out = Vec::with_capacity(docs.len());
    for (index, doc) in docs.iter().enumerate() {
        let (kind, name, ns) = identity(index, doc)?;
        let live = api(client, kind, ns)
            .get_opt(name)
            .await
            .map_err(|source| ClientError::Api {
                kind: kind.as_str().to_owned(),
                name: name.to_owned(),
                source,
            })?;
        let state = match live {
            None => ObjectState::Create,
            Some(obj) => {
                let mut fields = changed_fields(&doc["spec"], &obj.data["spec"], "spec");
                let labels = |v: &Value| v.get("labels").cloned().unwrap_or(Value::Null);
                let live_labels = serde_json::to_value(&obj.metadata.labels).unwrap_or_default();
                let wanted = labels(&doc["metadata"]);
                // Labels set by others stay; only the inventory's own must match.
                if let Value::Object(w) = &wanted
                    && w.iter().any(|(k, v)| live_labels.get(k) != Some(v))
                {
                    fields.push("metadata.labels".to_owned());
                }
                if fields.is_empty() {
                    ObjectState::Unchanged
                } else {
                    ObjectState::Update(fields)
                }
            }
        };
        out.push(ObjectDiff {
            kind: kind.as_str().to_owned(),
            namespace: ns.map(str::to_owned),
            name: name.to_owned(),
            state,
        });
    }
    Ok(out)
}

/// Paths under `at` where `want` differs from `have` (one level into objects, so a report names
/// `spec.interfaces` rather than the whole spec).
fn changed_fields(want: &Value, have: &Value, at: &str) -> Vec<String> {
    match (want, have) {
        (Value::Object(w), Value::Object(h)) => {
            // Fields only the cluster has (defaults from the schema, fields of other managers)
            // are not the inventory's to change.
            let mut keys: Vec<&String> = w.keys().collect();
            keys.sort();
            keys.into_iter()
                .filter(|k| {
                    !same(
                        w.get(*k).unwrap_or(&Value::Null),
                        h.get(*k).unwrap_or(&Value::Null),
                    )
                })
                .map(|k| format!("{at}.{k}"))
                .collect()
        }
        _ if same(want, have) => Vec::new(),
        _ => vec![at.to_owned()],
    }
}

/// Whether the cluster holds what the inventory wants: numbers compare by value (the API server
/// stores `5.0` as `5`), and fields the inventory does not set are not compared.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        // Keys only the cluster has are defaults or other managers' fields.
        (Value::Object(x), Value::Object(y)) => x
            .iter()
            .all(|(k, v)| same(v, y.get(k).unwrap_or(&Value::Null))),
        _ => a == b,
    }
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

#[cfg(test)]
mod tests {
    use super::changed_fields;
    use serde_json::json;

    #[test]
    fn changed_fields_name_the_top_level_keys_that_differ() {
        let want = json!({"role": "cpe", "site": "a", "interfaces": [{"name": "eth0"}]});
        let same = want.clone();
        assert!(changed_fields(&want, &same, "spec").is_empty());
        let have =
            json!({"role": "cpe", "site": "b", "interfaces": [{"name": "eth1"}], "extra": 1});
        assert_eq!(
            changed_fields(&want, &have, "spec"),
            ["spec.interfaces", "spec.site"]
        );
        assert_eq!(changed_fields(&json!(1), &json!(2), "spec"), ["spec"]);
        // The API server keeps 5.0 as 5.
        assert!(changed_fields(&json!({"kw": [5.0]}), &json!({"kw": [5]}), "spec").is_empty());
    }
}
