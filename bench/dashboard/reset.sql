-- Every run starts from the generated fleet: what the timed jobs wrote last time (alerts, stale marks, job runs,
-- and the flags that fleet rules and the re-evaluation changed) goes, so a run on a kept cluster (DATA_DIR)
-- does the same work as the first.
\set ON_ERROR_STOP on
TRUNCATE alert_deliveries, alert_messages, alert_states, alert_cursor, in_app_notifications, stale_agents, job_runs;
TRUNCATE flags CASCADE;
\ir flags.sql
VACUUM ANALYZE flags;
