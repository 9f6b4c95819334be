//! YAML text to a tree of nodes that remember where they came from.
//!
//! Built on `saphyr-parser` events rather than a serde deserializer so that every node keeps its
//! position (for errors after deserialization), duplicate keys are caught with both positions, and
//! alias expansion is charged against a budget before anything is copied ("billion laughs").

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// Limits that keep hostile input cheap to reject.
#[derive(Debug, Clone, Copy)]
pub struct YamlLimits {
    /// Most nodes that alias expansion may add to one file.
    pub max_alias_nodes: usize,
    /// Deepest nesting of mappings and sequences.
    pub max_depth: usize,
}

impl Default for YamlLimits {
    fn default() -> Self {
        YamlLimits {
            max_alias_nodes: 10_000,
            max_depth: 64,
        }
    }
}

/// A 1-based position in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column in characters.
    pub column: u32,
}

impl Pos {
    fn from_span(span: &Span) -> Pos {
        Pos {
            line: span.start.line() as u32,
            column: span.start.col() as u32 + 1,
        }
    }
}

/// A YAML value with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where the value starts.
    pub pos: Pos,
}

/// A YAML value resolved with the YAML 1.2 core schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`, `~` or empty.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping with string keys, in file order (key node carries the key's position).
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// Number of nodes in this subtree (charged when an alias copies it).
    fn size(&self) -> usize {
        match &self.value {
            Value::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
            Value::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.size() + v.size())
                    .sum::<usize>()
            }
            _ => 1,
        }
    }

    /// The value of `key` if this is a mapping that has it, with the key node.
    pub fn get(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(&k.value, Value::Str(s) if s == key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// Converts to JSON for typed deserialization (consumes the tree).
    pub fn into_json(self) -> serde_json::Value {
        use serde_json::Value as J;
        match self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(b),
            Value::Int(i) => J::Number(i.into()),
            Value::Float(f) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s),
            Value::Seq(items) => J::Array(items.into_iter().map(Node::into_json).collect()),
            Value::Map(entries) => {
                let mut map = serde_json::Map::with_capacity(entries.len());
                for (k, v) in entries {
                    if let Value::Str(key) = k.value {
                        map.insert(key, v.into_json());
                    }
                }
                J::Object(map)
            }
        }
    }
}

/// A YAML document: its root node.
pub type Document = Node;

/// What sort of problem stopped the parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YamlErrorKind {
    /// Not YAML: the parser's own complaint (indentation, quoting, …).
    Syntax,
    /// A key given twice in one mapping.
    DuplicateKey,
    /// Aliases would copy more nodes than the budget allows (an alias bomb).
    AliasBudget,
    /// An alias names no anchor of its document.
    UnknownAnchor,
    /// Mappings and sequences nested deeper than allowed.
    TooDeep,
    /// A tag outside the YAML core schema, or a core tag on the wrong sort of node.
    UnsupportedTag,
    /// A scalar that its core-schema tag (`!!int`, …) does not accept.
    BadTaggedScalar,
    /// A sequence or mapping used as a mapping key.
    ComplexKey,
    /// The parser's events did not nest (a collection ended that was not open).
    Unbalanced,
}

/// Why a text could not be turned into documents.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    /// What sort of problem.
    pub kind: YamlErrorKind,
    /// What is wrong.
    pub message: String,
    /// Where.
    pub pos: Pos,
    /// What to do about it.
    pub hint: Option<String>,
    /// Another position involved (the first occurrence of a duplicate key).
    pub other: Option<(String, Pos)>,
}

impl YamlError {
    fn new(kind: YamlErrorKind, message: impl Into<String>, pos: Pos) -> Self {
        YamlError {
            kind,
            message: message.into(),
            pos,
            hint: None,
            other: None,
        }
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

enum Frame {
    Seq {
        items: Vec<Node>,
        pos: Pos,
        anchor: usize,
    },
    Map {
        entries: Vec<(Node, Node)>,
        /// Keys seen so far; built only for large mappings (small ones are scanned).
        seen: Option<HashSet<String>>,
        key: Option<Node>,
        pos: Pos,
        anchor: usize,
    },
}

/// Parses every document in `text`. Empty documents (`---` with nothing after it) are skipped.
pub fn parse_documents(text: &str, limits: YamlLimits) -> Result<Vec<Document>, YamlError> {
    let mut docs = Vec::new();
    for_each_document(text, limits, |d| docs.push(d))?;
    Ok(docs)
}

/// The documents that parse before the first error (all of them if there is none).
pub fn parse_documents_prefix(text: &str, limits: YamlLimits) -> Vec<Document> {
    let mut docs = Vec::new();
    let _ = for_each_document(text, limits, |d| docs.push(d));
    docs
}

/// Hands each document to `sink` as soon as it is complete, so a large file never holds more
/// than one document tree at a time. Stops at the first error.
pub fn for_each_document(
    text: &str,
    limits: YamlLimits,
    mut sink: impl FnMut(Document),
) -> Result<(), YamlError> {
    for_each_document_until(text, limits, |doc| {
        sink(doc);
        ControlFlow::Continue(())
    })
}

/// The first document of `text` (null documents skipped), parsing no further than its end:
/// what [`crate::load::Locator`] needs to find one position without a tree of the whole file.
pub fn first_document(text: &str, limits: YamlLimits) -> Option<Document> {
    let mut first = None;
    let _ = for_each_document_until(text, limits, |doc| {
        first = Some(doc);
        ControlFlow::Break(())
    });
    first
}

/// [`for_each_document`], stopping early when `sink` says so.
fn for_each_document_until(
    text: &str,
    limits: YamlLimits,
    mut sink: impl FnMut(Document) -> ControlFlow<()>,
) -> Result<(), YamlError> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut alias_budget = limits.max_alias_nodes;
    let mut root: Option<Node> = None;

    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| {
            let m = e.marker();
            YamlError::new(
                YamlErrorKind::Syntax,
                format!("YAML syntax error: {}", e.info()),
                Pos {
                    line: m.line() as u32,
                    column: m.col() as u32 + 1,
                },
            )
            .hint("check indentation and quoting near this position")
        })?;
        let pos = Pos::from_span(&span);
        let complete: Option<(Node, usize)> = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => None,
            Event::DocumentStart(_) => {
                anchors.clear();
                None
            }
            Event::DocumentEnd => {
                if let Some(doc) = root.take()
                    && doc.value != Value::Null
                    && sink(doc).is_break()
                {
                    return Ok(());
                }
                None
            }
            Event::Alias(id) => {
                let target = anchors.get(&id).ok_or_else(|| {
                    YamlError::new(YamlErrorKind::UnknownAnchor, "alias refers to an unknown anchor", pos)
                        .hint("anchors belong to one document; define `&name` before `*name` in the same document")
                })?;
                let size = target.size();
                if size > alias_budget {
                    return Err(YamlError::new(
                        YamlErrorKind::AliasBudget,
                        format!(
                            "alias expansion exceeds the budget of {} nodes for one file",
                            limits.max_alias_nodes
                        ),
                        pos,
                    )
                    .hint("this looks like a YAML alias bomb; write the values out instead of nesting aliases"));
                }
                alias_budget -= size;
                let mut copy = target.clone();
                copy.pos = pos;
                Some((copy, 0))
            }
            Event::Scalar(text, style, anchor, tag) => {
                let value = resolve_scalar(&text, style, tag.as_deref(), pos)?;
                Some((Node { value, pos }, anchor))
            }
            Event::SequenceStart(anchor, tag) => {
                check_collection_tag(tag.as_deref(), "seq", pos)?;
                if stack.len() >= limits.max_depth {
                    return Err(too_deep(limits, pos));
                }
                stack.push(Frame::Seq {
                    items: Vec::new(),
                    pos,
                    anchor,
                });
                None
            }
            Event::MappingStart(anchor, tag) => {
                check_collection_tag(tag.as_deref(), "map", pos)?;
                if stack.len() >= limits.max_depth {
                    return Err(too_deep(limits, pos));
                }
                stack.push(Frame::Map {
                    entries: Vec::new(),
                    seen: None,
                    key: None,
                    pos,
                    anchor,
                });
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq { items, pos, anchor }) => Some((
                    Node {
                        value: Value::Seq(items),
                        pos,
                    },
                    anchor,
                )),
                _ => {
                    return Err(YamlError::new(
                        YamlErrorKind::Unbalanced,
                        "unbalanced sequence end",
                        pos,
                    ));
                }
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map {
                    entries,
                    pos,
                    anchor,
                    ..
                }) => Some((
                    Node {
                        value: Value::Map(entries),
                        pos,
                    },
                    anchor,
                )),
                _ => {
                    return Err(YamlError::new(
                        YamlErrorKind::Unbalanced,
                        "unbalanced mapping end",
                        pos,
                    ));
                }
            },
        };

        let Some((node, anchor)) = complete else {
            continue;
        };
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries, seen, key, ..
            }) => match key.take() {
                None => {
                    let key_node = as_key(node)?;
                    let Value::Str(name) = &key_node.value else {
                        unreachable!("as_key returns strings")
                    };
                    let duplicate = if entries.len() < 16 {
                        entries.iter().any(|(k, _)| k.value == key_node.value)
                    } else {
                        let set = seen.get_or_insert_with(|| {
                            entries
                                .iter()
                                .filter_map(|(k, _)| match &k.value {
                                    Value::Str(s) => Some(s.clone()),
                                    _ => None,
                                })
                                .collect()
                        });
                        !set.insert(name.clone())
                    };
                    if duplicate {
                        let first = entries
                            .iter()
                            .find(|(k, _)| k.value == key_node.value)
                            .map(|(k, _)| k.pos)
                            .unwrap_or_default();
                        let mut err = YamlError::new(
                            YamlErrorKind::DuplicateKey,
                            format!("duplicate mapping key `{name}`"),
                            key_node.pos,
                        )
                        .hint("each key may appear once in a mapping; merge the two entries or remove one");
                        err.other = Some((format!("`{name}` first defined here"), first));
                        return Err(err);
                    }
                    *key = Some(key_node);
                }
                Some(k) => entries.push((k, node)),
            },
        }
    }
    if let Some(doc) = root.take()
        && doc.value != Value::Null
    {
        // The last document: nothing follows, whatever the sink says.
        let _ = sink(doc);
    }
    Ok(())
}

fn too_deep(limits: YamlLimits, pos: Pos) -> YamlError {
    YamlError::new(
        YamlErrorKind::TooDeep,
        format!("nesting deeper than {} levels", limits.max_depth),
        pos,
    )
    .hint("inventory documents are shallow; this input is malformed or hostile")
}

fn as_key(node: Node) -> Result<Node, YamlError> {
    let text = match node.value {
        Value::Str(s) => s,
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Null => "null".to_owned(),
        Value::Seq(_) | Value::Map(_) => {
            return Err(YamlError::new(
                YamlErrorKind::ComplexKey,
                "a mapping key must be a plain value, not a sequence or mapping",
                node.pos,
            ));
        }
    };
    Ok(Node {
        value: Value::Str(text),
        pos: node.pos,
    })
}

fn check_collection_tag(
    tag: Option<&saphyr_parser::Tag>,
    expected: &str,
    pos: Pos,
) -> Result<(), YamlError> {
    match tag {
        None => Ok(()),
        Some(t) if t.is_yaml_core_schema() && t.suffix == expected => Ok(()),
        Some(t) => Err(unsupported_tag(t, pos)),
    }
}

fn unsupported_tag(tag: &saphyr_parser::Tag, pos: Pos) -> YamlError {
    YamlError::new(
        YamlErrorKind::UnsupportedTag,
        format!("unsupported YAML tag `{}{}`", tag.handle, tag.suffix),
        pos,
    )
    .hint("inventories use plain YAML; remove the tag")
}

fn resolve_scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&saphyr_parser::Tag>,
    pos: Pos,
) -> Result<Value, YamlError> {
    if let Some(tag) = tag {
        if !tag.is_yaml_core_schema() {
            return Err(unsupported_tag(tag, pos));
        }
        let bad = || {
            YamlError::new(
                YamlErrorKind::BadTaggedScalar,
                format!("`{text}` is not a valid !!{}", tag.suffix),
                pos,
            )
        };
        return match tag.suffix.as_str() {
            "str" => Ok(Value::Str(text.to_owned())),
            "int" => parse_int(text).map(Value::Int).ok_or_else(bad),
            "float" => parse_float(text).map(Value::Float).ok_or_else(bad),
            "bool" => parse_bool(text).map(Value::Bool).ok_or_else(bad),
            "null" => Ok(Value::Null),
            _ => Err(unsupported_tag(tag, pos)),
        };
    }
    if style != ScalarStyle::Plain {
        return Ok(Value::Str(text.to_owned()));
    }
    Ok(resolve_plain(text))
}

/// Resolves a plain scalar with the YAML 1.2 core schema.
pub fn resolve_plain(text: &str) -> Value {
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Value::Null;
    }
    if let Some(b) = parse_bool(text) {
        return Value::Bool(b);
    }
    if let Some(i) = parse_int(text) {
        return Value::Int(i);
    }
    if let Some(f) = parse_float(text) {
        return Value::Float(f);
    }
    Value::Str(text.to_owned())
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn parse_int(text: &str) -> Option<i64> {
    let first = *text.as_bytes().first()?;
    if !(first.is_ascii_digit() || first == b'-' || first == b'+') {
        return None;
    }
    if let Some(hex) = text.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok();
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8).ok();
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let starts_ok = body.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    let chars_ok = body
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if !starts_ok || !chars_ok || !body.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Document>, YamlError> {
        parse_documents(text, YamlLimits::default())
    }

    #[test]
    fn core_schema_scalars() {
        assert_eq!(resolve_plain("42"), Value::Int(42));
        assert_eq!(resolve_plain("-7"), Value::Int(-7));
        assert_eq!(resolve_plain("1.5"), Value::Float(1.5));
        assert_eq!(resolve_plain("true"), Value::Bool(true));
        assert_eq!(resolve_plain("~"), Value::Null);
        assert_eq!(resolve_plain("yes"), Value::Str("yes".into()));
        assert_eq!(
            resolve_plain("2001:db8::/32"),
            Value::Str("2001:db8::/32".into())
        );
        assert_eq!(resolve_plain("1.2.3"), Value::Str("1.2.3".into()));
    }

    #[test]
    fn positions_are_one_based() {
        let docs = parse("a: 1\nb:\n  - x\n").unwrap();
        let (k, v) = docs[0].get("b").unwrap();
        assert_eq!(k.pos, Pos { line: 2, column: 1 });
        let Value::Seq(items) = &v.value else {
            panic!()
        };
        assert_eq!(items[0].pos, Pos { line: 3, column: 5 });
    }

    #[test]
    fn duplicate_keys_name_both_places() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.kind, YamlErrorKind::DuplicateKey);
        assert!(err.message.contains("duplicate mapping key `a`"));
        assert_eq!(err.pos, Pos { line: 3, column: 1 });
        assert_eq!(err.other.unwrap().1, Pos { line: 1, column: 1 });
    }

    #[test]
    fn multi_document_skips_empty_ones() {
        let docs = parse("---\na: 1\n---\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
    }

    #[test]
    fn alias_bomb_is_rejected_quickly() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let err = parse(&text).unwrap_err();
        assert_eq!(err.kind, YamlErrorKind::AliasBudget);
        assert!(err.message.contains("alias expansion"), "{}", err.message);
    }

    #[test]
    fn small_aliases_are_fine() {
        let docs = parse("base: &b {x: 1}\nuse: *b\n").unwrap();
        assert_eq!(
            docs[0].get("use").unwrap().1.get("x").unwrap().1.value,
            Value::Int(1)
        );
    }

    #[test]
    fn deep_nesting_is_rejected() {
        let text = "[".repeat(200) + &"]".repeat(200);
        let err = parse(&text).unwrap_err();
        assert_eq!(err.kind, YamlErrorKind::TooDeep);
        assert!(err.message.contains("nesting"));
    }

    #[test]
    fn custom_tags_are_rejected() {
        let err = parse("a: !secret x\n").unwrap_err();
        assert_eq!(err.kind, YamlErrorKind::UnsupportedTag);
        assert!(err.message.contains("unsupported YAML tag"));
        assert_eq!(
            parse("a: !!int x\n").unwrap_err().kind,
            YamlErrorKind::BadTaggedScalar
        );
        assert_eq!(
            parse("? [a]\n: 1\n").unwrap_err().kind,
            YamlErrorKind::ComplexKey
        );
        assert_eq!(parse("a: [\n").unwrap_err().kind, YamlErrorKind::Syntax);
        assert_eq!(
            parse("a: !!str 12\n").unwrap()[0].get("a").unwrap().1.value,
            Value::Str("12".into())
        );
    }
}
