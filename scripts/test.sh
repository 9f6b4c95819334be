#!/usr/bin/env bash
# Runs every test of the project, installing what the tests need first.
# Usage: ./scripts/test.sh        (from anywhere; works on a fresh machine with rustup)
set -euo pipefail
cd "$(dirname "$0")/.."

# Toolchain components the checks use (rustup ships them; no-op when present).
if command -v rustup >/dev/null 2>&1; then
  rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi

# The network lab tests (cli/tests/{lab,e2e,apply,audit,reliability,metro_lab}.rs, e2e/tests/operator_apply.rs) run FRR
# routers and OpenSSH sshd in network namespaces. Install what is missing (Debian/Ubuntu, as root; no-op when all is present).
lab_packages=(iproute2 util-linux frr frr-pythontools openssh-server openssh-client iputils-ping knot knot-dnsutils)
# cli/tests/report_html.rs opens the HTML report in Debian's headless Chromium (and fails without it).
lab_packages+=(chromium)
missing=()
for pkg in "${lab_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing for the lab tests: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "warning: the lab tests need ${missing[*]} (apt-get install as root)" >&2
  fi
fi

# The operator's cluster tests (operator/tests/{cluster,controller}.rs) run a real etcd and
# kube-apiserver built from Go modules (Go >= 1.26). Built once here, outside the repo, in
# ${HATANG_CACHE:-~/.cache/hatang}/cluster (a fresh machine takes ~16 min; cached: instant).
echo "== cluster harness (tests/cluster/build.sh)"
tests/cluster/build.sh >/dev/null

# Tests that break runs on purpose (a run killed mid-commit, a lab stopped after a step) need the
# test hooks of the `fault-injection` features; release builds never have them.
features=hatang/fault-injection,hatang-operator/fault-injection

# Tests that need root (labs: cli/tests/{lab,audit,e2e,reliability,metro_lab}.rs, e2e/tests/operator_apply.rs) are
# #[ignore = "needs root: …"]: as root they run here with --include-ignored (CI, `.ci/run`, is
# root); without root they are not run, and this says so at the end.
root_tests=(--include-ignored)
if [ "$(id -u)" != 0 ]; then
  root_tests=()
fi

echo "== cargo test (workspace: unit, integration, CLI and cluster tests${root_tests:+; root-only tests too})"
# Benchmarks are not run here: they need the generated nationwide inventory (scripts/bench.sh).
cargo test --workspace --locked --lib --bins --tests --features "$features" -- "${root_tests[@]}"

echo "== doc tests"
cargo test --workspace --locked --doc

echo "== example inventories validate clean"
for inv in inventories/*/; do
  cargo run --quiet --locked -p hatang -- validate "$inv" --today 2026-11-23 --max-problems 20
done

if [ "$(id -u)" != 0 ]; then
  echo "NOTE: the root-only tests (labs: cli/tests/{lab,audit,e2e}.rs, e2e/tests/operator_apply.rs)" >&2
  echo "      were NOT run: they need root. Run ./scripts/test.sh as root (CI does) to run them." >&2
fi
