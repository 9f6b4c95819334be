//! Renumbering when communes merge or split (the 2025 reform): which successor commune inherits
//! which predecessor's site prefix, which predecessor prefixes stay on the successor as secondary
//! prefixes during a drain window, and when they are released — the make-before-break steps of
//! RFC 4192.
//!
//! Everything here is pure: the merge list comes in as text, the old ledger and the new inventory
//! as values, and the results go out as values and strings.
//!
//! 1. [`parse_map`] reads the merge list (`old_province_code,…,new_commune_name`, one row per
//!    old→new pair; a split commune has one row per successor) and [`rows_for_province`] keeps
//!    one province.
//! 2. [`plan`] decides, for every commune office of the new inventory, which predecessor's prefix
//!    it inherits (each old prefix goes to at most one successor), which other predecessors stay as
//!    secondaries until `effective + drain_days`, and which communes need a new prefix. Old and
//!    new communes the merge list does not mention are reported, never guessed.
//! 3. [`RenumberPlan::seed_ledger`] turns the plan into a ledger for the new inventory: inherited
//!    prefixes under the new keys, secondaries and unmapped prefixes as held entries, so that
//!    [`super::allocate`] keeps them, allocates only the new ones and hands out nothing that is
//!    still draining.
//! 4. [`RenumberPlan::render_text`], [`RenumberPlan::to_csv`] and [`RenumberPlan::to_json`]
//!    print it.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::{self, Write as _};
use std::path::Path;
use std::str::FromStr;

use chrono::{Days, NaiveDate};
use ipnet::IpNet;
use serde::Serialize;

use super::ledger::{Entry, Hold, Ledger};
use super::schema::{
    Draining, Family, LedgerKey, Owner, OwnerKind, PoolRef, SiteId, site_key, site_v4_key,
};
use super::value::{AllocValue, Bits};
use crate::diag::{Diagnostic, Location};
use crate::model::{Inventory, RegionLevel, SiteRole};

/// Columns of the merge list, in the order of `vn-commune-merge-2025.csv`.
pub const MAP_COLUMNS: [&str; 7] = [
    "old_province_code",
    "old_district_code",
    "old_commune_code",
    "old_commune_name",
    "new_province_code",
    "new_commune_code",
    "new_commune_name",
];

/// At most this many problems are reported for one merge list.
const MAX_ERRORS: usize = 50;

/// Days a replaced prefix stays routed after the effective date, by default.
pub const DEFAULT_DRAIN_DAYS: u32 = 180;

/// The day the 2025 reform took effect, the default effective date.
pub fn reform_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 7, 1).expect("valid date")
}

// ---------------------------------------------------------------------------------------------
// The merge list
// ---------------------------------------------------------------------------------------------

/// One row of the merge list: an old commune and one of its successors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MergeRow {
    /// 1-based line of the row in the file.
    pub line: u64,
    /// Old province code.
    pub old_province: u32,
    /// Old district code.
    pub old_district: u32,
    /// Old commune code, zero-padded to 5 digits like region codes (`00019`).
    pub old_code: String,
    /// Old commune name.
    pub old_name: String,
    /// New province code.
    pub new_province: u32,
    /// New commune code, zero-padded to 5 digits.
    pub new_code: String,
    /// New commune name.
    pub new_name: String,
}

/// A row with where it is in the text (bytes, after any byte order mark).
struct RawRow {
    row: MergeRow,
    start: usize,
    end: usize,
}

/// Reads a merge list. Every problem names the file and line (and the column for a bad field);
/// at most 50 are reported.
pub fn parse_map(path: &Path, text: &str) -> Result<Vec<MergeRow>, Vec<Diagnostic>> {
    read_map(path, text).map(|(_, rows)| rows.into_iter().map(|r| r.row).collect())
}

/// The rows that concern `province`: the old commune or the new one lies in it.
pub fn rows_for_province(rows: &[MergeRow], province: u32) -> Vec<MergeRow> {
    rows.iter()
        .filter(|r| r.old_province == province || r.new_province == province)
        .cloned()
        .collect()
}

/// The merge list text cut down to `province`: the header and the matching rows, each line exactly
/// as it was written (a byte order mark is dropped). The text must parse cleanly.
pub fn filter_map_text(path: &Path, text: &str, province: u32) -> Result<String, Vec<Diagnostic>> {
    let (header_end, rows) = read_map(path, text)?;
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = String::with_capacity(body.len() / 8);
    let mut push = |chunk: &str| {
        out.push_str(chunk);
        if !chunk.ends_with('\n') {
            out.push('\n');
        }
    };
    push(body[..header_end].trim_end_matches(['\r', '\n']));
    for raw in &rows {
        if raw.row.old_province == province || raw.row.new_province == province {
            push(body[raw.start..raw.end].trim_end_matches(['\r', '\n']));
        }
    }
    Ok(out)
}

fn read_map(path: &Path, text: &str) -> Result<(usize, Vec<RawRow>), Vec<Diagnostic>> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let file = path.display().to_string();
    let at = |line: u64, column: usize| Location {
        file: file.clone(),
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
    };
    let expected = MAP_COLUMNS.join(",");
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(body.as_bytes());
    let header = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            let line = e.position().map_or(1, csv::Position::line);
            return Err(vec![
                Diagnostic::error("map-syntax", format!("merge list: {e}")).at(at(line, 1)),
            ]);
        }
    };
    if header.iter().all(|h| h.trim().is_empty()) {
        return Err(vec![
            Diagnostic::error("map-header", "the merge list is empty: no header line")
                .at(at(1, 1))
                .hint(format!("the first line must be `{expected}`")),
        ]);
    }
    let mut index = [0usize; 7];
    let mut missing = Vec::new();
    for (k, name) in MAP_COLUMNS.iter().enumerate() {
        match header.iter().position(|h| h.trim() == *name) {
            Some(i) => index[k] = i,
            None => missing.push(*name),
        }
    }
    if !missing.is_empty() {
        return Err(vec![
            Diagnostic::error(
                "map-header",
                format!(
                    "the merge list header lacks the column{} {}",
                    if missing.len() > 1 { "s" } else { "" },
                    missing.join(", ")
                ),
            )
            .at(at(1, 1))
            .hint(format!(
                "the first line must be `{expected}` (the layout of vn-commune-merge-2025.csv)"
            )),
        ]);
    }
    // End of the header: where the first record starts, or the end of the first line.
    let mut header_end = body.find('\n').map_or(body.len(), |i| i + 1);

    let mut errors: Vec<Diagnostic> = Vec::new();
    let mut rows: Vec<RawRow> = Vec::new();
    let mut pairs: HashMap<(String, String), u64> = HashMap::new();
    let mut more = 0usize;
    let mut first_record = true;
    // 1-based line of byte `counted`.
    let (mut line, mut counted) = (1u64, 0usize);
    // Index of the last row pushed while its end is not known yet.
    let mut open: Option<usize> = None;
    for record in reader.records() {
        let mut problem = |d: Diagnostic| {
            if errors.len() < MAX_ERRORS {
                errors.push(d);
            } else {
                more += 1;
            }
        };
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                problem(
                    Diagnostic::error("map-syntax", format!("merge list: {e}")).at(at(line, 1)),
                );
                continue;
            }
        };
        let Some(pos) = record.position() else {
            continue;
        };
        // The reader's line numbers skip blank lines; count them from the bytes instead.
        let mut start = usize::try_from(pos.byte())
            .unwrap_or(body.len())
            .min(body.len());
        start += body[start..].len() - body[start..].trim_start_matches(['\r', '\n']).len();
        line += body.as_bytes()[counted..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        counted = start;
        if first_record {
            header_end = start;
            first_record = false;
        }
        if let Some(i) = open.take() {
            rows[i].end = start;
        }
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if record.len() != header.len() {
            problem(
                Diagnostic::error(
                    "map-row",
                    format!(
                        "row has {} fields, the header has {}",
                        record.len(),
                        header.len()
                    ),
                )
                .at(at(line, 1))
                .hint("a name that contains a comma must be quoted: \"Phường A, B\""),
            );
            continue;
        }
        // Column of field i, counted in characters (exact for unquoted fields).
        let column = |i: usize| {
            1 + record
                .iter()
                .take(i)
                .map(|f| f.chars().count() + 1)
                .sum::<usize>()
        };
        let mut bad = false;
        let mut code = |k: usize, digits: usize| -> u32 {
            let s = record.get(index[k]).unwrap_or("").trim();
            let ok = !s.is_empty() && s.len() <= digits && s.bytes().all(|b| b.is_ascii_digit());
            match s.parse::<u32>() {
                Ok(n) if ok && n > 0 => n,
                _ => {
                    bad = true;
                    let what = if s.is_empty() {
                        format!("column {} is empty", MAP_COLUMNS[k])
                    } else {
                        format!("`{s}` in column {} is not a GSO code", MAP_COLUMNS[k])
                    };
                    problem(
                        Diagnostic::error("map-row", what)
                            .at(at(line, column(index[k])))
                            .hint(format!(
                                "a {} code is 1 to {digits} digits, not zero",
                                level_of(k)
                            )),
                    );
                    0
                }
            }
        };
        let old_province = code(0, 2);
        let old_district = code(1, 3);
        let old_commune = code(2, 5);
        let new_province = code(4, 2);
        let new_commune = code(5, 5);
        let mut name = |k: usize| -> String {
            let s = record.get(index[k]).unwrap_or("").trim();
            if s.is_empty() {
                bad = true;
                problem(
                    Diagnostic::error("map-row", format!("column {} is empty", MAP_COLUMNS[k]))
                        .at(at(line, column(index[k]))),
                );
            }
            s.to_owned()
        };
        let old_name = name(3);
        let new_name = name(6);
        if bad {
            continue;
        }
        let row = MergeRow {
            line,
            old_province,
            old_district,
            old_code: format!("{old_commune:05}"),
            old_name,
            new_province,
            new_code: format!("{new_commune:05}"),
            new_name,
        };
        let first = *pairs
            .entry((row.old_code.clone(), row.new_code.clone()))
            .or_insert(line);
        if first != line {
            problem(
                Diagnostic::error(
                    "map-duplicate",
                    format!(
                        "old commune {} → new commune {} appears twice",
                        row.old_code, row.new_code
                    ),
                )
                .at(at(line, 1))
                .related("first written here", at(first, 1))
                .hint("a split commune has one row per successor; remove the repeated row"),
            );
            continue;
        }
        open = Some(rows.len());
        rows.push(RawRow {
            row,
            start,
            end: body.len(),
        });
    }
    if more > 0
        && let Some(last) = errors.last_mut()
    {
        last.message
            .push_str(&format!(" (and {more} more problems not shown)"));
    }
    if errors.is_empty() {
        Ok((header_end, rows))
    } else {
        Err(errors)
    }
}

/// Warnings about a merge list that parsed: one GSO code written with different names (the
/// official list matched units by name, and some matches are doubtful). `path` is only used in the
/// locations.
pub fn lint_map(path: &Path, rows: &[MergeRow]) -> Vec<Diagnostic> {
    let at = |line: u64| Location {
        file: path.display().to_string(),
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: 1,
    };
    let mut out = Vec::new();
    let mut old_names: HashMap<&str, (&str, u64)> = HashMap::new();
    let mut new_names: HashMap<&str, (&str, u64)> = HashMap::new();
    for r in rows {
        for (names, code, name, side) in [
            (&mut old_names, &r.old_code, &r.old_name, "old"),
            (&mut new_names, &r.new_code, &r.new_name, "new"),
        ] {
            match names.get(code.as_str()) {
                Some(&(first, first_line)) if first != name => out.push(
                    Diagnostic::warning(
                        "map-inconsistent",
                        format!("{side} commune {code} is called `{name}` here but `{first}` on line {first_line}"),
                    )
                    .at(at(r.line))
                    .related("first named here", at(first_line))
                    .hint("one GSO code names one commune: check this row against the official lists"),
                ),
                Some(_) => {}
                None => {
                    names.insert(code, (name, r.line));
                }
            }
        }
    }
    out
}

fn level_of(column: usize) -> &'static str {
    match column {
        0 | 4 => "province",
        1 => "district",
        _ => "commune",
    }
}

/// The GSO code of the inventory's province: its only Region of level `province`.
pub fn province_code(inventory: &Inventory) -> Option<u32> {
    let mut provinces = inventory
        .regions
        .iter()
        .filter(|r| r.spec.level == RegionLevel::Province);
    let first = provinces.next()?;
    if provinces.next().is_some() {
        return None;
    }
    first.spec.code.trim().parse().ok()
}

// ---------------------------------------------------------------------------------------------
// The plan
// ---------------------------------------------------------------------------------------------

/// Which predecessor's prefix a merged commune keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// The predecessor whose site prefix has the most sub-allocations (segments) in the old
    /// ledger, so that the fewest LANs are renumbered; ties go to the lowest GSO code.
    #[default]
    Largest,
    /// The predecessor with the lowest GSO code.
    First,
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Policy::Largest => "largest",
            Policy::First => "first",
        })
    }
}

impl FromStr for Policy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "largest" => Ok(Policy::Largest),
            "first" => Ok(Policy::First),
            other => Err(format!(
                "unknown renumbering policy `{other}`; expected `largest` or `first`"
            )),
        }
    }
}

/// How to plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Which predecessor a successor inherits.
    pub policy: Policy,
    /// The day the new communes exist (the reform: 2025-07-01). Secondaries are held from it.
    pub effective: NaiveDate,
    /// Days the replaced prefixes stay routed after `effective`.
    pub drain_days: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            policy: Policy::default(),
            effective: reform_date(),
            drain_days: DEFAULT_DRAIN_DAYS,
        }
    }
}

impl Options {
    /// The last day of the drain window: `effective + drain_days`.
    pub fn release_after(&self) -> NaiveDate {
        self.effective
            .checked_add_days(Days::new(u64::from(self.drain_days)))
            .unwrap_or(NaiveDate::MAX)
    }
}

/// A predecessor's site prefix, as the old ledger has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OldPrefix {
    /// Old commune code (5 digits).
    pub code: String,
    /// Old commune name from the merge list, or the old site when the list does not name it.
    pub name: String,
    /// Owner in the old ledger (`Site/ubnd-…`).
    pub owner: String,
    /// The IPv6 site prefix.
    pub ipv6: IpNet,
    /// The IPv4 site prefix (dual-stack plans).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv4: Option<IpNet>,
    /// Sub-allocations (segments) inside it in the old ledger.
    pub segments: usize,
    /// Successor codes from the merge list (more than one: the commune was split).
    pub successors: Vec<String>,
}

/// Why a new commune gets a new prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NewReason {
    /// The merge list does not mention the commune.
    Unmapped,
    /// The merge list names predecessors, but none of them has a prefix in the old ledger.
    NoPredecessorInLedger,
    /// Every predecessor's prefix went to another successor.
    InheritedElsewhere,
}

impl NewReason {
    fn text(self) -> &'static str {
        match self {
            NewReason::Unmapped => "not in the merge list",
            NewReason::NoPredecessorInLedger => "no predecessor has a prefix in the old ledger",
            NewReason::InheritedElsewhere => "every predecessor's prefix went to another successor",
        }
    }
}

/// Where a new commune's site prefix comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PrefixSource {
    /// A predecessor's prefix, kept as it is.
    Inherited {
        /// The predecessor.
        from: OldPrefix,
        /// The new site pins this prefix (`spec.ipv6Prefix`): the choice was made by hand.
        pinned: bool,
    },
    /// The new site pins a prefix that is no predecessor's.
    Pinned {
        /// The pinned prefix.
        prefix: IpNet,
    },
    /// A new prefix, allocated by [`super::allocate`].
    New {
        /// Why.
        reason: NewReason,
    },
}

/// A predecessor prefix that stays routed by a successor during the drain window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Secondary {
    /// The predecessor.
    pub from: OldPrefix,
    /// Last day of the drain window; the prefix is released after it.
    pub release_after: NaiveDate,
}

/// One commune office of the new inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCommune {
    /// New commune code (5 digits).
    pub code: String,
    /// Display name of its region.
    pub name: String,
    /// Its commune-office site.
    pub site: String,
    /// Ledger key of its site prefix (`site/commune-<code>`).
    pub key: String,
    /// Predecessor codes from the merge list, whether or not they are in the old ledger.
    pub predecessors: Vec<String>,
    /// Where the site prefix comes from.
    pub prefix: PrefixSource,
    /// Predecessor prefixes it keeps routing until the end of the drain window.
    pub secondaries: Vec<Secondary>,
    /// The inherited predecessor's IPv4 prefix when it is kept too. It is not kept (and drains
    /// like a secondary while `allocate` gives a new one) when it lies outside the IPv4 roots of
    /// the new address plan or the new site pins another IPv4 prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv4_kept: Option<IpNet>,
}

/// An old prefix no successor in the new inventory takes; held until the end of the drain window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Orphan {
    /// The old commune.
    pub from: OldPrefix,
    /// Its successors in the merge list, none of which is in the new inventory.
    pub successors: Vec<String>,
    /// Last day it is held.
    pub release_after: NaiveDate,
}

/// A commune office of the new inventory that the merge list does not mention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnmappedNew {
    /// Commune code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Site.
    pub site: String,
}

/// Figures of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    /// Commune site prefixes in the old ledger (not held).
    pub old_communes: usize,
    /// Of those, the ones the merge list mentions.
    pub old_mapped: usize,
    /// Commune offices in the new inventory.
    pub new_communes: usize,
    /// Of those, the ones the merge list mentions.
    pub new_mapped: usize,
    /// New communes that inherit a predecessor's prefix.
    pub inherited: usize,
    /// New communes whose site pins a prefix that is no predecessor's.
    pub pinned: usize,
    /// New communes that need a new prefix.
    pub new_prefixes: usize,
    /// Inheriting communes that keep the predecessor's IPv4 prefix too.
    pub ipv4_kept: usize,
    /// Inheriting communes whose predecessor's IPv4 prefix drains instead (outside the new IPv4
    /// roots, or another one pinned).
    pub ipv4_drained: usize,
    /// Predecessor prefixes kept as secondaries during the drain window.
    pub secondaries: usize,
    /// Old prefixes held because no successor takes them (unmapped or orphaned).
    pub held: usize,
    /// Merge-list rows that touch neither inventory.
    pub rows_ignored: usize,
}

/// What happens to every commune prefix when the old communes become the new ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenumberPlan {
    /// Policy used.
    pub policy: Policy,
    /// Effective date.
    pub effective: NaiveDate,
    /// Drain window in days.
    pub drain_days: u32,
    /// Last day of the drain window.
    pub release_after: NaiveDate,
    /// Every commune office of the new inventory, by code.
    pub communes: Vec<NewCommune>,
    /// Old communes with a prefix that the merge list does not mention; held, never guessed.
    pub unmapped_old: Vec<OldPrefix>,
    /// Old communes whose successors are all missing from the new inventory; held.
    pub orphaned: Vec<Orphan>,
    /// New communes the merge list does not mention; they get a new prefix.
    pub unmapped_new: Vec<UnmappedNew>,
    /// Things an admin should look at (predecessors missing from the ledger, prefixes outside the
    /// new address plan, duplicate commune offices).
    pub warnings: Vec<String>,
    /// Figures.
    pub totals: Totals,
}

/// A commune office of the new inventory, as the planner needs it.
struct Office {
    code: String,
    name: String,
    site: String,
    key: String,
    v6_pin: Option<IpNet>,
    v4_pin: Option<IpNet>,
}

/// Plans the renumbering from the communes of `old` (a ledger computed for the old inventory) to
/// the commune offices of `new`, following the merge list `rows`.
///
/// Each successor inherits at most one predecessor prefix and each old prefix goes to at most
/// one successor (a split commune's prefix to one of its successors only). Successors are served
/// in code order, each taking the best free predecessor by `options.policy`; a successor whose
/// predecessors are all taken may take one from an earlier successor that has another free
/// predecessor to fall back on (augmenting paths), so no commune gets a new prefix when a
/// different choice would have given it an old one. A site that pins `spec.ipv6Prefix` to an old
/// commune's prefix inherits exactly that prefix (the way to overrule the policy by hand).
/// Every other predecessor prefix becomes a secondary on its lowest-coded successor in the new
/// inventory, released after `effective + drain_days`.
pub fn plan(old: &Ledger, new: &Inventory, rows: &[MergeRow], options: &Options) -> RenumberPlan {
    let release_after = options.release_after();
    let mut warnings = Vec::new();
    let graph = MergeGraph::of(rows);
    let olds = old_prefixes(old, &graph);
    let old_index = by_code(&olds, |o| &o.code);
    let offices = offices(new, &mut warnings);
    let office_index = by_code(&offices, |o| &o.code);
    let rows_ignored = rows_ignored(rows, &old_index, &office_index, &mut warnings);
    let owner = assign(&olds, &offices, &graph, &old_index, options.policy);
    let Leftovers {
        secondaries,
        unmapped_old,
        orphaned,
    } = leftovers(
        &olds,
        &owner,
        &graph,
        &office_index,
        offices.len(),
        release_after,
    );
    let inherits: HashMap<usize, usize> = owner.iter().map(|(&o, &n)| (n, o)).collect();
    let roots = Roots::of(new);

    let mut totals = Totals {
        old_communes: olds.len(),
        old_mapped: olds
            .iter()
            .filter(|o| graph.succs.contains_key(o.code.as_str()))
            .count(),
        new_communes: offices.len(),
        new_mapped: offices
            .iter()
            .filter(|o| graph.preds.contains_key(o.code.as_str()))
            .count(),
        rows_ignored,
        held: unmapped_old.len() + orphaned.len(),
        ..Totals::default()
    };
    let mut communes = Vec::with_capacity(offices.len());
    let mut unmapped_new = Vec::new();
    for (n, (office, secs)) in offices.into_iter().zip(secondaries).enumerate() {
        let listed = graph.preds.get(office.code.as_str());
        let from = inherits.get(&n).map(|&o| &olds[o]);
        let prefix = prefix_source(from, &office, listed, &old_index, &mut totals);
        let ipv4_kept = kept_ipv4(&prefix, &office, &roots, &mut totals, &mut warnings);
        totals.secondaries += secs.len();
        if listed.is_none() {
            unmapped_new.push(UnmappedNew {
                code: office.code.clone(),
                name: office.name.clone(),
                site: office.site.clone(),
            });
        }
        communes.push(NewCommune {
            predecessors: listed
                .map(|p| p.iter().map(|c| (*c).to_owned()).collect())
                .unwrap_or_default(),
            code: office.code,
            name: office.name,
            site: office.site,
            key: office.key,
            prefix,
            secondaries: secs,
            ipv4_kept,
        });
    }

    RenumberPlan {
        policy: options.policy,
        effective: options.effective,
        drain_days: options.drain_days,
        release_after,
        communes,
        unmapped_old,
        orphaned,
        unmapped_new,
        warnings,
        totals,
    }
}

/// The merge list as a graph: each new commune's predecessors, each old commune's successors,
/// and the old communes' names.
struct MergeGraph<'r> {
    old_names: HashMap<&'r str, &'r str>,
    /// New code → old codes.
    preds: BTreeMap<&'r str, BTreeSet<&'r str>>,
    /// Old code → new codes.
    succs: BTreeMap<&'r str, BTreeSet<&'r str>>,
}

impl<'r> MergeGraph<'r> {
    fn of(rows: &'r [MergeRow]) -> MergeGraph<'r> {
        let mut graph = MergeGraph {
            old_names: HashMap::new(),
            preds: BTreeMap::new(),
            succs: BTreeMap::new(),
        };
        for r in rows {
            graph.old_names.entry(&r.old_code).or_insert(&r.old_name);
            graph
                .preds
                .entry(&r.new_code)
                .or_default()
                .insert(&r.old_code);
            graph
                .succs
                .entry(&r.old_code)
                .or_default()
                .insert(&r.new_code);
        }
        graph
    }
}

/// Places by code.
fn by_code<T>(items: &[T], code: impl Fn(&T) -> &String) -> HashMap<&str, usize> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| (code(item).as_str(), i))
        .collect()
}

/// The old communes: active commune site prefixes in the old ledger, with their IPv4 prefix and
/// the number of segments inside, in key order.
fn old_prefixes(old: &Ledger, graph: &MergeGraph) -> Vec<OldPrefix> {
    let mut segments: HashMap<&str, usize> = HashMap::new();
    for e in old.entries.values() {
        if e.held.is_none()
            && let Some(code) = PoolRef::parse(&e.pool)
                .and_then(|p| p.segment_site())
                .and_then(commune_code)
        {
            *segments.entry(code).or_default() += 1;
        }
    }
    let mut olds = Vec::new();
    for (key, e) in &old.entries {
        let (Some(code), None, AllocValue::Prefix(v6)) = (commune_code(key), e.held, e.value)
        else {
            continue;
        };
        let ipv4 = old
            .entries
            .get(&commune_site_key(Family::V4, code))
            .filter(|e| e.held.is_none())
            .and_then(|e| e.value.prefix());
        let site = match Owner::parse(&e.owner) {
            Some(Owner {
                kind: OwnerKind::Site,
                name,
            }) => name,
            _ => &e.owner,
        };
        olds.push(OldPrefix {
            code: code.to_owned(),
            name: graph
                .old_names
                .get(code)
                .map_or_else(|| site.to_owned(), |n| (*n).to_owned()),
            owner: e.owner.clone(),
            ipv6: v6,
            ipv4,
            segments: segments.get(code).copied().unwrap_or(0),
            successors: graph
                .succs
                .get(code)
                .map(|s| s.iter().map(|c| (*c).to_owned()).collect())
                .unwrap_or_default(),
        });
    }
    olds
}

/// The commune code of a commune's IPv6 site key (`site/commune-<code>`).
fn commune_code(key: &str) -> Option<&str> {
    match LedgerKey::parse(key)? {
        LedgerKey::Site {
            family: Family::V6,
            site: SiteId::Commune(code),
        } => Some(code),
        _ => None,
    }
}

/// The key of commune `code`'s site prefix of `family`.
fn commune_site_key(family: Family, code: &str) -> String {
    LedgerKey::Site {
        family,
        site: SiteId::Commune(code),
    }
    .write()
}

/// The new communes: commune-office sites whose region is in the inventory, one per code (in
/// code order); the others are left out with a warning.
fn offices(new: &Inventory, warnings: &mut Vec<String>) -> Vec<Office> {
    let regions: HashMap<&str, (&str, &str)> = new
        .regions
        .iter()
        .map(|r| {
            (
                r.name(),
                (r.spec.code.as_str(), r.spec.display_name.as_str()),
            )
        })
        .collect();
    let mut offices: BTreeMap<String, Office> = BTreeMap::new();
    let mut sites: Vec<_> = new
        .sites
        .iter()
        .filter(|s| s.spec.role == SiteRole::CommuneOffice)
        .collect();
    sites.sort_by(|a, b| a.name().cmp(b.name()));
    for s in sites {
        let Some((code, name)) = regions.get(s.spec.region.as_str()) else {
            warnings.push(format!(
                "commune office {} lies in region `{}`, which is not in the new inventory; it is left out",
                s.name(),
                s.spec.region
            ));
            continue;
        };
        let code = normalise_code(code);
        if let Some(first) = offices.get(&code) {
            warnings.push(format!(
                "commune {code} has two commune offices, {} and {}; only {} is planned",
                first.site,
                s.name(),
                first.site
            ));
            continue;
        }
        offices.insert(
            code.clone(),
            Office {
                key: site_key(Some(&code), SiteRole::CommuneOffice, s.name()),
                code,
                name: (*name).to_owned(),
                site: s.name().to_owned(),
                v6_pin: s.spec.ipv6_prefix.map(|p| IpNet::V6(p.0)),
                v4_pin: s.spec.ipv4_prefix.map(|p| IpNet::V4(p.0)),
            },
        );
    }
    offices.into_values().collect()
}

/// Merge-list rows that touch neither inventory (counted), and rows whose predecessor has no
/// prefix in the old ledger although their successor is planned (warned about).
fn rows_ignored(
    rows: &[MergeRow],
    old_index: &HashMap<&str, usize>,
    office_index: &HashMap<&str, usize>,
    warnings: &mut Vec<String>,
) -> usize {
    let mut ignored = 0;
    for r in rows {
        let has_old = old_index.contains_key(r.old_code.as_str());
        let has_new = office_index.contains_key(r.new_code.as_str());
        if !has_old && !has_new {
            ignored += 1;
        } else if !has_old && has_new {
            warnings.push(format!(
                "merge list line {}: predecessor {} {} of {} {} has no prefix in the old ledger",
                r.line, r.old_code, r.old_name, r.new_code, r.new_name
            ));
        }
    }
    ignored
}

/// Which office inherits each old prefix (old → office): pins decide first, then each office in
/// code order takes its best free predecessor, or one an earlier office can do without.
fn assign(
    olds: &[OldPrefix],
    offices: &[Office],
    graph: &MergeGraph,
    old_index: &HashMap<&str, usize>,
    policy: Policy,
) -> HashMap<usize, usize> {
    let mut owner: HashMap<usize, usize> = HashMap::new();
    let mut pinned_to: HashMap<usize, usize> = HashMap::new(); // office → old
    let by_v6: HashMap<IpNet, usize> = olds.iter().enumerate().map(|(i, o)| (o.ipv6, i)).collect();
    for (n, office) in offices.iter().enumerate() {
        if let Some(pin) = office.v6_pin
            && let Some(&o) = by_v6.get(&pin)
            && !owner.contains_key(&o)
        {
            owner.insert(o, n);
            pinned_to.insert(n, o);
        }
    }
    let candidates = candidates(olds, offices, graph, old_index, &pinned_to, policy);
    for n in 0..offices.len() {
        if let Some(&o) = candidates[n].iter().find(|o| !owner.contains_key(o)) {
            owner.insert(o, n);
        } else if !candidates[n].is_empty() {
            let mut seen = HashSet::new();
            augment(n, &candidates, &mut owner, &mut seen);
        }
    }
    owner
}

/// The predecessors each unpinned office may inherit, best first by `policy` (none for pinned
/// offices, and none that a pin took).
fn candidates(
    olds: &[OldPrefix],
    offices: &[Office],
    graph: &MergeGraph,
    old_index: &HashMap<&str, usize>,
    pinned_to: &HashMap<usize, usize>,
    policy: Policy,
) -> Vec<Vec<usize>> {
    let rank = |o: usize| match policy {
        Policy::Largest => (Reverse(olds[o].segments), olds[o].code.clone()),
        Policy::First => (Reverse(0), olds[o].code.clone()),
    };
    offices
        .iter()
        .map(|office| {
            if office.v6_pin.is_some() {
                return Vec::new();
            }
            let mut c: Vec<usize> = graph
                .preds
                .get(office.code.as_str())
                .into_iter()
                .flatten()
                .filter_map(|p| old_index.get(p).copied())
                .filter(|o| !pinned_to.values().any(|p| p == o))
                .collect();
            c.sort_by_key(|&o| rank(o));
            c
        })
        .collect()
}

/// The old prefixes no office inherits.
struct Leftovers {
    /// Per office: predecessors it keeps routing as secondaries.
    secondaries: Vec<Vec<Secondary>>,
    /// Not in the merge list.
    unmapped_old: Vec<OldPrefix>,
    /// In it, but none of their successors is planned.
    orphaned: Vec<Orphan>,
}

/// Every old prefix not inherited: a secondary on its first successor in the new inventory, or
/// held (unmapped or orphaned).
fn leftovers(
    olds: &[OldPrefix],
    owner: &HashMap<usize, usize>,
    graph: &MergeGraph,
    office_index: &HashMap<&str, usize>,
    offices: usize,
    release_after: NaiveDate,
) -> Leftovers {
    let mut out = Leftovers {
        secondaries: vec![Vec::new(); offices],
        unmapped_old: Vec::new(),
        orphaned: Vec::new(),
    };
    for (o, prefix) in olds.iter().enumerate() {
        if owner.contains_key(&o) {
            continue;
        }
        match graph.succs.get(prefix.code.as_str()) {
            None => out.unmapped_old.push(prefix.clone()),
            Some(s) => match s.iter().find_map(|c| office_index.get(c)) {
                Some(&n) => out.secondaries[n].push(Secondary {
                    from: prefix.clone(),
                    release_after,
                }),
                None => out.orphaned.push(Orphan {
                    from: prefix.clone(),
                    successors: s.iter().map(|c| (*c).to_owned()).collect(),
                    release_after,
                }),
            },
        }
    }
    out
}

/// The roots of the new address plan, if it has one.
struct Roots {
    planned: bool,
    v6: Vec<Bits>,
    v4: Vec<Bits>,
}

impl Roots {
    fn of(new: &Inventory) -> Roots {
        let plan = new.address_plans.first().map(|p| &p.spec);
        Roots {
            planned: plan.is_some(),
            v6: plan
                .map(|p| {
                    p.ipv6_roots
                        .iter()
                        .map(|r| Bits::of(&IpNet::V6(r.0)))
                        .collect()
                })
                .unwrap_or_default(),
            v4: plan
                .map(|p| {
                    p.ipv4_roots
                        .iter()
                        .map(|r| Bits::of(&IpNet::V4(r.0)))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    fn inside(roots: &[Bits], p: &IpNet) -> bool {
        roots.iter().any(|r| r.contains(&Bits::of(p)))
    }
}

/// Where `office`'s prefix comes from: the predecessor it inherits, else its pin, else a new
/// one (and why), counted in `totals`.
fn prefix_source(
    inherited: Option<&OldPrefix>,
    office: &Office,
    listed: Option<&BTreeSet<&str>>,
    old_index: &HashMap<&str, usize>,
    totals: &mut Totals,
) -> PrefixSource {
    match (inherited, office.v6_pin) {
        (Some(from), pin) => {
            totals.inherited += 1;
            PrefixSource::Inherited {
                from: from.clone(),
                pinned: pin.is_some(),
            }
        }
        (None, Some(pin)) => {
            totals.pinned += 1;
            PrefixSource::Pinned { prefix: pin }
        }
        (None, None) => {
            totals.new_prefixes += 1;
            let reason = match listed {
                None => NewReason::Unmapped,
                Some(p) if p.iter().all(|c| !old_index.contains_key(c)) => {
                    NewReason::NoPredecessorInLedger
                }
                Some(_) => NewReason::InheritedElsewhere,
            };
            PrefixSource::New { reason }
        }
    }
}

/// The inherited predecessor's IPv4 prefix, when the office keeps it too: inside the new IPv4
/// roots, and not overruled by another IPv4 pin (else it drains). Warns about an inherited
/// IPv6 prefix outside the new roots.
fn kept_ipv4(
    prefix: &PrefixSource,
    office: &Office,
    roots: &Roots,
    totals: &mut Totals,
    warnings: &mut Vec<String>,
) -> Option<IpNet> {
    let PrefixSource::Inherited { from, .. } = prefix else {
        return None;
    };
    if roots.planned && !Roots::inside(&roots.v6, &from.ipv6) {
        warnings.push(format!(
            "{} {} inherits {} from {}, outside the IPv6 roots of the new address plan",
            office.code, office.name, from.ipv6, from.code
        ));
    }
    let v4 = from.ipv4?;
    if Roots::inside(&roots.v4, &v4) && office.v4_pin.is_none_or(|pin| pin == v4) {
        totals.ipv4_kept += 1;
        Some(v4)
    } else {
        totals.ipv4_drained += 1;
        None
    }
}

/// Finds an augmenting path from office `n` (Kuhn's algorithm), trying candidates in policy order.
fn augment(
    n: usize,
    candidates: &[Vec<usize>],
    owner: &mut HashMap<usize, usize>,
    seen: &mut HashSet<usize>,
) -> bool {
    for &o in &candidates[n] {
        if !seen.insert(o) {
            continue;
        }
        let free = match owner.get(&o) {
            None => true,
            Some(&m) => augment(m, candidates, owner, seen),
        };
        if free {
            owner.insert(o, n);
            return true;
        }
    }
    false
}

/// A region code as the ledger keys write it: 5 digits when numeric.
fn normalise_code(code: &str) -> String {
    match code.trim().parse::<u32>() {
        Ok(n) => format!("{n:05}"),
        Err(_) => code.trim().to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// The seed ledger
// ---------------------------------------------------------------------------------------------

/// Key of a secondary IPv6 prefix: `site-secondary/commune-<new>/<old>`.
pub fn secondary_key(new_code: &str, old_code: &str) -> String {
    draining_key(
        Family::V6,
        Draining::Secondary {
            new: new_code,
            old: old_code,
        },
    )
}

/// Key of a secondary IPv4 prefix: `site-v4-secondary/commune-<new>/<old>`.
pub fn secondary_v4_key(new_code: &str, old_code: &str) -> String {
    draining_key(
        Family::V4,
        Draining::Secondary {
            new: new_code,
            old: old_code,
        },
    )
}

/// Key of an old prefix no successor takes: `site-unmapped/commune-<old>`.
pub fn unmapped_key(old_code: &str) -> String {
    draining_key(Family::V6, Draining::Unmapped { old: old_code })
}

/// Key of the IPv4 prefix of an old commune no successor takes.
pub fn unmapped_v4_key(old_code: &str) -> String {
    draining_key(Family::V4, Draining::Unmapped { old: old_code })
}

fn draining_key(family: Family, what: Draining) -> String {
    LedgerKey::Draining { family, what }.write()
}

/// The commune and family of a commune's site prefix key (`site/commune-<code>`,
/// `site-v4/commune-<code>`).
fn commune_site(key: &str) -> Option<(Family, &str)> {
    match LedgerKey::parse(key)? {
        LedgerKey::Site {
            family,
            site: SiteId::Commune(code),
        } => Some((family, code)),
        _ => None,
    }
}

/// Whether an old-ledger entry belongs to a commune's site prefix or its segments: these are the
/// entries a renumbering rewrites.
fn is_commune_entry(key: &str, e: &Entry) -> bool {
    commune_site(key).is_some()
        || PoolRef::parse(&e.pool)
            .and_then(|p| p.segment_site())
            .and_then(commune_code)
            .is_some()
}

impl RenumberPlan {
    /// The entries the renumbering itself writes:
    ///
    /// - `site/commune-<new>` (and `site-v4/commune-<new>`): the inherited prefix, owned by the new
    ///   site, active;
    /// - `site-secondary/commune-<new>/<old>` (and `site-v4-secondary/…`): each secondary, owned by
    ///   the new site, held from the effective date until the end of the drain window;
    /// - `site-unmapped/commune-<old>` (and `site-v4-unmapped/…`): old prefixes no successor takes,
    ///   owned by the old site, held likewise.
    ///
    /// New and pinned prefixes are left to [`super::allocate`].
    pub fn seed_entries(&self) -> Ledger {
        let hold = Some(Hold {
            since: self.effective,
            release_after: self.release_after,
        });
        let mut out = Ledger::default();
        let mut put =
            |key: String, pool: PoolRef, value: IpNet, owner: &str, held: Option<Hold>| {
                out.entries.insert(
                    key,
                    Entry {
                        pool: pool.name(),
                        value: AllocValue::Prefix(value),
                        owner: owner.to_owned(),
                        pinned: false,
                        held,
                    },
                );
            };
        for c in &self.communes {
            let owner = Owner {
                kind: OwnerKind::Site,
                name: &c.site,
            }
            .to_string();
            if let PrefixSource::Inherited { from, .. } = &c.prefix {
                put(c.key.clone(), PoolRef::SiteV6, from.ipv6, &owner, None);
                match (from.ipv4, c.ipv4_kept) {
                    (Some(v4), Some(kept)) if v4 == kept => {
                        put(site_v4_key(&c.key), PoolRef::SiteV4, v4, &owner, None);
                    }
                    // Outside the new IPv4 roots, or another one pinned: it drains like a secondary.
                    (Some(v4), _) => put(
                        secondary_v4_key(&c.code, &from.code),
                        PoolRef::SiteV4,
                        v4,
                        &owner,
                        hold,
                    ),
                    (None, _) => {}
                }
            }
            for s in &c.secondaries {
                put(
                    secondary_key(&c.code, &s.from.code),
                    PoolRef::SiteV6,
                    s.from.ipv6,
                    &owner,
                    hold,
                );
                if let Some(v4) = s.from.ipv4 {
                    put(
                        secondary_v4_key(&c.code, &s.from.code),
                        PoolRef::SiteV4,
                        v4,
                        &owner,
                        hold,
                    );
                }
            }
        }
        for o in self
            .unmapped_old
            .iter()
            .chain(self.orphaned.iter().map(|o| &o.from))
        {
            put(
                unmapped_key(&o.code),
                PoolRef::SiteV6,
                o.ipv6,
                &o.owner,
                hold,
            );
            if let Some(v4) = o.ipv4 {
                put(
                    unmapped_v4_key(&o.code),
                    PoolRef::SiteV4,
                    v4,
                    &o.owner,
                    hold,
                );
            }
        }
        out
    }

    /// A ledger for the new inventory, to run [`super::allocate`] on: every entry of `old` that is
    /// not a commune's site prefix or segment is carried over unchanged (data-center loopbacks,
    /// ASNs and links keep their values; what the new inventory no longer has is held by
    /// `allocate` for the plan's hold time), old commune prefixes that were already held stay
    /// held under `site-retired/commune-<old>`, and the [`Self::seed_entries`] are added.
    ///
    /// Segments are not carried: `allocate` carves them again inside the inherited prefixes (in
    /// the same order, so an office with the same LANs gets the same /64s), and the old ones lie
    /// inside prefixes that stay reserved.
    pub fn seed_ledger(&self, old: &Ledger) -> Ledger {
        let mut out = Ledger::default();
        for (key, e) in &old.entries {
            if !is_commune_entry(key, e) {
                out.entries.insert(key.clone(), e.clone());
            } else if e.held.is_some()
                && !matches!(PoolRef::parse(&e.pool), Some(PoolRef::Segment(_)))
                && let Some((family, old)) = commune_site(key)
            {
                out.entries
                    .insert(draining_key(family, Draining::Retired { old }), e.clone());
            }
        }
        out.entries.extend(self.seed_entries().entries);
        out
    }

    // -----------------------------------------------------------------------------------------
    // Renderers
    // -----------------------------------------------------------------------------------------

    /// The report for people: per new commune its prefix and secondaries, then what is unmapped,
    /// warnings and totals.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let t = &self.totals;
        let _ = writeln!(
            out,
            "Renumbering plan: {} commune offices from {} old commune prefixes",
            t.new_communes, t.old_communes
        );
        let _ = writeln!(
            out,
            "policy {} ({}), effective {}, drain {} days: secondaries are withdrawn and released after {}",
            self.policy,
            match self.policy {
                Policy::Largest => "predecessor with the most segments, then lowest code",
                Policy::First => "predecessor with the lowest code",
            },
            self.effective,
            self.drain_days,
            self.release_after
        );
        let v4 = |p: Option<IpNet>| p.map(|p| format!("  {p}")).unwrap_or_default();
        let old = |o: &OldPrefix| {
            let mut s = format!("from {} {}", o.code, o.name);
            let others: Vec<&str> = o.successors.iter().map(String::as_str).collect();
            if others.len() > 1 {
                let _ = write!(s, " (split between {})", others.join(", "));
            }
            s
        };
        for c in &self.communes {
            let _ = writeln!(out, "\n{} {}  [{}]", c.code, c.name, c.site);
            match &c.prefix {
                PrefixSource::Inherited { from, pinned } => {
                    let _ = writeln!(
                        out,
                        "  inherits   {}  {}{}",
                        from.ipv6,
                        old(from),
                        if *pinned { ", pinned by hand" } else { "" }
                    );
                    match (from.ipv4, c.ipv4_kept) {
                        (Some(v4), Some(_)) => {
                            let _ = writeln!(out, "             IPv4 {v4} kept");
                        }
                        (Some(v4), None) => {
                            let _ = writeln!(
                                out,
                                "             IPv4 {v4} drains until {} (outside the new IPv4 roots or another pinned); a new one is allocated",
                                self.release_after
                            );
                        }
                        (None, _) => {}
                    }
                }
                PrefixSource::Pinned { prefix } => {
                    let _ = writeln!(
                        out,
                        "  pinned     {prefix}  (spec.ipv6Prefix of the site, no predecessor's)"
                    );
                }
                PrefixSource::New { reason } => {
                    let _ = writeln!(
                        out,
                        "  new        (allocated by `hatang plan`): {}",
                        reason.text()
                    );
                }
            }
            for s in &c.secondaries {
                let _ = writeln!(
                    out,
                    "  secondary  {}{}  {}, until {}",
                    s.from.ipv6,
                    v4(s.from.ipv4),
                    old(&s.from),
                    s.release_after
                );
            }
        }
        let _ = writeln!(
            out,
            "\nUnmapped old communes: {} (not in the merge list; prefixes held until {}, never guessed)",
            self.unmapped_old.len(),
            self.release_after
        );
        for o in &self.unmapped_old {
            let _ = writeln!(out, "  {} {}  {}{}", o.code, o.name, o.ipv6, v4(o.ipv4));
        }
        if !self.orphaned.is_empty() {
            let _ = writeln!(
                out,
                "Old communes whose successors are not in the new inventory: {} (held until {})",
                self.orphaned.len(),
                self.release_after
            );
            for o in &self.orphaned {
                let _ = writeln!(
                    out,
                    "  {} {}  {}{}  → {}",
                    o.from.code,
                    o.from.name,
                    o.from.ipv6,
                    v4(o.from.ipv4),
                    o.successors.join(", ")
                );
            }
        }
        let _ = writeln!(
            out,
            "Unmapped new communes: {} (not in the merge list; they get a new prefix)",
            self.unmapped_new.len()
        );
        for u in &self.unmapped_new {
            let _ = writeln!(out, "  {} {}  [{}]", u.code, u.name, u.site);
        }
        if !self.warnings.is_empty() {
            let _ = writeln!(out, "Warnings: {}", self.warnings.len());
            for w in &self.warnings {
                let _ = writeln!(out, "  {w}");
            }
        }
        let _ = writeln!(
            out,
            "\nTotals: {} of {} old communes and {} of {} new communes are in the merge list.",
            t.old_mapped, t.old_communes, t.new_mapped, t.new_communes
        );
        let _ = writeln!(
            out,
            "  {} inherit a prefix, {} pinned, {} new; {} secondaries until {}; {} old prefixes held unmapped.",
            t.inherited, t.pinned, t.new_prefixes, t.secondaries, self.release_after, t.held
        );
        if t.ipv4_kept + t.ipv4_drained > 0 {
            let _ = writeln!(
                out,
                "  IPv4: {} inheriting communes keep the predecessor's prefix, {} get a new one while the old one drains.",
                t.ipv4_kept, t.ipv4_drained
            );
        }
        if t.rows_ignored > 0 {
            let _ = writeln!(
                out,
                "  {} merge-list rows touch neither inventory.",
                t.rows_ignored
            );
        }
        out
    }

    /// One CSV row per prefix decision: `inherit`, `pinned`, `new`, `secondary` and `held`
    /// (old prefixes no successor takes).
    pub fn to_csv(&self) -> String {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        let _ = w.write_record([
            "new_commune_code",
            "new_commune_name",
            "site",
            "action",
            "ipv6_prefix",
            "ipv4_prefix",
            "old_commune_code",
            "old_commune_name",
            "release_after",
            "note",
        ]);
        let text = |p: Option<IpNet>| p.map(|p| p.to_string()).unwrap_or_default();
        let release = self.release_after.to_string();
        for c in &self.communes {
            let row = |action: &str,
                       v6: String,
                       v4: String,
                       old: Option<&OldPrefix>,
                       release: &str,
                       note: &str| {
                [
                    c.code.clone(),
                    c.name.clone(),
                    c.site.clone(),
                    action.to_owned(),
                    v6,
                    v4,
                    old.map(|o| o.code.clone()).unwrap_or_default(),
                    old.map(|o| o.name.clone()).unwrap_or_default(),
                    release.to_owned(),
                    note.to_owned(),
                ]
            };
            let first = match &c.prefix {
                PrefixSource::Inherited { from, pinned } => row(
                    "inherit",
                    from.ipv6.to_string(),
                    text(c.ipv4_kept),
                    Some(from),
                    "",
                    if *pinned { "pinned by hand" } else { "" },
                ),
                PrefixSource::Pinned { prefix } => {
                    row("pinned", prefix.to_string(), String::new(), None, "", "")
                }
                PrefixSource::New { reason } => {
                    row("new", String::new(), String::new(), None, "", reason.text())
                }
            };
            let _ = w.write_record(first);
            if let PrefixSource::Inherited { from, .. } = &c.prefix
                && let (Some(v4), None) = (from.ipv4, c.ipv4_kept)
            {
                let note =
                    "IPv4 outside the new IPv4 roots or another pinned; a new one is allocated";
                let _ = w.write_record(row(
                    "secondary",
                    String::new(),
                    v4.to_string(),
                    Some(from),
                    &release,
                    note,
                ));
            }
            for s in &c.secondaries {
                let _ = w.write_record(row(
                    "secondary",
                    s.from.ipv6.to_string(),
                    text(s.from.ipv4),
                    Some(&s.from),
                    &release,
                    "",
                ));
            }
        }
        for (o, note) in self
            .unmapped_old
            .iter()
            .map(|o| (o, "not in the merge list".to_owned()))
            .chain(self.orphaned.iter().map(|o| {
                (
                    &o.from,
                    format!(
                        "successors {} not in the new inventory",
                        o.successors.join(" ")
                    ),
                )
            }))
        {
            let _ = w.write_record([
                String::new(),
                String::new(),
                String::new(),
                "held".to_owned(),
                o.ipv6.to_string(),
                text(o.ipv4),
                o.code.clone(),
                o.name.clone(),
                release.clone(),
                note,
            ]);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// The plan as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the plan serialises") + "\n"
    }
}
