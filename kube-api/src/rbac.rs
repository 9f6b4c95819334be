//! RBAC: the four human roles, the operator's own least-privilege role, tenant bindings.
//!
//! Resource lists come from the kind table, so a new kind is covered by every role at once.

use serde_json::{Value, json};

use hatang_core::model::Kind;

use crate::names::{GROUP, resource_names};

/// Namespace the operator runs in.
pub const SYSTEM_NAMESPACE: &str = "hatang-system";
/// Name of the operator's ServiceAccount, ClusterRole and bindings.
pub const OPERATOR: &str = "hatang-operator";
/// ClusterRole names.
pub const INFRA_ADMIN: &str = "hatang-infra-admin";
/// Network administrators: sites, devices, circuits, address plans.
pub const NETWORK_ADMIN: &str = "hatang-network-admin";
/// Tenants, bound per namespace.
pub const TENANT: &str = "hatang-tenant";
/// Auditors: read everything, write nothing.
pub const AUDITOR: &str = "hatang-auditor";

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

fn plurals(kinds: &[Kind], suffix: &str) -> Vec<String> {
    kinds
        .iter()
        .map(|&k| format!("{}{suffix}", resource_names(k).plural))
        .collect()
}

fn tenant_kinds() -> Vec<Kind> {
    Kind::ALL
        .iter()
        .copied()
        .filter(|k| k.namespaced())
        .collect()
}

fn cluster_role(name: &str, what: &str, rules: Vec<Value>) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {
            "name": name,
            "labels": {"app.kubernetes.io/part-of": "hatang"},
            "annotations": {"hatang.io/description": what},
        },
        "rules": rules,
    })
}

fn hatang_rule(resources: Vec<String>, verbs: &[&str]) -> Value {
    json!({"apiGroups": [GROUP], "resources": resources, "verbs": verbs})
}

/// The ClusterRoles: infra-admin, network-admin, tenant, auditor, operator.
pub fn cluster_roles() -> Vec<Value> {
    let all = Kind::ALL;
    let network_writes = [Kind::Site, Kind::Device, Kind::Circuit, Kind::AddressPlan];
    let network_reads: Vec<Kind> = all
        .iter()
        .copied()
        .filter(|k| !network_writes.contains(k))
        .collect();
    vec![
        cluster_role(
            INFRA_ADMIN,
            "Data-center engineers: every hatang resource; status is the operator's.",
            vec![
                hatang_rule(plurals(all, ""), WRITE),
                hatang_rule(plurals(all, "/status"), READ),
            ],
        ),
        cluster_role(
            NETWORK_ADMIN,
            "Network admins: sites, devices, circuits and the address plan; the rest read-only.",
            vec![
                hatang_rule(plurals(&network_writes, ""), WRITE),
                hatang_rule(plurals(&network_reads, ""), READ),
                hatang_rule(plurals(all, "/status"), READ),
            ],
        ),
        cluster_role(
            TENANT,
            "Bind with a RoleBinding in the tenant's namespace: create and read its leases and systems there.",
            vec![
                hatang_rule(
                    plurals(&tenant_kinds(), ""),
                    &["get", "list", "watch", "create"],
                ),
                hatang_rule(plurals(&tenant_kinds(), "/status"), READ),
            ],
        ),
        cluster_role(
            AUDITOR,
            "Auditors: read every hatang resource and its status, and events; no writes.",
            vec![
                hatang_rule(plurals(all, ""), READ),
                hatang_rule(plurals(all, "/status"), READ),
                json!({"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": READ}),
            ],
        ),
        cluster_role(
            OPERATOR,
            "The operator: watch resources, write status and finalizers, emit events. Nothing else cluster-wide.",
            vec![
                hatang_rule(
                    plurals(all, ""),
                    &["get", "list", "watch", "patch", "update"],
                ),
                hatang_rule(plurals(all, "/status"), &["get", "patch", "update"]),
                hatang_rule(plurals(all, "/finalizers"), &["update"]),
                json!({"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]}),
            ],
        ),
    ]
}

/// The operator's namespaced Role (ledgers, leader election and the SSH Secret `hatang-ssh`, in
/// its own namespace only), and the bindings of both roles to its ServiceAccount.
pub fn operator_bindings() -> Vec<Value> {
    let subject =
        json!([{"kind": "ServiceAccount", "name": OPERATOR, "namespace": SYSTEM_NAMESPACE}]);
    vec![
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": OPERATOR, "namespace": SYSTEM_NAMESPACE},
            "rules": [
                {"apiGroups": [""], "resources": ["configmaps"],
                 "verbs": ["get", "list", "watch", "create", "update"]},
                {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                 "verbs": ["get", "create", "update"]},
                // The SSH login and pinned host keys: that one Secret, read only.
                {"apiGroups": [""], "resources": ["secrets"],
                 "resourceNames": [crate::secret::DEFAULT_SECRET], "verbs": ["get"]},
            ],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": OPERATOR, "namespace": SYSTEM_NAMESPACE},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": OPERATOR},
            "subjects": subject,
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": OPERATOR},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": OPERATOR},
            "subjects": subject,
        }),
    ]
}

/// The RoleBinding that makes `namespace` a tenant namespace: its service accounts and the
/// group `hatang:tenant:<namespace>` (for people, through the cluster's authenticator) get the
/// tenant role there and nowhere else.
pub fn tenant_binding(namespace: &str) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": TENANT, "namespace": namespace,
                     "labels": {"app.kubernetes.io/part-of": "hatang"}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": TENANT},
        "subjects": [
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
             "name": format!("system:serviceaccounts:{namespace}")},
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
             "name": format!("hatang:tenant:{namespace}")},
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(name: &str) -> Value {
        cluster_roles()
            .into_iter()
            .find(|r| r["metadata"]["name"] == name)
            .unwrap()
    }

    fn verbs_on(role: &Value, resource: &str) -> Vec<String> {
        let mut out = Vec::new();
        for rule in role["rules"].as_array().unwrap() {
            if rule["resources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r == resource)
            {
                out.extend(
                    rule["verbs"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap().to_owned()),
                );
            }
        }
        out
    }

    #[test]
    fn auditor_reads_everything_and_writes_nothing() {
        let auditor = role(AUDITOR);
        for &k in Kind::ALL {
            let plural = resource_names(k).plural;
            assert_eq!(verbs_on(&auditor, &plural), READ);
            assert_eq!(verbs_on(&auditor, &format!("{plural}/status")), READ);
        }
        for rule in auditor["rules"].as_array().unwrap() {
            for v in rule["verbs"].as_array().unwrap() {
                assert!(READ.contains(&v.as_str().unwrap()), "{v}");
            }
        }
    }

    #[test]
    fn tenant_role_covers_only_tenant_kinds_and_operator_has_no_wildcards() {
        let tenant = role(TENANT);
        assert!(verbs_on(&tenant, "sites").is_empty());
        assert!(verbs_on(&tenant, "cololeases").contains(&"create".to_owned()));
        assert!(!verbs_on(&tenant, "cololeases").contains(&"delete".to_owned()));
        let text = serde_json::to_string(&cluster_roles()).unwrap();
        assert!(!text.contains("\"*\""));
        let op = role(OPERATOR);
        assert!(!verbs_on(&op, "sites").contains(&"create".to_owned()));
        assert!(!verbs_on(&op, "sites").contains(&"delete".to_owned()));
    }

    #[test]
    fn operator_reads_one_named_secret_only() {
        let role = &operator_bindings()[0];
        let rules: Vec<&Value> = role["rules"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                r["resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x == "secrets")
            })
            .collect();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0]["verbs"], json!(["get"]));
        assert_eq!(rules[0]["resourceNames"], json!(["hatang-ssh"]));
        // No cluster-wide Secret access at all.
        assert!(
            !serde_json::to_string(&cluster_roles())
                .unwrap()
                .contains("secrets")
        );
    }
}
