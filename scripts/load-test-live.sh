#!/usr/bin/env bash
# A bounded, loopback-only load test of a real API: a throwaway PostgreSQL cluster (initdb/pg_ctl, as the postgres user
# when run as root) on a free port, the API in Release with the rate limit off, one project + key made through the admin
# API, a 20-example dataset, and one queued job. Then, at the same time:
#   - scripts/load-test.sh polls GET /v1/fine_tuning/jobs/{id} with CLIENTS clients for SECONDS seconds;
#   - CREATORS loops create jobs (POST /v1/fine_tuning/jobs) back to back for as long as the polling runs (its tool is
#     built first, so both start together), each stopping early after CREATES jobs.
# No worker runs: the jobs stay queued. Everything is stopped and removed on exit.
#   CLIENTS=16 SECONDS_=20 CREATORS=4 CREATES=50 scripts/load-test-live.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
clients=${CLIENTS:-16}; seconds=${SECONDS_:-20}; creators=${CREATORS:-4}; creates=${CREATES:-500}
(( creators * creates <= 4000 )) || { echo "at most 4000 creates" >&2; exit 2; }

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

work=$(mktemp -d /tmp/tuning-load-XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres:postgres "$work"
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pg_port=$(free_port); api_port=$(free_port)
api_pid=""
cleanup() {
  [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null || true
  as_postgres "$pgbin/pg_ctl" -D "$work/pg" stop -m immediate -w >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

as_postgres "$pgbin/initdb" -D "$work/pg" -U postgres --auth=trust --encoding=UTF8 --no-sync >/dev/null
as_postgres "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w -t 60 \
  -o "-p $pg_port -k $work -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null

admin_key="load-admin-$RANDOM$RANDOM"
dotnet build "$root/src/Api" -c Release --nologo -v quiet >&2
dotnet build "$root/tools/LoadTest" -c Release --nologo -v quiet >&2
ConnectionStrings__Tuning="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=tuning" \
TUNING_API_KEY="$admin_key" Limits__RateLimitRequestsPerWindow=0 Jobs__MaxActiveJobsPerProject=100000 \
Tuning__ArtifactsRoot="$work/artifacts" Logging__LogLevel__Default=Warning ASPNETCORE_URLS="http://127.0.0.1:$api_port" \
  dotnet run -c Release --no-build --project "$root/src/Api" >"$work/api.log" 2>&1 &
api_pid=$!
url="http://127.0.0.1:$api_port"
for _ in $(seq 1 120); do curl -fs "$url/health/ready" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fs "$url/health/ready" >/dev/null || { cat "$work/api.log" >&2; exit 1; }

json() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
project=$(curl -fs -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' -d '{"name":"load"}' "$url/v1/organization/projects" | json id)
key=$(curl -fs -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' -d '{"name":"load"}' "$url/v1/organization/projects/$project/api_keys" | json value)
for i in $(seq 1 20); do echo "{\"prompt\":\"Q$i:\",\"completion\":\" A$i\"}"; done >"$work/train.jsonl"
file=$(curl -fs -H "Authorization: Bearer $key" -F purpose=fine-tune -F "file=@$work/train.jsonl" "$url/v1/files" | json id)
body="{\"model\":\"tiny-gpt2\",\"training_file\":\"$file\"}"
job=$(curl -fs -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$body" "$url/v1/fine_tuning/jobs" | json id)

create_loop() {
  local deadline=$(( $(date +%s) + seconds + 3 ))
  for _ in $(seq 1 "$creates"); do
    (( $(date +%s) < deadline )) || break
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
      -d "$body" "$url/v1/fine_tuning/jobs"
  done
}
started=$(date +%s)
for c in $(seq 1 "$creators"); do create_loop >"$work/creates.$c" & done
echo "polling $url/v1/fine_tuning/jobs/$job with $clients clients for ${seconds}s while $creators loops create $creates jobs each" >&2
"$root/scripts/load-test.sh" "$url" "$key" --clients "$clients" --seconds "$seconds" --route "/v1/fine_tuning/jobs/$job"
wait $(jobs -p | grep -v "^$api_pid$") 2>/dev/null || true
cat "$work"/creates.* | python3 -c '
import sys, collections
rows = [l.split() for l in sys.stdin if l.strip()]
codes = collections.Counter(r[0] for r in rows)
t = sorted(float(r[1]) * 1000 for r in rows)
q = lambda p: round(t[min(len(t) - 1, int(p * len(t)))], 1)
print({"creates": len(rows), "status": dict(codes), "p50_ms": q(.5), "p90_ms": q(.9), "p99_ms": q(.99), "max_ms": round(t[-1], 1)})'
echo "creates ran $(( $(date +%s) - started ))s" >&2
count=$(as_postgres "$pgbin/psql" -h "$work" -p "$pg_port" -d tuning -Atc \
  "select count(*), count(hangfire_job_id), (select count(*) from hangfire.job) from training_jobs")
echo "rows: jobs, jobs with a Hangfire id, Hangfire jobs = $count"
