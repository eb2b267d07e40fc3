/*
 * Request queue: registry work queued by SQL (often from triggers) and
 * carried out by the background worker after the enqueuing transaction
 * commits.  Queued requests are rows of toll_free.requests with origin
 * 'queue'; this fragment adds the columns and indexes the worker needs.
 *
 * States of a queued request:
 *   queued    waiting to be sent (next_attempt_at: not before)
 *   sending   claimed by the worker, on the wire
 *   unknown   the outcome is not known yet and is being checked through
 *             request status or a query of the number (next_attempt_at: the
 *             next check); with finished_at set, the worker could not tell
 *   done      carried out by the registry (result)
 *   failed    refused by the registry or given up (error, registry_code)
 * A finished request has finished_at set, and a NOTIFY on channel
 * toll_free_requests with the request id as payload was sent.
 */
ALTER TABLE @extschema@.requests
	ADD COLUMN next_attempt_at timestamptz,
	ADD COLUMN checks integer NOT NULL DEFAULT 0;

COMMENT ON COLUMN @extschema@.requests.next_attempt_at IS
	'Queued requests: earliest time of the next attempt (state queued) or check (state unknown).';
COMMENT ON COLUMN @extschema@.requests.checks IS
	'Queued requests: read-only checks made to learn the outcome of an unknown request.';

/* The worker claims due rows in id order and purges by finished_at. */
CREATE INDEX requests_queue_ready_idx ON @extschema@.requests (id)
	WHERE origin = 'queue' AND state IN ('queued', 'unknown');
CREATE INDEX requests_queue_unfinished_idx ON @extschema@.requests (next_attempt_at)
	WHERE origin = 'queue' AND finished_at IS NULL;
CREATE INDEX requests_queue_finished_idx ON @extschema@.requests (finished_at)
	WHERE origin = 'queue' AND finished_at IS NOT NULL;

/*
 * tf_enqueue: queue one registry operation on one number; returns the
 * request id.  SECURITY DEFINER so that operators need no privileges on the
 * table itself; requested_by records the caller's role.
 */
CREATE FUNCTION @extschema@.tf_enqueue(operation text, number @extschema@.tfn,
									   arguments jsonb DEFAULT '{}')
RETURNS bigint
AS 'MODULE_PATHNAME', 'tf_enqueue'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION @extschema@.tf_enqueue(text, @extschema@.tfn, jsonb) IS
	'Queue a registry operation (reserve, spare, disconnect, change_resporg, copy_record, update_record); it is sent after COMMIT.';

/*
 * tf_wait: wait until a request finished and return its row; after the
 * timeout, return the row unfinished (finished_at is null).  It runs with
 * the caller's rights, so the row-level security of toll_free.requests
 * applies: an operator waits only for requests it made itself.
 */
CREATE FUNCTION @extschema@.tf_wait(request_id bigint, timeout interval DEFAULT '30 s')
RETURNS @extschema@.requests
AS 'MODULE_PATHNAME', 'tf_wait'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION @extschema@.tf_wait(bigint, interval) IS
	'Wait until a queued request has finished and return its row (unfinished after the timeout).';

/* Queue health, one row per state, for people and monitoring. */
CREATE VIEW @extschema@.queue_summary AS
SELECT state,
	   pg_catalog.count(*) AS requests,
	   pg_catalog.min(created_at) AS oldest_created_at,
	   pg_catalog.min(next_attempt_at) AS next_attempt_at,
	   pg_catalog.max(attempts) AS max_attempts,
	   pg_catalog.max(finished_at) AS last_finished_at
FROM @extschema@.requests
WHERE origin = 'queue'
GROUP BY state;

COMMENT ON VIEW @extschema@.queue_summary IS
	'Queued requests per state: how many, the oldest, the next attempt due.';

GRANT EXECUTE ON FUNCTION @extschema@.tf_enqueue(text, @extschema@.tfn, jsonb),
	@extschema@.tf_wait(bigint, interval) TO toll_free_operator;
GRANT SELECT ON @extschema@.queue_summary TO toll_free_reader;
