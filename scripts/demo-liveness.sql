-- Demo only: run.sh runs this once, right after the simulator has loaded the demo fleet into the embedded
-- database. Never run it on a real fleet's database.
--
-- Agent liveness is measured on machine_liveness.last_seen_at, the time the server last heard from the agent
-- (src/FleetLicense.Domain/Agents/AgentLiveness.cs). The simulator replays 90 days of history in minutes, so the
-- server hears from every demo machine "now" and even the agents that stopped reporting weeks ago look active.
-- In a live fleet a report reaches the server when it is collected, so this sets each machine's last_seen_at to
-- the collection time of its last report. Nothing in the API can do that, on purpose: a client never sets when
-- the server heard from it.

-- Applying a queued report sets last_seen_at to "now" again, so first wait (up to five minutes) until the server
-- has applied every report the simulator sent. Each query of the loop sees what committed before it.
DO $$
DECLARE
    deadline timestamptz := clock_timestamp() + interval '5 minutes';
BEGIN
    WHILE EXISTS (SELECT 1 FROM projection_queue) LOOP
        IF clock_timestamp() > deadline THEN
            RAISE EXCEPTION 'the server has not applied the demo reports within five minutes (projection_queue is not empty)';
        END IF;
        PERFORM pg_sleep(0.2);
    END LOOP;
END
$$;

UPDATE machine_liveness SET last_seen_at = last_collected_at WHERE last_collected_at < last_seen_at;
