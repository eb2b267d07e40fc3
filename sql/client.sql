--
-- Number administration objects that need no registry: the functions'
-- properties and privileges, the requests table and its row security, and
-- the argument checks done before any request is sent.  The calls against
-- the simulator are in test/t/2*_client_*.pl.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS toll_free;
RESET client_min_messages;
SET search_path = toll_free, public;
\set SHOW_CONTEXT never
\set VERBOSITY terse

-- Every number administration function: volatile, parallel unsafe, with a
-- pinned search_path.
SELECT p.oid::regprocedure AS function, p.provolatile, p.proparallel, p.proisstrict,
       p.proconfig
  FROM pg_proc p
 WHERE p.pronamespace = 'toll_free'::regnamespace
   AND p.proname IN ('tf_query', 'tf_search', 'tf_reserve', 'tf_spare', 'tf_disconnect',
                     'tf_change_resporg', 'tf_request_status')
 ORDER BY p.oid::regprocedure::text;

-- Who may run them: nothing for PUBLIC, queries for readers, changes for
-- operators.
SELECT p.oid::regprocedure AS function,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public,
       has_function_privilege('toll_free_reader', p.oid, 'EXECUTE') AS reader,
       has_function_privilege('toll_free_operator', p.oid, 'EXECUTE') AS operator
  FROM pg_proc p
 WHERE p.pronamespace = 'toll_free'::regnamespace
   AND p.proname IN ('tf_query', 'tf_search', 'tf_reserve', 'tf_spare', 'tf_disconnect',
                     'tf_change_resporg', 'tf_request_status')
 ORDER BY p.oid::regprocedure::text;

-- The requests table: readers may read it, through a row security policy.
SELECT has_table_privilege('toll_free_reader', 'toll_free.requests', 'SELECT') AS reader_select,
       has_table_privilege('toll_free_operator', 'toll_free.requests', 'INSERT') AS operator_insert,
       has_table_privilege('public', 'toll_free.requests', 'SELECT') AS public_select;
SELECT relrowsecurity FROM pg_class WHERE oid = 'toll_free.requests'::regclass;
SELECT polname, polcmd FROM pg_policy WHERE polrelid = 'toll_free.requests'::regclass;
INSERT INTO toll_free.requests (operation, state) VALUES ('query', 'finished');
INSERT INTO toll_free.requests (operation, state, origin) VALUES ('query', 'done', 'cron');

-- A one-number function given NULL returns NULL without a request.
SELECT tf_query(NULL::tfn) IS NULL AS query_null;
SELECT tf_reserve(NULL::tfn) IS NULL AS reserve_null;
SELECT count(*) FROM tf_reserve(NULL::tfn[]);

-- An untyped literal picks the one-number form; bad numbers fail as tfn input.
SELECT tf_query('800-555-01');

-- Argument checks before any request is sent.
SELECT * FROM tf_search(0);
SELECT * FROM tf_search(11);
SELECT * FROM tf_search(1, npa => '8a8');
SELECT * FROM tf_search(1, pattern => '800-FLOWERS');
SELECT * FROM tf_search(1, pattern => '800FLOWER');
SELECT * FROM tf_reserve(pattern => '800FLOWERS', quantity => 11);
SELECT * FROM tf_reserve(pattern => '800FLOWERS', quantity => 1, npa => '8000');
SELECT * FROM tf_change_resporg('8005550100', 'RU');
SELECT * FROM tf_change_resporg('8005550100', 'RUC-1');
SELECT * FROM tf_disconnect('8005550100', effective => '2030-01-01 10:07+00');
SELECT * FROM tf_disconnect('8005550100', effective => '2030-01-01 10:15:30+00');
SELECT * FROM tf_disconnect('8005550100', effective => 'infinity');
SELECT * FROM tf_disconnect('8005550100', end_intercept => '2030-01-01', end_intercept_now => true);
SELECT * FROM tf_query(ARRAY['8005550100', NULL]::tfn[]);
SELECT * FROM tf_request_status('R1; DROP TABLE x');
SELECT * FROM tf_request_status('');
