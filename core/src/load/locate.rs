//! Turning "object X, field spec.a.device" into "file:line:column" after the fact.
//!
//! The loader keeps no positions on the fast path; when a later stage reports a problem, the
//! file it concerns is parsed again (once, cached) and the path is walked in its node tree.

use std::cell::RefCell;
use std::collections::HashMap;

use super::SourceFile;
use super::yaml::{Document, Node, Pos, Value, YamlLimits, parse_documents_prefix};
use crate::diag::Location;
use crate::model::Origin;

/// One step of a path into a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

impl From<&str> for Seg {
    fn from(s: &str) -> Seg {
        Seg::Key(s.to_owned())
    }
}

impl From<String> for Seg {
    fn from(s: String) -> Seg {
        Seg::Key(s)
    }
}

impl From<usize> for Seg {
    fn from(i: usize) -> Seg {
        Seg::Index(i)
    }
}

/// Builds a path from keys.
pub fn path<const N: usize>(keys: [&str; N]) -> Vec<Seg> {
    keys.into_iter().map(Seg::from).collect()
}

/// Walks `path` from `node` as far as it goes; returns the deepest node reached. When the last
/// step is a key, that is the value if it is a scalar (the thing to fix), else the key node
/// (where a person looks for a block).
pub fn walk<'a>(node: &'a Node, path: &[Seg]) -> &'a Node {
    walk_to(node, path, false)
}

/// Like [`walk`], but always ends on the key node when the last step is a key that exists
/// (for problems with the key itself, such as an unknown field).
pub fn walk_to_key<'a>(node: &'a Node, path: &[Seg]) -> &'a Node {
    walk_to(node, path, true)
}

fn walk_to<'a>(node: &'a Node, path: &[Seg], key_wanted: bool) -> &'a Node {
    let mut here = node;
    for (i, seg) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        match (seg, &here.value) {
            (Seg::Key(key), Value::Map(_)) => match here.get(key) {
                Some((k, v)) => {
                    if last && !key_wanted && !matches!(v.value, Value::Map(_) | Value::Seq(_)) {
                        return v;
                    }
                    if last {
                        return k;
                    }
                    here = v;
                }
                None => return here,
            },
            (Seg::Index(idx), Value::Seq(items)) => match items.get(*idx) {
                Some(item) => here = item,
                None => return here,
            },
            _ => return here,
        }
    }
    here
}

/// Resolves object paths to file positions, parsing each file at most once.
pub struct Locator<'a> {
    sources: &'a [SourceFile],
    limits: YamlLimits,
    parsed: RefCell<HashMap<u32, Vec<Document>>>,
}

impl<'a> Locator<'a> {
    /// A locator over loaded sources.
    pub fn new(sources: &'a [SourceFile], limits: YamlLimits) -> Self {
        Locator {
            sources,
            limits,
            parsed: RefCell::new(HashMap::new()),
        }
    }

    /// Where `path` inside the object at `origin` is written; the document start if the path
    /// cannot be followed.
    pub fn locate(&self, origin: Origin, path: &[Seg]) -> Location {
        let file = self
            .sources
            .get(origin.file as usize)
            .map(|s| s.path.display().to_string())
            .unwrap_or_default();
        let fallback = Pos {
            line: origin.line,
            column: origin.column,
        };
        let mut parsed = self.parsed.borrow_mut();
        let docs = parsed.entry(origin.file).or_insert_with(|| {
            self.sources
                .get(origin.file as usize)
                .map(|s| parse_documents_prefix(&s.text, self.limits))
                .unwrap_or_default()
        });
        let pos = docs
            .get(origin.doc as usize)
            .map_or(fallback, |doc| walk(doc, path).pos);
        Location {
            file,
            line: pos.line,
            column: pos.column,
        }
    }
}
