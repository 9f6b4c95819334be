//! Turning "object X, field spec.a.device" into "file:line:column" after the fact.
//!
//! The loader keeps no positions on the fast path; when a later stage reports a problem, the
//! one document it concerns is parsed again — from the line it starts on, to its end, never the
//! whole file — and the path is walked in its node tree. A file of 100,000 documents with a
//! problem in each therefore never has more than a few document trees in memory (a whole-file
//! tree of it took most of the memory of reporting it).

use std::cell::RefCell;
use std::collections::HashMap;

use super::SourceFile;
use super::yaml::{Document, Node, Pos, Value, YamlLimits, first_document};
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

/// Finds positions in the loaded sources, parsing each document it is asked about on demand.
pub struct Locator<'a> {
    sources: &'a [SourceFile],
    limits: YamlLimits,
    /// Byte offset of every line start, per file (made the first time a file is asked about).
    lines: RefCell<HashMap<u32, Vec<usize>>>,
    /// Documents parsed lately, by (file, first line): several problems of one object cost one
    /// parse. Bounded: cleared when full.
    parsed: RefCell<HashMap<(u32, u32), Option<Document>>>,
}

/// Documents kept parsed at once.
const PARSED: usize = 64;

impl<'a> Locator<'a> {
    /// A locator over `sources`, parsing with `limits`.
    pub fn new(sources: &'a [SourceFile], limits: YamlLimits) -> Self {
        Locator {
            sources,
            limits,
            lines: RefCell::new(HashMap::new()),
            parsed: RefCell::new(HashMap::new()),
        }
    }

    /// Where `path` is inside the object that starts at `origin` (the nearest node that
    /// exists, else the document's start).
    pub fn locate(&self, origin: Origin, path: &[Seg]) -> Location {
        let source = self.sources.get(origin.file as usize);
        let file = source
            .map(|s| s.path.display().to_string())
            .unwrap_or_default();
        let fallback = Pos {
            line: origin.line,
            column: origin.column,
        };
        let pos = match source {
            Some(source) if origin.line > 0 => {
                self.position(source, origin, path).unwrap_or(fallback)
            }
            _ => fallback,
        };
        Location {
            file,
            line: pos.line,
            column: pos.column,
        }
    }

    /// The position of `path` in the document starting on `origin.line` of `source`.
    fn position(&self, source: &SourceFile, origin: Origin, path: &[Seg]) -> Option<Pos> {
        let start = {
            let mut lines = self.lines.borrow_mut();
            let starts = lines
                .entry(origin.file)
                .or_insert_with(|| line_starts(&source.text));
            *starts.get(origin.line as usize - 1)?
        };
        let mut parsed = self.parsed.borrow_mut();
        if parsed.len() >= PARSED && !parsed.contains_key(&(origin.file, origin.line)) {
            parsed.clear();
        }
        let doc = parsed
            .entry((origin.file, origin.line))
            .or_insert_with(|| first_document(&source.text[start..], self.limits))
            .as_ref()?;
        // The document was parsed from the start of its first line: lines count from there,
        // columns are the file's.
        let pos = walk(doc, path).pos;
        Some(Pos {
            line: pos.line + origin.line - 1,
            column: pos.column,
        })
    }
}

/// Byte offsets of the starts of the lines of `text` (the first line starts at 0).
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}
