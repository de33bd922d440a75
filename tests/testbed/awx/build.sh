#!/usr/bin/env bash
# Build what the lab's AWX needs, once, under $HOME/.cache/aibang-awx (not part of the lab: no lock needed):
#   venv/        Python 3.11 venv with AWX 24.6.1 (editable, from ../shared/vendor) and its pinned requirements
#   src/awx/     the unpacked AWX source, with patches/*.patch applied
#   bin/receptor receptor v1.4.8 built from the vendored archive (dependencies from the Go module proxy)
#   ee-venv/     the lab's execution environment: a venv with execution-environment.yml's pins (ansible-core,
#                ansible-runner, the ansible bundle) and the collection's run-time Python (meta/ee-requirements.txt)
# Each step is skipped when its stamp file exists and the inputs did not change.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vendor=${AWX_VENDOR_DIR:-$(cd "$here/../../../../../shared/vendor" 2>/dev/null && pwd || echo /work/shared/vendor)}
cache=${AWX_CACHE_DIR:-$HOME/.cache/aibang-awx}
mkdir -p "$cache/bin"
# shellcheck source=../versions.env
. "$here/../versions.env"
log() { printf '%s awx-build: %s\n' "$(date -u +%H:%M:%S)" "$*"; }

unpack_source() {
  # Cheap (seconds): re-done on every call so the patches in patches/ always apply to pristine sources.
  rm -rf "$cache/src/awx" "$cache/src/dab" && mkdir -p "$cache/src/awx" "$cache/src/dab"
  tar -xzf "$vendor/awx-$AWX_VERSION.tar.gz" -C "$cache/src/awx" --strip-components=1
  tar -xzf "$vendor/django-ansible-base-12139716.tar.gz" -C "$cache/src/dab" --strip-components=1
  for patch in "$here"/patches/*.patch; do
    [ -e "$patch" ] || continue
    patch -d "$cache/src/awx" -p1 --forward --quiet < "$patch"
  done
  rm -f "$cache/src/awx/awx/devonly.py"   # imports drf_yasg, a development-only dependency
  echo "$AWX_VERSION" > "$cache/src/awx/VERSION"
}

build_venv() {
  local stamp=$cache/venv/.installed inputs
  inputs=$(sha256sum < "$vendor/awx-$AWX_VERSION-requirements-pypi.txt" | cut -c1-16)
  unpack_source
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$inputs" ]; then log "venv up to date"; return; fi
  log "building the venv (about 5 min cold)"
  python3 -m venv --clear "$cache/venv"
  "$cache/venv/bin/pip" install --quiet --upgrade pip==24.3.1 setuptools==75.6.0 wheel==0.45.1
  SETUPTOOLS_SCM_PRETEND_VERSION_FOR_DJANGO_ANSIBLE_BASE=2024.7.1 \
    "$cache/venv/bin/pip" install --quiet -r "$vendor/awx-$AWX_VERSION-requirements-pypi.txt" \
    "$cache/src/dab[rest_filters,jwt_consumer,rbac,channel_auth,redis_client]"
  "$cache/venv/bin/pip" install --quiet --no-deps --no-build-isolation -e "$cache/src/awx"
  echo "$inputs" > "$stamp"
  log "venv ready"
}

build_receptor() {
  local version=$RECEPTOR_VERSION
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

build_ee_venv() {
  local repo stamp=$cache/ee-venv/.installed pins
  repo=$(cd "$here/../../.." && pwd)
  pins=$("$repo/.venv/bin/python" - "$repo" <<'PY'
import sys, yaml
repo = sys.argv[1]
ee = yaml.safe_load(open(repo + '/execution-environment.yml'))['dependencies']
wanted = [ee['ansible_core']['package_pip'], ee['ansible_runner']['package_pip']] + list(ee['python'])
wanted += [line.split('#')[0].strip() for line in open(repo + '/meta/ee-requirements.txt') if line.split('#')[0].strip()]
print(' '.join(wanted))
PY
)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$pins" ]; then log "ee-venv up to date"; return; fi
  log "building the lab execution environment venv: $pins"
  python3 -m venv --clear "$cache/ee-venv"
  # shellcheck disable=SC2086
  "$cache/ee-venv/bin/pip" install --quiet $pins
  echo "$pins" > "$stamp"
  log "ee-venv ready"
}

install_packages() {  # the bindep.txt entries tagged awx that are missing
  local missing=() pkg
  for pkg in $(awk '!/^#/ && /awx\]/ {print $1}' "$here/../../../bindep.txt"); do
    dpkg-query -W -f='${Status}' "$pkg" 2> /dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
}

case "${1:-all}" in
  venv) build_venv ;;
  receptor) build_receptor ;;
  ee) build_ee_venv ;;
  src) unpack_source ;;
  all) install_packages; build_venv; build_ee_venv; build_receptor ;;
  *) echo "usage: $0 [venv|ee|receptor|src|all]" >&2; exit 2 ;;
esac
