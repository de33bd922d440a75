#!/usr/bin/env bash
# A real AWX for the lab:  awx.sh up | down | status
#   PostgreSQL and Redis from Debian on unix sockets only, AWX's API (uwsgi) on 127.0.0.1:$AWX_PORT, receptor on
#   127.0.0.1 and a control socket, the dispatcher and the callback receiver. Every process is recorded by PID in
#   $AWX_STATE_DIR/pids and stopped by PID. Jobs run through receptor's work-command runner-ns (see there) in the
#   venv built from execution-environment.yml's pins; AWX carries the two edits in patches/.
# Builds (venv, ee-venv, receptor, a migrated database to copy) are cached in $HOME/.cache/aibang-awx.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
# shellcheck source=../versions.env
. "$here/../versions.env"
cache=${AWX_CACHE_DIR:-$HOME/.cache/aibang-awx}
state=${AWX_STATE_DIR:-/run/aibang-awx}
port=${AWX_PORT:-18052}
receptor_port=${AWX_RECEPTOR_PORT:-18053}
admin_password=${AWX_ADMIN_PASSWORD:-aibang-lab-admin}
node=awx-lab
pg_bin=/usr/lib/postgresql/15/bin
# The mount point runner-ns binds each job's private data dir on (inside the job's own mount namespace).
runner_mount=/runner
log() { printf '%s awx: %s\n' "$(date -u +%H:%M:%S)" "$*"; }

awx_env() {
  export DJANGO_SETTINGS_MODULE=awx.settings.production AWX_SETTINGS_FILE=$state/settings.py
  export AWX_SETTINGS_DIR=$state/conf.d AWX_LOGGING_MODE=stdout AWX_RECEPTOR_CONF=$state/receptor.conf
  export PATH=$cache/venv/bin:$PATH
}

start() {  # start NAME COMMAND...: run in the background, log to $state/logs/NAME.log, record the PID
  local name=$1; shift
  setsid "$@" > "$state/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$state/pids/$name.pid"
}

wait_for() {  # wait_for SECONDS WHAT COMMAND...: poll until the command succeeds
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" > /dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then log "timed out waiting for $what"; return 1; fi
    sleep 0.5
  done
}

write_settings() {
  mkdir -p "$state/conf.d" "$state/projects" "$state/job_status" "$state/isolation" "$state/static" \
    "$state/collections/ansible_collections/aibang" "$state/jobhome"
  [ -f "$cache/secret_key" ] || head -c 48 /dev/urandom | base64 > "$cache/secret_key"
  # In each job's namespace /runner/project is the project AWX synced: the collection the job runs.
  ln -sfn "$runner_mount/project" "$state/collections/ansible_collections/aibang/gke_platform"
  cat > "$state/settings.py" <<EOF
SECRET_KEY = open('$cache/secret_key').read().strip()
ALLOWED_HOSTS = ['127.0.0.1', 'localhost']
DATABASES = {'default': {'ATOMIC_REQUESTS': True, 'ENGINE': 'awx.main.db.profiled_pg', 'NAME': 'awx',
                         'USER': 'awx', 'PASSWORD': '', 'HOST': '$state/pg', 'PORT': '5432'}}
BROKER_URL = 'unix://$state/redis/redis.sock'
CACHES = {'default': {'BACKEND': 'awx.main.cache.AWXRedisCache', 'LOCATION': 'unix://$state/redis/redis.sock?db=1'}}
CHANNEL_LAYERS = {'default': {'BACKEND': 'channels_redis.core.RedisChannelLayer',
                              'CONFIG': {'hosts': [BROKER_URL], 'capacity': 10000, 'group_expiry': 157784760}}}
CLUSTER_HOST_ID = '$node'
SYSTEM_UUID = '00000000-0000-0000-0000-000000000000'
PROJECTS_ROOT = '$state/projects'
JOBOUTPUT_ROOT = '$state/job_status'
AWX_ISOLATION_BASE_PATH = '$state/isolation'
STATIC_ROOT = '$state/static'
TOWER_URL_BASE = 'http://127.0.0.1:$port'
AWX_RUN_WITHOUT_CONTAINERS = True
AWX_TASK_ENV = {'ANSIBLE_COLLECTIONS_PATHS': '$state/collections', 'ANSIBLE_COLLECTIONS_PATH': '$state/collections',
                'HOME': '$state/jobhome'}
# Project syncs from file:// repositories in the lab.
AWX_ISOLATION_SHOW_PATHS = []
EOF
  cat > "$state/receptor.conf" <<EOF
---
- node:
    id: $node
- log-level: info
- tcp-listener:
    bindaddr: 127.0.0.1
    port: $receptor_port
- control-service:
    service: control
    filename: $state/receptor.sock
- work-command:
    worktype: local
    command: $here/runner-ns
    params: worker
    allowruntimeparams: true
EOF
}

start_postgres() {
  mkdir -p "$state/pg" && chown postgres: "$state/pg" && chmod 700 "$state/pg"
  pg_fresh=false
  if [ -f "$cache/pgdata-$AWX_VERSION/PG_VERSION" ]; then
    cp -a "$cache/pgdata-$AWX_VERSION" "$state/pgdata"
  else
    pg_fresh=true
    mkdir -p "$state/pgdata" && chown postgres: "$state/pgdata"
    runuser -u postgres -- "$pg_bin/initdb" -D "$state/pgdata" --auth=trust -U postgres > "$state/logs/initdb.log"
  fi
  start postgres runuser -u postgres -- "$pg_bin/postgres" -D "$state/pgdata" -k "$state/pg" -c listen_addresses=''
  wait_for 30 postgres "$pg_bin/pg_isready" -h "$state/pg"
  if $pg_fresh; then
    runuser -u postgres -- "$pg_bin/createuser" -h "$state/pg" -U postgres --superuser awx
    runuser -u postgres -- "$pg_bin/createdb" -h "$state/pg" -U postgres -O awx awx
  fi
}

stop_pid() {  # stop_pid NAME: TERM, wait up to 20 s, then KILL
  local file=$state/pids/$1.pid pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2> /dev/null; then
    kill -TERM -- "-$pid" 2> /dev/null || kill -TERM "$pid" 2> /dev/null || true
    local deadline=$((SECONDS + 20))
    while kill -0 "$pid" 2> /dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    kill -KILL -- "-$pid" 2> /dev/null || kill -KILL "$pid" 2> /dev/null || true
  fi
  rm -f "$file"
}

bootstrap() {  # a fresh database: schema, admin, default objects, this node; then keep a copy to start from
  log "migrating the database (about 3 min)"
  awx-manage migrate --noinput > "$state/logs/migrate.log" 2>&1
  DJANGO_SUPERUSER_PASSWORD=$admin_password awx-manage createsuperuser --noinput --username admin \
    --email admin@example.invalid > "$state/logs/bootstrap.log" 2>&1
  {
    awx-manage create_preload_data
    awx-manage register_default_execution_environments
    awx-manage provision_instance --hostname="$node" --node_type=hybrid
    awx-manage register_queue --queuename=controlplane --instance_percent=100
    awx-manage register_queue --queuename=default --instance_percent=100
  } >> "$state/logs/bootstrap.log" 2>&1
  log "keeping the bootstrapped database in the cache"
  stop_pid postgres
  rm -rf "$cache/pgdata-$AWX_VERSION.tmp" && cp -a "$state/pgdata" "$cache/pgdata-$AWX_VERSION.tmp"
  rm -f "$cache/pgdata-$AWX_VERSION.tmp/postmaster.pid"
  mv "$cache/pgdata-$AWX_VERSION.tmp" "$cache/pgdata-$AWX_VERSION"
  start postgres runuser -u postgres -- "$pg_bin/postgres" -D "$state/pgdata" -k "$state/pg" -c listen_addresses=''
  wait_for 30 postgres "$pg_bin/pg_isready" -h "$state/pg"
}

api() { curl -fsS -u "admin:$admin_password" "http://127.0.0.1:$port/api/v2/$1"; }

node_has_capacity() {  # node_has_capacity SINCE: a health check after SINCE (ISO UTC) found capacity (the database
  # copied from the cache still holds the capacity of the bootstrap's check)
  api "instances/?hostname=$node" | "$repo/.venv/bin/python" -c '
import json, sys
found = json.load(sys.stdin)["results"]
sys.exit(0 if found and found[0]["capacity"] > 0 and (found[0]["last_health_check"] or "") >= sys.argv[1] else 1)' "$1"
}

up() {
  if [ -f "$state/pids/uwsgi.pid" ] && kill -0 "$(cat "$state/pids/uwsgi.pid")" 2> /dev/null; then
    log "already up on http://127.0.0.1:$port"; return
  fi
  [ -n "${AWX_SKIP_BUILD:-}" ] || "$here/build.sh" all
  local started_at
  started_at=$(date -u +%Y-%m-%dT%H:%M:%S)
  rm -rf "$state" && mkdir -p "$state/pids" "$state/logs" "$state/redis" && chmod 755 "$state"
  mkdir -p "$runner_mount"
  awx_env
  write_settings
  start redis redis-server --port 0 --unixsocket "$state/redis/redis.sock" --unixsocketperm 700 --save '' \
    --appendonly no --dir "$state/redis"
  wait_for 20 redis test -S "$state/redis/redis.sock"
  start_postgres
  if $pg_fresh; then bootstrap; fi
  PATH=$cache/ee-venv/bin:$PATH start receptor "$cache/bin/receptor" --config "$state/receptor.conf"
  wait_for 20 receptor test -S "$state/receptor.sock"
  start dispatcher awx-manage run_dispatcher
  start callback_receiver awx-manage run_callback_receiver
  # uwsgi's HTTP router closes each connection after the response without saying so: clients that keep
  # connections alive (requests.Session) then fail at random with "Remote end closed connection".
  start uwsgi uwsgi --http "127.0.0.1:$port" --module awx.wsgi:application --master --processes 2 \
    --buffer-size 32768 --die-on-term --need-app --add-header "Connection: close"
  wait_for 120 "the API" api ping/
  wait_for 180 "the node's capacity (receptor worker info)" node_has_capacity "$started_at"
  log "AWX $(api ping/ | "$repo/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["version"])') up on http://127.0.0.1:$port (admin / \$AWX_ADMIN_PASSWORD)"
}

down() {
  for name in uwsgi callback_receiver dispatcher receptor postgres redis; do stop_pid "$name"; done
  rm -rf "$state"
  [ -d "$runner_mount" ] && rmdir "$runner_mount" 2> /dev/null || true
  log "down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) api ping/ && echo ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
