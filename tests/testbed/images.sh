#!/usr/bin/env bash
# Build the testbed's container images locally, with no registry: OCI archives under $cache/images, each keyed by
# its inputs (rebuilt when they change) and recorded in images/<name>.json for cluster.py to import into containerd.
# Test infrastructure only. Usage: images.sh [pause|coredns|squid|squid-exporter|redis|probe|app ...] (default: all)
#   pause, coredns        one static binary each (build.sh builds them from the pinned sources)
#   squid, squid-exporter, redis, probe, app
#                         one Debian rootfs (mmdebstrap, the host's apt sources) with Debian's squid,
#                         prometheus-squid-exporter, redis-server, curl, dig, the MariaDB client and python3; each image is that layer with its
#                         own entrypoint, so containerd stores the layer once.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=/dev/null
source "$here/versions.env"
cache=${TESTBED_CACHE:-$HOME/.cache/aibang-gke-platform/testbed}
images="$cache/images"
bin="$cache/bin"
# Never pulled: the node's containerd sends every pull to a closed local port.
registry=aibang-testbed.local
debian_suite=bookworm
debian_packages=squid,prometheus-squid-exporter,redis-server,curl,bind9-dnsutils,mariadb-client,python3,ca-certificates,procps

log() { printf '%s testbed images: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() { echo "testbed images: $*" >&2; exit 1; }
for tool in umoci mmdebstrap; do command -v "$tool" >/dev/null || fail "$tool is not installed: run 'make setup'"; done

# The key of what is built from the given input files (an archive's also covers this script: the entrypoints).
key() { cat "$@" | sha256sum | cut -c1-16; }

record() {
  local name=$1 reference=$2 archive=$3
  printf '{"reference": "%s", "archive": "%s"}\n' "$reference" "$archive" > "$images/$name.json.tmp"
  mv "$images/$name.json.tmp" "$images/$name.json"
}

# layout ROOTFS: an OCI layout (cached beside ROOTFS) holding ROOTFS as one layer, tagged "base"; prints its path.
layout() {
  local rootfs=$1 layout
  layout="$rootfs-$(key "$rootfs.key").oci"  # the layer depends only on the rootfs
  if [ ! -s "$layout/index.json" ]; then
    rm -rf "$layout.tmp" "$rootfs"-*.oci
    umoci init --layout "$layout.tmp"
    umoci new --image "$layout.tmp:base"
    umoci insert --image "$layout.tmp:base" "$rootfs" /
    mv "$layout.tmp" "$layout"
  fi
  echo "$layout"
}

# pack NAME TAG ROOTFS ENTRYPOINT...: an OCI archive of ROOTFS's layer with that entrypoint, recorded for cluster.py.
pack() {
  local name=$1 tag=$2 rootfs=$3 base work archive config_args=() argument
  shift 3
  base=$(layout "$rootfs")
  archive="$images/$name-$(key "${BASH_SOURCE[0]}" "$rootfs.key").tar"
  work=$(mktemp -d)
  cp -a "$base" "$work/oci"
  for argument in "$@"; do config_args+=(--config.entrypoint "$argument"); done
  umoci config --image "$work/oci:base" --tag "$tag" "${config_args[@]}" --config.workingdir / \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --author aibang-testbed
  umoci rm --image "$work/oci:base"
  umoci gc --layout "$work/oci"
  tar -C "$work/oci" -cf "$archive.tmp" .
  rm -f "$images/$name"-????????????????.tar  # this image's other keys (16 characters), not squid-exporter's for squid
  mv "$archive.tmp" "$archive"
  rm -rf "$work"
  record "$name" "$registry/$name:$tag" "$archive"
}

# A rootfs with one static binary at /NAME (and the CA bundle for CoreDNS).
binary_image() {
  local name=$1 tag=$2 binary=$3 rootfs
  [ -x "$binary" ] || fail "$binary is missing: run tests/testbed/build.sh first"
  rootfs="$images/rootfs-$name"
  if [ "$(cat "$rootfs.key" 2>/dev/null)" != "$(key "$binary")" ]; then
    rm -rf "$rootfs" && mkdir -p "$rootfs/etc/ssl/certs"
    cp "$binary" "$rootfs/$name"
    cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/" 2>/dev/null || true
    key "$binary" > "$rootfs.key"
  fi
  built "$name" "$rootfs" && return
  log "$name -> $registry/$name:$tag"
  pack "$name" "$tag" "$rootfs" "/$name"
}

# The Debian rootfs for the packages and sample app this script names, in a folder of its own key (a checkout with
# other inputs, building at the same time, keeps its own); sets debian_root.
debian_rootfs() {
  local wanted
  wanted=$(echo "$debian_suite $debian_packages" | key - "$here/sample_app.py" /etc/apt/sources.list.d/debian.sources)
  debian_root="$images/rootfs-debian-$wanted"
  [ "$(cat "$debian_root.key" 2>/dev/null)" = "$wanted" ] && return
  log "Debian $debian_suite rootfs with $debian_packages"
  rm -rf "$debian_root" "$debian_root.tmp"
  mmdebstrap --quiet --variant=apt --include="$debian_packages" --format=directory \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --aptopt='Acquire::Languages "none"' \
    "$debian_suite" "$debian_root.tmp" - < /etc/apt/sources.list.d/debian.sources >&2
  rm -rf "$debian_root.tmp"/var/lib/apt/lists/* "$debian_root.tmp"/var/cache/apt/*
  install -D -m 0644 "$here/sample_app.py" "$debian_root.tmp/app/app.py"
  mv "$debian_root.tmp" "$debian_root"
  echo "$wanted" > "$debian_root.key"
}

built() {
  local name=$1 rootfs=$2 archive
  archive="$images/$name-$(key "${BASH_SOURCE[0]}" "$rootfs.key").tar"
  [ -s "$archive" ] && [ -s "$images/$name.json" ] && grep -q "\"$archive\"" "$images/$name.json"
}

debian_image() {
  local name=$1 tag=$2
  shift 2
  debian_rootfs
  built "$name" "$debian_root" && return
  log "$name -> $registry/$name:$tag"
  pack "$name" "$tag" "$debian_root" "$@"
}

mkdir -p "$images"
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(pause coredns squid squid-exporter redis probe app)
for name in "${names[@]}"; do
  start=$(date +%s)
  case "$name" in
    pause) binary_image pause "$K8S_VERSION" "$bin/kubernetes-node-$K8S_VERSION/pause" ;;
    coredns) binary_image coredns "$COREDNS_VERSION" "$bin/coredns-$COREDNS_VERSION/coredns" ;;
    squid) debian_image squid 5.7 /usr/sbin/squid ;;
    squid-exporter) debian_image squid-exporter 1.10.3 /usr/bin/prometheus-squid-exporter ;;
    redis) debian_image redis 7.0 /usr/bin/redis-server ;;
    probe) debian_image probe 1 /bin/sleep infinity ;;
    app) debian_image app 1 /usr/bin/python3 /app/app.py ;;
    *) fail "unknown image $name" ;;
  esac
  log "$name ready ($(( $(date +%s) - start ))s)"
done
