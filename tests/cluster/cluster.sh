#!/usr/bin/env bash
# A real Kubernetes control plane on loopback for tests: etcd + kube-apiserver, with generated certificates,
# a static admin token (group system:masters) and RBAC authorization. Everything lives in one state dir.
#
# Usage:
#   tests/cluster/cluster.sh up [STATE_DIR]     start; prints `export ...` lines for eval (KUBECONFIG, ...)
#   tests/cluster/cluster.sh down [STATE_DIR]   stop both processes and remove the state dir (also after a failed up)
#   tests/cluster/cluster.sh restart-apiserver [STATE_DIR]   stop and start kube-apiserver only (same port)
#   tests/cluster/cluster.sh status [STATE_DIR]
# STATE_DIR defaults to $HATANG_CLUSTER_STATE for down/status/restart-apiserver; for up, to a new temp dir.
#
# Typical use:
#   eval "$(tests/cluster/cluster.sh up)"; trap 'tests/cluster/cluster.sh down' EXIT
#   kubectl get ns            # $HATANG_CLUSTER_BIN is on PATH after the eval
#
# In the state dir: kubeconfig (admin token), pki/ (ca.crt, ...), tokens.csv, env (the export lines),
# etcd.log, kube-apiserver.log, *.pid. Tokens: admin (system:masters) and a "nobody" user with no
# bindings, for RBAC checks (HATANG_CLUSTER_NOBODY_TOKEN).
# Environment: HATANG_CLUSTER_READY_TIMEOUT (seconds, default 90), plus what build.sh reads.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MARKER=.hatang-cluster
READY_TIMEOUT=${HATANG_CLUSTER_READY_TIMEOUT:-90}

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

state_arg() {
  local s=${1:-${HATANG_CLUSTER_STATE:-}}
  [[ -n "$s" ]] || die "no state dir: pass one or set HATANG_CLUSTER_STATE"
  printf '%s' "$s"
}

# A TCP port on 127.0.0.1 that nothing uses now (below the usual ephemeral range, so outgoing connections do
# not take it in the meantime). Start-up retries with new ports if one is taken after all.
# Sets the variable named $1 (not a subshell, so USED_PORTS keeps the ports already handed out).
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 12000 ))
    [[ " ${USED_PORTS:-} " == *" $p "* ]] && continue
    if command -v ss >/dev/null 2>&1; then
      [[ -z "$(ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null)" ]] || continue
    elif (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      continue
    fi
    USED_PORTS="${USED_PORTS:-} $p"
    printf -v "$1" '%s' "$p"
    return 0
  done
  die "no free port found"
}

# Is PID alive and one of ours (its command line names this state dir)? Guards against PID reuse.
ours() {
  local pid=$1 state=$2
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$state"
}

stop_pidfile() {
  local state=$1 name=$2 pidfile="$1/$2.pid" pid
  [[ -f "$pidfile" ]] || return 0
  pid=$(cat "$pidfile")
  if ours "$pid" "$state"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do ours "$pid" "$state" || break; sleep 0.1; done
    if ours "$pid" "$state"; then
      log "$name (pid $pid) ignored TERM; killing"
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do ours "$pid" "$state" || break; sleep 0.1; done
    fi
  fi
  rm -f "$pidfile"
}

gen_pki() {
  local state=$1 pki="$1/pki"
  mkdir -p "$pki"
  (
    cd "$pki"
    umask 077
    openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
    openssl req -x509 -new -key ca.key -sha256 -days 3 -subj "/CN=hatang-test-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -out ca.crt 2>/dev/null
    openssl ecparam -name prime256v1 -genkey -noout -out apiserver.key 2>/dev/null
    openssl req -new -key apiserver.key -subj "/CN=kube-apiserver" -out apiserver.csr 2>/dev/null
    cat >apiserver.ext <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
EOF
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3 -sha256 \
      -extfile apiserver.ext -out apiserver.crt 2>/dev/null
    # Service-account token signing key pair.
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key 2>/dev/null
    openssl pkey -in sa.key -pubout -out sa.pub 2>/dev/null
    rm -f apiserver.csr ca.srl
  ) || die "certificate generation failed"
  local admin nobody
  admin=$(openssl rand -hex 24)
  nobody=$(openssl rand -hex 24)
  (umask 077; printf '%s,admin,admin-uid,"system:masters"\n%s,nobody,nobody-uid\n' "$admin" "$nobody" >"$state/tokens.csv")
}

token_of() { awk -F, -v u="$2" '$2==u{print $1}' "$1/tokens.csv"; }

start_etcd() {
  local state=$1 bin=$2 client=$3 peer=$4
  mkdir -p "$state/etcd" && chmod 700 "$state/etcd"
  "$bin/etcd" --name hatang --data-dir "$state/etcd" \
    --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "hatang=http://127.0.0.1:$peer" --initial-cluster-state new \
    --unsafe-no-fsync --log-level warn \
    </dev/null >>"$state/etcd.log" 2>&1 &
  echo $! >"$state/etcd.pid"
}

wait_etcd() {
  local state=$1 client=$2 pid
  pid=$(cat "$state/etcd.pid")
  for _ in $(seq 1 $(( READY_TIMEOUT * 5 ))); do
    ours "$pid" "$state" || return 1
    curl -sf --max-time 2 "http://127.0.0.1:$client/health" 2>/dev/null | grep -q '"health":"true"' && return 0
    sleep 0.2
  done
  return 1
}

start_apiserver() {
  local state=$1 bin=$2 etcd_port=$3 port=$4
  "$bin/kube-apiserver" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$port" \
    --cert-dir="$state/pki" --tls-cert-file="$state/pki/apiserver.crt" --tls-private-key-file="$state/pki/apiserver.key" \
    --client-ca-file="$state/pki/ca.crt" \
    --etcd-servers="http://127.0.0.1:$etcd_port" \
    --token-auth-file="$state/tokens.csv" \
    --authorization-mode=Node,RBAC \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$state/pki/sa.pub" --service-account-signing-key-file="$state/pki/sa.key" \
    --service-cluster-ip-range=10.96.0.0/24 \
    --endpoint-reconciler-type=none \
    --profiling=false \
    </dev/null >>"$state/kube-apiserver.log" 2>&1 &
  echo $! >"$state/kube-apiserver.pid"
}

wait_apiserver() {
  local state=$1 port=$2 pid token
  pid=$(cat "$state/kube-apiserver.pid")
  token=$(token_of "$state" admin)
  for _ in $(seq 1 $(( READY_TIMEOUT * 4 ))); do
    ours "$pid" "$state" || return 1
    [[ "$(curl -s --max-time 3 --cacert "$state/pki/ca.crt" -H "Authorization: Bearer $token" \
      "https://127.0.0.1:$port/readyz" 2>/dev/null)" == ok ]] && return 0
    sleep 0.25
  done
  return 1
}

write_kubeconfig() {
  local state=$1 port=$2
  (umask 077; cat >"$state/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: hatang-test
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority-data: $(base64 -w0 <"$state/pki/ca.crt")
users:
- name: admin
  user:
    token: $(token_of "$state" admin)
- name: nobody
  user:
    token: $(token_of "$state" nobody)
contexts:
- name: hatang-test
  context: {cluster: hatang-test, user: admin}
- name: hatang-test-nobody
  context: {cluster: hatang-test, user: nobody}
current-context: hatang-test
EOF
  )
}

write_env() {
  local state=$1 bin=$2 port=$3
  cat >"$state/env" <<EOF
export HATANG_CLUSTER_STATE='$state'
export HATANG_CLUSTER_BIN='$bin'
export HATANG_CLUSTER_SERVER='https://127.0.0.1:$port'
export HATANG_CLUSTER_CA='$state/pki/ca.crt'
export HATANG_CLUSTER_TOKEN='$(token_of "$state" admin)'
export HATANG_CLUSTER_NOBODY_TOKEN='$(token_of "$state" nobody)'
export KUBECONFIG='$state/kubeconfig'
export PATH='$bin':"\$PATH"
EOF
}

tail_logs() {
  local state=$1 f
  for f in etcd kube-apiserver; do
    [[ -s "$state/$f.log" ]] || continue
    log "--- last lines of $f.log"
    tail -n 25 "$state/$f.log" >&2
  done
}

cmd_up() {
  local state=${1:-} bin attempt etcd_client etcd_peer api ok=0
  local tool
  for tool in openssl curl base64; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (Debian: apt-get install -y openssl curl)"
  done
  bin=$("$HERE/build.sh") || die "build failed"
  if [[ -z "$state" ]]; then
    state=$(mktemp -d "${TMPDIR:-/tmp}/hatang-cluster.XXXXXX")
  else
    mkdir -p "$state"
    [[ -z "$(ls -A "$state")" || -f "$state/$MARKER" ]] || die "$state is not empty and not a cluster state dir"
  fi
  state=$(cd "$state" && pwd)
  touch "$state/$MARKER"
  log "state dir $state"
  gen_pki "$state"

  for attempt in 1 2 3; do
    USED_PORTS=""
    free_port etcd_client; free_port etcd_peer
    start_etcd "$state" "$bin" "$etcd_client" "$etcd_peer"
    if ! wait_etcd "$state" "$etcd_client"; then
      log "etcd did not become healthy (attempt $attempt)"; tail_logs "$state"
      stop_pidfile "$state" etcd; rm -rf "$state/etcd"; continue
    fi
    free_port api
    start_apiserver "$state" "$bin" "$etcd_client" "$api"
    if ! wait_apiserver "$state" "$api"; then
      log "kube-apiserver did not become ready within ${READY_TIMEOUT}s (attempt $attempt)"; tail_logs "$state"
      stop_pidfile "$state" kube-apiserver; stop_pidfile "$state" etcd; rm -rf "$state/etcd"; continue
    fi
    ok=1; break
  done
  [[ $ok == 1 ]] || die "control plane did not start; state left in $state for inspection (run: $0 down $state)"

  echo "$etcd_client $etcd_peer $api" >"$state/ports"
  write_kubeconfig "$state" "$api"
  write_env "$state" "$bin" "$api"
  log "ready: kube-apiserver https://127.0.0.1:$api (etcd 127.0.0.1:$etcd_client), kubeconfig $state/kubeconfig"
  cat "$state/env"
}

cmd_down() {
  local state
  state=$(state_arg "${1:-}")
  [[ -d "$state" ]] || { log "$state: already gone"; return 0; }
  state=$(cd "$state" && pwd)
  [[ -f "$state/$MARKER" ]] || die "$state is not a cluster state dir (no $MARKER); not touching it"
  stop_pidfile "$state" kube-apiserver
  stop_pidfile "$state" etcd
  rm -rf "$state"
  log "down: removed $state"
}

cmd_restart_apiserver() {
  local state bin etcd_client api
  state=$(state_arg "${1:-}")
  state=$(cd "$state" && pwd)
  [[ -f "$state/$MARKER" && -f "$state/ports" && -f "$state/env" ]] || die "$state is not a running cluster"
  read -r etcd_client _ api <"$state/ports"
  bin=$(sed -n "s/^export HATANG_CLUSTER_BIN='\(.*\)'$/\1/p" "$state/env")
  stop_pidfile "$state" kube-apiserver
  start_apiserver "$state" "$bin" "$etcd_client" "$api"
  wait_apiserver "$state" "$api" || { tail_logs "$state"; die "kube-apiserver did not come back"; }
  log "kube-apiserver restarted on https://127.0.0.1:$api"
}

cmd_status() {
  local state name pid rc=0
  state=$(state_arg "${1:-}")
  for name in etcd kube-apiserver; do
    pid=$(cat "$state/$name.pid" 2>/dev/null || true)
    if ours "$pid" "$state"; then echo "$name: running (pid $pid)"; else echo "$name: not running"; rc=1; fi
  done
  return $rc
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down "$@" ;;
  restart-apiserver) shift; cmd_restart_apiserver "$@" ;;
  status) shift; cmd_status "$@" ;;
  *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
