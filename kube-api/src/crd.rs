//! CustomResourceDefinitions assembled from the core specs' schemas.
//!
//! The `…Spec` types in `hatang-core` are the single source: their schemars schema is made
//! structural ([`crate::structural`]), wrapped with the status schema ([`crate::status`]) and
//! decorated with what only Kubernetes knows — printer columns, CEL rules, list types.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use schemars::SchemaGenerator;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use hatang_core::model::Kind;

use crate::names::{GROUP, Scope, resource_names};
use crate::status::HatangStatus;
use crate::structural::{StructuralError, structural};

/// The served and stored version.
pub const VERSION: &str = "v1alpha1";

/// Why a CRD could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum CrdError {
    /// The spec or status schema has no structural form.
    #[error("{kind}: {source}")]
    Structural {
        /// Kind whose schema failed.
        kind: &'static str,
        /// What failed.
        source: StructuralError,
    },
    /// A CEL rule points at a field the schema does not have.
    #[error("{kind}: CEL rule path `{path}` is not in the schema")]
    RulePath {
        /// Kind.
        kind: &'static str,
        /// Path of the rule.
        path: String,
    },
    /// The assembled document is not a CustomResourceDefinition.
    #[error("{kind}: {source}")]
    Shape {
        /// Kind.
        kind: &'static str,
        /// Deserialisation error.
        source: serde_json::Error,
    },
}

/// A CEL validation rule at a path inside `spec` (`[]` steps into list items).
struct Rule {
    path: &'static [&'static str],
    rule: &'static str,
    message: &'static str,
}

const fn rule(path: &'static [&'static str], rule: &'static str, message: &'static str) -> Rule {
    Rule {
        path,
        rule,
        message,
    }
}

/// What the schema alone cannot say; the same checks run in `hatang validate`.
fn rules(kind: Kind) -> Vec<Rule> {
    match kind {
        Kind::Region => vec![
            rule(
                &[],
                "size(self.code) == (self.level == 'province' ? 2 : (self.level == 'district' ? 3 : 5))",
                "code has 2 digits for a province, 3 for a district, 5 for a commune",
            ),
            rule(&["code"], "self.matches('^[0-9]+$')", "code is digits only"),
        ],
        Kind::Circuit => vec![rule(
            &[],
            "self.a.device != self.z.device || self.a.interface != self.z.interface",
            "a and z are different interfaces",
        )],
        Kind::AddressPlan => vec![
            rule(&["asnPool"], "self.first <= self.last", "first <= last"),
            rule(&["vlanPool"], "self.first <= self.last", "first <= last"),
        ],
        Kind::ColoLease => vec![
            rule(
                &[],
                "!has(self.end) || self.end >= self.start",
                "end is on or after start",
            ),
            rule(
                &[],
                "!has(self.temporary) || !self.temporary || has(self.end)",
                "a temporary lease needs an end date",
            ),
            rule(
                &["space", "[]"],
                "has(self.fromU) == has(self.toU)",
                "give both fromU and toU, or neither for the whole rack",
            ),
            rule(
                &["space", "[]"],
                "!has(self.fromU) || self.fromU <= self.toU",
                "fromU <= toU",
            ),
        ],
        // A level-3 system without a replica (or with one in its own data center) is a finding
        // about the estate, not a malformed object: admission must not refuse it, so those
        // rules live in `hatang validate` and the report only.
        Kind::InformationSystem
        | Kind::Site
        | Kind::DataCenter
        | Kind::Device
        | Kind::Tenant
        | Kind::PlanTarget => vec![],
    }
}

/// Printer columns (name, type, JSONPath) after the kind-specific ones come Ready and Age.
fn columns(kind: Kind) -> Vec<(&'static str, &'static str, &'static str)> {
    match kind {
        Kind::Region => vec![
            ("Code", "string", ".spec.code"),
            ("Level", "string", ".spec.level"),
            ("Parent", "string", ".spec.parent"),
        ],
        Kind::Site => vec![
            ("Role", "string", ".spec.role"),
            ("Region", "string", ".spec.region"),
        ],
        Kind::DataCenter => vec![
            ("Tier", "string", ".spec.tier"),
            ("Site", "string", ".spec.site"),
            ("Peer", "string", ".spec.peer"),
        ],
        Kind::Device => vec![
            ("Site", "string", ".spec.site"),
            ("Platform", "string", ".spec.platform"),
            ("Role", "string", ".spec.role"),
        ],
        Kind::Circuit => vec![
            ("A", "string", ".spec.a.device"),
            ("Z", "string", ".spec.z.device"),
            ("Medium", "string", ".spec.medium"),
            ("Role", "string", ".spec.role"),
        ],
        Kind::AddressPlan => vec![
            ("IPv6", "string", ".spec.ipv6Roots[*]"),
            ("Hold days", "integer", ".spec.holdDays"),
        ],
        Kind::Tenant => vec![
            ("Kind", "string", ".spec.kind"),
            ("Namespace", "string", ".spec.namespace"),
        ],
        Kind::ColoLease => vec![
            ("Tenant", "string", ".spec.tenant"),
            ("DC", "string", ".spec.dataCenter"),
            ("kW", "number", ".spec.powerKw"),
            ("Start", "string", ".spec.start"),
            ("End", "string", ".spec.end"),
            ("Temporary", "boolean", ".spec.temporary"),
        ],
        Kind::InformationSystem => vec![
            ("Owner", "string", ".spec.owner"),
            ("DC", "string", ".spec.dataCenter"),
            ("Level", "integer", ".spec.securityLevel"),
        ],
        Kind::PlanTarget => vec![
            ("Metric", "string", ".spec.metric"),
            ("Target %", "number", ".spec.targetPercent"),
            ("Deadline", "string", ".spec.deadline"),
        ],
    }
}

/// The structural `spec` schema of `kind` with its CEL rules.
pub fn spec_schema(kind: Kind) -> Result<Value, CrdError> {
    let mut generator = SchemaGenerator::new(SchemaSettings::draft2020_12());
    let schema = kind.spec_schema(&mut generator).to_value();
    let defs: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    let name = kind.as_str();
    let mut spec =
        structural(&schema, &defs).map_err(|source| CrdError::Structural { kind: name, source })?;
    no_control_characters(&mut spec);
    for r in rules(kind) {
        let node = r
            .path
            .iter()
            .try_fold(&mut spec, |node, step| match *step {
                "[]" => node.get_mut("items"),
                p => node.get_mut("properties").and_then(|ps| ps.get_mut(p)),
            })
            .and_then(Value::as_object_mut)
            .ok_or_else(|| CrdError::RulePath {
                kind: name,
                path: r.path.join("."),
            })?;
        let list = node
            .entry("x-kubernetes-validations")
            .or_insert_with(|| json!([]));
        if let Value::Array(list) = list {
            list.push(json!({"rule": r.rule, "message": r.message}));
        }
    }
    Ok(spec)
}

/// What every free string of a `spec` must match: no control character (C0 including line
/// feed, carriage return and TAB, DEL, C1) — the apiserver's side of `hatang validate`'s
/// `control-character` rule (`hatang_core::text`), so a line break in a description cannot
/// reach a rendered configuration through `kubectl` either. (Go regexp syntax, as the apiserver
/// evaluates it; a pattern has no CEL cost.)
pub const NO_CONTROL_CHARACTERS: &str = r"^[^\x00-\x1F\x7F-\x9F]*$";

/// Adds [`NO_CONTROL_CHARACTERS`] to every string node of a structural schema that is not an
/// enum and has no format or pattern of its own: every field, present and future.
fn no_control_characters(node: &mut Value) {
    let Some(obj) = node.as_object_mut() else {
        return;
    };
    if obj.get("type").and_then(Value::as_str) == Some("string")
        && !["enum", "format", "pattern"]
            .iter()
            .any(|k| obj.contains_key(*k))
    {
        obj.insert("pattern".into(), json!(NO_CONTROL_CHARACTERS));
    }
    if let Some(Value::Object(props)) = obj.get_mut("properties") {
        for sub in props.values_mut() {
            no_control_characters(sub);
        }
    }
    for k in ["items", "additionalProperties"] {
        if let Some(sub) = obj.get_mut(k) {
            no_control_characters(sub);
        }
    }
}

/// The structural `status` schema shared by every kind.
pub fn status_schema() -> Result<Value, CrdError> {
    let mut generator = SchemaGenerator::new(SchemaSettings::draft2020_12());
    let schema = generator.subschema_for::<HatangStatus>().to_value();
    let defs: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    let mut status = structural(&schema, &defs).map_err(|source| CrdError::Structural {
        kind: "status",
        source,
    })?;
    if let Some(c) = status.pointer_mut("/properties/conditions") {
        c["x-kubernetes-list-type"] = json!("map");
        c["x-kubernetes-list-map-keys"] = json!(["type"]);
        c["maxItems"] = json!(16);
    }
    Ok(status)
}

/// The CustomResourceDefinition of `kind`.
pub fn crd(kind: Kind) -> Result<CustomResourceDefinition, CrdError> {
    let n = resource_names(kind);
    let mut cols: Vec<Value> = columns(kind)
        .into_iter()
        .map(|(name, ty, path)| json!({"name": name, "type": ty, "jsonPath": path}))
        .collect();
    cols.push(json!({"name": "Ready", "type": "string",
                     "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}));
    if kind == Kind::Device {
        // What an engineer asks of a device first: does it run what is rendered, and has
        // someone changed it by hand since.
        for t in ["Applied", "Drifted"] {
            cols.push(json!({"name": t, "type": "string",
                             "jsonPath": format!(".status.conditions[?(@.type==\"{t}\")].status")}));
        }
    }
    cols.push(json!({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}));
    let doc = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": format!("{}.{GROUP}", n.plural),
            "labels": {"app.kubernetes.io/part-of": "hatang"},
        },
        "spec": {
            "group": GROUP,
            "scope": match n.scope { Scope::Cluster => "Cluster", Scope::Namespaced => "Namespaced" },
            "names": {
                "kind": n.kind,
                "listKind": format!("{}List", n.kind),
                "plural": n.plural,
                "singular": n.kind.to_lowercase(),
                "shortNames": n.short_names,
                "categories": n.categories,
            },
            "versions": [{
                "name": VERSION,
                "served": true,
                "storage": true,
                "subresources": {"status": {}},
                "additionalPrinterColumns": cols,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "description": kind.description(),
                    "required": ["spec"],
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "metadata": {"type": "object"},
                        "spec": spec_schema(kind)?,
                        "status": status_schema()?,
                    },
                }},
            }],
        },
    });
    serde_json::from_value(doc).map_err(|source| CrdError::Shape {
        kind: kind.as_str(),
        source,
    })
}

/// Every CRD, in kind order.
pub fn all() -> Result<Vec<CustomResourceDefinition>, CrdError> {
    Kind::ALL.iter().map(|&k| crd(k)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structural::forbidden_keys;

    #[test]
    fn every_crd_is_structural_and_named_from_the_table() {
        for &kind in Kind::ALL {
            let c = crd(kind).unwrap();
            let v = serde_json::to_value(&c).unwrap();
            let schema = &v["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
            assert_eq!(forbidden_keys(schema), Vec::<String>::new(), "{kind}");
            let names = resource_names(kind);
            assert_eq!(
                c.metadata.name.as_deref(),
                Some(format!("{}.hatang.io", names.plural).as_str())
            );
            assert_eq!(
                c.spec.names.categories.as_deref(),
                Some(&["hatang".to_owned()][..])
            );
            let scope = if kind.namespaced() {
                "Namespaced"
            } else {
                "Cluster"
            };
            assert_eq!(c.spec.scope, scope);
            assert!(v["spec"]["versions"][0]["subresources"]["status"].is_object());
        }
    }

    #[test]
    fn enums_and_optional_fields_become_structural() {
        let site = spec_schema(Kind::Site).unwrap();
        assert_eq!(site["properties"]["role"]["type"], "string");
        assert_eq!(
            site["properties"]["role"]["enum"],
            json!([
                "datacenter",
                "district-hub",
                "commune-office",
                "agency",
                "inter-agency-complex",
                "metro-node"
            ])
        );
        assert_eq!(site["properties"]["ipv6Prefix"]["type"], "string");
        assert_eq!(site["properties"]["ipv6Prefix"]["nullable"], true);
        assert_eq!(site["required"], json!(["displayName", "role", "region"]));
        let lease = spec_schema(Kind::ColoLease).unwrap();
        assert_eq!(lease["properties"]["start"]["format"], "date");
        let rules = lease["x-kubernetes-validations"].as_array().unwrap();
        assert!(
            rules
                .iter()
                .any(|r| r["message"] == "a temporary lease needs an end date")
        );
    }

    #[test]
    fn free_strings_of_every_spec_refuse_control_characters() {
        let device = spec_schema(Kind::Device).unwrap();
        let iface = &device["properties"]["interfaces"]["items"]["properties"];
        assert_eq!(iface["description"]["pattern"], NO_CONTROL_CHARACTERS);
        assert_eq!(iface["name"]["pattern"], NO_CONTROL_CHARACTERS);
        // Enums and formats say more already.
        assert!(device["properties"]["platform"].get("pattern").is_none());
        let lease = spec_schema(Kind::ColoLease).unwrap();
        assert!(lease["properties"]["start"].get("pattern").is_none());
        // Every kind: no string node is left without a constraint.
        fn unconstrained(node: &Value, path: &str, out: &mut Vec<String>) {
            let Some(obj) = node.as_object() else { return };
            if obj.get("type") == Some(&json!("string"))
                && !["enum", "format", "pattern"]
                    .iter()
                    .any(|k| obj.contains_key(*k))
            {
                out.push(path.to_owned());
            }
            for (name, sub) in obj
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                unconstrained(sub, &format!("{path}.{name}"), out);
            }
            for k in ["items", "additionalProperties"] {
                if let Some(sub) = obj.get(k) {
                    unconstrained(sub, &format!("{path}/{k}"), out);
                }
            }
        }
        for &kind in Kind::ALL {
            let mut out = Vec::new();
            unconstrained(&spec_schema(kind).unwrap(), "spec", &mut out);
            assert!(out.is_empty(), "{kind}: {out:?}");
        }
        // The status keeps free text (a router's multi-line error in a condition message).
        let status = status_schema().unwrap();
        assert!(!status.to_string().contains("pattern"));
    }

    #[test]
    fn status_has_conditions_as_a_map_list() {
        let s = status_schema().unwrap();
        let c = &s["properties"]["conditions"];
        assert_eq!(c["x-kubernetes-list-map-keys"], json!(["type"]));
        assert_eq!(
            c["items"]["properties"]["type"]["enum"],
            json!(["Ready", "Allocated", "Rendered", "Applied", "Drifted"])
        );
        assert_eq!(s["properties"]["observedGeneration"]["format"], "int64");
    }
}
