#!/usr/bin/env bash
# Serves FleetLicense at http://127.0.0.1:5080 with an embedded PostgreSQL kept in .data/pg.
# On the first start it fills the database with a simulated fleet of 2,000 machines and 90 days of
# history (skip with --no-demo or FLEETLICENSE_NO_DEMO=1). Ctrl+C stops the app and its database;
# data survives to the next run. Other arguments are passed to the app.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/prerequisites.sh

demo=${FLEETLICENSE_NO_DEMO:+no}
args=()
for arg in "$@"; do
  if [ "$arg" = "--no-demo" ]; then demo=no; else args+=("$arg"); fi
done

ensure_dotnet
ensure_postgres

say "Building ..."
# Building the migrations project builds the app too and puts the migrations next to it.
dotnet build migrations/FleetLicense.Migrations/FleetLicense.Migrations.csproj -nologo -v quiet -clp:ErrorsOnly
dotnet build src/FleetLicense.Simulator/FleetLicense.Simulator.csproj -nologo -v quiet -clp:ErrorsOnly

# The installation's API token: made once, kept owner-only; the app is given only its hash and stores it as the
# first Admin's API token "installation" (expiring in a year; revoke it on Settings → API tokens). A token from
# before API tokens (no flt_ prefix) is replaced.
mkdir -p .data
if ! grep -qs '^flt_' .data/admin-token; then
  (umask 077; printf 'flt_%s' "$(head -c 32 /dev/urandom | base64 | tr -d '=+/')" > .data/admin-token)
fi
admin_token=$(cat .data/admin-token)
export Accounts__BootstrapApiTokenHash
Accounts__BootstrapApiTokenHash=$(printf %s "$admin_token" | sha256sum | cut -d' ' -f1)
export PG_BIN="${PG_BIN:-$(postgres_bin)}"

# The first Admin's one-time password: used only when the database has no user yet (the first start); the
# first sign-in must replace it, after which this file no longer signs anyone in.
if [ ! -s .data/initial-admin-password ]; then
  (umask 077; head -c 18 /dev/urandom | base64 | tr -d '=+/' > .data/initial-admin-password)
fi
export Accounts__InitialAdminPassword
Accounts__InitialAdminPassword=$(cat .data/initial-admin-password)

# The simulator sends 90 days of reports in minutes, so the server heard from every demo agent just now. This
# demo-only step dates each machine's last contact to its last report, so the demo's silent agents are silent
# (scripts/demo-liveness.sql says why). It talks to the embedded database directly: its port is on line 4 of
# PostgreSQL's postmaster.pid, since the app picks a free one at each start.
age_demo_liveness() {
  if [ -n "${ConnectionStrings__FleetLicense:-}" ]; then
    say "Not the embedded database: the demo's silent agents show as active (run scripts/demo-liveness.sql on it to fix)."
    return 0
  fi
  local port
  port=$(sed -n 4p .data/pg/postmaster.pid 2>/dev/null || true)
  if [ -z "$port" ]; then say "The embedded database's port was not found in .data/pg/postmaster.pid."; return 1; fi
  say "Dating the demo agents' last contact to their last report ..."
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d fleetlicense -f scripts/demo-liveness.sql
}

say "Starting FleetLicense on http://127.0.0.1:5080 (migrations are applied at start) ..."
dotnet run --no-build --project src/FleetLicense.Web --launch-profile http -- "${args[@]}" &
app=$!
trap 'kill -TERM "$app" 2>/dev/null; wait "$app"; exit 0' INT TERM

# A fresh database (new .data/pg) gets the demo fleet once.
[ -f .data/pg/PG_VERSION ] || rm -f .data/demo-seeded
if [ "$demo" != "no" ] && [ ! -f .data/demo-seeded ]; then
  if dotnet run --no-build --project src/FleetLicense.Simulator -- --demo --wait 120s --admin-token "$admin_token" && age_demo_liveness; then
    touch .data/demo-seeded
  else
    say "The demo fleet could not be loaded (see above); the dashboard works without it."
  fi
fi

say "FleetLicense is running at http://127.0.0.1:5080 — the Admin's installation API token is in .data/admin-token (Authorization: Bearer …). Ctrl+C stops it."
say "First sign-in: user 'admin', one-time password $Accounts__InitialAdminPassword (you then choose your own)."
wait "$app"
