#!/usr/bin/env bash
# The main job on the Hà Nội inventory: validate it, then print its figures.
# Usage: ./scripts/main-job.sh [INVENTORY]   (default inventories/hanoi)
set -euo pipefail
cd "$(dirname "$0")/.."
inventory="${1:-inventories/hanoi}"
cargo build --quiet --locked --release -p hatang
./target/release/hatang validate "$inventory"
./target/release/hatang stats "$inventory"
