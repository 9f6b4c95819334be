#!/usr/bin/env bash
# Builds (or finds cached) the binaries of the test control plane: kube-apiserver and kubectl from the Go
# module k8s.io/kubernetes, etcd from go.etcd.io/etcd/server/v3, at pinned versions, using only `go` and the
# Go module proxy. Nothing is written in the repository: the wrapper modules, the binaries and a stamp live
# in the cache, ${HATANG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hatang}/cluster/<versions>/.
#
# Usage: tests/cluster/build.sh            prints the bin directory on stdout (progress goes to stderr)
#
# Environment (all optional):
#   HATANG_CACHE           cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/hatang)
#   HATANG_K8S_VERSION     k8s.io/kubernetes version (default v1.36.3); staging modules use v0.<minor>.<patch>
#   HATANG_ETCD_VERSION    go.etcd.io/etcd/server/v3 version (default v3.6.8, the one Kubernetes 1.36 pins)
#   HATANG_BUILD_JOBS      go build -p (default 2)
#   HATANG_REBUILD=1       ignore the cached binaries and build again
#
# Why a wrapper module: k8s.io/kubernetes requires its staging modules (k8s.io/api, k8s.io/client-go, ...)
# at the placeholder version v0.0.0 and points them at ./staging/src/... with replace directives, which Go
# ignores outside the main module. So `go install k8s.io/kubernetes/cmd/kube-apiserver@v1.36.3` fails; a
# throwaway main module that requires k8s.io/kubernetes and replaces each staging module with its published
# v0.36.x release builds it. etcd's server module has replace directives too (../api, ../pkg, ...), hence a
# second small wrapper for it.
set -euo pipefail

K8S_VERSION=${HATANG_K8S_VERSION:-v1.36.3}
ETCD_VERSION=${HATANG_ETCD_VERSION:-v3.6.8}
JOBS=${HATANG_BUILD_JOBS:-2}

log() { printf '[cluster/build] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Go >= 1.26 builds Kubernetes 1.36. A machine without it (or with an older one) gets the official
# toolchain from the Go module proxy (the same zip `GOTOOLCHAIN=auto` downloads), cached.
GO_MIN=${HATANG_GO_VERSION:-1.26.8}
go_ok() {
  command -v go >/dev/null 2>&1 || return 1
  local v
  v=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
  [ "$(printf '%s\n%s\n' "1.26" "$v" | sort -V | head -1)" = "1.26" ]
}
if ! go_ok; then
  TOOLCHAIN_DIR=${HATANG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hatang}/go-toolchain/go$GO_MIN
  if [ ! -x "$TOOLCHAIN_DIR/bin/go" ]; then
    command -v curl >/dev/null 2>&1 || die "Go >= 1.26 is missing and curl is not installed to fetch it"
    command -v unzip >/dev/null 2>&1 || python3 -c 'import zipfile' 2>/dev/null \
      || die "Go >= 1.26 is missing and neither unzip nor python3 can unpack it"
    proxy=$(printf '%s' "${GOPROXY:-https://proxy.golang.org}" | cut -d, -f1)
    [ "$proxy" = direct ] && proxy=https://proxy.golang.org
    arch=$(uname -m); case $arch in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac
    zip_url="$proxy/golang.org/toolchain/@v/v0.0.1-go$GO_MIN.linux-$arch.zip"
    log "fetching Go $GO_MIN from $zip_url"
    tmp=$(mktemp -d)
    curl -fsSL --retry 3 -o "$tmp/go.zip" "$zip_url" || die "cannot download $zip_url"
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$tmp/go.zip" "$tmp/x"
    mkdir -p "$(dirname "$TOOLCHAIN_DIR")"
    rm -rf "$TOOLCHAIN_DIR"
    mv "$tmp/x/golang.org/toolchain@v0.0.1-go$GO_MIN.linux-$arch" "$TOOLCHAIN_DIR"
    chmod +x "$TOOLCHAIN_DIR"/bin/* "$TOOLCHAIN_DIR"/pkg/tool/*/* 2>/dev/null || true
    rm -rf "$tmp"
  fi
  export PATH="$TOOLCHAIN_DIR/bin:$PATH" GOTOOLCHAIN=local
  go_ok || die "the Go toolchain in $TOOLCHAIN_DIR does not run"
  log "using $(go version)"
fi

if [[ ! "$K8S_VERSION" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]]; then
  die "HATANG_K8S_VERSION must look like v1.MINOR.PATCH, got '$K8S_VERSION'"
fi
STAGING_VERSION="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"
K8S_MINOR=${BASH_REMATCH[1]}

CACHE_ROOT=${HATANG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hatang}/cluster
KEY="k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}"
DEST="$CACHE_ROOT/$KEY"
BIN="$DEST/bin"
STAMP="$DEST/.complete"
BINARIES=(kube-apiserver kubectl etcd)

cached() {
  [[ -f "$STAMP" ]] || return 1
  local b
  for b in "${BINARIES[@]}"; do [[ -x "$BIN/$b" ]] || return 1; done
}

if [[ "${HATANG_REBUILD:-0}" != 1 ]] && cached; then
  log "cached: $BIN"
  echo "$BIN"
  exit 0
fi

mkdir -p "$CACHE_ROOT"
# One builder at a time per version set; others wait, then find the cache filled.
exec 9>"$CACHE_ROOT/.lock-$KEY"
if ! flock -n 9; then
  log "another build of $KEY is running; waiting for it"
  flock 9
fi
if [[ "${HATANG_REBUILD:-0}" != 1 ]] && cached; then
  log "cached: $BIN"
  echo "$BIN"
  exit 0
fi

started=$(date +%s)
log "building kube-apiserver, kubectl ${K8S_VERSION} (staging ${STAGING_VERSION}) and etcd ${ETCD_VERSION} into $DEST"
log "go: $(go env GOVERSION), GOPROXY=$(go env GOPROXY), GOMODCACHE=$(go env GOMODCACHE), GOCACHE=$(go env GOCACHE)"

rm -rf "$DEST"
mkdir -p "$DEST/src/k8s" "$DEST/src/etcd" "$DEST/bin.tmp"

# The wrapper modules must not see a go.work from the caller, and builds stay gentle on a shared machine.
export GOWORK=off
export GOFLAGS="${GOFLAGS:-} -p=${JOBS}"
export CGO_ENABLED=0
gocmd() { nice -n 10 go "$@"; }

# --- kube-apiserver and kubectl ------------------------------------------------------------------------------
cd "$DEST/src/k8s"
log "fetching k8s.io/kubernetes@${K8S_VERSION} (module zip is large; first time only)"
k8s_json=$(cd "$DEST/src" && go mod download -json "k8s.io/kubernetes@${K8S_VERSION}") \
  || die "could not download k8s.io/kubernetes@${K8S_VERSION}: $k8s_json"
k8s_gomod=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p' <<<"$k8s_json")
[[ -f "$k8s_gomod" ]] || die "no go.mod for k8s.io/kubernetes@${K8S_VERSION} in: $k8s_json"

# Every `k8s.io/X => ./staging/src/k8s.io/X` of Kubernetes' own go.mod becomes `k8s.io/X => k8s.io/X v0.N.P`.
staging=$(awk '/=>[[:space:]]*\.\/staging\/src\//{print $1}' "$k8s_gomod" | sort -u)
[[ -n "$staging" ]] || die "found no staging replace directives in $k8s_gomod"
{
  echo "// Generated by hatang tests/cluster/build.sh; a throwaway wrapper to build Kubernetes binaries."
  echo "module hatang.invalid/cluster/k8s"
  echo
  echo "go $(awk '$1=="go"{print $2; exit}' "$k8s_gomod")"
  echo
  echo "replace ("
  for m in $staging; do echo "	$m => $m ${STAGING_VERSION}"; done
  echo ")"
} >go.mod
log "wrapper go.mod: $(wc -l <go.mod) lines, $(wc -w <<<"$staging") staging modules replaced with ${STAGING_VERSION}"
gocmd get -tool "k8s.io/kubernetes/cmd/kube-apiserver@${K8S_VERSION}" "k8s.io/kubernetes/cmd/kubectl@${K8S_VERSION}" >&2

# Same version stamping as Kubernetes' hack/lib/version.sh, and the same tags and static linking as its
# release builds (hack/lib/golang.sh).
k8s_info=$(sed -n 's/^[[:space:]]*"Info": "\(.*\)",$/\1/p' <<<"$k8s_json")
k8s_date=$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$k8s_info" 2>/dev/null | sed 's/\.[0-9]*Z$/Z/')
ldflags="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  ldflags+=" -X ${pkg}.gitVersion=${K8S_VERSION} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${K8S_MINOR}"
  ldflags+=" -X ${pkg}.gitTreeState=archive -X ${pkg}.buildDate=${k8s_date:-1970-01-01T00:00:00Z}"
done
log "compiling kube-apiserver and kubectl (-p=${JOBS}); this is the slow part"
gocmd build -trimpath -tags selinux,notest,grpcnotrace -ldflags "all=${ldflags}" -o "$DEST/bin.tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl >&2

# --- etcd ---------------------------------------------------------------------------------------------------
cd "$DEST/src/etcd"
{
  echo "// Generated by hatang tests/cluster/build.sh; a throwaway wrapper to build etcd."
  echo "module hatang.invalid/cluster/etcd"
  echo
  echo "go $(go env GOVERSION | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/')"
} >go.mod
gocmd get -tool "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" >&2
log "compiling etcd"
gocmd build -trimpath -ldflags "-s -w" -o "$DEST/bin.tmp/etcd" go.etcd.io/etcd/server/v3 >&2

# --- check and publish ----------------------------------------------------------------------------------------
got=$("$DEST/bin.tmp/kube-apiserver" --version) || die "kube-apiserver does not run"
[[ "$got" == "Kubernetes ${K8S_VERSION}" ]] || die "kube-apiserver reports '$got', expected 'Kubernetes ${K8S_VERSION}'"
"$DEST/bin.tmp/kubectl" version --client >/dev/null || die "kubectl does not run"
got=$("$DEST/bin.tmp/etcd" --version | head -1) || die "etcd does not run"
[[ "$got" == "etcd Version: ${ETCD_VERSION#v}" ]] || die "etcd reports '$got', expected ${ETCD_VERSION#v}"

mv "$DEST/bin.tmp" "$BIN"
elapsed=$(( $(date +%s) - started ))
{
  echo "k8s.io/kubernetes ${K8S_VERSION}"
  echo "k8s.io staging ${STAGING_VERSION}"
  echo "go.etcd.io/etcd/server/v3 ${ETCD_VERSION}"
  echo "go $(go env GOVERSION)"
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) in ${elapsed}s"
} >"$STAMP"
log "done in ${elapsed}s: $(du -sh "$BIN" | cut -f1) of binaries in $BIN"
echo "$BIN"
