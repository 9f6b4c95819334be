#!/usr/bin/env bash
# The audit benchmark of issue 4 (docs/benchmarks.md): `hatang audit` against Ansible's
# `ansible -m command` fetching the same running configurations from the same lab routers (FRR
# and sshd in one network namespace each) over real SSH on loopback, side by side in one
# hyperfine run. Root only (the lab); several minutes; not run in CI.
#
#   sudo ./scripts/bench-audit.sh                 # 200 devices, 50 at once, 5 runs each (~25 min)
#   sudo DEVICES=50 RUNS=5 ./scripts/bench-audit.sh
#
# Needs the lab's Debian packages (docs/lab.md), python3-venv, ../shared/data (the GSO list the
# fleet is generated from) and PyPI for ansible-core (installed once into $ANSIBLE_VENV).
set -euo pipefail
cd "$(dirname "$0")/.."

DEVICES=${DEVICES:-200}
CONCURRENCY=${CONCURRENCY:-50}
RUNS=${RUNS:-5}
NAME=${NAME:-bench}                      # lab name: namespaces bench-<device>
TODAY=2026-11-23
FLEET=target/bench-fleet                 # management addresses 3fff:ab:b0:…, apart from other labs
WORK=target/bench-audit
STATE=/run/hatang-lab/$NAME
VENV=${ANSIBLE_VENV:-$HOME/.cache/hatang/ansible-venv}
HATANG=./target/release/hatang

if [ "$(id -u)" != 0 ]; then
  echo "bench-audit: needs root (network namespaces, FRR, sshd)" >&2
  exit 2
fi
if ! command -v hyperfine >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null
fi
if [ ! -x "$VENV/bin/ansible" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet ansible-core
fi

echo "== machine"
echo "nproc: $(nproc); $(lscpu | sed -n 's/^Model name: *//p'); kernel $(uname -r)"
free -g | sed -n 2p
"$VENV/bin/ansible" --version | sed -n 1p

echo "== build, fleet of $DEVICES devices, ledger, rendered configurations"
cargo build --quiet --release --locked -p hatang
cargo run --quiet --release --locked -p xtask -- bench-fleet --devices "$DEVICES" --out "$FLEET"
rm -f "$FLEET/allocations.lock.yaml"
$HATANG plan "$FLEET" --today $TODAY >/dev/null
rm -rf "$WORK" && mkdir -p "$WORK"
$HATANG render "$FLEET" --today $TODAY --out "$WORK/rendered" >/dev/null

lab() { $HATANG lab "$1" "$FLEET" --name "$NAME" --today $TODAY "${@:2}"; }
# 200 routers with BGP on every circuit need more IPv6 neighbour entries than the kernel's
# default table (gc_thresh3 = 1024, one table for all namespaces): past it, connections fail with
# "No route to host". Raised for the run, restored afterwards.
NEIGH=net.ipv6.neigh.default
SAVED_NEIGH=$(sysctl -n $NEIGH.gc_thresh1 $NEIGH.gc_thresh2 $NEIGH.gc_thresh3 | tr '\n' ' ')
cleanup() {
  echo "== lab down"
  lab down >/dev/null || echo "bench-audit: lab down failed; run: $HATANG lab down $FLEET --name $NAME" >&2
  read -r t1 t2 t3 <<<"$SAVED_NEIGH"
  sysctl -qw $NEIGH.gc_thresh1="$t1" $NEIGH.gc_thresh2="$t2" $NEIGH.gc_thresh3="$t3"
}
# KEEP_LAB=1 leaves the lab up afterwards (to look at it; `lab down` by hand).
[ "${KEEP_LAB:-0}" = 1 ] || trap cleanup EXIT
lab down >/dev/null # leftovers of an interrupted run
sysctl -qw $NEIGH.gc_thresh1=4096 $NEIGH.gc_thresh2=16384 $NEIGH.gc_thresh3=32768

# Each router starts with its rendered configuration (the lab keeps an existing frr.conf), so
# both tools fetch full configurations from a fleet that is in sync.
for dir in "$WORK"/rendered/*/; do
  device=$(basename "$dir")
  install -D -m 0640 "$dir/frr.conf" "/etc/frr/$NAME-$device/frr.conf"
done
echo "== lab up"
/usr/bin/time -f 'lab up: %e s wall' -o "$WORK/lab-up.time" \
  "$HATANG" lab up "$FLEET" --name "$NAME" --today $TODAY --jobs 8 --timeout 300 >"$WORK/lab-up.txt"
sed -n 1,8p "$WORK/lab-up.txt"
cat "$WORK/lab-up.time"

# Logins run the user's shell, and Debian's bash reads ~/.bashrc for commands over SSH; `lab up`
# hides the host's root ~/.bashrc inside each router's sshd (no router runs pyenv), for both tools.
free -m | sed -n 2p

# Ansible: the same hosts, user, key and known_hosts, strict host key checking, 50 forks.
# Fair to Ansible: pipelining on (no temporary files on the routers), no fact gathering (ad-hoc
# commands gather none), the system's OpenSSH (ControlPersist in one variant), Python found
# without probing.
python3 - "$STATE/overlay/hosts.yaml" "$WORK/hosts.ini" "$STATE" <<'EOF'
import sys, re
overlay, out, state = sys.argv[1:4]
hosts, name = [], None
for line in open(overlay):
    m = re.match(r"- name: (\S+)", line)
    if m:
        name = m.group(1)
    m = re.match(r"  address: (\S+)", line)
    if m and name:
        hosts.append((name, m.group(1)))
with open(out, "w") as f:
    f.write("[routers]\n")
    for n, a in hosts:
        f.write(f"{n} ansible_host={a}\n")
    f.write(f"""[routers:vars]
ansible_user=root
ansible_ssh_private_key_file={state}/id_ed25519
ansible_ssh_common_args=-o UserKnownHostsFile={state}/known_hosts -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes
ansible_python_interpreter=/usr/bin/python3
""")
print(f"{out}: {len(hosts)} hosts")
EOF
ansible_cfg() { # $1: file, $2: ssh_args
  cat >"$1" <<EOF
[defaults]
forks = $CONCURRENCY
host_key_checking = True
gathering = explicit
timeout = 60
[ssh_connection]
pipelining = True
ssh_args = $2
control_path_dir = $PWD/$WORK/cp
EOF
}
ansible_cfg "$WORK/ansible-persist.cfg" "-C -o ControlMaster=auto -o ControlPersist=120s"
ansible_cfg "$WORK/ansible-cold.cfg" "-C -o ControlMaster=no"
SHOW="vtysh -c 'show running-config'"
grep -qF "\"$SHOW\"" driver/src/platform.rs \
  || { echo "bench-audit: hatang's FRR command is no longer \`$SHOW\`" >&2; exit 1; }

# --timeout 60: on a loaded 2-core machine one `show running-config` can take over 10 s; Ansible
# has no limit on the command at all.
AUDIT="$HATANG audit $FLEET --lab-state $STATE --today $TODAY --concurrency $CONCURRENCY --timeout 60 -o json"
ANSIBLE="$VENV/bin/ansible routers -i $WORK/hosts.ini -f $CONCURRENCY -m command -a \"$SHOW\""

# FRR applies a router's configuration at start-up (`vtysh -b`); on a loaded machine that can
# stop short for the edges (thousands of lines). Such routers get their configuration again, so
# that both tools fetch a fleet in sync; what matters for the timing is that every device answers.
echo "== sanity: every device answers and is in sync"
for _ in 1 2 3; do
  $AUDIT >"$WORK/audit.json" && break
  drifting=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['summary'], file=sys.stderr); \
print(' '.join(d['device'] for d in r['devices'] if d['status'] == 'drift'))" "$WORK/audit.json")
  for device in $drifting; do
    vtysh -N "$NAME-$device" -f "$WORK/rendered/$device/frr.conf" >/dev/null 2>&1 &
  done
  wait
done
python3 - "$WORK/audit.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
print("hatang audit:", s)
sys.exit(1 if s["failed"] else 0)
EOF
ANSIBLE_CONFIG=$WORK/ansible-cold.cfg bash -c "$ANSIBLE" >"$WORK/ansible.out" 2>&1 || true
ok=$(grep -c ' | CHANGED | rc=0 >>$' "$WORK/ansible.out" || true)
echo "ansible: $ok of $DEVICES hosts returned the configuration"
[ "$ok" = "$DEVICES" ] || { grep -E ' \| (FAILED|UNREACHABLE)' "$WORK/ansible.out" | sed -n 1,5p; exit 1; }

echo "== side by side: $RUNS runs each"
hyperfine --warmup 1 --runs "$RUNS" --shell=bash --ignore-failure --export-json "$WORK/hyperfine.json" \
  -n "hatang audit" "$AUDIT >/dev/null" \
  -n "ansible (ControlPersist)" "ANSIBLE_CONFIG=$WORK/ansible-persist.cfg $ANSIBLE >/dev/null 2>&1" \
  -n "ansible (no ControlPersist)" "ANSIBLE_CONFIG=$WORK/ansible-cold.cfg $ANSIBLE >/dev/null 2>&1"
python3 - "$WORK/hyperfine.json" <<'EOF'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
h = res[0]
for r in res:
    print(f"{r['command']:28} median {r['median']:7.2f} s  range {r['min']:.2f}–{r['max']:.2f} s"
          f"  ratio {r['median'] / h['median']:5.1f}x"
          f"  own CPU {r['user'] + r['system']:6.2f} s")
EOF
