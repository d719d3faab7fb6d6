#!/usr/bin/env bash
# Runs every test CI runs, against real PostgreSQL (Testcontainers when Docker answers, else a throwaway
# local cluster) and headless Chromium. Ends with a line "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")"
. scripts/prerequisites.sh

ensure_dotnet
ensure_postgres
ensure_chromium
ensure_node
export PG_BIN="${PG_BIN:-$(postgres_bin)}"
# Local tools: PowerShell runs install-agent.ps1 in the agent tests, Kiota generates the API client of
# KiotaClientTests; @redocly/cli (package-lock.json) lints the OpenAPI document. Both come from the package cache when offline.
dotnet tool restore >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
npm ci --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null || { echo "0 passed, 1 failed"; exit 1; }

results=artifacts/test-results
rm -rf "$results"
dotnet build FleetLicense.sln -nologo -v quiet -clp:ErrorsOnly || { echo "0 passed, 1 failed"; exit 1; }
dotnet test --solution FleetLicense.sln --no-build --report-trx --results-directory "$results" "$@"
status=$?

# Each test project writes a TRX file; their counters are summed into one plain closing line.
sum() { grep -ho "<Counters [^>]*" "$results"/*.trx 2>/dev/null | grep -o " $1=\"[0-9]*\"" | grep -o "[0-9]*" | awk '{s+=$1} END {print s+0}'; }
passed=$(sum passed)
failed=$(sum failed)
skipped=$(sum notExecuted)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "A test run ended with exit code $status before reporting a failed test (see above)."
  failed=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
