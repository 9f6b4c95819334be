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

use serde::Serialize;

/// One normalized line: the block headers it is nested in, then the line.
pub type Path = Vec<String>;

/// Lines that never count: banners, terminators and FRR's version stamp.
fn ignored(line: &str) -> bool {
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

/// Normalized lines of a configuration, in text order.
pub fn normalize(text: &str) -> Vec<Path> {
    let mut out = Vec::new();
    let mut stack: Vec<(usize, String)> = Vec::new();
    for raw in text.lines() {
        let indent = raw.len() - raw.trim_start().len();
        let line = raw.split_whitespace().collect::<Vec<_>>().join(" ");
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

/// How a line deviates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviationKind {
    /// Desired but not running.
    Missing,
    /// Running but not desired.
    Unexpected,
    /// Running with other values than desired.
    Changed,
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
            });
        }
    }
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
}
