//! The committed `manifests/` are what the generator writes now.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

#[test]
fn committed_manifests_are_current() {
    let loaded =
        hatang_core::load_paths(&[root().join("inventories/lab")], &Default::default()).unwrap();
    assert!(!loaded.has_errors());
    let mut files = hatang_kube_api::manifests::install().unwrap();
    files.extend(hatang_kube_api::manifests::samples(&loaded.inventory).unwrap());
    assert!(files.len() >= 9 + 3 + 1 + 3, "{}", files.len());
    let mut stale = Vec::new();
    for (rel, text) in &files {
        let committed =
            std::fs::read_to_string(root().join("manifests").join(rel)).unwrap_or_default();
        if committed != *text {
            stale.push(rel.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale: {stale:?}; regenerate with `cargo run -p hatang-operator -- manifests`"
    );
    // Nothing generated is left over from an older generator either.
    for entry in walk(&root().join("manifests")) {
        let rel = entry.strip_prefix(root().join("manifests")).unwrap();
        assert!(
            files.contains_key(rel),
            "not generated: manifests/{}",
            rel.display()
        );
    }
}

#[test]
fn samples_hold_every_object_of_the_lab_inventory() {
    let loaded =
        hatang_core::load_paths(&[root().join("inventories/lab")], &Default::default()).unwrap();
    let docs = hatang_kube_api::manifests::resources(&loaded.inventory);
    assert_eq!(docs.len(), loaded.inventory.len());
    assert!(docs.iter().all(|d| d["apiVersion"] == "hatang.io/v1alpha1"));
    let leases: Vec<_> = docs.iter().filter(|d| d["kind"] == "ColoLease").collect();
    assert!(!leases.is_empty());
    assert!(
        leases
            .iter()
            .all(|d| d["metadata"]["namespace"].is_string())
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
