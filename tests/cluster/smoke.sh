#!/usr/bin/env bash
# Smoke check of the loopback control plane: up, a few real requests, down. Exit code 0 only if all pass.
# Usage: tests/cluster/smoke.sh
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
state=$(mktemp -d "${TMPDIR:-/tmp}/hatang-cluster.XXXXXX")
trap '"$HERE/cluster.sh" down "$state"' EXIT

passed=0 failed=0
check() { # check NAME CMD... : passes when CMD exits 0
  local name=$1 out; shift
  if out=$("$@" 2>&1); then
    passed=$((passed + 1)); printf 'ok    %s\n' "$name"
  else
    failed=$((failed + 1)); printf 'FAIL  %s\n' "$name"; printf '%s\n' "$out" | sed 's/^/      /'
  fi
}
expect() { # expect WANT CMD... : CMD's stdout must equal WANT (stderr is shown only on a mismatch)
  local want=$1 got err; shift
  err=$(mktemp)
  got=$("$@" 2>"$err")
  if [[ "$got" != "$want" ]]; then echo "want '$want', got '$got'"; cat "$err"; rm -f "$err"; return 1; fi
  rm -f "$err"
}
http_code() { # http_code [curl args...] URL : prints the HTTP status
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$HATANG_CLUSTER_CA" "$@"
}
only_loopback() { # every listening socket of etcd and kube-apiserver is on 127.0.0.1
  local pid lines
  for pid in "$(cat "$state/etcd.pid")" "$(cat "$state/kube-apiserver.pid")"; do
    lines=$(ss -Htlnp 2>/dev/null | grep "pid=$pid,") || { echo "pid $pid listens on nothing?"; return 1; }
    echo "$lines" | awk '{print $4}'
    if echo "$lines" | awk '{print $4}' | grep -qv '^127\.0\.0\.1:'; then echo "pid $pid listens off loopback"; return 1; fi
  done
}

ms() { echo $(( $(date +%s%N) / 1000000 )); }
secs() { local d=$(( $(ms) - $1 )); printf '%d.%ds' $((d / 1000)) $((d % 1000 / 100)); }
started=$(ms)
envout=$("$HERE/cluster.sh" up "$state") || { echo "FAIL  cluster up"; echo "0 passed, 1 failed"; exit 1; }
eval "$envout"
echo "up in $(secs "$started") (state $state)"

check "kubectl get --raw /readyz is ok" expect ok kubectl get --raw /readyz
check "server version is $(kube-apiserver --version | cut -d' ' -f2)" \
  expect "$(kube-apiserver --version | cut -d' ' -f2)" \
  sh -c "kubectl get --raw /version | sed -n 's/.*\"gitVersion\": *\"\\([^\"]*\\)\".*/\\1/p'"
check "admin can do anything (auth can-i '*' '*' -A)" expect yes kubectl auth can-i '*' '*' --all-namespaces
check "RBAC on: user nobody cannot list namespaces" expect no kubectl --context hatang-test-nobody auth can-i list namespaces
check "create namespace hatang-smoke" kubectl create namespace hatang-smoke
check "read namespace hatang-smoke (Active)" expect Active kubectl get namespace hatang-smoke -o 'jsonpath={.status.phase}'
check "unauthenticated GET /api/v1/namespaces is refused (403 for system:anonymous)" \
  expect 403 http_code "$HATANG_CLUSTER_SERVER/api/v1/namespaces"
check "bad token is refused (401)" \
  expect 401 http_code -H "Authorization: Bearer not-a-token" "$HATANG_CLUSTER_SERVER/api/v1/namespaces"
check "nobody's real request is forbidden (403)" \
  expect 403 http_code -H "Authorization: Bearer $HATANG_CLUSTER_NOBODY_TOKEN" "$HATANG_CLUSTER_SERVER/api/v1/namespaces"
check "etcd and kube-apiserver listen only on 127.0.0.1" only_loopback
check "restart kube-apiserver" "$HERE/cluster.sh" restart-apiserver "$state"
check "namespace survives the restart" expect Active kubectl get namespace hatang-smoke -o 'jsonpath={.status.phase}'

trap - EXIT
check "cluster down removes the state dir" sh -c "'$HERE/cluster.sh' down '$state' && test ! -e '$state'"
echo "total $(secs "$started")"
echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
