#!/usr/bin/env bash
# The local testbed: test infrastructure only. Usage: testbed.sh up|down|status|running (exit 0 when it runs)
#   gcp-fake-up / gcp-fake-down start or stop only the GCP API fake (the psc molecule scenario needs nothing else).
#   cloudsql-up starts Cloud SQL's stand-in (MariaDB) at each PSC endpoint the fake holds (after the deploy's gcp stage).
# Everything it (or inventories/local) starts keeps its pid file in $TESTBED_RUN; `down` stops them all by PID.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
run=${TESTBED_RUN:-/run/aibang-testbed}
python=${PYTHON:-$repo/.venv/bin/python}
target_address=203.0.113.50  # in the lab's internet namespace (internet.py): off loopback, which the egress guard denies
target_names="login.microsoftonline.com microsoft.com www.microsoft.com graph.microsoft.com example.org"
internal_name=loopback.microsoft.com  # an allowed name resolving to 127.0.0.1: the egress guard denies it

log() { echo "testbed: $*"; }
fail() { echo "testbed: $*" >&2; exit 1; }

running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

make_certificates() {
  [ -s "$run/target.pem" ] && return
  local sans
  sans=$(for name in $target_names; do printf 'DNS:%s,' "$name"; done)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 -subj "/CN=aibang testbed CA" \
    -keyout "$run/ca-key.pem" -out "$run/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=testbed target" \
    -keyout "$run/target-key.pem" -out "$run/target.csr" 2>/dev/null
  openssl x509 -req -in "$run/target.csr" -CA "$run/ca.pem" -CAkey "$run/ca-key.pem" -CAcreateserial -days 7 \
    -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "${sans%,}") -out "$run/target.pem" 2>/dev/null
}

start_target() {
  running "$run/target.pid" && return
  if ! "$python" "$here/target.py" --address "$target_address" --internet --ports 443,80 \
      --tls-cert "$run/target.pem" --tls-key "$run/target-key.pem" --daemon --pidfile "$run/target.pid"; then
    fail "the target did not start on $target_address:443,80 (in use? try: ip netns exec aibang-internet ss -ltnp)"
  fi
}

gcp_fake_listen=127.0.0.1:18443

# The GCP API fake (test double): an HTTPS proxy for *.googleapis.com; CA at $run/gcp-fake/ca.pem.
start_gcp_fake() {
  mkdir -p "$run/gcp-fake" && chmod 0755 "$run"
  running "$run/gcp-fake.pid" && return
  # exec: no shell stays behind holding the caller's stdout (a caller reading it to the end would wait forever)
  (cd "$repo" && exec nohup "$python" -m tests.testbed.gcp_fake --listen "$gcp_fake_listen" --state-dir "$run/gcp-fake" \
    --pidfile "$run/gcp-fake.pid" >"$run/gcp-fake/fake.log" 2>&1 </dev/null) &
  for _ in $(seq 100); do
    curl -sf "http://$gcp_fake_listen/_fake/health" >/dev/null 2>&1 && { log "GCP fake on $gcp_fake_listen (CA $run/gcp-fake/ca.pem)"; return; }
    sleep 0.1
  done
  fail "the GCP fake did not answer on $gcp_fake_listen: $(tail -5 "$run/gcp-fake/fake.log" 2>/dev/null)"
}

stop_gcp_fake() {
  local pid
  pid=$(cat "$run/gcp-fake.pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && log "stopped gcp-fake (pid $pid)"
  rm -rf "$run/gcp-fake.pid" "$run/gcp-fake"
  rmdir "$run" 2>/dev/null || true  # when the fake ran alone
}

up() {
  local tool
  for tool in squid containerd runc ctr iptables; do
    command -v "$tool" >/dev/null || fail "$tool is not installed: run 'make setup'"
  done
  mkdir -p "$run" && chmod 0755 "$run"
  # What the host looks like before anything changes it (the internet namespace below makes /run/netns).
  (cd "$repo" && TESTBED_RUN="$run" "$python" -m tests.testbed.host_state snapshot "$run/host-before.json")
  make_certificates
  printf '%s %s\n127.0.0.1 %s\n' "$target_address" "$target_names" "$internal_name" > "$run/hosts"
  start_target
  start_gcp_fake
  (cd "$repo" && "$python" -m tests.testbed.prometheus_lab up --run "$run" --target vm=127.0.0.1:9301) \
    || fail "Prometheus did not start (log: $run/prometheus.log)"
  log "up: target $target_address (TLS on 443 for: $target_names; HTTP on 80), CA $run/ca.pem, Squid hosts_file $run/hosts"
  "$here/build.sh"
  "$here/images.sh"
  (cd "$repo" && PYTHONPATH="$repo/.venv/collections" "$python" -m tests.testbed.cluster up) || fail "the control plane did not come up (logs: $run/logs)"
}

# The lab's internet namespace goes last: with it, /run/netns when the lab made it (tests/testbed/host_state.py).
internet_down() { (cd "$repo" && python3 -m tests.testbed.internet down); }

down() {
  [ -d "$run" ] || { internet_down; log "down: nothing running"; return; }
  (cd "$repo" && PYTHONPATH="$repo/.venv/collections" "$python" -m tests.testbed.cluster down) || true
  local pidfile pid
  for pidfile in "$run"/*.pid; do
    [ -e "$pidfile" ] || continue
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      log "stopped $(basename "$pidfile" .pid) (pid $pid)"
    fi
  done
  internet_down
  rm -rf --one-file-system "$run"
  log "down: removed $run and the internet namespace"
}

status() {
  local pidfile
  for pidfile in "$run"/*.pid; do
    [ -e "$pidfile" ] || continue
    if running "$pidfile"; then echo "$(basename "$pidfile" .pid): running (pid $(cat "$pidfile"))"; else echo "$(basename "$pidfile" .pid): stopped"; fi
  done
}

case "${1:-}" in
  running) running "$run/kube-apiserver.pid" ;;
  gcp-fake-up) start_gcp_fake ;;
  gcp-fake-down) stop_gcp_fake ;;
  cloudsql-up) cd "$repo" && PYTHONPATH="$repo/.venv/collections" "$python" -m tests.testbed.cloudsql_lab up ;;
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status|running|gcp-fake-up|gcp-fake-down|cloudsql-up" >&2; exit 2 ;;
esac
