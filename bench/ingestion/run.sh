#!/usr/bin/env bash
# Ingestion benchmark on this machine: app, PostgreSQL and load generator on the same box over loopback.
# Records the pgbench ceiling, the simulator's open-loop runs and wrk runs into bench/results/<stamp>/.
# Usage: bench/ingestion/run.sh   (DURATION=60s by default; about 8 minutes in all)
#        PHASES="wrk wrk-batch" bench/ingestion/run.sh   runs only some phases
#        (pgbench sim-10k sim-2k sim-batch wrk wrk-batch; all by default; sim-2k-warm on request: the 2,000/s run
#        again after the wrk phases, on an app that has been serving for minutes)
#        PROFILE=1 ... also samples the app with perf for 15 s of each wrk phase (perf-*.txt: hottest methods)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/prerequisites.sh
ensure_dotnet
ensure_postgres
command -v wrk >/dev/null || install_packages wrk || { say "wrk is needed: apt-get install wrk"; exit 1; }

DURATION=${DURATION:-60s}
# Each phase that enrols brings a fleet of its own (its own --seed): re-enrolling a machine that exists needs its
# device token or an Admin's approval, so a second phase enrolling the same machines would only be held for approval.
PHASES=${PHASES:-pgbench sim-10k sim-2k sim-batch wrk wrk-batch}
phase() { [[ " $PHASES " == *" $1 "* ]]; }
MACHINES=${MACHINES:-5000}
out=bench/results/ingestion-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
work=$(mktemp -d /tmp/fl-bench.XXXXXX)
chmod 755 "$work"
bin=$(postgres_bin)
pg_port=55432
app_url=http://127.0.0.1:5090
admin_token=flt_$(head -c 24 /dev/urandom | base64 | tr -d '=+/')
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

cleanup() {
  [ -n "${sampler:-}" ] && kill "$sampler" 2>/dev/null || true
  [ -n "${app:-}" ] && kill "$app" 2>/dev/null && wait "$app" 2>/dev/null || true
  as_pg "$bin/pg_ctl" -D "$work/pg" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

say "Building (Release) ..."
dotnet build migrations/FleetLicense.Migrations/FleetLicense.Migrations.csproj -c Release -nologo -v quiet -clp:ErrorsOnly
dotnet build src/FleetLicense.Simulator/FleetLicense.Simulator.csproj -c Release -nologo -v quiet -clp:ErrorsOnly

say "PostgreSQL (durable: fsync and synchronous_commit on, as in production) ..."
[ "$(id -u)" = 0 ] && chown postgres "$work"
as_pg "$bin/initdb" -D "$work/pg" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$bin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work -c max_connections=300 -c shared_buffers=512MB -c max_wal_size=4GB -c shared_preload_libraries=pg_stat_statements" start >/dev/null
psql -h 127.0.0.1 -p $pg_port -U postgres -qAt -c "CREATE DATABASE fleetlicense"
psql -h 127.0.0.1 -p $pg_port -U postgres -qAt -d fleetlicense -c "CREATE EXTENSION pg_stat_statements"

start_app() {
say "App (Production, Release) on $app_url ..."
ConnectionStrings__FleetLicense="Host=127.0.0.1;Port=$pg_port;Database=fleetlicense;Username=postgres;Maximum Pool Size=100" \
Accounts__BootstrapApiTokenHash=$(printf %s "$admin_token" | sha256sum | cut -d' ' -f1) \
DOTNET_PerfMapEnabled=${PROFILE:-0} DOTNET_ReadyToRun=$((1 - ${PROFILE:-0})) DOTNET_EnableWriteXorExecute=$((1 - ${PROFILE:-0})) ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS=$app_url Logging__LogLevel__Default=Warning \
Ingestion__DeviceRequestsPerMinute=600 Ingestion__DeviceBurst=100 Security__RateLimitExemptNetworks__0=127.0.0.0/8 \
  dotnet src/FleetLicense.Web/bin/Release/net10.0/FleetLicense.Web.dll >> "$out/app.log" 2>&1 &
app=$!
for _ in $(seq 120); do curl -fs "$app_url/health/ready" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fs "$app_url/health/ready" >/dev/null || { say "the app did not become ready"; cat "$out/app.log"; exit 1; }
}
start_app
# The OpenAPI example report (~1.3 KB) stands in for a real one in pgbench.
curl -fs -H "Authorization: Bearer $admin_token" "$app_url/openapi/v1.json" | python3 -c "import json,sys; p=json.load(sys.stdin)['paths']; r=p.get('/api/v1/reports/') or p['/api/v1/reports']; print(json.dumps(r['post']['requestBody']['content']['application/json']['example']))" > "$work/example.json"

# pgbench first, with the app stopped: its rows must not reach the app's projector.
psql_() { psql -h 127.0.0.1 -p $pg_port -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
# CPU seconds used so far by the app (user + system, /proc/PID/stat) and by the whole machine (/proc/stat, all
# but idle and iowait); PostgreSQL + generator = machine - app. The app's peak resident memory rides along.
cpu_app() { awk '{ printf "%.1f", ($14 + $15) / 100 }' /proc/$app/stat; }
cpu_all() { awk '/^cpu / { printf "%.1f", ($2 + $3 + $4 + $7 + $8) / 100 }' /proc/stat; }
rss_app() { awk '/VmHWM/ { printf "%dMB", $2 / 1024 }' /proc/$app/status; }
cpu_mark() { echo "$(date -u +%s) $1 app=$(cpu_app) machine=$(cpu_all) app-peak-rss=$(rss_app)" >> "$out/cpu.txt"; }
mark() { [ -n "${app:-}" ] && cpu_mark "$1"; echo "$(date -u +%s) $1" >> "$out/phases.txt"; say "== $1"; }
if phase pgbench; then
  kill "$app"; wait "$app" 2>/dev/null || true; app=
  mark "pgbench ceiling"
  body=$(sed "s/'/''/g" "$work/example.json")
  for n in 1 100; do
    sed "s|BODY_JSON|$body|" bench/ingestion/pgbench-$n.sql > "$work/pgbench-$n.sql"
    pgbench -h 127.0.0.1 -p $pg_port -U postgres -n -c 32 -j 2 -T 30 -f "$work/pgbench-$n.sql" fleetlicense > "$out/pgbench-$n.txt" 2>&1
    psql_ -d fleetlicense -c "TRUNCATE report_receipts, projection_queue; TRUNCATE raw_reports"
  done
  start_app
fi

# Projection backlog and lag, once a second, for the whole session.
( while true; do printf '%s %s\n' "$(date -u +%s)" "$(curl -fs -H "Authorization: Bearer $admin_token" "$app_url/api/v1/system" || echo '{}')"; sleep 1; done ) > "$out/system-samples.txt" 2>/dev/null &
sampler=$!

sim() { /usr/bin/time -f "generator cpu: user %U s, system %S s, elapsed %e s" \
  dotnet src/FleetLicense.Simulator/bin/Release/net10.0/fleetlicense-simulator.dll --server "$app_url" --admin-token "$admin_token" "$@"; }
wrk_() { /usr/bin/time -f "generator cpu: user %U s, system %S s, elapsed %e s" wrk -t2 -d"$DURATION" --timeout 10s --latency "$@" "$app_url"; }
# With PROFILE=1: where the app spends its CPU during a phase (perf reads the JIT's /tmp/perf-PID.map).
profile() {
  [ "${PROFILE:-0}" = 1 ] || return 0
  (sleep 3; perf record -q -F 499 -g -p "$app" -o "$work/perf-$1.data" -- sleep 15 >/dev/null 2>&1
   perf report -q -i "$work/perf-$1.data" --no-children --sort dso --stdio > "$out/perf-$1-dso.txt" 2>/dev/null
   perf report -q -i "$work/perf-$1.data" --no-children --sort dso,symbol --percent-limit 0.3 --stdio -g none > "$out/perf-$1.txt" 2>/dev/null) &
}
# Waits (up to 5 minutes) until the projector has applied everything, so phases do not overlap.
drain() {
  for _ in $(seq 300); do
    # Not piped into grep -q: with pipefail, curl's SIGPIPE would fail the test even when it matched.
    status=$(curl -fs -H "Authorization: Bearer $admin_token" "$app_url/api/v1/system" || true)
    [[ "$status" == *'"projectionBacklog":0,'* ]] && break
    sleep 1
  done
  mark "drained"
}

if phase sim-10k; then
  mark "simulator single 10000/s"
  sim --load --seed 1 --machines "$MACHINES" --rate 10000 --duration "$DURATION" > "$out/sim-single-10k.txt" 2>&1 || true
  drain
fi
if phase sim-2k; then
  mark "simulator single 2000/s"
  sim --load --seed 2 --machines "$MACHINES" --rate 2000 --duration "$DURATION" > "$out/sim-single-2k.txt" 2>&1 || true
  drain
fi
if phase sim-batch; then
  mark "simulator batch 100 x 200/s"
  sim --load --seed 3 --machines "$MACHINES" --rate 200 --batch-size 100 --duration "$DURATION" > "$out/sim-batch-20k.txt" 2>&1 || true
  drain
fi
if phase wrk || phase wrk-batch; then
  sim --emit-wrk "$work/wrk" --seed 4 --machines "$MACHINES" > "$out/wrk-emit.txt" 2>&1
fi
if phase wrk; then
  mark "wrk single"
  profile single
  wrk_ -c256 -s "$work/wrk/report.lua" > "$out/wrk-single.txt" 2>&1 || true
  drain
fi
if phase wrk-batch; then
  mark "wrk batch"
  profile batch
  wrk_ -c32 -s "$work/wrk/batch.lua" > "$out/wrk-batch.txt" 2>&1 || true
  drain
fi
# The latency target again, once the app has served the wrk phases: its code is compiled at full optimisation and
# its pools are grown, as on a server that has been up for a while. The cold run above is the first load it sees.
if phase sim-2k-warm; then
  mark "simulator single 2000/s, warm app"
  sim --load --seed 5 --machines "$MACHINES" --rate 2000 --duration "$DURATION" > "$out/sim-single-2k-warm.txt" 2>&1 || true
  drain
fi
mark "end"
# Where PostgreSQL spent its time, statement by statement (the app's share is in cpu.txt).
psql_ -d fleetlicense -P pager=off -F ' | ' -c "SELECT round(total_exec_time)::bigint AS total_ms, calls, rows, round(mean_exec_time::numeric, 2) AS mean_ms, left(regexp_replace(query, '\s+', ' ', 'g'), 140) FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 25" > "$out/statements.txt"
psql_ -d fleetlicense -P pager=off -F ' | ' -c "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del FROM pg_stat_user_tables WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 ORDER BY relname" > "$out/tables.txt"
say "Results in $out"
