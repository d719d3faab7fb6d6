-- A hundred reports per transaction: the writer statement with 100 rows.
\set m random(1, 10000)
WITH input AS (
    SELECT gen_random_uuid() AS report_id, ('00000000-0000-0000-0000-' || lpad(((:m + g) % 10000)::text, 12, '0'))::uuid AS machine_id,
           now() AS collected_at, 'BODY_JSON'::jsonb AS body FROM generate_series(1, 100) AS g
), fresh AS (
    INSERT INTO report_receipts (report_id, machine_id, received_at)
    SELECT report_id, machine_id, now() FROM input ON CONFLICT (report_id) DO NOTHING RETURNING report_id
), raw AS (
    INSERT INTO raw_reports (report_id, machine_id, received_at, collected_at, body)
    SELECT i.report_id, i.machine_id, now(), i.collected_at, i.body FROM input i JOIN fresh f USING (report_id)
), queued AS (
    INSERT INTO projection_queue (report_id, machine_id, received_at)
    SELECT i.report_id, i.machine_id, now() FROM input i JOIN fresh f USING (report_id)
)
SELECT count(*) FROM fresh;
