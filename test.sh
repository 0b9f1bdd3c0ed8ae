#!/usr/bin/env bash
# Installs what is missing (Debian's postgresql when root), builds in Release and runs the whole test suite.
# Tests that need PostgreSQL start their own throwaway cluster (or use TUNING_TEST_POSTGRES, a connection string).
set -euo pipefail
cd "$(dirname "$0")"

log() { printf '\n== %s\n' "$*"; }

if ! command -v dotnet >/dev/null 2>&1; then
  echo "The .NET 10 SDK is required (dotnet on PATH)." >&2
  exit 1
fi

if [ -z "${TUNING_TEST_POSTGRES:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    log "Installing PostgreSQL (Debian package)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "PostgreSQL server binaries are missing: run as root (installs Debian's postgresql) or set TUNING_TEST_POSTGRES." >&2
    exit 1
  fi
fi

# The dashboard's browser tests drive Debian's headless Chromium (they skip, saying so, without it).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" -eq 0 ]; then
  log "Installing Chromium for the dashboard's browser tests (Debian package)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  log "Validating docker-compose.yml"
  docker compose -f docker-compose.yml config -q
  docker compose -f docker-compose.yml --profile gpu config -q
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
log "Building (Release)"
dotnet build TuningService.sln -c Release -nologo -clp:ErrorsOnly

log "Testing"
# Everything the tests write (throwaway PostgreSQL clusters, artifact stores, checkpoints) lives under one folder of
# this run, removed when it ends however it ends; the postgres user must reach it to run its cluster there.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/tuning-test-run.XXXXXX")
chmod 755 "$scratch"
results="$scratch/results.txt"
trap 'rm -rf "$scratch"' EXIT
export TMPDIR="$scratch"
set +e
# Minimal verbosity prints each failed test whole (assertion message and stack trace) and one line per test project.
dotnet test TuningService.sln -c Release --no-build -nologo --logger "console;verbosity=minimal" 2>&1 | tee "$results"
status=${PIPESTATUS[0]}
set -e

# One closing line for the whole suite, summed over the test projects.
awk '/(Passed|Failed)! *- *Failed:/ {
       for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
     }
     END { gsub(",", "", f); printf "\ntests: %d passed, %d failed, %d skipped\n", p, f, s }' "$results"
exit "$status"
