//! Cluster objects → a `hatang_core::Inventory`, decoded with the same code as inventory files.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use kube::ResourceExt;
use kube::api::DynamicObject;

use hatang_core::model::{AnyObject, Inventory, Kind, ObjectMeta, Origin};

/// Identity of a cluster object. Ordered by kind, then namespace, then name, so a pass walks
/// the objects in the same order every time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjKey {
    /// Its kind.
    pub kind: Kind,
    /// Its namespace (tenant kinds only).
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl ObjKey {
    /// The key of a cluster object of `kind`.
    pub fn of(kind: Kind, object: &DynamicObject) -> ObjKey {
        ObjKey {
            kind,
            namespace: object.namespace(),
            name: object.name_any(),
        }
    }
}

/// The inventory built from a snapshot, and what could not be decoded.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Objects that decoded and are not being deleted.
    pub inventory: Inventory,
    /// Every object seen (including those being deleted or that failed to decode).
    pub objects: BTreeMap<ObjKey, Arc<DynamicObject>>,
    /// Decode errors by object.
    pub invalid: BTreeMap<ObjKey, String>,
    /// Objects with a deletion timestamp.
    pub deleting: Vec<ObjKey>,
}

/// Builds the inventory from every kind's objects. Object order does not matter to the
/// allocator (requests are keyed), so the objects are sorted by name for stable diagnostics.
pub fn snapshot(by_kind: Vec<(Kind, Vec<Arc<DynamicObject>>)>) -> Snapshot {
    let mut snap = Snapshot::default();
    snap.inventory.files = vec![PathBuf::from("cluster")];
    let mut doc = 0u32;
    for (kind, mut objects) in by_kind {
        objects.sort_by_key(|o| (o.namespace(), o.name_any()));
        for o in objects {
            let key = ObjKey::of(kind, &o);
            snap.objects.insert(key.clone(), o.clone());
            if o.metadata.deletion_timestamp.is_some() {
                snap.deleting.push(key);
                continue;
            }
            let meta = ObjectMeta {
                name: o.name_any(),
                namespace: o.namespace(),
                labels: o.labels().clone(),
                annotations: Default::default(),
            };
            let origin = Origin {
                file: 0,
                doc,
                line: 0,
                column: 0,
            };
            doc += 1;
            let spec = o.data.get("spec").cloned().unwrap_or_default();
            match AnyObject::decode(kind, meta, spec, origin) {
                Ok(obj) => snap.inventory.push(obj),
                Err(e) => {
                    snap.invalid
                        .insert(key, format!("spec.{}: {}", e.path(), e.inner()));
                }
            }
        }
    }
    snap
}

/// `Kind/name`, as the allocator and validation name owners.
pub fn owner(key: &ObjKey) -> String {
    format!("{}/{}", key.kind, key.name)
}
