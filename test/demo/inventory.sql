-- Part of the tour: the inventory.
--
-- The background worker copies every number a RespOrg holds at the registry
-- into toll_free.numbers, so reports and billing joins read a local table
-- instead of calling the registry.
SET search_path = toll_free, public;

\echo
\echo '== 3. Inventory: sync, expiring reservations, a billing join'

\echo 'The background worker, as toll_free.worker_status shows it:'
SELECT pid, database, state, restarts, next_sync_resporg, next_sync_at
FROM worker_status;

\echo 'Ask the worker to sync RespOrg RUC01 now and wait for the outcome:'
SELECT id, resporg, state, numbers_seen, added, changed, removed, pages,
	   finished_at - started_at AS took
FROM tf_sync('RUC01', wait => true, timeout => '2 min');

\echo 'The inventory per RespOrg and status:'
SELECT resporg, numbers, reserved, assigned, working, disconnect, transitional,
	   reservations_expiring_7d, last_run_state
FROM inventory_summary;

\echo 'Reservations that run out within 7 days (a reservation lasts at most 45 days):'
SELECT number, reserved_on, reserved_until, days_left
FROM tf_reservations_expiring(7)
LIMIT 5;

\echo 'The RespOrg check straight from the registry, streamed as pages arrive (first 3 rows):'
SELECT (r).number, (r).status, (r).status_date
FROM (SELECT tf_resporg_check('RUC01') AS r LIMIT 3) s;

\echo 'A billing table of our own, joined with the inventory on the tfn type:'
CREATE TEMP TABLE billing (
	number			tfn PRIMARY KEY,
	customer		text NOT NULL,
	monthly_fee		numeric(8, 2) NOT NULL
);
INSERT INTO billing
SELECT n.number, 'customer ' || row_number() OVER (ORDER BY n.number), 25.00
FROM numbers n
WHERE n.resporg = 'RUC01' AND n.status IN ('WORKING', 'DISCONNECT')
ORDER BY n.number
LIMIT 6;
INSERT INTO billing VALUES ('1-800-555-0999', 'customer with a number we do not hold', 25.00);

\echo 'Billed numbers that are not working, or not ours at all:'
SELECT b.number, b.customer, coalesce(n.status::text, 'not in the inventory') AS status,
	   n.resporg
FROM billing b
LEFT JOIN numbers n ON n.number = b.number
WHERE n.status IS DISTINCT FROM 'WORKING'
ORDER BY b.number;

\echo 'Reserve a number with a registry call; the call writes it through to the inventory:'
SELECT number, ok, status, reserved_until
FROM tf_reserve(ARRAY['8005550601']::tfn[], contact_name => 'Jane Roe', contact_phone => '7325551234');
SELECT number, status, source, reserved_until FROM numbers WHERE number = '8005550601';

\echo 'The next sync confirms it, and number_history shows who saw each change:'
SELECT id, state, numbers_seen, added, changed, removed
FROM tf_sync('RUC01', wait => true, timeout => '2 min');
SELECT number, source, old_status, new_status, new_resporg, sync_run_id, request_id
FROM number_history
ORDER BY id DESC
LIMIT 3;
