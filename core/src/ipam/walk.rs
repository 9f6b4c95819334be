//! Step 1 of a plan: the ledger's entries against the requests, both sorted by key.
//!
//! Each entry is kept, repinned, moved, held, released or reactivated, and updated where it is.
//! A nationwide ledger has some 64,000 entries and the step is bound by reading them, so the
//! ledger is cut into runs of keys walked side by side; each run starts at the first request
//! of its first key, which is where a single walk would be, so the result is the same.

use rayon::prelude::*;

use std::cmp::Ordering;

use super::demand::{KeyHead, Request};
use super::ledger::{Entry, Hold};
use super::pools::Gathered;
use super::schema::previous_key;
use super::value::AllocValue;
use super::{Change, ChangeKind, as_previous, change};

/// What walking (part of) the ledger found.
#[derive(Default)]
pub(super) struct Walked {
    /// Changes to entries, in key order.
    pub changes: Vec<Change>,
    /// Entries kept as they were.
    pub kept: usize,
    /// Requests whose entry stays (the others are allocated afresh).
    pub matched: Vec<usize>,
    /// Requests allocated again although the ledger has their key (they moved), with the old
    /// value.
    pub moved_from: Vec<(usize, AllocValue)>,
    /// Keys leaving the ledger.
    pub leaving: Vec<String>,
    /// Old values of repinned or moved entries, held under [`previous_key`].
    pub previous: Vec<(String, Entry)>,
    /// Whether a pin changed (segments may have to follow their site).
    pub any_repinned: bool,
    /// Entries that stay unpinned or held: the only ones a new pin may conflict with (an entry
    /// kept for a pinned request holds that very pin).
    pub unpinned: usize,
    /// The values of the entries that stay, by pool (not those of `previous`): one part per
    /// run, each reserved for its run up front (growing them cost more than filling them).
    pub gathered: Vec<Gathered>,
}

impl Walked {
    fn append(mut self, mut other: Walked) -> Walked {
        self.changes.append(&mut other.changes);
        self.kept += other.kept;
        self.matched.append(&mut other.matched);
        self.moved_from.append(&mut other.moved_from);
        self.leaving.append(&mut other.leaving);
        self.previous.append(&mut other.previous);
        self.any_repinned |= other.any_repinned;
        self.unpinned += other.unpinned;
        self.gathered.append(&mut other.gathered);
        self
    }
}

/// Runs shorter than this are not worth a thread.
const RUN: usize = 8192;

/// Walks every entry of `entries` (sorted by key) against `requests` (sorted by key; of a key
/// requested twice, the last request counts).
pub(super) fn walk(
    entries: &mut [(&String, &mut Entry)],
    requests: &[&Request<'_>],
    today: chrono::NaiveDate,
    hold: Hold,
) -> Walked {
    let runs = entries
        .len()
        .div_ceil(RUN)
        .clamp(1, rayon::current_num_threads());
    let len = entries.len().div_ceil(runs).max(1);
    entries
        .par_chunks_mut(len)
        .map(|run| {
            let first = run.first().map_or("", |(k, _)| k.as_str());
            let at = requests.partition_point(|r| r.key < first);
            walk_run(run, requests, at, today, hold)
        })
        .reduce(Walked::default, Walked::append)
}

fn walk_run(
    run: &mut [(&String, &mut Entry)],
    requests: &[&Request<'_>],
    mut at: usize,
    today: chrono::NaiveDate,
    hold: Hold,
) -> Walked {
    let mut out = Walked::default();
    let mut gathered = Gathered::for_run(run);
    for (key, e) in run.iter_mut() {
        let key: &String = key;
        let head = KeyHead::of(key);
        let mut found = None;
        while let Some(r) = requests.get(at) {
            match r.head.cmp_keys(&head, r.key, key) {
                Ordering::Less => at += 1,
                Ordering::Equal => {
                    found = Some(at);
                    at += 1;
                }
                Ordering::Greater => break,
            }
        }
        let Some(index) = found else {
            match e.held {
                Some(h) if h.release_after < today => {
                    out.changes
                        .push(change(ChangeKind::Released, key, &e.owner, e.value, None));
                    out.leaving.push(key.clone());
                }
                Some(_) => {
                    out.kept += 1;
                    out.unpinned += 1;
                    gathered.add_named(&e.pool, e.value);
                }
                None => {
                    out.unpinned += 1;
                    out.changes
                        .push(change(ChangeKind::Held, key, &e.owner, e.value, None));
                    e.held = Some(hold);
                    gathered.add_named(&e.pool, e.value);
                }
            }
            continue;
        };
        let req = requests[index];
        if let Some(pin) = req.pin {
            if pin != e.value {
                out.changes.push(change(
                    ChangeKind::Repinned,
                    key,
                    req.owner(),
                    pin,
                    Some(e.value),
                ));
                out.previous
                    .push(as_previous(key, e, e.held.unwrap_or(hold)));
                // The pin may go back to a value this key held before.
                out.leaving.push(previous_key(key, &pin));
                e.value = pin;
                out.any_repinned = true;
            } else if e.held.is_some() {
                out.changes
                    .push(change(ChangeKind::Reactivated, key, req.owner(), pin, None));
            } else {
                out.kept += 1;
            }
            e.pinned = true;
            if !req.pool.is_named(&e.pool) {
                e.pool = req.pool.name();
            }
        } else if !req.pool.is_named(&e.pool) {
            // Allocated again in step 3, in the right pool.
            out.moved_from.push((index, e.value));
            out.previous
                .push(as_previous(key, e, e.held.unwrap_or(hold)));
            out.leaving.push(key.clone());
            continue;
        } else {
            if e.held.is_some() {
                out.changes.push(change(
                    ChangeKind::Reactivated,
                    key,
                    req.owner(),
                    e.value,
                    None,
                ));
            } else {
                out.kept += 1;
            }
            out.unpinned += 1;
            e.pinned = false;
        }
        e.held = None;
        if !req.owner().is(&e.owner) {
            e.owner = req.owner().to_string();
        }
        gathered.add(&req.pool, e.value);
        out.matched.push(index);
    }
    out.gathered.push(gathered);
    out
}
