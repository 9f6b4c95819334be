//! Turns a schemars (draft 2020-12) schema into a Kubernetes *structural* schema.
//!
//! The API server accepts only a subset of JSON Schema in a CRD: every node must have a `type`,
//! no `$ref`, no `const`, no `oneOf`/`anyOf` carrying types, `additionalProperties` not beside
//! `properties`, a single type name (nullability is `nullable: true`), only known formats.
//! [`structural`] rewrites the generator's output into that subset and fails on anything it cannot
//! express, so an unsupported type in `hatang-core` is caught when CRDs are generated, not when a
//! cluster rejects them.

use serde_json::{Map, Value};

/// Why a schema cannot be made structural.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StructuralError {
    /// A `$ref` points outside the definitions.
    #[error("unresolved reference `{0}`")]
    UnresolvedRef(String),
    /// A `oneOf`/`anyOf` that is neither an enum of constants nor an optional value.
    #[error("at {0}: `{1}` with non-constant branches has no structural form")]
    Union(String, &'static str),
    /// A node without a type after rewriting.
    #[error("at {0}: no `type`")]
    Untyped(String),
    /// A type list other than `[T, "null"]`.
    #[error("at {0}: type list {1} has no structural form")]
    TypeList(String, String),
}

/// Formats the API server knows; others are dropped (their range checks stay as min/max).
const KNOWN_FORMATS: &[&str] = &[
    "int32",
    "int64",
    "float",
    "double",
    "byte",
    "date",
    "date-time",
    "password",
    "uuid",
];

/// Rewrites `schema` (with its `$defs`) into a structural schema.
pub fn structural(schema: &Value, defs: &Map<String, Value>) -> Result<Value, StructuralError> {
    rewrite(schema, defs, "", 0)
}

fn rewrite(
    node: &Value,
    defs: &Map<String, Value>,
    path: &str,
    depth: usize,
) -> Result<Value, StructuralError> {
    let Some(obj) = node.as_object() else {
        return Ok(node.clone());
    };
    // Inline references; the referencing node's own keys (description) win.
    if let Some(Value::String(r)) = obj.get("$ref") {
        let name = r
            .strip_prefix("#/$defs/")
            .ok_or_else(|| StructuralError::UnresolvedRef(r.clone()))?;
        let target = defs
            .get(name)
            .ok_or_else(|| StructuralError::UnresolvedRef(r.clone()))?;
        let mut merged = target.as_object().cloned().unwrap_or_default();
        for (k, v) in obj {
            if k != "$ref" {
                merged.insert(k.clone(), v.clone());
            }
        }
        return rewrite(&Value::Object(merged), defs, path, depth + 1);
    }
    let mut out = Map::new();
    let mut nullable = false;
    for (k, v) in obj {
        match k.as_str() {
            "$schema" | "$id" | "$defs" | "examples" | "default" | "title" => {}
            "const" => {
                out.insert("enum".into(), Value::Array(vec![v.clone()]));
            }
            "type" => match v {
                Value::Array(types) => {
                    let non_null: Vec<&Value> = types.iter().filter(|t| *t != "null").collect();
                    if non_null.len() != 1 {
                        return Err(StructuralError::TypeList(path.into(), v.to_string()));
                    }
                    nullable |= non_null.len() < types.len();
                    out.insert("type".into(), non_null[0].clone());
                }
                _ => {
                    out.insert("type".into(), v.clone());
                }
            },
            "format" => {
                if v.as_str().is_some_and(|f| KNOWN_FORMATS.contains(&f)) {
                    out.insert(k.clone(), v.clone());
                }
            }
            "properties" => {
                let mut props = Map::new();
                for (name, sub) in v.as_object().into_iter().flatten() {
                    props.insert(
                        name.clone(),
                        rewrite(sub, defs, &format!("{path}.{name}"), depth + 1)?,
                    );
                }
                out.insert(k.clone(), Value::Object(props));
            }
            "items" => {
                out.insert(
                    k.clone(),
                    rewrite(v, defs, &format!("{path}[]"), depth + 1)?,
                );
            }
            "additionalProperties" => {
                // `false` is what pruning does anyway; a schema is kept for maps.
                if v.is_object() {
                    out.insert(
                        k.clone(),
                        rewrite(v, defs, &format!("{path}{{}}"), depth + 1)?,
                    );
                }
            }
            "oneOf" | "anyOf" => {
                let key: &'static str = if k == "oneOf" { "oneOf" } else { "anyOf" };
                let branches = v.as_array().cloned().unwrap_or_default();
                union(&branches, key, defs, path, depth, &mut out, &mut nullable)?;
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    if nullable {
        out.insert("nullable".into(), Value::Bool(true));
    }
    if !out.contains_key("type") {
        return Err(StructuralError::Untyped(if path.is_empty() {
            ".".into()
        } else {
            path.into()
        }));
    }
    Ok(Value::Object(out))
}

/// `[X, {type: null}]` becomes X (nullable); all-constant branches become an `enum`, their
/// descriptions folded into the parent's description.
fn union(
    branches: &[Value],
    key: &'static str,
    defs: &Map<String, Value>,
    path: &str,
    depth: usize,
    out: &mut Map<String, Value>,
    nullable: &mut bool,
) -> Result<(), StructuralError> {
    let is_null = |b: &Value| b.get("type") == Some(&Value::String("null".into()));
    let rest: Vec<&Value> = branches.iter().filter(|b| !is_null(b)).collect();
    *nullable |= rest.len() < branches.len();
    if rest.len() == 1 {
        let inner = rewrite(rest[0], defs, path, depth + 1)?;
        for (k, v) in inner.as_object().into_iter().flatten() {
            if k == "description" && out.contains_key("description") {
                continue;
            }
            out.insert(k.clone(), v.clone());
        }
        return Ok(());
    }
    let mut values = Vec::new();
    let mut docs = Vec::new();
    let mut ty = None;
    for b in &rest {
        let constants = match (b.get("const"), b.get("enum")) {
            (Some(c), _) => vec![c.clone()],
            (None, Some(Value::Array(e))) => e.clone(),
            _ => return Err(StructuralError::Union(path.into(), key)),
        };
        if let Some(d) = b.get("description").and_then(Value::as_str) {
            for c in &constants {
                docs.push(format!("`{}`: {}", c.as_str().unwrap_or_default(), d));
            }
        }
        ty = ty.or_else(|| b.get("type").cloned());
        values.extend(constants);
    }
    out.insert("type".into(), ty.unwrap_or(Value::String("string".into())));
    out.insert("enum".into(), Value::Array(values));
    if !docs.is_empty() {
        let head = out
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let body = docs.join("\n");
        let text = if head.is_empty() {
            body
        } else {
            format!("{head}\n{body}")
        };
        out.insert("description".into(), Value::String(text));
    }
    Ok(())
}

/// Every key a structural schema may not contain, found anywhere in `schema` (for tests).
pub fn forbidden_keys(schema: &Value) -> Vec<String> {
    let mut found = Vec::new();
    walk(schema, "", &mut found);
    found
}

fn walk(node: &Value, path: &str, found: &mut Vec<String>) {
    match node {
        Value::Object(obj) => {
            for (k, v) in obj {
                let bad = matches!(
                    k.as_str(),
                    "$ref" | "$defs" | "const" | "oneOf" | "anyOf" | "allOf" | "examples"
                ) || (k == "additionalProperties" && obj.contains_key("properties"))
                    || (k == "type" && !v.is_string());
                if bad {
                    found.push(format!("{path}/{k}"));
                }
                if k == "properties" {
                    for (name, sub) in v.as_object().into_iter().flatten() {
                        walk(sub, &format!("{path}/{name}"), found);
                    }
                } else if k != "enum" && k != "x-kubernetes-validations" {
                    walk(v, &format!("{path}/{k}"), found);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, path, found);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defs() -> Map<String, Value> {
        json!({
            "Role": {"description": "r", "oneOf": [
                {"const": "a", "type": "string", "description": "first"},
                {"const": "b", "type": "string", "description": "second"}]},
            "Inner": {"type": "object", "additionalProperties": false,
                      "properties": {"x": {"type": ["integer", "null"], "format": "uint32"}}}
        })
        .as_object()
        .cloned()
        .unwrap()
    }

    #[test]
    fn inlines_refs_and_rewrites_unions_nulls_and_formats() {
        let s = json!({"type": "object", "additionalProperties": false, "properties": {
            "role": {"$ref": "#/$defs/Role", "description": "outer"},
            "inner": {"anyOf": [{"$ref": "#/$defs/Inner"}, {"type": "null"}], "description": "d"},
            "k": {"const": "v", "type": "string", "examples": ["v"], "default": "v"}
        }});
        let out = structural(&s, &defs()).unwrap();
        assert_eq!(
            out,
            json!({"type": "object", "properties": {
                "role": {"type": "string", "enum": ["a", "b"],
                         "description": "outer\n`a`: first\n`b`: second"},
                "inner": {"type": "object", "nullable": true, "description": "d",
                          "properties": {"x": {"type": "integer", "nullable": true}}},
                "k": {"type": "string", "enum": ["v"]}
            }})
        );
        assert!(forbidden_keys(&out).is_empty());
    }

    #[test]
    fn rejects_what_it_cannot_express() {
        let s = json!({"oneOf": [{"type": "string"}, {"type": "integer"}]});
        assert_eq!(
            structural(&s, &Map::new()),
            Err(StructuralError::Union(String::new(), "oneOf"))
        );
        let s = json!({"$ref": "#/$defs/Nope"});
        assert!(matches!(
            structural(&s, &Map::new()),
            Err(StructuralError::UnresolvedRef(_))
        ));
        assert!(matches!(
            structural(&json!({"description": "x"}), &Map::new()),
            Err(StructuralError::Untyped(_))
        ));
    }

    #[test]
    fn forbidden_keys_are_found() {
        let s = json!({"type": "object", "properties": {"a": {"oneOf": [], "type": "string"}},
                       "additionalProperties": false});
        assert_eq!(
            forbidden_keys(&s),
            vec!["/additionalProperties", "/a/oneOf"]
        );
    }
}
