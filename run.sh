#!/usr/bin/env bash
# The whole service locally: a private PostgreSQL cluster under .data/ (unless ConnectionStrings__Tuning is set),
# the API on 127.0.0.1:${PORT:-8080} with Swagger UI, ${WORKERS:-1} supervised training worker(s) and
# ${INFERENCE_WORKERS:-1} supervised inference worker(s) (each on a free local port, found by the API through PostgreSQL).
# Ctrl-C or SIGTERM stops everything cleanly; running it again keeps all earlier data.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
DATA=${TUNING_DATA_DIR:-$ROOT/.data}
PORT=${PORT:-8080}
WORKERS=${WORKERS:-1}
INFERENCE_WORKERS=${INFERENCE_WORKERS:-1}
CONFIG=${CONFIGURATION:-Release}
mkdir -p "$DATA/logs" "$DATA/artifacts"

say() { printf '[run.sh] %s\n' "$*"; }
is_root() { [ "$(id -u)" -eq 0 ]; }
as_postgres() { if is_root; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
  || for p in $(seq 15432 15532); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; break; }; done; }

# --- admin key -------------------------------------------------------------------------------------------------
if [ -z "${TUNING_API_KEY:-}" ]; then
  if [ ! -s "$DATA/api-key" ]; then
    (umask 077; printf 'sk-tun-admin-%s\n' "$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32)" > "$DATA/api-key")
  fi
  TUNING_API_KEY=$(cat "$DATA/api-key")
fi
export TUNING_API_KEY

# --- PostgreSQL ----------------------------------------------------------------------------------------------------
PG_STARTED=""
PGBIN=""
PGDATA=""
if [ -z "${ConnectionStrings__Tuning:-}" ]; then
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    is_root || { echo "PostgreSQL is not installed; run as root (installs Debian's postgresql) or set ConnectionStrings__Tuning." >&2; exit 1; }
    say "installing PostgreSQL (Debian package)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  PGDATA="$DATA/postgres"
  if is_root; then
    # The server runs as the postgres user, which must be able to reach the data directory.
    if ! runuser -u postgres -- test -x "$DATA" 2>/dev/null; then
      PGDATA="/var/lib/tuningservice/$(printf '%s' "$ROOT" | md5sum | cut -c1-12)/postgres"
      say "postgres cannot reach $DATA; keeping the cluster in $PGDATA"
    fi
    mkdir -p "$(dirname "$PGDATA")"
    chown postgres:postgres "$(dirname "$PGDATA")"
  fi
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    say "creating a private PostgreSQL cluster in $PGDATA"
    as_postgres mkdir -p "$PGDATA"
    as_postgres "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust --encoding=UTF8 >"$DATA/logs/initdb.log"
  fi
  PGPORT=$(cat "$DATA/pg-port" 2>/dev/null || true)
  if [ -z "$PGPORT" ] || (exec 3<>"/dev/tcp/127.0.0.1/$PGPORT") 2>/dev/null; then PGPORT=$(free_port); echo "$PGPORT" > "$DATA/pg-port"; fi
  as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" -w -t 60 -l "$PGDATA/server.log" \
    -o "-p $PGPORT -k $PGDATA -c listen_addresses=127.0.0.1" start >/dev/null
  PG_STARTED=1
  as_postgres "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='tuning'" | grep -q 1 \
    || as_postgres "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres tuning
  export ConnectionStrings__Tuning="Host=127.0.0.1;Port=$PGPORT;Username=postgres;Database=tuning"
  say "PostgreSQL on 127.0.0.1:$PGPORT (data: $PGDATA)"
fi

stop_postgres() { [ -n "$PG_STARTED" ] && as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true; }

# --- build ---------------------------------------------------------------------------------------------------------
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
say "building ($CONFIG)"
if ! dotnet build src/Worker -c "$CONFIG" -nologo -clp:ErrorsOnly >"$DATA/logs/build.log" 2>&1 \
   || ! dotnet build src/Api -c "$CONFIG" -nologo -clp:ErrorsOnly >>"$DATA/logs/build.log" 2>&1; then
  cat "$DATA/logs/build.log"; stop_postgres; exit 1
fi

export Tuning__ArtifactsRoot="${Tuning__ArtifactsRoot:-$DATA/artifacts}"
export Tuning__ModelsRoot="${Tuning__ModelsRoot:-$ROOT/models}"
export DOTNET_ENVIRONMENT=${DOTNET_ENVIRONMENT:-Production} ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Production}

# --- processes -----------------------------------------------------------------------------------------------------
PIDS=()
STOPPING=""
shutdown() {
  [ -n "$STOPPING" ] && return
  STOPPING=1
  say "stopping (workers checkpoint and requeue their jobs)..."
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=""
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && break
    sleep 0.5
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  stop_postgres
  say "stopped"
}
trap 'shutdown; exit 0' INT TERM
trap 'shutdown' EXIT

# Local use: webhooks may target receivers on this machine (127.0.0.1); other private addresses stay refused.
(cd src/Api && Webhooks__AllowLoopbackTargets=${Webhooks__AllowLoopbackTargets:-true} exec dotnet "bin/$CONFIG/net10.0/TuningService.Api.dll" --urls "http://127.0.0.1:$PORT" >>"$DATA/logs/api.log" 2>&1) &
PIDS+=($!)

# Like compose's restart: unless-stopped — a worker that dies is started again, so its job resumes.
supervise_worker() {
  local n=$1 role=${2:-training} child=""
  trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 0' TERM
  while :; do
    # Each process keeps the default name (host:pid), so a restarted worker never inherits a dead one's lease.
    (cd src/Worker && Worker__Role=$role exec dotnet "bin/$CONFIG/net10.0/TuningService.Worker.dll" >>"$DATA/logs/worker-$n.log" 2>&1) &
    child=$!
    wait "$child" && code=0 || code=$?
    printf '[run.sh] worker %s exited (%s); restarting in 2 s\n' "$n" "$code" >>"$DATA/logs/worker-$n.log"
    sleep 2
  done
}
for n in $(seq 1 "$WORKERS"); do
  supervise_worker "$n" &
  PIDS+=($!)
done
for n in $(seq 1 "$INFERENCE_WORKERS"); do
  supervise_worker "inference-$n" inference &
  PIDS+=($!)
done

# Readiness without curl (a fresh machine may not have it): a raw HTTP/1.0 request over bash's /dev/tcp.
ready() {
  local line
  { exec 3<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null || return 1
  printf 'GET /health/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  read -r -t 5 line <&3 || true
  exec 3>&- 3<&-
  [[ "$line" == *" 200 "* ]]
}
for _ in $(seq 1 240); do
  if ready; then break; fi
  kill -0 "${PIDS[0]}" 2>/dev/null || { say "the API exited; see $DATA/logs/api.log"; tail -n 30 "$DATA/logs/api.log"; exit 1; }
  sleep 0.5
done

cat <<MSG

  TuningService is running.
    API        http://127.0.0.1:$PORT/v1
    Dashboard  http://127.0.0.1:$PORT/ui
    Swagger UI http://127.0.0.1:$PORT/swagger
    Hangfire   http://127.0.0.1:$PORT/hangfire   (password: the API key)
    API key    $TUNING_API_KEY
    Workers    $WORKERS training, $INFERENCE_WORKERS inference (logs in $DATA/logs/)
  Ctrl-C stops everything.

MSG
wait "${PIDS[0]}" || true
say "the API exited; see $DATA/logs/api.log"
