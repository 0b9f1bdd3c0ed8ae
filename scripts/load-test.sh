#!/usr/bin/env bash
# Load test against a running TuningService on loopback, bounded in time and request count.
#   scripts/load-test.sh [url=http://127.0.0.1:8080] [api-key=$TUNING_API_KEY] [--clients 16] [--seconds 10]
#                        [--max-requests 50000] [--route '/v1/fine_tuning/jobs?limit=1']
# Prints one JSON line: route, requests, status counts, req/s and latency p50/p90/p99/max in ms. The default route
# falls back to /v1/me while the jobs API answers 404. The admin key is rate limited like any key: raise
# Limits__RateLimitRequestsPerWindow on the API under test (or set it to 0) to measure throughput rather than 429s.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dotnet build "$root/tools/LoadTest" -c Release --nologo -v quiet >&2
exec dotnet "$root/tools/LoadTest/bin/Release/net10.0/TuningService.LoadTest.dll" "$@"
