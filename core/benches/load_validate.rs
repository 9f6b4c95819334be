//! Load + validate the nationwide inventory (every commune of the 2024 GSO list with a CPE and two
//! circuits, a hub per district, two data centers). Generate it first:
//! `cargo run --release -p xtask -- nationwide` (writes target/nationwide).

use std::path::PathBuf;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use hatang_core::validate::{ValidateOptions, validate};
use hatang_core::{LoadOptions, load_paths};

// The same allocator as the `hatang` binary, so figures match whole-process runs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn nationwide() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/nationwide");
    assert!(
        dir.exists(),
        "{} is missing: run `cargo run --release -p xtask -- nationwide` first (scripts/bench.sh does)",
        dir.display()
    );
    dir
}

fn bench(c: &mut Criterion) {
    let dir = vec![nationwide()];
    let options = ValidateOptions::on(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
    let mut group = c.benchmark_group("nationwide");
    group.sample_size(10);
    group.bench_function("load", |b| {
        b.iter(|| load_paths(&dir, &LoadOptions::default()).unwrap())
    });
    let loaded = load_paths(&dir, &LoadOptions::default()).unwrap();
    assert!(!loaded.has_errors());
    group.bench_function("validate", |b| {
        b.iter(|| validate(&loaded.inventory, &loaded.locator(), &options))
    });
    group.bench_function("load+validate", |b| {
        b.iter(|| hatang_core::check(&dir, &LoadOptions::default(), &options).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
