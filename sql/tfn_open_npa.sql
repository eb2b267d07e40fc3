--
-- tfn_open_npa: the open toll-free codes are data, cached per backend
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS toll_free;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
SET search_path = toll_free, public;

-- The seven codes open today are accepted, and no other.
TABLE open_npa ORDER BY npa;
SELECT x::tfn
FROM unnest(ARRAY['8005551212', '8335551212', '8445551212', '8555551212',
				  '8665551212', '8775551212', '8885551212']) x;
SELECT '8225551212'::tfn;

-- Opening a code in another session takes effect here without reconnecting.
SELECT format('host=%s port=%s dbname=%s user=%s',
	split_part(current_setting('unix_socket_directories'), ',', 1),
	current_setting('port'), current_database(), current_user) AS conninfo \gset
SELECT dblink_connect('other_session', :'conninfo');
SELECT dblink_exec('other_session', 'INSERT INTO toll_free.open_npa VALUES (822)');
SELECT '8225551212'::tfn;
SELECT '1-822-FLOWERS'::tfn, 8225551212::bigint::tfn;
SELECT dblink_exec('other_session', 'DELETE FROM toll_free.open_npa WHERE npa = 822');
SELECT '8225551212'::tfn;

-- A change that another session has not committed yet is not seen.
SELECT dblink_exec('other_session', 'BEGIN');
SELECT dblink_exec('other_session', 'INSERT INTO toll_free.open_npa VALUES (822)');
SELECT '8225551212'::tfn;
SELECT dblink_exec('other_session', 'ROLLBACK');
SELECT dblink_disconnect('other_session');

-- This session's own change is seen at once and undone by a rollback.
BEGIN;
INSERT INTO open_npa VALUES (822);
SELECT '8225551212'::tfn;
ROLLBACK;
SELECT '8225551212'::tfn;

-- UPDATE and TRUNCATE also reach the cache.
BEGIN;
UPDATE open_npa SET npa = 822 WHERE npa = 888;
SELECT '8225551212'::tfn;
SELECT '8885551212'::tfn;
ROLLBACK;
BEGIN;
TRUNCATE open_npa;
SELECT '8005551212'::tfn;
ROLLBACK;
SELECT '8005551212'::tfn, '8885551212'::tfn;

-- Values stored while a code was open stay readable after it closes, but new
-- input in that code is rejected again.
INSERT INTO open_npa VALUES (822);
CREATE TABLE tfn_kept (number tfn);
INSERT INTO tfn_kept VALUES ('8225551212');
DELETE FROM open_npa WHERE npa = 822;
SELECT number, tfn_format(number, 'dashed') FROM tfn_kept;
SELECT '8225551212'::tfn;
DROP TABLE tfn_kept;

-- Only codes from 800 to 899 can be opened.
INSERT INTO open_npa VALUES (212);
INSERT INTO open_npa VALUES (900);

-- The input functions run in parallel workers, which load their own cache.
SET force_parallel_mode = on;
SELECT count(*) FROM generate_series(1000, 1099) g WHERE ('800555' || g)::tfn IS NOT NULL;
SELECT count(*) FROM generate_series(1000, 1099) g WHERE ('822555' || g)::tfn IS NOT NULL;
RESET force_parallel_mode;

-- pg_dump saves the codes an administrator adds (not the seven shipped ones),
-- and the trigger that invalidates the caches is in place.
SELECT c.config::regclass, c.condition
FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS c(config, condition)
WHERE c.config = 'toll_free.open_npa'::regclass;
SELECT tgname, tgtype, tgfoid::regproc
FROM pg_trigger WHERE tgrelid = 'toll_free.open_npa'::regclass AND NOT tgisinternal;

-- Every role can use the type, but only privileged roles can read or change
-- the table.
-- The statement trigger fires even when no row changes, so the cache is
-- reloaded while the unprivileged role is active: the input function reads
-- the table without checking the caller's privileges.
CREATE ROLE regress_tfn_user;
UPDATE open_npa SET npa = npa WHERE false;
SET ROLE regress_tfn_user;
SELECT '1-800-FLOWERS'::toll_free.tfn;
SELECT '8005551212'::toll_free.tfn OPERATOR(toll_free.<) '8885551212'::toll_free.tfn AS lt,
	toll_free.tfn_format('8005551212', 'e164') AS e164,
	toll_free.tfn_npa('8005551212') AS npa,
	8005551212::bigint::toll_free.tfn AS from_bigint;
SELECT * FROM toll_free.open_npa;
INSERT INTO toll_free.open_npa VALUES (822);
RESET ROLE;
DROP ROLE regress_tfn_user;

-- Declared properties: input depends on open_npa and is STABLE.  Everything
-- else depends on the value alone.  Comparisons are LEAKPROOF.
SELECT p.oid::regprocedure AS function, p.provolatile AS volatility,
	p.proisstrict AS strict, p.proparallel AS parallel, p.proleakproof AS leakproof
FROM pg_proc p
WHERE p.pronamespace = 'toll_free'::regnamespace
  AND (p.proname LIKE 'tfn%'
	   OR (p.proname IN ('min', 'max') AND p.proargtypes[0] = 'toll_free.tfn'::regtype))
ORDER BY p.proname, p.oid::regprocedure::text;

DROP EXTENSION dblink;
