//! What the benchmarks over the planned nationwide inventory share: the inventory, checked, and
//! its committed ledger (scripts/bench.sh generates and plans `target/nationwide`).

use std::path::PathBuf;

use chrono::NaiveDate;
use hatang_core::ipam::{LEDGER_FILE, Ledger};
use hatang_core::validate::ValidateOptions;
use hatang_core::{Checked, LoadOptions, check};

/// `target/nationwide` checked as of 2026-11-23, and its ledger.
pub(crate) fn planned_nationwide() -> (Checked, Ledger) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/nationwide");
    let ledger_path = dir.join(LEDGER_FILE);
    assert!(
        ledger_path.exists(),
        "run scripts/bench.sh (generates target/nationwide and plans it) first"
    );
    let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let checked = check(
        std::slice::from_ref(&dir),
        &LoadOptions::default(),
        &ValidateOptions::on(day),
    )
    .unwrap();
    let ledger = Ledger::parse(
        &ledger_path,
        &std::fs::read_to_string(&ledger_path).unwrap(),
    )
    .unwrap();
    (checked, ledger)
}
