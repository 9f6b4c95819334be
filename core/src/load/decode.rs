//! From YAML documents to typed objects: envelope checks, then serde with error paths.

use std::path::Path;

use super::locate::{Seg, walk, walk_to_key};
use super::yaml::{Node, Value, YamlLimits, for_each_document, parse_documents_prefix};
use crate::diag::{Diagnostic, Location, ObjectRef};
use crate::model::{API_VERSION, AnyObject, Kind, ObjectMeta, Origin};
use crate::names::{closest, is_dns1123_subdomain, slug};

/// Objects and problems of one file.
#[derive(Debug, Default)]
pub(super) struct FileResult {
    pub objects: Vec<AnyObject>,
    pub diagnostics: Vec<Diagnostic>,
}

/// A problem whose position is resolved once per file, after decoding.
struct Pending {
    doc: usize,
    path: Vec<Seg>,
    diag: Diagnostic,
}

const TOP_LEVEL: [&str; 4] = ["apiVersion", "kind", "metadata", "spec"];

pub(super) fn decode_file(file: u32, path: &Path, text: &str, limits: YamlLimits) -> FileResult {
    let display = path.display().to_string();
    let mut result = FileResult::default();
    let mut pending = Vec::new();
    let mut index = 0usize;
    let parsed = for_each_document(text, limits, |doc| {
        let origin = Origin {
            file,
            doc: index as u32,
            line: doc.pos.line,
            column: doc.pos.column,
        };
        if let Some(object) = decode_document(index, doc, origin, &mut pending) {
            result.objects.push(object);
        }
        index += 1;
    });
    if let Err(e) = parsed {
        // A file that does not parse contributes no object: nothing half-read.
        result.objects.clear();
        let at = |pos: super::yaml::Pos| Location {
            file: display.clone(),
            line: pos.line,
            column: pos.column,
        };
        let mut d = Diagnostic::error(
            if e.message.starts_with("duplicate mapping key") {
                "duplicate-key"
            } else if e.message.starts_with("alias expansion") {
                "alias-budget"
            } else {
                "yaml-syntax"
            },
            e.message,
        )
        .at(at(e.pos));
        if let Some(h) = e.hint {
            d = d.hint(h);
        }
        if let Some((msg, pos)) = e.other {
            d = d.related(msg, at(pos));
        }
        result.diagnostics.push(d);
    }
    if !pending.is_empty() {
        // Positions were consumed with the nodes; parse again (this file only, errors only).
        let docs = parse_documents_prefix(text, limits);
        for p in pending {
            // An unknown field is a problem with its key, not its value: point at the key.
            let step = if p.diag.code == "unknown-field" {
                walk_to_key
            } else {
                walk
            };
            let pos = docs
                .get(p.doc)
                .map(|d| step(d, &p.path).pos)
                .unwrap_or_default();
            result.diagnostics.push(p.diag.at(Location {
                file: display.clone(),
                line: pos.line,
                column: pos.column,
            }));
        }
    }
    result
}

fn decode_document(
    index: usize,
    doc: Node,
    origin: Origin,
    pending: &mut Vec<Pending>,
) -> Option<AnyObject> {
    let mut report = |path: Vec<Seg>, diag: Diagnostic| {
        pending.push(Pending {
            doc: index,
            path,
            diag,
        })
    };
    let Value::Map(entries) = doc.value else {
        report(
            vec![],
            Diagnostic::error("not-an-object", "document is not a mapping")
                .hint("each document needs apiVersion, kind, metadata and spec"),
        );
        return None;
    };

    let mut api_version = None;
    let mut kind_node = None;
    let mut metadata = None;
    let mut spec = None;
    for (key, value) in entries {
        let Value::Str(k) = key.value else { continue };
        match k.as_str() {
            "apiVersion" => api_version = Some(value),
            "kind" => kind_node = Some(value),
            "metadata" => metadata = Some(value),
            "spec" => spec = Some(value),
            other => {
                let mut d = Diagnostic::error(
                    "unknown-field",
                    format!("unknown top-level field `{other}`"),
                );
                d = match closest(other, TOP_LEVEL) {
                    Some(s) => d.hint(format!("did you mean `{s}`?")),
                    None => d.hint("a document has only apiVersion, kind, metadata and spec"),
                };
                report(vec![Seg::Key(other.to_owned())], d);
            }
        }
    }

    let kind = match kind_node.as_ref().map(|n| &n.value) {
        Some(Value::Str(s)) => match Kind::parse(s) {
            Some(k) => Some(k),
            None => {
                let names = Kind::ALL.iter().map(|k| k.as_str());
                let hint = match closest(s, names) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => format!(
                        "known kinds: {}",
                        Kind::ALL
                            .iter()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                report(
                    vec!["kind".into()],
                    Diagnostic::error("unknown-kind", format!("unknown kind `{s}`")).hint(hint),
                );
                None
            }
        },
        _ => {
            report(
                vec!["kind".into()],
                Diagnostic::error("missing-kind", "document has no `kind` string")
                    .hint("add e.g. `kind: Site`"),
            );
            None
        }
    };

    let api_ok = match api_version.as_ref().map(|n| &n.value) {
        Some(Value::Str(v)) if v == API_VERSION => true,
        Some(Value::Str(v)) => {
            report(
                vec!["apiVersion".into()],
                Diagnostic::error(
                    "unknown-api-version",
                    format!("unsupported apiVersion `{v}`"),
                )
                .hint(format!("this release reads `{API_VERSION}`")),
            );
            false
        }
        _ => {
            report(
                vec!["apiVersion".into()],
                Diagnostic::error("missing-api-version", "document has no `apiVersion` string")
                    .hint(format!("add `apiVersion: {API_VERSION}`")),
            );
            false
        }
    };

    let metadata = match metadata {
        None => {
            report(
                vec![],
                Diagnostic::error("missing-metadata", "document has no `metadata`")
                    .hint("add `metadata: {name: …}`"),
            );
            None
        }
        Some(node) => match serde_path_to_error::deserialize::<_, ObjectMeta>(node.into_json()) {
            Ok(meta) => Some(meta),
            Err(e) => {
                let (path, diag) = serde_problem("metadata", e);
                report(path, diag);
                None
            }
        },
    };
    let kind = kind?;
    let metadata = metadata?;
    let object_ref = ObjectRef::new(kind, &metadata.name).in_namespace(metadata.namespace.as_deref());
    // An object of another API version is not guessed at: it is reported and left out.
    let mut ok = api_ok;
    if !is_dns1123_subdomain(&metadata.name) {
        let suggestion = slug(&metadata.name);
        report(
            vec!["metadata".into(), "name".into()],
            Diagnostic::error(
                "invalid-name",
                format!(
                    "`{}` is not a valid object name (lowercase ASCII letters, digits, `-`, `.`)",
                    metadata.name
                ),
            )
            .object(object_ref.clone())
            .hint(format!(
                "use `{suggestion}` and keep the Vietnamese name in spec.displayName"
            )),
        );
        ok = false;
    }
    if metadata.namespace.is_some() && !kind.namespaced() {
        report(
            vec!["metadata".into(), "namespace".into()],
            Diagnostic::error(
                "unexpected-namespace",
                format!("{kind} is cluster-scoped and takes no namespace"),
            )
            .object(object_ref.clone())
            .hint("only ColoLease and InformationSystem live in a tenant namespace"),
        );
        ok = false;
    }
    let Some(spec) = spec else {
        report(
            vec![],
            Diagnostic::error("missing-spec", "document has no `spec`").object(object_ref),
        );
        return None;
    };
    match AnyObject::decode(kind, metadata, spec.into_json(), origin) {
        Ok(object) => ok.then_some(object),
        Err(e) => {
            let (path, diag) = serde_problem("spec", e);
            report(path, diag.object(object_ref));
            None
        }
    }
}

/// Turns a serde error with its path into a located diagnostic with a hint.
fn serde_problem(
    root: &str,
    err: serde_path_to_error::Error<serde_json::Error>,
) -> (Vec<Seg>, Diagnostic) {
    use serde_path_to_error::Segment;
    let mut path = vec![Seg::Key(root.to_owned())];
    for seg in err.path().iter() {
        match seg {
            Segment::Seq { index } => path.push(Seg::Index(*index)),
            Segment::Map { key } => path.push(Seg::Key(key.clone())),
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    let message = err.inner().to_string();
    let field_path = render_path(&path);
    let mut diag = Diagnostic::error("invalid-field", format!("{field_path}: {message}"));
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or_default().to_owned();
        diag.code = "unknown-field";
        let expected = expected_list(&message);
        diag = match closest(&name, expected.iter().map(String::as_str)) {
            Some(s) => diag.hint(format!("did you mean `{s}`?")),
            None => diag.hint("remove the field; see `hatang schema` or docs/inventory.md"),
        };
        // serde_path_to_error already ends the path with the unknown key; add it only if not.
        if path.last() != Some(&Seg::Key(name.clone())) {
            path.push(Seg::Key(name));
        }
    } else if let Some(rest) = message.strip_prefix("unknown variant `") {
        let name = rest.split('`').next().unwrap_or_default();
        let expected = expected_list(&message);
        if let Some(s) = closest(name, expected.iter().map(String::as_str)) {
            diag = diag.hint(format!("did you mean `{s}`?"));
        }
    } else if message.starts_with("missing field") {
        diag.code = "missing-field";
    } else if message.contains("invalid type: integer") && message.contains("expected a string") {
        diag = diag.hint("quote the value (`\"00004\"`) so YAML keeps it as text");
    }
    (path, diag)
}

fn expected_list(message: &str) -> Vec<String> {
    message
        .split_once("expected")
        .map(|(_, rest)| {
            rest.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn render_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}
