//! From YAML documents to typed objects: envelope checks, then serde with error paths.

use std::path::Path;

use super::de::DecodeError;
use super::locate::{Seg, walk, walk_to_key};
use super::yaml::{
    Node, Value, YamlErrorKind, YamlLimits, for_each_document, parse_documents_prefix,
};
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
        let code = match e.kind {
            YamlErrorKind::DuplicateKey => "duplicate-key",
            YamlErrorKind::AliasBudget => "alias-budget",
            _ => "yaml-syntax",
        };
        let mut d = Diagnostic::error(code, e.message).at(at(e.pos));
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
        Some(node) => match serde_path_to_error::deserialize::<_, ObjectMeta>(node) {
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
    let object_ref =
        ObjectRef::new(kind, &metadata.name).in_namespace(metadata.namespace.as_deref());
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
    match AnyObject::decode(kind, metadata, spec, origin) {
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
    err: serde_path_to_error::Error<DecodeError>,
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
    let field_path = render_path(&path);
    let error = err.into_inner();
    let mut diag = Diagnostic::error("invalid-field", format!("{field_path}: {error}"));
    match error {
        DecodeError::UnknownField { field, expected } => {
            diag.code = "unknown-field";
            diag = match closest(&field, expected.iter().copied()) {
                Some(s) => diag.hint(format!("did you mean `{s}`?")),
                None => diag.hint("remove the field; see `hatang schema` or docs/inventory.md"),
            };
            // serde_path_to_error already ends the path with the unknown key; add it only if not.
            if path.last() != Some(&Seg::Key(field.clone())) {
                path.push(Seg::Key(field));
            }
        }
        DecodeError::UnknownVariant { variant, expected } => {
            if let Some(s) = closest(&variant, expected.iter().copied()) {
                diag = diag.hint(format!("did you mean `{s}`?"));
            }
        }
        DecodeError::MissingField(_) => diag.code = "missing-field",
        DecodeError::NumberForText { .. } => {
            diag = diag.hint("quote the value (`\"00004\"`) so YAML keeps it as text");
        }
        DecodeError::Other(_) => {}
    }
    (path, diag)
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
