//! The allocation ledger (`allocations.lock.yaml`): every value ever handed out, keyed by stable
//! identity, sorted, one entry per line so that a change is a one-line diff.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::value::AllocValue;
use crate::diag::{Diagnostic, Location};
use crate::load::yaml::{YamlLimits, parse_documents};
use crate::load::{Seg, locate};

/// File name of the ledger beside an inventory.
pub const LEDGER_FILE: &str = "allocations.lock.yaml";

/// Format version written in the file.
pub const LEDGER_VERSION: u32 = 1;

/// One allocated value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Pool the value came from (`site-v6`, `loopback`, `segment:site/commune-00004`, …).
    pub pool: String,
    /// The value.
    pub value: AllocValue,
    /// The object it belongs (or belonged) to, as `Kind/name`.
    pub owner: String,
    /// Set by a static pin in the inventory.
    pub pinned: bool,
    /// Set when the object is gone: the value is kept out of use until `release_after`.
    pub held: Option<Hold>,
}

/// A value whose object was removed, kept reserved for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    /// Day the object disappeared from the inventory.
    pub since: NaiveDate,
    /// Last day of the hold: the first plan after this day releases the value.
    pub release_after: NaiveDate,
}

/// Every entry by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    /// Entries sorted by key.
    pub entries: BTreeMap<String, Entry>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    version: u32,
    /// `entries:` with nothing under it (an empty ledger, as `to_yaml` writes it) is null.
    #[serde(default)]
    entries: Option<Vec<LineForm>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LineForm {
    key: String,
    pool: String,
    value: String,
    owner: String,
    #[serde(default)]
    pinned: bool,
    #[serde(default)]
    held_since: Option<NaiveDate>,
    #[serde(default)]
    release_after: Option<NaiveDate>,
}

fn quote(s: &str) -> String {
    // A JSON string is a valid YAML double-quoted scalar.
    serde_json::to_string(s).expect("strings serialise")
}

impl Ledger {
    /// Renders the ledger: a header, then one flow mapping per line, sorted by key.
    pub fn to_yaml(&self) -> String {
        let mut out = String::with_capacity(self.entries.len() * 120 + 200);
        out.push_str("# hatang allocation ledger: every value handed out, by stable identity.\n");
        out.push_str(
            "# Written by `hatang plan`; commit it with the inventory. Do not edit by hand.\n",
        );
        out.push_str(&format!("version: {LEDGER_VERSION}\nentries:\n"));
        for (key, e) in &self.entries {
            out.push_str(&format!(
                "  - {{key: {}, pool: {}, value: {}, owner: {}",
                quote(key),
                quote(&e.pool),
                quote(&e.value.to_string()),
                quote(&e.owner)
            ));
            if e.pinned {
                out.push_str(", pinned: true");
            }
            if let Some(h) = e.held {
                out.push_str(&format!(
                    ", heldSince: {}, releaseAfter: {}",
                    h.since, h.release_after
                ));
            }
            out.push_str("}\n");
        }
        out
    }

    /// Keys of this ledger whose entry `next` drops or changes (value, pool, owner, pin or
    /// hold dates), in key order: what replacing this ledger by `next` would lose.
    pub fn lost_in<'a>(&'a self, next: &Ledger) -> Vec<&'a str> {
        self.entries
            .iter()
            .filter(|(key, entry)| next.entries.get(*key) != Some(entry))
            .map(|(key, _)| key.as_str())
            .collect()
    }

    /// Reads a ledger; problems name the file, line and column.
    pub fn parse(path: &Path, text: &str) -> Result<Ledger, Box<Diagnostic>> {
        Self::parse_inner(path, text).map_err(Box::new)
    }

    // A diagnostic is large but built once, on the error path; boxing happens in `parse`.
    #[allow(clippy::result_large_err)]
    fn parse_inner(path: &Path, text: &str) -> Result<Ledger, Diagnostic> {
        let at = |line, column| Location {
            file: path.display().to_string(),
            line,
            column,
        };
        let docs = parse_documents(text, YamlLimits::default()).map_err(|e| {
            Diagnostic::error("ledger-syntax", e.message).at(at(e.pos.line, e.pos.column))
        })?;
        let Some(doc) = docs.into_iter().next() else {
            return Ok(Ledger::default());
        };
        let form: FileForm = match serde_path_to_error::deserialize(doc.clone().into_json()) {
            Ok(f) => f,
            Err(e) => {
                let path_segs: Vec<Seg> = e
                    .path()
                    .iter()
                    .filter_map(|s| match s {
                        serde_path_to_error::Segment::Seq { index } => Some(Seg::Index(*index)),
                        serde_path_to_error::Segment::Map { key } => Some(Seg::Key(key.clone())),
                        _ => None,
                    })
                    .collect();
                let pos = locate::walk(&doc, &path_segs).pos;
                return Err(Diagnostic::error("ledger-invalid", format!("ledger: {}", e.inner()))
                    .at(at(pos.line, pos.column))
                    .hint("the ledger is written by `hatang plan`; restore it from version control"));
            }
        };
        if form.version != LEDGER_VERSION {
            return Err(Diagnostic::error(
                "ledger-version",
                format!(
                    "ledger version {} is not supported (this release writes {LEDGER_VERSION})",
                    form.version
                ),
            )
            .at(at(1, 1)));
        }
        let mut ledger = Ledger::default();
        let entry_location = |i: usize| {
            let pos = locate::walk(&doc, &[Seg::from("entries"), Seg::Index(i)]).pos;
            at(pos.line, pos.column)
        };
        let mut values = Values::default();
        let lines = form.entries.unwrap_or_default();
        let keys: Vec<String> = lines.iter().map(|l| l.key.clone()).collect();
        for (i, line) in lines.into_iter().enumerate() {
            let entry_at = || entry_location(i);
            let value: AllocValue = line.value.parse().map_err(|e: String| {
                Diagnostic::error(
                    "ledger-invalid",
                    format!("ledger entry `{}`: {e}", line.key),
                )
                .at(entry_at())
            })?;
            let held = match (line.held_since, line.release_after) {
                (Some(since), Some(release_after)) => Some(Hold {
                    since,
                    release_after,
                }),
                (None, None) => None,
                _ => {
                    return Err(Diagnostic::error(
                        "ledger-invalid",
                        format!(
                            "ledger entry `{}` has only one of heldSince and releaseAfter",
                            line.key
                        ),
                    )
                    .at(entry_at()));
                }
            };
            values.add(&line.pool, &value, i);
            let entry = Entry {
                pool: line.pool,
                value,
                owner: line.owner,
                pinned: line.pinned,
                held,
            };
            if ledger.entries.insert(line.key.clone(), entry).is_some() {
                return Err(Diagnostic::error(
                    "ledger-invalid",
                    format!("ledger key `{}` appears twice", line.key),
                )
                .at(entry_at()));
            }
        }
        // A value belongs to one key: two keys of one pool on the same value (a hand edit, a
        // bad merge) would hand one address to two objects.
        if let Some((first, second)) = values.shared() {
            return Err(Diagnostic::error(
                "ledger-invalid",
                format!(
                    "ledger keys `{}` and `{}` hold the same value in one pool",
                    keys[first], keys[second]
                ),
            )
            .at(entry_location(second))
            .related(format!("`{}` is here", keys[first]), entry_location(first))
            .hint("each value belongs to one key; restore the ledger from version control, or remove the wrong entry and run `hatang plan`"));
        }
        Ok(ledger)
    }
}

/// The values of a ledger by pool, to find two entries on one value (equal numbers, or
/// prefixes that share an address).
#[derive(Default)]
struct Values {
    /// Pool names, numbered as met.
    pools: std::collections::HashMap<String, u32>,
    /// (pool, family or `u8::MAX` for numbers, first, last, entry index).
    spans: Vec<(u32, u8, u128, u128, usize)>,
}

impl Values {
    fn add(&mut self, pool: &str, value: &AllocValue, index: usize) {
        let next = self.pools.len() as u32;
        let id = match self.pools.get(pool) {
            Some(id) => *id,
            None => *self.pools.entry(pool.to_owned()).or_insert(next),
        };
        let (class, first, last) = match value {
            AllocValue::Prefix(p) => {
                let b = super::value::Bits::of(p);
                (b.width, b.addr, b.last())
            }
            AllocValue::Number(n) => (u8::MAX, u128::from(*n), u128::from(*n)),
        };
        self.spans.push((id, class, first, last, index));
    }

    /// The first two entries (by index: earlier, later) whose values meet in one pool, if any.
    fn shared(mut self) -> Option<(usize, usize)> {
        self.spans.sort_unstable();
        // Prefixes nest or are apart: sorted by first address, an entry meets an earlier one
        // of its pool and family exactly when it starts before the furthest end seen so far.
        let mut open: Option<(u32, u8, u128, usize)> = None;
        let mut found: Option<(usize, usize)> = None;
        for &(pool, class, first, last, index) in &self.spans {
            match open {
                Some((p, c, end, other)) if p == pool && c == class && first <= end => {
                    let pair = (other.min(index), other.max(index));
                    if found.is_none_or(|f| pair.1 < f.1) {
                        found = Some(pair);
                    }
                    if last > end {
                        open = Some((pool, class, last, index));
                    }
                }
                _ => open = Some((pool, class, last, index)),
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_exact() {
        let mut l = Ledger::default();
        l.entries.insert(
            "site/commune-00004".into(),
            Entry {
                pool: "site-v6".into(),
                value: "2001:db8:1::/48".parse().unwrap(),
                owner: "Site/ubnd-phuong-ba-dinh-00004".into(),
                pinned: false,
                held: None,
            },
        );
        l.entries.insert(
            "asn/cpe-00004".into(),
            Entry {
                pool: "asn".into(),
                value: AllocValue::Number(4200000001),
                owner: "Device/cpe-00004".into(),
                pinned: true,
                held: Some(Hold {
                    since: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                    release_after: NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
                }),
            },
        );
        let text = l.to_yaml();
        assert!(text.contains("  - {key: \"asn/cpe-00004\""));
        let back = Ledger::parse(Path::new("x.lock.yaml"), &text).unwrap();
        assert_eq!(back, l);
        assert_eq!(back.to_yaml(), text);
    }

    #[test]
    fn two_keys_on_one_value_of_a_pool_are_refused_at_both_lines() {
        let text = "version: 1\nentries:\n  - {key: a, pool: asn, value: \"4200000001\", owner: o}\n  - {key: b, pool: vlan, value: \"4200000001\", owner: o}\n  - {key: c, pool: asn, value: \"4200000001\", owner: o}\n";
        let err = Ledger::parse(Path::new("l.yaml"), text).unwrap_err();
        assert_eq!(err.location.as_ref().unwrap().line, 5, "{err}");
        assert_eq!(err.related[0].location.line, 3, "{err}");
        assert!(err.message.contains("`a` and `c`"), "{}", err.message);
        // Prefixes of one pool that share an address are one value given twice; a segment
        // inside a site's prefix is in another pool and fine.
        let text = "version: 1\nentries:\n  - {key: s, pool: site-v6, value: \"3fff:ab:1::/48\", owner: o}\n  - {key: g, pool: \"segment:s\", value: \"3fff:ab:1::/64\", owner: o}\n  - {key: t, pool: site-v6, value: \"3fff:ab:2::/48\", owner: o}\n";
        assert!(Ledger::parse(Path::new("l.yaml"), text).is_ok());
        let text = text.replace("3fff:ab:2::/48", "3fff:ab:1:8000::/49");
        let err = Ledger::parse(Path::new("l.yaml"), &text).unwrap_err();
        assert_eq!(err.location.as_ref().unwrap().line, 5, "{err}");
        assert_eq!(err.related[0].location.line, 3, "{err}");
    }

    #[test]
    fn lost_in_names_entries_dropped_or_changed() {
        let text = "version: 1\nentries:\n  - {key: a, pool: asn, value: \"1\", owner: o}\n  - {key: b, pool: asn, value: \"2\", owner: o}\n  - {key: c, pool: asn, value: \"3\", owner: o, heldSince: 2026-01-01, releaseAfter: 2026-04-01}\n";
        let old = Ledger::parse(Path::new("l.yaml"), text).unwrap();
        let mut next = old.clone();
        assert!(old.lost_in(&next).is_empty());
        next.entries.remove("a");
        next.entries
            .get_mut("c")
            .unwrap()
            .held
            .as_mut()
            .unwrap()
            .release_after = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        next.entries.insert("d".into(), old.entries["b"].clone());
        assert_eq!(old.lost_in(&next), ["a", "c"]);
    }

    #[test]
    fn bad_entries_name_their_line() {
        let text =
            "version: 1\nentries:\n  - {key: a, pool: p, value: \"2001:db8::1/48\", owner: o}\n";
        let err = Ledger::parse(Path::new("l.yaml"), text).unwrap_err();
        assert_eq!(err.location.unwrap().line, 3);
        let text = "version: 1\nentries:\n  - {key: a, pool: p, value: x, owner: o, colour: red}\n";
        let err = Ledger::parse(Path::new("l.yaml"), text).unwrap_err();
        assert!(err.message.contains("colour"), "{}", err.message);
    }
}
