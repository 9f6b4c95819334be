//! Compile + render every device of the nationwide inventory (10,749 devices; two edge routers
//! with 10,000+ BGP neighbours each). Needs `target/nationwide` and its ledger:
//! `cargo run --release -p xtask -- nationwide && hatang plan target/nationwide` (scripts/bench.sh).

use criterion::{Criterion, criterion_group, criterion_main};
use hatang_core::compile::compile;
use hatang_core::render::{Templates, render};

mod common;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bench(c: &mut Criterion) {
    let (checked, ledger) = common::planned_nationwide();
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
