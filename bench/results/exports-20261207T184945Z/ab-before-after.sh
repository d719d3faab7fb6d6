#!/usr/bin/env bash
set -euo pipefail
cd /work/main
. scripts/prerequisites.sh
bin=$(postgres_bin); data=/tmp/fl-bench-exports/pg; port=55434; work=$(mktemp -d /tmp/fl-ab.XXXXXX); chmod 755 $work; chown postgres $work
cs="Host=127.0.0.1;Port=$port;Database=fleetlicense;Username=postgres"
token=$(cat $data.token)
runuser -u postgres -- $bin/pg_ctl -D $data -l $work/pg.log -w -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work -c shared_buffers=2GB -c effective_cache_size=12GB -c work_mem=64MB -c max_wal_size=8GB -c synchronous_commit=off" start >/dev/null
trap 'runuser -u postgres -- $bin/pg_ctl -D $data -m fast -w stop >/dev/null' EXIT
q="COPY (SELECT m.id, m.hostname, m.serial_number, m.edition_id, p.name, p.kind, p.channel, p.partial_key, left(p.key_fingerprint, 8), p.license_status, p.license_status, p.grace_minutes, p.kms_host, l.last_seen_at FROM machines m LEFT JOIN machine_products p ON p.machine_id = m.id LEFT JOIN machine_liveness l ON l.machine_id = m.id ORDER BY m.hostname, m.id, p.product_key COLLATE \"C\") TO STDOUT (FORMAT csv)"
for i in 1 2; do s=$(date +%s.%N); psql -h 127.0.0.1 -p $port -U postgres -d fleetlicense -qAt -c "$q" > /dev/null; echo "copy $i: $(echo "$(date +%s.%N) - $s" | bc) s"; done
for side in before after before after; do
  dir=$([ $side = before ] && echo /tmp/fl-before || echo /work/main)
  (cd $dir && ConnectionStrings__FleetLicense="$cs" ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS=http://127.0.0.1:5093 Scheduling__Enabled=false Database__MigrateOnStartup=false \
    Accounts__BootstrapApiTokenHash="$(printf %s "$token" | sha256sum | cut -d' ' -f1)" Accounts__InitialAdminPasswordFile="$work/pw" Logging__LogLevel__Default=Warning \
    exec dotnet src/FleetLicense.Web/bin/Release/net10.0/FleetLicense.Web.dll >> $work/app.log 2>&1) &
  app=$!
  for _ in $(seq 240); do curl -fs http://127.0.0.1:5093/health/ready >/dev/null 2>&1 && break; sleep 0.5; done
  pid=$(pgrep -f "5093" -n || echo $app)
  for run in 1 2; do
    rss0=$(ps -o rss= -p $pid); peak=$rss0; s=$(date +%s.%N)
    curl -fs -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{"report":"inventory","format":"csv"}' http://127.0.0.1:5093/api/v1/exports > $work/e.json &
    req=$!; while kill -0 $req 2>/dev/null; do r=$(ps -o rss= -p $pid); [ $r -gt $peak ] && peak=$r; sleep 0.2; done; wait $req
    echo "$side csv run $run: $(echo "$(date +%s.%N) - $s" | bc) s, RSS +$(( (peak - rss0) / 1024 )) MB, $(sed -n 's/.*"rowCount":\([0-9]*\).*/\1/p' $work/e.json) rows"
  done
  kill $pid 2>/dev/null; wait $app 2>/dev/null || true
done
