//! Audit: compare a device's running configuration with the rendered (desired) one.
//!
//! Both texts are normalized the same way ([`normalize`]): comments, blank lines, `!`, `exit…`,
//! `end`, FRR's `frr version`/`frr defaults` lines and the `show running-config` banner are
//! dropped, whitespace is collapsed, and every line becomes a *path*: the headers of the blocks
//! it sits in (by indentation) followed by the line itself (an empty `line vty`, which FRR does
//! not show, is dropped too). Paths are compared as multisets, so
//! the order of lines (within blocks and of blocks) does not matter. Deviations are lines
//! missing on the device, unexpected on it, or changed: a missing and an unexpected line in the
//! same block that differ only in some values (same first word and word count, at most half of
//! the words different; `hostname a` → `hostname b`; free-text settings such as `description`
//! pair whatever their text).

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::model::AcceptedDeviation;
pub use crate::model::DeviationKind;

/// One normalized line: the block headers it is nested in, then the line.
pub type Path = Vec<String>;

/// Lines that never count: banners, terminators and FRR's version stamp.
pub fn ignored(line: &str) -> bool {
    line.is_empty()
        || line.starts_with('!')
        || line.starts_with('#')
        || line == "end"
        || line == "exit"
        || line.starts_with("exit-")
        || line.starts_with("frr version")
        || line.starts_with("frr defaults")
        || line == "Building configuration..."
        || line == "Current configuration:"
}

/// A line with its indentation dropped and runs of whitespace made one space.
pub fn collapse(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Normalized lines of a configuration, in text order.
pub fn normalize(text: &str) -> Vec<Path> {
    let mut out = Vec::new();
    let mut stack: Vec<(usize, String)> = Vec::new();
    for raw in text.lines() {
        let indent = raw.len() - raw.trim_start().len();
        let line = collapse(raw);
        if ignored(&line) {
            continue;
        }
        while stack.last().is_some_and(|(d, _)| *d >= indent) {
            stack.pop();
        }
        let mut path: Path = stack.iter().map(|(_, t)| t.clone()).collect();
        path.push(line.clone());
        out.push(path);
        stack.push((indent, line));
    }
    // FRR omits an empty `line vty` block from its running configuration.
    let has_children = |i: usize| out.get(i + 1).is_some_and(|n: &Path| n.len() > 1);
    let empty_vty: Vec<usize> = (0..out.len())
        .filter(|&i| out[i] == ["line vty"] && !has_children(i))
        .collect();
    for i in empty_vty.into_iter().rev() {
        out.remove(i);
    }
    out
}

/// One deviation of a device from its desired configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deviation {
    /// Missing, unexpected or changed.
    pub kind: DeviationKind,
    /// Headers of the enclosing blocks (`["router bgp 65001", "address-family ipv6 unicast"]`).
    pub context: Vec<String>,
    /// The desired line (missing, changed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired: Option<String>,
    /// The running line (unexpected, changed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running: Option<String>,
    /// The inventory's acceptance of this deviation: in force (the deviation is accepted) or
    /// expired (it is drift again).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acceptance: Option<Acceptance>,
}

impl std::fmt::Display for Deviation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if self.context.is_empty() {
            String::new()
        } else {
            format!(" [{}]", self.context.join(" > "))
        };
        match (self.kind, &self.desired, &self.running) {
            (DeviationKind::Changed, Some(d), Some(r)) => write!(f, "changed{at}: `{r}` → `{d}`"),
            (DeviationKind::Missing, Some(d), _) => write!(f, "missing{at}: `{d}`"),
            (DeviationKind::Unexpected, _, Some(r)) => write!(f, "unexpected{at}: `{r}`"),
            _ => write!(f, "{:?}{at}", self.kind),
        }
    }
}

/// Paths of `a` not matched by paths of `b` (multiset difference), in `a`'s order.
fn minus(a: &[Path], b: &[Path]) -> Vec<Path> {
    let mut counts: HashMap<&Path, usize> = HashMap::new();
    for p in b {
        *counts.entry(p).or_default() += 1;
    }
    a.iter()
        .filter(|p| match counts.get_mut(p) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .cloned()
        .collect()
}

/// How many words differ, when two lines look like the same setting with other values.
fn value_distance(a: &str, b: &str) -> Option<usize> {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.split(' ').collect(), b.split(' ').collect());
    if a.len() != b.len() || a[0] != b[0] {
        return None;
    }
    let d = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    (d * 2 <= a.len()).then_some(d)
}

/// Settings whose whole rest of line is one value (`description primary uplink`).
const FREE_TEXT: &[&str] = &["description", "hostname", "banner", "password"];

fn pair_distance(a: &str, b: &str) -> Option<usize> {
    let first = |t: &str| t.split(' ').next().unwrap_or("").to_owned();
    if first(a) == first(b) && FREE_TEXT.contains(&first(a).as_str()) {
        return Some(1);
    }
    value_distance(a, b)
}

/// Deviations of `running` from `desired` (both raw configuration texts).
pub fn diff(desired: &str, running: &str) -> Vec<Deviation> {
    let (want, have) = (normalize(desired), normalize(running));
    let missing = minus(&want, &have);
    let unexpected = minus(&have, &want);
    // Pair missing and unexpected lines of the same block into changes, closest first.
    let mut candidates = Vec::new();
    for (i, m) in missing.iter().enumerate() {
        for (j, u) in unexpected.iter().enumerate() {
            let (mc, ml) = m.split_at(m.len() - 1);
            let (uc, ul) = u.split_at(u.len() - 1);
            if mc == uc
                && let Some(d) = pair_distance(&ml[0], &ul[0])
            {
                candidates.push((d, i, j));
            }
        }
    }
    candidates.sort();
    let mut pair_of_missing = vec![None; missing.len()];
    let mut used = vec![false; unexpected.len()];
    for (_, i, j) in candidates {
        if pair_of_missing[i].is_none() && !used[j] {
            pair_of_missing[i] = Some(j);
            used[j] = true;
        }
    }
    let mut out = Vec::new();
    for (i, m) in missing.iter().enumerate() {
        let (context, line) = m.split_at(m.len() - 1);
        out.push(Deviation {
            kind: match pair_of_missing[i] {
                Some(_) => DeviationKind::Changed,
                None => DeviationKind::Missing,
            },
            context: context.to_vec(),
            desired: Some(line[0].clone()),
            running: pair_of_missing[i].map(|j| unexpected[j].last().unwrap().clone()),
            acceptance: None,
        });
    }
    for (j, u) in unexpected.iter().enumerate() {
        if !used[j] {
            let (context, line) = u.split_at(u.len() - 1);
            out.push(Deviation {
                kind: DeviationKind::Unexpected,
                context: context.to_vec(),
                desired: None,
                running: Some(line[0].clone()),
                acceptance: None,
            });
        }
    }
    out
}

/// An inventory acceptance as the audit reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Acceptance {
    /// Position in the device's `spec.acceptedDeviations` (from 0).
    pub index: usize,
    /// Who accepted it.
    pub owner: String,
    /// Why.
    pub reason: String,
    /// Last day it holds.
    pub expires: NaiveDate,
    /// Change request or ticket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// Past its last day on the audit day: what it matches counts as drift.
    pub expired: bool,
}

impl Acceptance {
    fn of(index: usize, a: &AcceptedDeviation, today: NaiveDate) -> Self {
        Acceptance {
            index,
            owner: a.owner.clone(),
            reason: a.reason.clone(),
            expires: a.expires,
            ticket: a.ticket.clone(),
            expired: today > a.expires,
        }
    }
}

/// A device's deviations judged against the acceptances in its inventory entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Judgement {
    /// Deviations nobody accepted, and those accepted only until a day that has passed (they
    /// carry that expired acceptance).
    pub drift: Vec<Deviation>,
    /// Deviations accepted by an acceptance in force (carried along).
    pub accepted: Vec<Deviation>,
    /// Acceptances that matched no deviation: the device no longer deviates that way, or the
    /// entry does not say it as the audit does. Their owners should remove or correct them.
    pub unused: Vec<Acceptance>,
}

/// Whether `accepted` describes `deviation`: same kind, same blocks, same line (the rendered
/// line for `missing`, the running one otherwise), whitespace runs counted as one space.
pub fn matches(accepted: &AcceptedDeviation, deviation: &Deviation) -> bool {
    let line = match deviation.kind {
        DeviationKind::Missing => deviation.desired.as_deref(),
        DeviationKind::Unexpected | DeviationKind::Changed => deviation.running.as_deref(),
    };
    accepted.kind == deviation.kind
        && line.is_some_and(|l| l == collapse(&accepted.line))
        && accepted.block.len() == deviation.context.len()
        && accepted
            .block
            .iter()
            .zip(&deviation.context)
            .all(|(a, c)| collapse(a) == *c)
}

/// Sorts `deviations` into drift and accepted by the device's `acceptances` as of `today`
/// (an acceptance holds through its `expires` day). When several match, one in force wins.
pub fn judge(
    deviations: Vec<Deviation>,
    acceptances: &[AcceptedDeviation],
    today: NaiveDate,
) -> Judgement {
    let mut used = vec![false; acceptances.len()];
    let mut out = Judgement::default();
    for mut d in deviations {
        let mut found: Option<usize> = None;
        for (i, a) in acceptances.iter().enumerate() {
            if matches(a, &d) {
                used[i] = true;
                let in_force = today <= a.expires;
                let better = match found {
                    None => true,
                    Some(f) => in_force && today > acceptances[f].expires,
                };
                if better {
                    found = Some(i);
                }
            }
        }
        d.acceptance = found.map(|i| Acceptance::of(i, &acceptances[i], today));
        match &d.acceptance {
            Some(a) if !a.expired => out.accepted.push(d),
            _ => out.drift.push(d),
        }
    }
    out.unused = acceptances
        .iter()
        .enumerate()
        .filter(|(i, _)| !used[*i])
        .map(|(i, a)| Acceptance::of(i, a, today))
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DESIRED: &str = "! generated
frr version 8.4
frr defaults traditional
hostname r1
service integrated-vtysh-config
!
interface eth1
 description up
 ipv6 address 3fff::1/127
exit
!
router bgp 65001
 bgp router-id 10.0.0.1
 neighbor 3fff::2 remote-as 65002
 !
 address-family ipv6 unicast
  network 3fff:1::/48
 exit-address-family
exit
!
line vty
!
";

    #[test]
    fn running_config_with_banner_and_other_order_is_clean() {
        let running = "Building configuration...

Current configuration:
!
frr version 8.4.4
frr defaults traditional
hostname r1
service integrated-vtysh-config  
!
router bgp 65001
 bgp router-id 10.0.0.1
 neighbor 3fff::2 remote-as 65002
 !
 address-family ipv6 unicast
  network 3fff:1::/48
 exit-address-family
exit
!
interface eth1
 ipv6 address 3fff::1/127
 description up
exit
!
line vty
!
end
";
        assert_eq!(diff(DESIRED, running), vec![]);
    }

    #[test]
    fn changed_missing_and_unexpected_lines_with_their_blocks() {
        let running = DESIRED
            .replace("hostname r1", "hostname x")
            .replace("  network 3fff:1::/48\n", "")
            .replace(" description up\n", " description up\n shutdown\n");
        let d = diff(DESIRED, &running);
        assert_eq!(d.len(), 3, "{d:#?}");
        assert_eq!(d[0].kind, DeviationKind::Changed);
        assert_eq!(d[0].desired.as_deref(), Some("hostname r1"));
        assert_eq!(d[0].running.as_deref(), Some("hostname x"));
        assert_eq!(d[1].kind, DeviationKind::Missing);
        assert_eq!(
            d[1].context,
            ["router bgp 65001", "address-family ipv6 unicast"]
        );
        assert_eq!(d[2].kind, DeviationKind::Unexpected);
        assert_eq!(d[2].context, ["interface eth1"]);
        assert_eq!(d[2].running.as_deref(), Some("shutdown"));
        assert_eq!(d[0].to_string(), "changed: `hostname x` → `hostname r1`");
    }

    #[test]
    fn unrelated_lines_are_not_paired() {
        let d = diff("hostname a\n", "log syslog informational\n");
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].kind, DeviationKind::Missing);
        assert_eq!(d[1].kind, DeviationKind::Unexpected);
    }
    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn accept(kind: DeviationKind, block: &[&str], line: &str, expires: &str) -> AcceptedDeviation {
        AcceptedDeviation {
            kind,
            block: block.iter().map(|b| b.to_string()).collect(),
            line: line.to_owned(),
            owner: "noc-hanoi".to_owned(),
            reason: "provider maintenance".to_owned(),
            expires: day(expires),
            ticket: Some("CR-2026-118".to_owned()),
        }
    }

    /// Running = DESIRED with a changed hostname, a missing network and an extra shutdown.
    fn three_deviations() -> Vec<Deviation> {
        let running = DESIRED
            .replace("hostname r1", "hostname x")
            .replace("  network 3fff:1::/48\n", "")
            .replace(" description up\n", " description up\n shutdown\n");
        diff(DESIRED, &running)
    }

    #[test]
    fn acceptances_match_kind_block_and_line_with_spaces_collapsed() {
        let d = three_deviations();
        let (changed, missing, unexpected) = (&d[0], &d[1], &d[2]);
        use DeviationKind::*;
        let today = "2026-12-31";
        // `changed` names the running line; `missing` the rendered one.
        assert!(matches(&accept(Changed, &[], "hostname x", today), changed));
        assert!(!matches(
            &accept(Changed, &[], "hostname r1", today),
            changed
        ));
        assert!(matches(
            &accept(
                Missing,
                &["router  bgp 65001", " address-family ipv6 unicast"],
                "network   3fff:1::/48",
                today
            ),
            missing
        ));
        // The same line in another block, or without its block, is another line.
        assert!(!matches(
            &accept(Missing, &["router bgp 65001"], "network 3fff:1::/48", today),
            missing
        ));
        assert!(!matches(
            &accept(Unexpected, &[], "shutdown", today),
            unexpected
        ));
        assert!(matches(
            &accept(Unexpected, &["interface eth1"], "shutdown", today),
            unexpected
        ));
        // The kind must agree.
        assert!(!matches(
            &accept(Missing, &["interface eth1"], "shutdown", today),
            unexpected
        ));
    }

    #[test]
    fn acceptances_hold_through_their_last_day_then_the_deviation_is_drift_again() {
        let acceptances = [
            accept(DeviationKind::Changed, &[], "hostname x", "2026-11-23"),
            accept(
                DeviationKind::Unexpected,
                &["interface eth1"],
                "shutdown",
                "2026-11-22",
            ),
            accept(DeviationKind::Unexpected, &[], "log syslog", "2027-01-01"),
        ];
        let j = judge(three_deviations(), &acceptances, day("2026-11-23"));
        assert_eq!(j.accepted.len(), 1, "{j:#?}");
        assert_eq!(j.accepted[0].running.as_deref(), Some("hostname x"));
        let a = j.accepted[0].acceptance.as_ref().unwrap();
        assert_eq!((a.index, a.expired), (0, false));
        assert_eq!(a.owner, "noc-hanoi");
        assert_eq!(a.ticket.as_deref(), Some("CR-2026-118"));
        // The missing network was never accepted; the shutdown was, until yesterday.
        assert_eq!(j.drift.len(), 2, "{j:#?}");
        assert_eq!(j.drift[0].kind, DeviationKind::Missing);
        assert_eq!(j.drift[0].acceptance, None);
        let expired = j.drift[1].acceptance.as_ref().unwrap();
        assert_eq!((expired.index, expired.expired), (1, true));
        assert_eq!(expired.expires, day("2026-11-22"));
        // The syslog acceptance matched nothing: unused, and not expired.
        assert_eq!(j.unused.len(), 1);
        assert_eq!((j.unused[0].index, j.unused[0].expired), (2, false));

        // A day later the hostname is drift too.
        let j = judge(three_deviations(), &acceptances, day("2026-11-24"));
        assert!(j.accepted.is_empty(), "{j:#?}");
        assert_eq!(j.drift.len(), 3);
        assert!(j.drift[0].acceptance.as_ref().unwrap().expired);
    }

    #[test]
    fn an_acceptance_in_force_wins_over_an_expired_one_for_the_same_line() {
        let acceptances = [
            accept(DeviationKind::Changed, &[], "hostname x", "2026-01-31"),
            accept(DeviationKind::Changed, &[], "hostname  x", "2027-01-31"),
        ];
        let j = judge(three_deviations(), &acceptances, day("2026-11-23"));
        assert_eq!(j.accepted.len(), 1);
        assert_eq!(j.accepted[0].acceptance.as_ref().unwrap().index, 1);
        // The expired twin matched too, so it is not reported as unused.
        assert!(j.unused.is_empty(), "{j:#?}");
        assert_eq!(j.drift.len(), 2);
    }

    #[test]
    fn without_acceptances_every_deviation_is_drift() {
        let j = judge(three_deviations(), &[], day("2026-11-23"));
        assert_eq!(j.drift, three_deviations());
        assert!(j.accepted.is_empty() && j.unused.is_empty());
    }
}
