#!/usr/bin/env bash
# Build what the lab's AWX needs, once, under $HOME/.cache/aibang-awx (not part of the lab: no lock needed):
#   venv/        Python 3.11 venv with AWX 24.6.1 (editable, from ../shared/vendor) and its pinned requirements
#   src/awx/     the unpacked AWX source, with patches/*.patch applied
#   bin/receptor receptor v1.4.8 built from the vendored archive (dependencies from the Go module proxy)
# Each step is skipped when its stamp file exists and the inputs did not change.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vendor=${AWX_VENDOR_DIR:-$(cd "$here/../../../../../shared/vendor" 2>/dev/null && pwd || echo /work/shared/vendor)}
cache=${AWX_CACHE_DIR:-$HOME/.cache/aibang-awx}
mkdir -p "$cache/bin"
log() { printf '%s awx-build: %s\n' "$(date -u +%H:%M:%S)" "$*"; }

unpack_source() {
  # Cheap (seconds): re-done on every call so the patches in patches/ always apply to pristine sources.
  rm -rf "$cache/src/awx" "$cache/src/dab" && mkdir -p "$cache/src/awx" "$cache/src/dab"
  tar -xzf "$vendor/awx-24.6.1.tar.gz" -C "$cache/src/awx" --strip-components=1
  tar -xzf "$vendor/django-ansible-base-12139716.tar.gz" -C "$cache/src/dab" --strip-components=1
  for patch in "$here"/patches/*.patch; do
    [ -e "$patch" ] || continue
    patch -d "$cache/src/awx" -p1 --forward --quiet < "$patch"
  done
  rm -f "$cache/src/awx/awx/devonly.py"   # imports drf_yasg, a development-only dependency
  echo 24.6.1 > "$cache/src/awx/VERSION"
}

build_venv() {
  local stamp=$cache/venv/.installed inputs
  inputs=$(sha256sum < "$vendor/awx-24.6.1-requirements-pypi.txt" | cut -c1-16)
  unpack_source
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$inputs" ]; then log "venv up to date"; return; fi
  log "building the venv (about 5 min cold)"
  python3 -m venv --clear "$cache/venv"
  "$cache/venv/bin/pip" install --quiet --upgrade pip==24.3.1 setuptools==75.6.0 wheel==0.45.1
  SETUPTOOLS_SCM_PRETEND_VERSION_FOR_DJANGO_ANSIBLE_BASE=2024.7.1 \
    "$cache/venv/bin/pip" install --quiet -r "$vendor/awx-24.6.1-requirements-pypi.txt" \
    "$cache/src/dab[rest_filters,jwt_consumer,rbac,channel_auth,redis_client]"
  "$cache/venv/bin/pip" install --quiet --no-deps --no-build-isolation -e "$cache/src/awx"
  echo "$inputs" > "$stamp"
  log "venv ready"
}

build_receptor() {
  local version=1.4.8
  if [ -x "$cache/bin/receptor" ] && "$cache/bin/receptor" --version 2>/dev/null | grep -q "$version"; then
    log "receptor $version up to date"; return
  fi
  log "building receptor $version (about 4 min cold)"
  rm -rf "$cache/src/receptor" && mkdir -p "$cache/src/receptor"
  tar -xzf "$vendor/receptor-$version.tar.gz" -C "$cache/src/receptor" --strip-components=1
  (cd "$cache/src/receptor" && CGO_ENABLED=0 go build -trimpath \
     -ldflags "-X github.com/ansible/receptor/internal/version.Version=$version" \
     -o "$cache/bin/receptor" ./cmd/receptor-cl)
  log "receptor ready"
}

case "${1:-all}" in
  venv) build_venv ;;
  receptor) build_receptor ;;
  all) build_venv; build_receptor ;;
  *) echo "usage: $0 [venv|receptor|all]" >&2; exit 2 ;;
esac
