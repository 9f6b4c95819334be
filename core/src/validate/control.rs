//! No control characters in any string of any object (see [`crate::text`] for why): a line
//! break in a description would become a configuration line of its own on the device.
//!
//! Generic on purpose: every object's `spec` is walked as data, so a field added to the model
//! later is covered without a line here; `metadata` (name, namespace, label and annotation keys
//! and values) is walked the same way. Each string is reported once, at its scalar.

use super::Report;
use crate::diag::{Diagnostic, ObjectRef, codes};
use crate::load::Seg;
use crate::text::find_in_json;

pub(super) fn check(inv: &crate::model::Inventory, report: &mut Report<'_>) {
    inv.for_each_spec_json(|kind, meta, origin, spec| {
        let object = ObjectRef::new(kind, &meta.name).in_namespace(meta.namespace.as_deref());
        let meta_json = serde_json::to_value(meta).unwrap_or(serde_json::Value::Null);
        for (root, value) in [("metadata", &meta_json), ("spec", &spec)] {
            for found in find_in_json(value) {
                let mut path = vec![Seg::from(root)];
                path.extend(found.path.iter().cloned());
                report.push(
                    origin,
                    path,
                    object.clone(),
                    Diagnostic::error(
                        codes::CONTROL_CHARACTER,
                        format!(
                            "{}: a control character could end a configuration line and start \
                             a command of its own",
                            found.describe(root)
                        ),
                    )
                    .hint(
                        "write the text on one line, without tabs or other control characters \
                         (check for `\\n`, `\\t` escapes in double quotes and for `|`/`>` block \
                         scalars)",
                    ),
                );
            }
        }
    });
}
