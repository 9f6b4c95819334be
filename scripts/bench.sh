#!/usr/bin/env bash
# Benchmarks recorded in docs/benchmarks.md: whole-process timings (hyperfine, /usr/bin/time) and
# criterion. Needs ../shared/data (the GSO lists) to generate the nationwide inventory.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v hyperfine >/dev/null 2>&1 || [ ! -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq hyperfine time >/dev/null
fi
cargo run --quiet --release -p xtask -- nationwide
cargo build --quiet --release -p hatang
echo "== inventory size"
du -sh target/nationwide
./target/release/hatang stats target/nationwide --today 2026-11-23 | sed -n '1,12p'
echo "== whole process: hatang validate (nationwide)"
hyperfine --warmup 2 --runs 15 \
  './target/release/hatang validate target/nationwide --today 2026-11-23'
echo "== peak memory"
for _ in 1 2 3; do
  /usr/bin/time -f '%e s wall, %M KB max RSS' ./target/release/hatang validate target/nationwide --today 2026-11-23 >/dev/null
done
echo "== criterion"
cargo bench --quiet -p hatang-core --bench load_validate -- --noplot
