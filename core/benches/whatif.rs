//! `whatif` on the nationwide inventory (10,749 devices, 21,494 circuits): the routing graph from
//! the compiled models, the single-failure search over every element, and one `--fail` (a hub)
//! recomputed on the whole network. Needs `target/nationwide` and its ledger (scripts/bench.sh).

use criterion::{Criterion, criterion_group, criterion_main};
use hatang_core::compile::compile;
use hatang_core::whatif::{Element, Network, spof, what_if};

mod common;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bench(c: &mut Criterion) {
    let (checked, ledger) = common::planned_nationwide();
    let inv = &checked.loaded.inventory;
    let models = compile(inv, &ledger).unwrap();
    let net = Network::new(inv, &models);
    let hub = Element::parse(&net, "device/hub-760").unwrap();
    let mut group = c.benchmark_group("nationwide-whatif");
    group.sample_size(10);
    group.bench_function("graph", |b| b.iter(|| Network::new(inv, &models)));
    group.bench_function("spof", |b| b.iter(|| spof(&net).unwrap()));
    group.bench_function("fail-hub", |b| b.iter(|| what_if(&net, &[hub]).unwrap()));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
