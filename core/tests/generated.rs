//! Generated files in the repository must match what the code generates now.

use std::path::Path;

fn repo(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn inventory_reference_is_current() {
    assert!(
        repo("docs/inventory.md") == hatang_core::schema::inventory_reference(),
        "docs/inventory.md is stale: run `cargo run -p xtask -- docs` and commit the result"
    );
}

#[test]
fn json_schema_is_current() {
    let schema =
        serde_json::to_string_pretty(&hatang_core::schema::inventory_schema()).unwrap() + "\n";
    assert!(
        repo("docs/inventory.schema.json") == schema,
        "docs/inventory.schema.json is stale: run `cargo run -p xtask -- docs` and commit the result"
    );
}

#[test]
fn schema_describes_every_kind() {
    let schema = hatang_core::schema::inventory_schema();
    let kinds: Vec<&str> = schema["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["properties"]["kind"]["const"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), hatang_core::Kind::ALL.len());
    assert!(kinds.contains(&"ColoLease"));
    // Unknown fields are rejected by the schema as they are by the loader.
    for v in schema["oneOf"].as_array().unwrap() {
        assert_eq!(v["additionalProperties"], false);
    }
    assert_eq!(schema["$defs"]["SiteSpec"]["additionalProperties"], false);
}
