--
-- tfn_soft: bad tfn input reported without raising
--
-- On PostgreSQL 16 and later, tfn_in reports its errors through the caller's
-- error-save context, so pg_input_is_valid() and pg_input_error_info() can
-- test a text before it is cast.  The soft report must carry the same
-- SQLSTATE, message, detail and hint as the error the cast raises.
--
-- PostgreSQL 15 has neither function.  There input_report() below catches
-- the cast's error instead, so the table shows the same rows, and there the
-- comparison with the cast compares the cast with itself.  The output is
-- the same on both versions, so one expected file serves them.
--
-- tfn_is_valid(text) gives the same answer as pg_input_is_valid() on every
-- version, and is checked against the cast as well.
--
-- NOTE: only PostgreSQL 15 has run this file; the branch for 16 and later
-- has not run, because Debian 12 packages no later server.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS toll_free;
RESET client_min_messages;
SET search_path = toll_free, public;

-- cast_report: what the cast does with an input.
CREATE FUNCTION pg_temp.cast_report(input text,
	OUT valid boolean, OUT sql_error_code text, OUT message text, OUT detail text,
	OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM input::toll_free.tfn;
	valid := true;
EXCEPTION WHEN OTHERS THEN
	valid := false;
	GET STACKED DIAGNOSTICS sql_error_code = RETURNED_SQLSTATE,
		message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
		hint = PG_EXCEPTION_HINT;
END
$$;

SELECT current_setting('server_version_num')::integer >= 160000 AS has_soft_errors \gset

-- input_report: the soft report of an input, where the server has one.
\if :has_soft_errors
CREATE FUNCTION pg_temp.input_report(input text,
	OUT valid boolean, OUT sql_error_code text, OUT message text, OUT detail text,
	OUT hint text)
LANGUAGE sql AS $$
	SELECT pg_input_is_valid(input, 'toll_free.tfn'),
		e.sql_error_code, e.message, e.detail, e.hint
	FROM pg_input_error_info(input, 'toll_free.tfn') e
$$;
\else
CREATE FUNCTION pg_temp.input_report(input text,
	OUT valid boolean, OUT sql_error_code text, OUT message text, OUT detail text,
	OUT hint text)
LANGUAGE sql AS $$
	SELECT * FROM pg_temp.cast_report(input)
$$;
\endif

-- One input of each kind the parser and the open-code check reject, and two
-- it accepts.
CREATE TEMP TABLE inputs (id integer, input text);
INSERT INTO inputs VALUES
	(1, '800-555-1212'),
	(2, '1-800-FLOWERS'),
	(3, '800-555-121'),
	(4, '+1 800 555 12120'),
	(5, '800-555-1212 x22'),
	(6, '+800 1234 5678'),
	(7, 'a800a555a1212a'),
	(8, ''),
	(9, '900-555-1212'),
	(10, '822-555-1212'),
	(11, '800-055-1212');

SELECT i.input, r.valid, r.sql_error_code, r.message, r.detail
FROM inputs i, LATERAL pg_temp.input_report(i.input) r
ORDER BY i.id;

-- The soft report and the raised error agree on every input, hints too.
SELECT i.input
FROM inputs i, LATERAL pg_temp.input_report(i.input) s,
	LATERAL pg_temp.cast_report(i.input) c
WHERE (s.valid, s.sql_error_code, s.message, s.detail, s.hint)
	IS DISTINCT FROM (c.valid, c.sql_error_code, c.message, c.detail, c.hint);

-- tfn_is_valid(), which every version has, agrees with the cast too.
SELECT i.input, tfn_is_valid(i.input) AS is_valid
FROM inputs i, LATERAL pg_temp.cast_report(i.input) c
WHERE tfn_is_valid(i.input) IS DISTINCT FROM c.valid;
SELECT tfn_is_valid(NULL) IS NULL AS null_gives_null;

-- A filter that keeps the inputs a load can cast, as a staging query would.
SELECT i.input::tfn AS number
FROM inputs i, LATERAL pg_temp.input_report(i.input) r
WHERE r.valid
ORDER BY i.id;
SELECT i.input::tfn AS number
FROM inputs i
WHERE tfn_is_valid(i.input)
ORDER BY i.id;
