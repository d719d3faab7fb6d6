#!/usr/bin/env bash
# Serves FleetLicense at http://127.0.0.1:5080 with an embedded PostgreSQL kept in .data/pg.
# Ctrl+C stops the app and its database; data survives to the next run.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/prerequisites.sh

ensure_dotnet
ensure_postgres

say "Building ..."
# Building the migrations project builds the app too and puts the migrations next to it.
dotnet build migrations/FleetLicense.Migrations/FleetLicense.Migrations.csproj -nologo -v quiet -clp:ErrorsOnly

say "Starting FleetLicense on http://127.0.0.1:5080 (migrations are applied at start) ..."
export PG_BIN="${PG_BIN:-$(postgres_bin)}"
exec dotnet run --no-build --project src/FleetLicense.Web --launch-profile http "$@"
