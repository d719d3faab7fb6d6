#!/usr/bin/env bash
# Exports benchmark: the dashboard benchmark's fleet (1M machines, 30M history rows; generated, or reused from
# DATA_DIR), then each export through the API on the Release app (queued, written by the export job, polled until
# done), one at a time: CSV, XLSX and PDF of the live
# inventory and CSV as of 30 days ago. Beside each: the app's peak memory growth (RSS sampled every 0.2 s) and,
# as the floor for producing those bytes, PostgreSQL's own COPY (same query) TO STDOUT (FORMAT csv), timed in the
# same run. Usage: DATA_DIR=/somewhere bench/exports/run.sh   (MACHINES=1000000 by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/prerequisites.sh
ensure_dotnet
ensure_postgres

MACHINES=${MACHINES:-1000000}
out=bench/results/exports-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
work=$(mktemp -d /tmp/fl-exports.XXXXXX)
chmod 755 "$work"
data=${DATA_DIR:-$work/pg}
reuse=; [ -f "$data/PG_VERSION" ] && reuse=1
bin=$(postgres_bin)
port=55434
cs="Host=127.0.0.1;Port=$port;Database=fleetlicense;Username=postgres"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() { [ -n "${app:-}" ] && kill "$app" 2>/dev/null || true; as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

say "Building (Release) ..."
dotnet build migrations/FleetLicense.Migrations/FleetLicense.Migrations.csproj -c Release -nologo -v quiet -clp:ErrorsOnly

[ "$(id -u)" = 0 ] && chown postgres "$work"
if [ -z "$reuse" ]; then
  mkdir -p "$data"; [ "$(id -u)" = 0 ] && chown postgres "$data"
  as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
as_pg "$bin/pg_ctl" -D "$data" -l "$work/pg.log" -w -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work -c shared_buffers=2GB -c effective_cache_size=12GB -c work_mem=64MB -c max_wal_size=8GB -c synchronous_commit=off" start >/dev/null
[ -n "$reuse" ] || psql -h 127.0.0.1 -p $port -U postgres -qAt -c "CREATE DATABASE fleetlicense"

# The first Admin's API token, as run.sh makes it: the app is given its hash. Kept beside a kept cluster, whose
# first start made it the Admin's.
[ -s "$data.token" ] || printf 'flt_%s' "$(head -c 32 /dev/urandom | base64 | tr -d '=+/')" > "$data.token"
token=$(cat "$data.token")
start_app() {
  # Exports are written by the scheduler's export job, so it runs; the other jobs fire once at start (awaited below)
  # and not again during the run.
  ConnectionStrings__FleetLicense="$cs" ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS=http://127.0.0.1:5092 \
    Alerts__EvaluationSeconds=86400 Alerts__DeliverySeconds=86400 Flags__FleetRulesSeconds=86400 Fleet__StaleAgentMinutes=1440 \
    Ingestion__RawReportPartitionsMinutes=1440 Fleet__SnapshotCron="0 0 0 1 1 ? 2099" \
    Accounts__BootstrapApiTokenHash="$(printf %s "$token" | sha256sum | cut -d' ' -f1)" Accounts__InitialAdminPasswordFile="$work/initial-admin-password" \
    Logging__LogLevel__Default=Warning \
    dotnet src/FleetLicense.Web/bin/Release/net10.0/FleetLicense.Web.dll >> "$out/app.log" 2>&1 &
  app=$!
  for _ in $(seq 240); do curl -fs http://127.0.0.1:5092/health/ready >/dev/null 2>&1 && return; sleep 0.5; done
  echo "the app did not start" >&2; exit 1
}

say "Schema: the app applies its migrations ..."
start_app
kill "$app"; wait "$app" 2>/dev/null || true; app=

if [ -z "$reuse" ]; then
  say "Generating $MACHINES machines and $((MACHINES * 30)) history rows ..."
  psql -h 127.0.0.1 -p $port -U postgres -d fleetlicense -q -v machines="$MACHINES" -f bench/dashboard/generate.sql > "$out/generate.txt" 2>&1
fi
psql -h 127.0.0.1 -p $port -U postgres -d fleetlicense -q -c "VACUUM ANALYZE" >/dev/null

start_app

# COPY of the inventory's query: the bytes' floor, timed twice (the second with a warm cache, as the exports run).
copy_query="COPY (SELECT m.id, m.hostname, m.serial_number, m.edition_id, p.name, p.kind, p.channel, p.partial_key, left(p.key_fingerprint, 8),
  p.license_status, p.license_status, p.grace_minutes, p.kms_host, l.last_seen_at FROM machines m LEFT JOIN machine_products p ON p.machine_id = m.id
  LEFT JOIN machine_liveness l ON l.machine_id = m.id ORDER BY m.hostname, m.id, p.product_key COLLATE \"C\") TO STDOUT (FORMAT csv)"
for run in 1 2; do
  s=$(date +%s.%N)
  psql -h 127.0.0.1 -p $port -U postgres -d fleetlicense -qAt -c "$copy_query" > "$work/copy.csv"
  copy_s=$(echo "$(date +%s.%N) - $s" | bc)
done
copy_bytes=$(stat -c %s "$work/copy.csv"); rm -f "$work/copy.csv"

{
  echo "# Exports at $MACHINES machines ($(date -u +%FT%TZ), $(nproc) cores)"
  echo
  echo "COPY (inventory query) TO STDOUT (FORMAT csv): ${copy_s} s, $copy_bytes bytes"
  echo
  echo "| export | seconds | ÷ COPY | rows | bytes | app RSS growth, MB |"
  echo "|---|---|---|---|---|---|"
} | tee "$out/timings.md"

# Until no job is executing (Quartz keeps a fired_triggers row while one runs): the start's firings are not timed.
idle() {
  for _ in $(seq 1200); do
    [ "$(psql -h 127.0.0.1 -p $port -U postgres -d fleetlicense -qAt -c "SELECT count(*) FROM qrtz_fired_triggers WHERE state = 'EXECUTING' AND job_name <> 'node-heartbeat'")" = 0 ] && return
    sleep 0.5
  done
  echo "jobs kept running" >&2; exit 1
}

as_of=$(date -u -d '30 days ago' +%FT%TZ)
for spec in "csv|" "xlsx|" "pdf|" "csv|$as_of"; do
  format=${spec%%|*}; at=${spec#*|}
  body="{\"report\":\"inventory\",\"format\":\"$format\"${at:+,\"asOf\":\"$at\"}}"
  idle
  rss0=$(ps -o rss= -p "$app"); peak=$rss0
  s=$(date +%s.%N)
  # Queued (202), then written in the background: timed from the request until the API lists it as finished.
  id=$(curl -fs -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$body" http://127.0.0.1:5092/api/v1/exports | sed -n 's/^{"id":\([0-9]*\).*/\1/p')
  while :; do
    curl -fs -H "Authorization: Bearer $token" "http://127.0.0.1:5092/api/v1/exports/$id" > "$work/export.json"
    grep -q '"state":"\(Queued\|Running\)"' "$work/export.json" || break
    r=$(ps -o rss= -p "$app"); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.2
  done
  secs=$(echo "$(date +%s.%N) - $s" | bc)
  grep -q '"state":"Done"' "$work/export.json" || { echo "export $id did not finish: $(cat "$work/export.json")" >&2; exit 1; }
  rows=$(sed -n 's/.*"rowCount":\([0-9]*\).*/\1/p' "$work/export.json"); bytes=$(sed -n 's/.*"sizeBytes":\([0-9]*\).*/\1/p' "$work/export.json")
  printf '| %s%s | %.1f | %.2f | %s | %s | %d |\n' "$format" "${at:+ as of $at}" "$secs" "$(echo "$secs / $copy_s" | bc -l)" "$rows" "$bytes" $(( (peak - rss0) / 1024 )) | tee -a "$out/timings.md"
done
say "Results in $out"
