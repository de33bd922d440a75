#!/usr/bin/env bash
# Build the testbed's binaries from Go modules into a cache keyed by version; a second run reuses them.
# Test infrastructure only. Usage: build.sh [kubernetes|node|etcd|kwok|coredns ...] (default: all)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=/dev/null
source "$here/versions.env"
cache=${TESTBED_CACHE:-$HOME/.cache/aibang-gke-platform/testbed}
export GOFLAGS=-mod=mod CGO_ENABLED=0
command -v go >/dev/null || { echo "testbed build: Go is not installed (it is needed to build the control plane)" >&2; exit 1; }

log() { printf '%s testbed build: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# A throwaway module whose go.mod pins every k8s.io staging module to the matching v0.X.Y; prints its directory.
kubernetes_module() {
  local work gomod staging
  work=$(mktemp -d)
  gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  staging="v0.${K8S_VERSION#1.}"
  {
    echo "module aibang.local/testbed/kubernetes"
    echo
    echo "go $(go env GOVERSION | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/')"
    echo
    echo "require k8s.io/kubernetes v$K8S_VERSION"
    grep -E '^[[:space:]]*k8s\.io/[a-z0-9-]+ => \./staging/' "$gomod" | awk -v v="$staging" '{print "replace " $1 " => " $1 " " v}'
  } > "$work/go.mod"
  {
    printf 'package tools\n\nimport (\n'
    for command in "$@"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$command"; done
    printf ')\n'
  } > "$work/tools.go"
  (cd "$work" && go mod tidy >/dev/null)
  echo "$work"
}

# Build k8s.io/kubernetes commands into $1 with the release's version stamped in (else they report v0.0.0-master).
build_kubernetes_commands() {
  local out=$1 work version_flags package
  shift
  work=$(kubernetes_module "$@")
  version_flags="-X k8s.io/component-base/version.gitVersion=v$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1"
  version_flags+=" -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"
  version_flags+=" -X k8s.io/client-go/pkg/version.gitVersion=v$K8S_VERSION"
  mkdir -p "$out.tmp"
  (cd "$work" && for package in "$@"; do echo "k8s.io/kubernetes/cmd/$package"; done |
    xargs go build -trimpath -ldflags "-s -w $version_flags" -o "$out.tmp/")
  rm -rf "$work"
}

build_kubernetes() {
  local out="$cache/bin/kubernetes-$K8S_VERSION"
  [ -x "$out/kubectl" ] && return
  log "kubernetes $K8S_VERSION -> $out"
  build_kubernetes_commands "$out" kube-apiserver kube-controller-manager kube-scheduler kubectl
  rm -rf "$out" && mv "$out.tmp" "$out"
}

# The real node: kubelet and kube-proxy of the control plane's release, and the pause binary from its source tree
# (build/pause/linux/pause.c, linked statically: the pause image holds nothing else).
build_node() {
  local out="$cache/bin/kubernetes-node-$K8S_VERSION" source
  [ -x "$out/pause" ] && return
  log "kubelet, kube-proxy and pause $K8S_VERSION -> $out"
  build_kubernetes_commands "$out" kubelet kube-proxy
  source="$(go env GOMODCACHE)/k8s.io/kubernetes@v$K8S_VERSION/build/pause/linux/pause.c"
  gcc -Os -static -Wall -Werror -DVERSION="v$K8S_VERSION-aibang" -o "$out.tmp/pause" "$source"
  rm -rf "$out" && mv "$out.tmp" "$out"
}

build_etcd() {
  local out="$cache/bin/etcd-$ETCD_VERSION" work
  [ -x "$out/etcd" ] && return
  log "etcd $ETCD_VERSION -> $out"
  work=$(mktemp -d)
  cat > "$work/go.mod" <<GOMOD
module aibang.local/testbed/etcd

go $(go env GOVERSION | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/')

require go.etcd.io/etcd/server/v3 v$ETCD_VERSION
GOMOD
  cat > "$work/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$work" && go mod tidy >/dev/null && mkdir -p "$out.tmp" && go build -trimpath -ldflags "-s -w" -o "$out.tmp/etcd" .)
  mv "$out.tmp" "$out"
  rm -rf "$work"
}

build_go_install() {
  local name=$1 package=$2 version=$3 out="$cache/bin/$1-$3"
  [ -x "$out/$name" ] && return
  log "$name $version -> $out"
  mkdir -p "$out.tmp"
  GOBIN="$out.tmp" go install -trimpath -ldflags "-s -w" "$package@v$version"
  mv "$out.tmp" "$out"
}

# kwok runs no stages unless given some: keep the module's default ones (fast node and pod lifecycle) beside it.
kwok_stages() {
  local out="$cache/bin/kwok-$KWOK_VERSION/stages.yaml" stage_dir
  [ -s "$out" ] && return
  stage_dir="$(go env GOMODCACHE)/sigs.k8s.io/kwok@v$KWOK_VERSION/kustomize/stage"
  [ -d "$stage_dir" ] || go mod download "sigs.k8s.io/kwok@v$KWOK_VERSION"
  for file in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
              pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    echo "---"; cat "$stage_dir/$file"
  done > "$out.tmp"
  mv "$out.tmp" "$out"
}

components=("$@")
[ ${#components[@]} -eq 0 ] && components=(etcd kwok coredns kubernetes node)
for component in "${components[@]}"; do
  start=$(date +%s)
  case "$component" in
    kubernetes) build_kubernetes ;;
    node) build_node ;;
    etcd) build_etcd ;;
    kwok) build_go_install kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION" && kwok_stages ;;
    coredns) build_go_install coredns github.com/coredns/coredns "$COREDNS_VERSION" ;;
    *) echo "testbed build: unknown component $component" >&2; exit 2 ;;
  esac
  log "$component ready ($(( $(date +%s) - start ))s)"
done
