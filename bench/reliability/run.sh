#!/usr/bin/env bash
# Reliability benchmark on this machine: app, PostgreSQL and simulator on the same box over loopback, as
# bench/ingestion/run.sh. Every load run keeps the simulator's --acked-log (the id of every report answered 2xx) and
# compares it with raw_reports afterwards: lost = acknowledged but not stored, duplicates = stored more than once.
# Usage: bench/reliability/run.sh   (all phases, about 40 minutes with the 30-minute soak)
#        PHASES="crash pg-restart" bench/reliability/run.sh   runs only some phases
#        (crash pg-restart two-nodes soak; all by default)
#        KILLS=5 CRASH_RATE=1000   crash: kill -9 the app KILLS times under CRASH_RATE single reports/s
#        DURATION=60s              pg-restart and two-nodes: load per phase (the restarts fall at 1/4 and 5/8 of it)
#        SOAK=30m RATE=2000        soak: RATE single reports/s for SOAK, sampled every minute
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/prerequisites.sh
ensure_dotnet
ensure_postgres
have_nginx=1
command -v nginx >/dev/null || install_packages nginx || have_nginx=

PHASES=${PHASES:-crash pg-restart two-nodes soak}
phase() { [[ " $PHASES " == *" $1 "* ]]; }
seconds() { case $1 in *ms) echo 1;; *h) echo $((${1%h} * 3600));; *m) echo $((${1%m} * 60));; *s) echo "${1%s}";; *) echo "$1";; esac; }
DURATION=${DURATION:-60s}
duration_s=$(seconds "$DURATION")
KILLS=${KILLS:-5}
CRASH_RATE=${CRASH_RATE:-1000}
SOAK=${SOAK:-30m}
soak_s=$(seconds "$SOAK")
RATE=${RATE:-2000}
# At least rate / 2 machines: the per-device limit (600/min here) must not answer 429s.
MACHINES=${MACHINES:-5000}
out=bench/results/reliability-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
work=$(mktemp -d /tmp/fl-bench.XXXXXX)
chmod 755 "$work"
bin=$(postgres_bin)
pg_port=55432
port_a=5090
port_b=5091
port_lb=5099
app_url=http://127.0.0.1:$port_a
admin_token=flt_$(head -c 24 /dev/urandom | base64 | tr -d '=+/')
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pid_a=
pid_b=

cleanup() {
  for p in ${sampler:-} ${prober:-} ${soak_sampler:-} ${simpid:-} ${simpid2:-}; do kill "$p" 2>/dev/null || true; done
  [ -n "${nginx_pid:-}" ] && kill "$nginx_pid" 2>/dev/null || true
  for p in $pid_a $pid_b; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
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
as_pg "$bin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work -c max_connections=300 -c shared_buffers=512MB -c max_wal_size=4GB" start >/dev/null
psql_() { psql -X -h 127.0.0.1 -p $pg_port -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
psql_ -c "CREATE DATABASE fleetlicense"

ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1/health/ready")" = 200 ]; }
# Polls (every 0.1 s, up to 90 s) until $1 answers ready; prints the seconds since $2 (epoch with fractions).
wait_ready() {
  for _ in $(seq 900); do ready "$1" && break; sleep 0.1; done
  ready "$1" || { say "$1 did not become ready"; tail -50 "$out"/app-*.log; exit 1; }
  echo "$(date +%s.%N) $2" | awk '{ printf "%.1f", $1 - $2 }'
}
# Starts node $1 (a or b) on port $2 and waits until it is ready.
start_node() {
  local t0
  t0=$(date +%s.%N)
  ConnectionStrings__FleetLicense="Host=127.0.0.1;Port=$pg_port;Database=fleetlicense;Username=postgres;Maximum Pool Size=100" \
  Accounts__BootstrapApiTokenHash=$(printf %s "$admin_token" | sha256sum | cut -d' ' -f1) \
  ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS=http://127.0.0.1:$2 Logging__LogLevel__Default=Warning System__NodeId=node-$1 \
  Ingestion__DeviceRequestsPerMinute=600 Ingestion__DeviceBurst=100 Security__RateLimitExemptNetworks__0=127.0.0.0/8 \
    dotnet src/FleetLicense.Web/bin/Release/net10.0/FleetLicense.Web.dll >> "$out/app-$1.log" 2>&1 &
  printf -v "pid_$1" %s $!
  last_ready=$(wait_ready "http://127.0.0.1:$2" "$t0") || exit 1
}
say "App (Production, Release) on $app_url ..."
start_node a $port_a
mark() { phase_start=$(date -u +%s); echo "$phase_start $1" >> "$out/phases.txt"; say "== $1"; }

# Projection backlog and lag, once a second, for the whole session (as bench/ingestion/run.sh).
( while true; do printf '%s %s\n' "$(date -u +%s)" "$(curl -fs --max-time 2 -H "Authorization: Bearer $admin_token" "$app_url/api/v1/system" || echo '{}')"; sleep 1; done ) > "$out/system-samples.txt" 2>/dev/null &
sampler=$!

simulator=src/FleetLicense.Simulator/bin/Release/net10.0/fleetlicense-simulator.dll
# In the background, without a wrapper: $! is the simulator itself. A short timeout: a killed server must not hold
# requests for 30 s.
sim_bg() { local log=$1; shift; dotnet "$simulator" --admin-token "$admin_token" --timeout 5s "$@" > "$log" 2>&1 & }
# Waits (up to 2 minutes: enrolment comes first) until $1 holds an acknowledged id.
wait_acked() { for _ in $(seq 1200); do [ -s "$1" ] && return 0; sleep 0.1; done; say "no report was acknowledged (see $out)"; exit 1; }
# Waits until the projector has applied everything, so phases do not overlap (up to 5 minutes).
drain() {
  for _ in $(seq 300); do
    status=$(curl -fs -H "Authorization: Bearer $admin_token" "$app_url/api/v1/system" || true)
    [[ "$status" == *'"projectionBacklog":0,'* ]] && break
    sleep 1
  done
}

# Compares acknowledged ids (file $2) with raw_reports into $out/$1-verify.txt. With $3 (one line count per line:
# the acknowledged ids before each event), the ids are also counted per window: window 0 before the first event,
# window k after event k (and before the next).
verify() {
  local bounds="(0, 0)" k=0 n
  if [ -n "${3:-}" ]; then while read -r n; do k=$((k + 1)); bounds+=", ($k, $n)"; done < "$3"; fi
  psql -X -h 127.0.0.1 -p $pg_port -U postgres -d fleetlicense -v ON_ERROR_STOP=1 -q -A -F ' | ' -P footer=off > "$out/$1-verify.txt" <<SQL
SET work_mem = '256MB';
CREATE TEMP TABLE acked (line bigint GENERATED ALWAYS AS IDENTITY, id uuid NOT NULL);
\copy acked (id) FROM '$2'
CREATE TEMP TABLE bounds (k int, upto bigint);
INSERT INTO bounds VALUES $bounds;
CREATE TEMP TABLE windows AS
  SELECT a.id, min(a.line) AS line, (SELECT count(*) FROM bounds b WHERE b.k > 0 AND b.upto < min(a.line)) AS win
  FROM acked a GROUP BY a.id;
CREATE TEMP TABLE stored AS
  SELECT r.report_id AS id, count(*) AS n FROM raw_reports r WHERE r.report_id IN (SELECT id FROM windows) GROUP BY r.report_id;
SELECT * FROM (
SELECT 'window ' || w.win AS "window",
       count(*) AS acked, count(s.id) AS stored, count(*) FILTER (WHERE s.n > 1) AS duplicates, count(*) - count(s.id) AS lost
FROM windows w LEFT JOIN stored s USING (id) GROUP BY w.win
UNION ALL
SELECT 'total', count(*), count(s.id), count(*) FILTER (WHERE s.n > 1), count(*) - count(s.id)
FROM windows w LEFT JOIN stored s USING (id)
) v ORDER BY "window" = 'total', "window";
SELECT (SELECT count(*) FROM acked) - (SELECT count(*) FROM windows) AS "ids acknowledged twice in the log",
       (SELECT count(*) FROM raw_reports r WHERE r.received_at >= to_timestamp(${phase_start:-0}) AND NOT EXISTS (SELECT FROM windows w WHERE w.id = r.report_id)) AS "stored in this phase but never acknowledged",
       (SELECT count(*) FROM (SELECT report_id FROM raw_reports GROUP BY report_id HAVING count(*) > 1) d) AS "report ids stored twice (whole database)";
SQL
  say "$(cat "$out/$1-verify.txt")"
}
# The simulator's status counts from its summary line ("ok N  errors 503=N network=N ...").
answers() { grep '^total:' "$1" | sed 's/.*\(ok [0-9,]*  errors [^p]*\)p50.*/\1/'; }

if phase crash; then
  mark "crash: kill -9 x $KILLS under $CRASH_RATE reports/s"
  acked=$work/crash-acked.txt
  : > "$acked"
  : > "$out/crash-kills.txt"
  # Long enough for every kill (8-18 s apart) and restart, with load before the first and after the last.
  sim_bg "$out/crash-sim.txt" --server "$app_url" --load --machines 1000 --rate "$CRASH_RATE" --duration $((KILLS * 30 + 30))s --progress 1s --acked-log "$acked"
  simpid=$!
  wait_acked "$acked"
  for k in $(seq "$KILLS"); do
    sleep $((8 + RANDOM % 11))
    lines=$(wc -l < "$acked")
    killed=$pid_a
    kill -9 "$pid_a"
    wait "$pid_a" 2>/dev/null || true
    start_node a $port_a
    echo "$lines" >> "$work/crash-bounds.txt"
    printf 'kill %d at %s: pid %s, %d acknowledged before it; restarted, ready after %s s\n' "$k" "$(date -u +%T)" "$killed" "$lines" "$last_ready" >> "$out/crash-kills.txt"
  done
  wait "$simpid" || true
  simpid=
  cat "$out/crash-kills.txt" >&2
  say "answers: $(answers "$out/crash-sim.txt")"
  verify crash "$acked" "$work/crash-bounds.txt"
  drain
fi

if phase pg-restart; then
  mark "pg-restart: -m fast then -m immediate under $CRASH_RATE reports/s"
  acked=$work/pg-acked.txt
  : > "$acked"
  : > "$out/pg-restarts.txt"
  # One extra machine for the probe below, which also records Retry-After and readiness every 0.25 s.
  dotnet "$simulator" --admin-token "$admin_token" --server "$app_url" --emit-wrk "$work/probe" --machines 1 --seed 7 > /dev/null
  probe_token=$(head -1 "$work/probe/tokens.txt")
  sim_bg "$out/pg-sim.txt" --server "$app_url" --load --machines 1000 --rate "$CRASH_RATE" --duration "$DURATION" --progress 1s --acked-log "$acked"
  simpid=$!
  wait_acked "$acked"
  ( while true; do
      id=$(cat /proc/sys/kernel/random/uuid)
      sed "s/00000000-0000-0000-0000-000000000000/$id/; s/1970-01-01T00:00:00+00:00/$(date -u +%Y-%m-%dT%H:%M:%S.%3N+00:00)/" "$work/probe/report-template.json" > "$work/probe/body.json"
      answer=$(curl -s -o /dev/null --max-time 5 -w '%{http_code} retry-after=%header{retry-after}' -H "Authorization: Bearer $probe_token" -H 'Content-Type: application/json' --data-binary @"$work/probe/body.json" "$app_url/api/v1/reports" || true)
      [[ "$answer" == 2* ]] && echo "$id" >> "$work/probe-acked.txt"
      echo "$(date +%s.%N | cut -c1-14) report=$answer ready=$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "$app_url/health/ready" || true)"
      sleep 0.25
    done ) > "$out/pg-probe.txt" 2>/dev/null &
  prober=$!
  start=$(date +%s)
  for spec in "fast $((duration_s / 4))" "immediate $((duration_s * 5 / 8))"; do
    set -- $spec
    sleep $(( start + $2 - $(date +%s) > 0 ? start + $2 - $(date +%s) : 0 ))
    lines=$(wc -l < "$acked")
    t0=$(date +%s.%N)
    as_pg "$bin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -m "$1" -w restart > /dev/null
    pg_up=$(echo "$(date +%s.%N) $t0" | awk '{ printf "%.1f", $1 - $2 }')
    back=$(wait_ready "$app_url" "$t0") || exit 1
    echo "$lines" >> "$work/pg-bounds.txt"
    printf 'restart -m %s at %s: %d acknowledged before it; PostgreSQL up after %s s, /health/ready 200 after %s s\n' "$1" "$(date -u -d "@${t0%.*}" +%T)" "$lines" "$pg_up" "$back" >> "$out/pg-restarts.txt"
  done
  wait "$simpid" || true
  simpid=
  kill "$prober"; wait "$prober" 2>/dev/null || true
  prober=
  cat "$out/pg-restarts.txt" >&2
  say "answers: $(answers "$out/pg-sim.txt")"
  say "probe: $(awk '{ print $2 }' "$out/pg-probe.txt" | sort | uniq -c | tr -s ' \n' ' '); 503 without Retry-After: $(grep -c 'report=503 retry-after= ' "$out/pg-probe.txt" || true); not ready: $(grep -vc 'ready=200' "$out/pg-probe.txt" || true) samples"
  cat "$work/probe-acked.txt" >> "$acked" 2>/dev/null || true
  verify pg-restart "$acked" "$work/pg-bounds.txt"
  drain
fi

if phase two-nodes; then
  start_node b $port_b
  acked=$work/two-acked.txt
  : > "$acked"
  if [ -n "$have_nginx" ]; then
    mark "two-nodes: nginx round-robin over node-a and node-b, $CRASH_RATE reports/s"
    mkdir -p "$work/nginx"
    cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
$([ "$(id -u)" = 0 ] && echo 'user root;')
events { worker_connections 4096; }
http {
  log_format upstream '\$upstream_addr \$status \$uri';
  access_log $work/nginx/access.log upstream buffer=64k;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  upstream fleet { server 127.0.0.1:$port_a; server 127.0.0.1:$port_b; keepalive 64; }
  server {
    listen 127.0.0.1:$port_lb;
    client_max_body_size 16m;
    location / { proxy_pass http://fleet; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host \$host; }
  }
}
CONF
    nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
    nginx_pid=$!
    for _ in $(seq 50); do ready "http://127.0.0.1:$port_lb" && break; sleep 0.1; done
    sim_bg "$out/two-sim.txt" --server "http://127.0.0.1:$port_lb" --load --machines 1000 --rate "$CRASH_RATE" --duration "$DURATION" --acked-log "$acked"
    simpid=$!
    wait "$simpid" || true
    simpid=
    kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true
    nginx_pid=
    # Per node: the answers to reports (not enrolments) nginx passed on from each upstream, by status.
    awk '$3 == "/api/v1/reports" { n[$1 " " $2]++ } END { for (k in n) print k, n[k] }' "$work/nginx/access.log" | sort > "$out/two-nodes-per-node.txt"
  else
    mark "two-nodes: nginx not available; half the load straight to each node"
    sim_bg "$out/two-sim.txt" --server "$app_url" --load --machines 1000 --seed 1 --rate $((CRASH_RATE / 2)) --duration "$DURATION" --acked-log "$acked"
    simpid=$!
    sim_bg "$out/two-sim-b.txt" --server "http://127.0.0.1:$port_b" --load --machines 1000 --seed 2 --rate $((CRASH_RATE / 2)) --duration "$DURATION" --acked-log "$work/two-acked-b.txt"
    simpid2=$!
    wait "$simpid" || true
    wait "$simpid2" || true
    simpid= simpid2=
    { echo "127.0.0.1:$port_a 2xx $(wc -l < "$acked")"; echo "127.0.0.1:$port_b 2xx $(wc -l < "$work/two-acked-b.txt")"; } > "$out/two-nodes-per-node.txt"
    cat "$work/two-acked-b.txt" >> "$acked"
  fi
  curl -fs -H "Authorization: Bearer $admin_token" "$app_url/api/v1/system" > "$out/two-nodes-system.json" || true
  say "per node (upstream status count): $(tr '\n' ';' < "$out/two-nodes-per-node.txt")"
  say "answers: $(answers "$out/two-sim.txt")"
  verify two-nodes "$acked"
  drain
  kill "$pid_b"; wait "$pid_b" 2>/dev/null || true
  pid_b=
fi

if phase soak; then
  mark "soak: $RATE reports/s for $SOAK"
  acked=$work/soak-acked.txt
  : > "$acked"
  sim_bg "$out/soak-sim.txt" --server "$app_url" --load --machines "$MACHINES" --rate "$RATE" --duration "$SOAK" --progress 60s --acked-log "$acked"
  simpid=$!
  wait_acked "$acked"
  # Every minute from the start of the load: the app's resident memory, open descriptors and threads, PostgreSQL's
  # connections (all, and the app's database without this query), the app's own status (backlog, lag) and the
# machine's load average.
  ( start=$(date +%s); m=0
    while kill -0 "$simpid" 2>/dev/null; do
      printf '%d %d %d %d %d %s %s\n' "$m" "$(date +%s)" "$(awk '/VmRSS/ { print $2 }' /proc/$pid_a/status)" "$(ls /proc/$pid_a/fd | wc -l)" \
        "$(awk '/Threads/ { print $2 }' /proc/$pid_a/status)" \
        "$(psql_ -c "SELECT count(*) FILTER (WHERE datname = 'fleetlicense' AND pid <> pg_backend_pid()) || ' ' || count(*) FILTER (WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()) FROM pg_stat_activity")" \
        "$(curl -fs --max-time 5 -H "Authorization: Bearer $admin_token" "$app_url/api/v1/system" | tr -d ' \n' || echo '{}')"
      # The whole machine's load: other work on the box shows up here, not in the app's numbers.
      echo "$(date +%s) $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/soak-loadavg.txt"
      m=$((m + 1))
      sleep $(( start + 60 * m - $(date +%s) > 0 ? start + 60 * m - $(date +%s) : 0 ))
    done ) > "$out/soak-raw.txt" &
  soak_sampler=$!
  wait "$simpid" || true
  simpid=
  kill "$soak_sampler" 2>/dev/null; wait "$soak_sampler" 2>/dev/null || true
  soak_sampler=
  say "answers: $(answers "$out/soak-sim.txt")"
  python3 bench/reliability/soak.py "$out/soak-raw.txt" "$out/soak-sim.txt" "$out/samples.csv" "$out/soak-loadavg.txt" | tee "$out/soak-summary.txt" >&2
  verify soak "$acked"
fi

mark "end"
# Errors the app logged (JSON console lines), per node; the restarts and kills above account for what is expected.
grep -c '"LogLevel":"\(Error\|Critical\)"' "$out"/app-*.log > "$out/app-errors.txt" || true
say "Results in $out"
