--
-- Inventory objects that need neither the registry nor the worker: the
-- tables and their constraints, the views over rows inserted by hand,
-- privileges, and the argument checks done before any request is sent.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS toll_free;
RESET client_min_messages;
SET search_path = toll_free, public;
\set SHOW_CONTEXT never
\set VERBOSITY terse

-- numbers keeps no constraint that spans rows, so it can be distributed
-- (Citus) by number: only its primary key and row-level checks.
SELECT conname, contype
  FROM pg_constraint
 WHERE conrelid = 'toll_free.numbers'::regclass
 ORDER BY conname;

-- The staging table is unlogged and has no index (it is loaded in bulk).
SELECT relpersistence, relhasindex
  FROM pg_class
 WHERE oid = 'toll_free.sync_staging'::regclass;

-- Reservations: days_left counts to the last day; without a registry date
-- the reservation lasts 45 days from its start.
INSERT INTO numbers (number, resporg, status, status_date, reserved_until, last_seen, source)
VALUES ('8005550101', 'TST01', 'RESERVED', current_date - 40, current_date + 5, now(), 'sync'),
	   ('8005550102', 'TST01', 'RESERVED', current_date - 44, NULL, now(), 'sync'),
	   ('8005550103', 'TST01', 'RESERVED', current_date - 2, current_date + 43, now(), 'sync'),
	   ('8005550104', 'TST01', 'WORKING', current_date - 400, NULL, now(), 'sync'),
	   ('8005550105', 'TST02', 'RESERVED', current_date - 46, current_date - 1, now(), 'call');

SELECT number, resporg, reserved_until - current_date AS until_offset, days_left
  FROM reservations_expiring
 WHERE resporg LIKE 'TST%'
 ORDER BY number;

SELECT number, days_left FROM tf_reservations_expiring() WHERE resporg LIKE 'TST%';
SELECT number, days_left FROM tf_reservations_expiring(1) WHERE resporg LIKE 'TST%';
SELECT count(*) FROM tf_reservations_expiring(45) WHERE resporg LIKE 'TST%';

SELECT resporg, numbers, reserved, working, reservations_expiring_7d,
	   last_synced_at IS NULL AS never_synced, last_run_state
  FROM inventory_summary
 WHERE resporg LIKE 'TST%'
 ORDER BY resporg;

INSERT INTO sync_runs (resporg, origin, started_at, finished_at, state, numbers_seen, added)
VALUES ('TST01', 'schedule', now() - interval '1 hour', now() - interval '59 minutes', 'done', 4, 4),
	   ('TST01', 'request', now() - interval '5 minutes', now() - interval '4 minutes', 'failed', 0, 0);

SELECT resporg, last_synced_at IS NOT NULL AS synced, last_run_state
  FROM inventory_summary
 WHERE resporg LIKE 'TST%'
 ORDER BY resporg;

-- Row-level checks.
INSERT INTO numbers (number, resporg, status, last_seen, source)
VALUES ('8005550106', 'TST01', 'WORKING', now(), 'guess');
INSERT INTO sync_runs (resporg, origin, state) VALUES ('TST01', 'schedule', 'lost');

-- Arguments are checked before any request is sent.
SELECT * FROM tf_resporg_check('RUC0!');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM tf_resporg_check('RUC01', page_size => 0);
\echo :LAST_ERROR_SQLSTATE
SET toll_free.resporg = '';
SELECT * FROM tf_resporg_check();
\echo :LAST_ERROR_SQLSTATE
RESET toll_free.resporg;

-- Syncs run in the worker's database only (this one is not it).
SELECT * FROM tf_sync('RUC01');
\echo :LAST_ERROR_SQLSTATE

-- The status view works everywhere.
SELECT database FROM worker_status;

-- Privileges: readers read, admins sync, PUBLIC gets nothing.
CREATE ROLE regress_inventory_reader IN ROLE toll_free_reader;
CREATE ROLE regress_inventory_nobody;
SET ROLE regress_inventory_reader;
SELECT count(*) FROM numbers WHERE resporg LIKE 'TST%';
SELECT count(*) FROM number_history WHERE number = '8005550101';
SELECT count(*) FROM sync_runs WHERE resporg = 'TST01';
SELECT count(*) FROM reservations_expiring WHERE resporg LIKE 'TST%';
SELECT count(*) FROM inventory_summary WHERE resporg LIKE 'TST%';
SELECT count(*) FROM worker_status;
SELECT count(*) FROM tf_reservations_expiring() WHERE resporg LIKE 'TST%';
SELECT * FROM tf_sync('RUC01');
\echo :LAST_ERROR_SQLSTATE
SELECT tf_worker_restart();
\echo :LAST_ERROR_SQLSTATE
DELETE FROM numbers;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM sync_staging;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE regress_inventory_nobody;
SELECT count(*) FROM numbers;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM tf_resporg_check('RUC01');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

SELECT p.proname,
	   has_function_privilege('toll_free_reader', p.oid, 'EXECUTE') AS reader,
	   has_function_privilege('toll_free_admin', p.oid, 'EXECUTE') AS admin,
	   has_function_privilege('regress_inventory_nobody', p.oid, 'EXECUTE') AS nobody
  FROM pg_proc p
 WHERE p.pronamespace = 'toll_free'::regnamespace
   AND p.proname IN ('tf_resporg_check', 'tf_sync', 'tf_worker_status', 'tf_worker_restart',
					 'tf_worker_wake', 'tf_reservations_expiring')
 ORDER BY p.proname;

DROP ROLE regress_inventory_reader;
DROP ROLE regress_inventory_nobody;
DELETE FROM numbers WHERE resporg IN ('TST01', 'TST02');
DELETE FROM sync_runs WHERE resporg = 'TST01';
