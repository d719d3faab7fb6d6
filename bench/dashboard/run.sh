#!/usr/bin/env bash
# Dashboard benchmark: 1M machines and 30M history rows (bulk-generated), then the server-side time of the
# Overview and the machine grid's queries, and the plans of the key queries. About 10 minutes on 2 cores.
# Usage: bench/dashboard/run.sh   (MACHINES=1000000 by default; DATA_DIR=/somewhere keeps the generated
# cluster there, and a later run with the same DATA_DIR reuses it and skips the generation; REEVALUATE=no skips
# the closing whole-fleet policy re-evaluation)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/prerequisites.sh
ensure_dotnet
ensure_postgres

MACHINES=${MACHINES:-1000000}
out=bench/results/dashboard-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
work=$(mktemp -d /tmp/fl-dash.XXXXXX)
chmod 755 "$work"
data=${DATA_DIR:-$work/pg}
reuse=; [ -f "$data/PG_VERSION" ] && reuse=1
bin=$(postgres_bin)
port=55433
cs="Host=127.0.0.1;Port=$port;Database=fleetlicense;Username=postgres"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() { [ -n "${app:-}" ] && kill "$app" 2>/dev/null || true; as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

say "Building (Release) ..."
dotnet build migrations/FleetLicense.Migrations/FleetLicense.Migrations.csproj -c Release -nologo -v quiet -clp:ErrorsOnly
dotnet build bench/dashboard/FleetLicense.Bench/FleetLicense.Bench.csproj -c Release -nologo -v quiet -clp:ErrorsOnly

[ "$(id -u)" = 0 ] && chown postgres "$work"
if [ -z "$reuse" ]; then
  mkdir -p "$data"; [ "$(id -u)" = 0 ] && chown postgres "$data"
  as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
as_pg "$bin/pg_ctl" -D "$data" -l "$work/pg.log" -w -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work -c shared_buffers=2GB -c effective_cache_size=12GB -c work_mem=64MB -c max_wal_size=8GB -c synchronous_commit=off" start >/dev/null
[ -n "$reuse" ] || psql -h 127.0.0.1 -p $port -U postgres -qAt -c "CREATE DATABASE fleetlicense"

say "Schema: the app applies its migrations ..."
ConnectionStrings__FleetLicense="$cs" ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS=http://127.0.0.1:5091 Scheduling__Enabled=false \
  Logging__LogLevel__Default=Warning dotnet src/FleetLicense.Web/bin/Release/net10.0/FleetLicense.Web.dll > "$out/app.log" 2>&1 &
app=$!
for _ in $(seq 120); do curl -fs http://127.0.0.1:5091/health/ready >/dev/null 2>&1 && break; sleep 0.5; done
kill "$app"; wait "$app" 2>/dev/null || true; app=

if [ -z "$reuse" ]; then
  say "Generating $MACHINES machines and $((MACHINES * 30)) history rows ..."
  start=$(date +%s)
  psql -h 127.0.0.1 -p $port -U postgres -d fleetlicense -q -v machines="$MACHINES" -f bench/dashboard/generate.sql > "$out/generate.txt" 2>&1
  echo "generation took $(( $(date +%s) - start )) s" | tee -a "$out/generate.txt"
fi
if [ -n "$reuse" ]; then
  say "Kept cluster: back to the generated state ..."
  psql -h 127.0.0.1 -p $port -U postgres -d fleetlicense -q -f bench/dashboard/reset.sql > "$out/reset.txt" 2>&1
fi
psql -h 127.0.0.1 -p $port -U postgres -d fleetlicense -c "SELECT relname, n_live_tup, pg_size_pretty(pg_total_relation_size(relid)) FROM pg_stat_user_tables WHERE n_live_tup > 0 ORDER BY n_live_tup DESC" >> "$out/generate.txt"

say "Timing the pages' queries and the jobs ..."
dotnet bench/dashboard/FleetLicense.Bench/bin/Release/net10.0/FleetLicense.Bench.dll "$cs" 50 | tee "$out/timings.md"

# The box's speed varies several-fold between days: pgbench on the same cluster, right after the timings, is the
# yardstick that makes runs on different days comparable (select-only for the pages, TPC-B for the jobs).
say "pgbench on the same cluster ..."
psql -h 127.0.0.1 -p $port -U postgres -qAt -c "DROP DATABASE IF EXISTS pgbench" -c "CREATE DATABASE pgbench"
pgbench -h 127.0.0.1 -p $port -U postgres -i -q -s 20 pgbench > "$out/pgbench-init.txt" 2>&1
{
  echo
  echo "pgbench select-only (-S -c 2 -j 2 -T 20): $(pgbench -h 127.0.0.1 -p $port -U postgres -n -S -c 2 -j 2 -T 20 pgbench 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p') tps"
  echo "pgbench TPC-B (-c 8 -j 2 -T 20): $(pgbench -h 127.0.0.1 -p $port -U postgres -n -c 8 -j 2 -T 20 pgbench 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p') tps"
} | tee -a "$out/timings.md"
psql -h 127.0.0.1 -p $port -U postgres -qAt -c "DROP DATABASE pgbench"

say "Plans of the key queries ..."
psql -h 127.0.0.1 -p $port -U postgres -d fleetlicense > "$out/plans.txt" 2>&1 <<'SQL'
\echo == grid: not activated, sorted by last seen desc (page 1 + capped count)
EXPLAIN (ANALYZE, BUFFERS) SELECT m.id, m.hostname FROM machines m JOIN machine_liveness l ON l.machine_id = m.id WHERE m.windows_status IN (0, 5) ORDER BY l.last_seen_at DESC, m.hostname LIMIT 50;
EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM (SELECT 1 FROM machines WHERE windows_status IN (0, 5) LIMIT 100001) s;
\echo == grid: no filter, by host name
EXPLAIN (ANALYZE, BUFFERS) SELECT id, hostname FROM machines ORDER BY hostname, id LIMIT 50;
\echo == grid: no filter, by last seen (the liveness table's index: decision 0007)
EXPLAIN (ANALYZE, BUFFERS) SELECT m.id, m.hostname FROM machines m JOIN machine_liveness l ON l.machine_id = m.id ORDER BY l.last_seen_at DESC, m.hostname LIMIT 50;
\echo == stale-agent marking: the silent machines only, through the same index
EXPLAIN (ANALYZE, BUFFERS) SELECT l.machine_id FROM machine_liveness l JOIN machines m ON m.id = l.machine_id WHERE l.last_seen_at < now() - interval '7 days' OR (l.last_seen_at IS NULL AND m.enrolled_at < now() - interval '7 days');
\echo == grid: free text
EXPLAIN (ANALYZE, BUFFERS) SELECT id, hostname FROM machines WHERE hostname ILIKE '%LAPTOP-3F%' OR serial_number ILIKE '%LAPTOP-3F%' OR windows_partial_key = 'LAPTOP-3F' ORDER BY hostname LIMIT 50;
\echo == grid: rule filter
EXPLAIN (ANALYZE, BUFFERS) SELECT m.id FROM machines m WHERE EXISTS (SELECT 1 FROM flags f WHERE f.machine_id = m.id AND f.rule = 'kms-public-emulator' AND f.status IN ('Open','Acknowledged')) ORDER BY m.hostname LIMIT 50;
\echo == overview: one pass over the summary columns
EXPLAIN (ANALYZE, BUFFERS) SELECT windows_status, windows_channel, edition_id, count(*) FROM machines GROUP BY GROUPING SETS ((windows_status), (windows_channel), (edition_id), ());
\echo == machine timeline
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM machine_history WHERE machine_id = (SELECT id FROM machines LIMIT 1) ORDER BY at DESC, id DESC LIMIT 200;
SQL
say "Results in $out"
