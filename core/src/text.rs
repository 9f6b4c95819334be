//! Free text that may reach a device configuration, a ledger or a report: what it may not hold.
//!
//! Templates put inventory text (an interface description, say) into configuration lines. A
//! line break in such a text would end the line and start another, which the device runs as a
//! command of its own: configuration injection by anyone who may edit a description. So no
//! string of an inventory object may contain a control character — `char::is_control`: C0
//! (U+0000–U+001F, including line feed, carriage return and TAB), DEL (U+007F) and C1
//! (U+0080–U+009F). TAB is refused as well: no configuration needs one, and some CLIs complete
//! or expand on it. No field of the model is multi-line, so nothing is exempt.
//!
//! [`crate::validate`] reports such text with its position (`control-character`), and
//! [`crate::render`] refuses to render a device whose template data holds any, whatever skipped
//! validation.

use std::fmt::Write as _;

use serde_json::Value;

use crate::load::Seg;

/// A control character found in a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlChar {
    /// Where the string is, from the value searched (`["interfaces", 0, "description"]`).
    pub path: Vec<Seg>,
    /// The character.
    pub ch: char,
    /// 1-based position of the character in the string, in characters.
    pub index: usize,
    /// Whether the control character is in a mapping key rather than a value.
    pub in_key: bool,
}

impl ControlChar {
    /// `spec.interfaces[0].description contains a line feed (U+000A) at character 7`, with
    /// `root` (`spec`) in front of the path.
    pub fn describe(&self, root: &str) -> String {
        let mut path = root.to_owned();
        path.push_str(&render_path(&self.path));
        format!(
            "{}`{path}` contains {} at character {}",
            if self.in_key { "a key of " } else { "" },
            name(self.ch),
            self.index
        )
    }
}

/// The first control character of `s`, with its 1-based character position.
pub fn first_control(s: &str) -> Option<(usize, char)> {
    s.chars()
        .enumerate()
        .find(|(_, c)| c.is_control())
        .map(|(i, c)| (i + 1, c))
}

/// A person's name of a control character, with its code point.
pub fn name(c: char) -> String {
    let what = match c {
        '\n' => "a line feed",
        '\r' => "a carriage return",
        '\t' => "a tab",
        '\0' => "a NUL",
        '\u{1b}' => "an escape",
        '\u{7f}' => "a delete",
        '\u{85}' => "a next-line character",
        c if (c as u32) < 0x20 => "a C0 control character",
        _ => "a C1 control character",
    };
    format!("{what} (U+{:04X})", c as u32)
}

/// Every string (and mapping key) under `value` that holds a control character: the first such
/// character of each.
pub fn find_in_json(value: &Value) -> Vec<ControlChar> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    walk(value, &mut path, &mut out);
    out
}

fn walk(value: &Value, path: &mut Vec<Seg>, out: &mut Vec<ControlChar>) {
    match value {
        Value::String(s) => {
            if let Some((index, ch)) = first_control(s) {
                out.push(ControlChar {
                    path: path.clone(),
                    ch,
                    index,
                    in_key: false,
                });
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                walk(item, path, out);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                path.push(Seg::Key(k.clone()));
                if let Some((index, ch)) = first_control(k) {
                    out.push(ControlChar {
                        path: path.clone(),
                        ch,
                        index,
                        in_key: true,
                    });
                }
                walk(v, path, out);
                path.pop();
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// `.interfaces[0].description` (keys that are not plain words are quoted and escaped).
pub fn render_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k)
                if !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || "-_".contains(c)) =>
            {
                out.push('.');
                out.push_str(k);
            }
            Seg::Key(k) => {
                let _ = write!(out, "[{}]", k.escape_debug().collect::<String>());
            }
            Seg::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_control_character_is_found_and_named() {
        for (c, named) in [
            ('\n', "a line feed (U+000A)"),
            ('\r', "a carriage return (U+000D)"),
            ('\t', "a tab (U+0009)"),
            ('\u{7f}', "a delete (U+007F)"),
            ('\u{85}', "a next-line character (U+0085)"),
            ('\u{9b}', "a C1 control character (U+009B)"),
            ('\u{1}', "a C0 control character (U+0001)"),
        ] {
            assert_eq!(first_control(&format!("ab{c}d")), Some((3, c)));
            assert_eq!(name(c), named);
        }
        // Vietnamese text, and separators that are not controls, pass.
        assert_eq!(first_control("UBND Phường Hoàn Kiếm — tầng 2"), None);
        assert_eq!(first_control("a\u{2028}b\u{a0}c"), None);
    }

    #[test]
    fn json_strings_and_keys_are_searched_with_their_paths() {
        let v = json!({
            "interfaces": [{"name": "eth0"}, {"name": "eth1", "description": "up\nlink"}],
            "services": {"dns\r": "2001:db8::/48"},
            "powerW": 3,
        });
        let found = find_in_json(&v);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            found[0].describe("spec"),
            "`spec.interfaces[1].description` contains a line feed (U+000A) at character 3"
        );
        assert_eq!(
            found[1].describe("spec"),
            "a key of `spec.services[dns\\r]` contains a carriage return (U+000D) at character 4"
        );
        assert!(find_in_json(&json!({"a": ["b", 1, null]})).is_empty());
    }
}
