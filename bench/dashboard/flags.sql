-- The generated flags (6 % of the machines), written by generate.sql and again by reset.sql before each run.
-- Changed when first seen: a quiet fleet, so an alert evaluation with nothing new has nothing to read.
INSERT INTO flags (id, machine_id, rule, subject, severity, title, message, advice, product, evidence, status, first_seen_at, last_seen_at, status_changed_at, status_by, changed_at)
SELECT md5('f' || m.id)::uuid, m.id,
       CASE WHEN m.windows_status IN (0, 5) THEN 'not-activated' WHEN m.kms_host = 'kms.digiboy.ir' THEN 'kms-public-emulator' ELSE 'grace-period' END,
       '2de67392-b7a7-462a-b1ca-108dd189f588',
       CASE WHEN m.windows_status IN (0, 5) OR m.kms_host = 'kms.digiboy.ir' THEN 'Critical' ELSE 'Warning' END,
       'Benchmark finding', 'Generated for the dashboard benchmark.', 'None.', 'Windows(R)', '{}', 'Open',
       now() - (abs(hashtext(m.id::text)) % 90) * interval '1 day', now(), now(), 'system',
       now() - (abs(hashtext(m.id::text)) % 90) * interval '1 day'
FROM machines m
WHERE m.windows_status <> 1 OR m.kms_host = 'kms.digiboy.ir';
