#!/usr/bin/env bash
# Runs every test of the project, installing what the tests need first.
# Usage: ./scripts/test.sh        (from anywhere; works on a fresh machine with rustup)
set -euo pipefail
cd "$(dirname "$0")/.."

# Toolchain components the checks use (rustup ships them; no-op when present).
if command -v rustup >/dev/null 2>&1; then
  rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi

echo "== cargo test (workspace)"
cargo test --workspace --locked --all-targets

echo "== doc tests"
cargo test --workspace --locked --doc

echo "== example inventories validate clean"
for inv in inventories/*/; do
  cargo run --quiet --locked -p hatang -- validate "$inv" --today 2026-11-23 --max-problems 20
done
