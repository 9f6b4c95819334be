//! Compile + render every device of the nationwide inventory (10,749 devices; two edge routers
//! with 10,000+ BGP neighbours each). Needs `target/nationwide` and its ledger:
//! `cargo run --release -p xtask -- nationwide && hatang plan target/nationwide` (scripts/bench.sh).

use std::path::PathBuf;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use hatang_core::compile::compile;
use hatang_core::ipam::{LEDGER_FILE, Ledger};
use hatang_core::render::{Templates, render};
use hatang_core::validate::ValidateOptions;
use hatang_core::{LoadOptions, check};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bench(c: &mut Criterion) {
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
    let templates = Templates::builtin();
    let mut group = c.benchmark_group("nationwide");
    group.sample_size(10);
    group.bench_function("compile", |b| {
        b.iter(|| compile(&checked.loaded.inventory, &ledger).unwrap())
    });
    let models = compile(&checked.loaded.inventory, &ledger).unwrap();
    group.bench_function("render", |b| {
        b.iter(|| render(&models, &templates).unwrap())
    });
    group.bench_function("compile+render", |b| {
        b.iter(|| {
            render(
                &compile(&checked.loaded.inventory, &ledger).unwrap(),
                &templates,
            )
            .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
