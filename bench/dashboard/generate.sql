-- Bulk fleet for the dashboard benchmark: :machines machines, 30 history rows each, flags on 6 %, 90 days of
-- snapshots. Deterministic (no random()): every value is a function of the machine number.
\set ON_ERROR_STOP on
SET synchronous_commit = off;
SET maintenance_work_mem = '512MB';

INSERT INTO machines (id, identity_key, hostname, smbios_uuid, serial_number, token_hash, token_issued_at, enrolled_at, agent_version,
                      manufacturer, model, pc_system_type, join_type, edition_id, os_build,
                      windows_status, windows_channel, windows_partial_key, windows_grace_minutes, kms_host)
SELECT md5('m' || i)::uuid,
       'host:' || i,
       (ARRAY['LAPTOP-','DESKTOP-','SRV-','WS-'])[1 + i % 4] || upper(substr(md5('h' || i), 1, 7)),
       upper(md5('u' || i)::uuid::text),
       upper(substr(md5('s' || i), 1, 8)),
       decode(md5('t' || i) || md5('T' || i), 'hex'),
       now() - interval '100 days', now() - interval '100 days', '0.1.' || (i % 3),
       (ARRAY['Dell Inc.','HP','LENOVO','Microsoft Corporation','VMware, Inc.'])[1 + i % 5],
       (ARRAY['Latitude 7440','EliteBook 840 G10','ThinkPad T14 Gen 4','Surface Laptop 5','VMware7,1','OptiPlex 7010','ProDesk 400 G9'])[1 + i % 7],
       1 + i % 3,
       (ARRAY['Domain','EntraId','Hybrid','None'])[1 + i % 4],
       (ARRAY['Professional','Enterprise','Professional','Enterprise','Education','Core','ServerStandard','IoTEnterpriseS'])[1 + i % 8],
       (ARRAY['19045','22631','26100'])[1 + i % 3],
       CASE WHEN i % 50 = 0 THEN 5 WHEN i % 97 = 0 THEN 0 WHEN i % 41 = 0 THEN 2 WHEN i % 43 = 0 THEN 3 WHEN i % 47 = 0 THEN 6 ELSE 1 END,
       (ARRAY['KMS','OEM','MAK','Retail','KMS'])[1 + i % 5],
       substr(translate(upper(md5('k' || i)), '0150AEIOLSUZ', 'BCDFGHJKMPQR'), 1, 5),
       CASE WHEN i % 5 IN (0, 4) THEN 259200 - i % 10000 ELSE 0 END,
       CASE WHEN i % 5 IN (0, 4) THEN (ARRAY['kms01.corp.example','kms02.corp.example','kms.digiboy.ir'])[1 + (i / 5) % 3] END
FROM generate_series(1, :machines) AS i;

-- A live fleet: last seen within the last day, a few machines per second; every 33rd machine silent, last seen
-- 8 to 38 days ago.
INSERT INTO machine_liveness (machine_id, last_seen_at, last_collected_at)
SELECT md5('m' || i)::uuid, t, t
FROM generate_series(1, :machines) AS i,
     LATERAL (SELECT CASE WHEN i % 33 = 0 THEN now() - interval '8 days' - (i % 2592000) * interval '1 second'
                          ELSE now() - (i % 86400) * interval '1 second' END) AS s(t);

INSERT INTO machine_products (machine_id, product_key, name, kind, channel, partial_key, key_fingerprint, license_status, grace_minutes, kms_host, collected_at, details)
SELECT id, '2de67392-b7a7-462a-b1ca-108dd189f588', 'Windows(R), ' || edition_id || ' edition', 'Windows', windows_channel, windows_partial_key,
       md5(windows_partial_key), windows_status, windows_grace_minutes, kms_host, l.last_collected_at,
       json_build_object('name', 'Windows(R), ' || edition_id || ' edition', 'kind', 'Windows', 'channel', windows_channel,
                         'partialKey', windows_partial_key, 'licenseStatusCode', windows_status)
FROM machines JOIN machine_liveness l ON l.machine_id = machines.id;

-- 30 changes per machine over 90 days: status, key, channel and KMS host moves (typed columns, as the projector writes them).
INSERT INTO machine_history (machine_id, at, product_key, product_name, product_kind, field, old_status, new_status, old_channel, new_channel,
                             old_partial_key, new_partial_key, old_fingerprint_prefix, new_fingerprint_prefix, old_kms_host, new_kms_host, report_id)
SELECT m.id, now() - (90 - k * 3) * interval '1 day' - (m.hash % 1440) * interval '1 minute',
       '2de67392-b7a7-462a-b1ca-108dd189f588', 'Windows(R), Professional edition', 'Windows',
       (ARRAY['status','key','channel','kmsHost','status'])[1 + k % 5],
       CASE WHEN k % 5 IN (0, 4) THEN 2 END,
       CASE WHEN k % 5 IN (0, 4) THEN 1 END,
       CASE WHEN k % 5 = 2 THEN 'OEM' END,
       CASE WHEN k % 5 = 2 THEN 'KMS' END,
       CASE WHEN k % 5 = 1 THEN substr(translate(upper(md5('o' || m.id || k)), '0150AEIOLSUZ', 'BCDFGHJKMPQR'), 1, 5) END,
       CASE WHEN k % 5 = 1 THEN substr(translate(upper(md5('n' || m.id || k)), '0150AEIOLSUZ', 'BCDFGHJKMPQR'), 1, 5) END,
       CASE WHEN k % 5 = 1 THEN substr(md5('of' || m.id || k), 1, 8) END,
       CASE WHEN k % 5 = 1 THEN substr(md5('nf' || m.id || k), 1, 8) END,
       CASE WHEN k % 5 = 3 THEN 'kms01.corp.example' END,
       CASE WHEN k % 5 = 3 THEN 'kms02.corp.example' END,
       md5(m.id::text || k)::uuid
FROM (SELECT id, abs(hashtext(id::text)) AS hash FROM machines) m, generate_series(0, 29) AS k;

\ir flags.sql

INSERT INTO fleet_snapshots (day, dimension, value, machines, taken_at)
SELECT d::date, 'status', v.value,
       round(:machines * v.share + CASE WHEN v.value = 'Licensed' THEN :machines * (d::date - current_date) / 3000.0 ELSE 0 END)::int, now()
FROM generate_series(current_date - 90, current_date, interval '1 day') AS d,
     (VALUES ('Licensed', 0.94), ('Notification', 0.02), ('OOBGrace', 0.04)) AS v(value, share);

VACUUM ANALYZE machines;
VACUUM ANALYZE machine_products;
VACUUM ANALYZE machine_history;
VACUUM ANALYZE flags;
VACUUM ANALYZE fleet_snapshots;
