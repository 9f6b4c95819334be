#!/usr/bin/env bash
# The main job on the Hà Nội inventory: validate it, plan its allocations against the committed
# ledger (allocations.lock.yaml), then print its figures and address-pool use.
# Usage: ./scripts/main-job.sh [INVENTORY]   (default inventories/hanoi)
set -euo pipefail
cd "$(dirname "$0")/.."
inventory="${1:-inventories/hanoi}"
cargo build --quiet --locked --release -p hatang
./target/release/hatang validate "$inventory"
./target/release/hatang plan "$inventory"
./target/release/hatang stats "$inventory"
./target/release/hatang ipam utilization "$inventory"
