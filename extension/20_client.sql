/*
 * Registry client: the request log and the number administration functions.
 *
 * toll_free.requests has one row per registry request, synchronous or
 * queued.  Rows of calls that changed something at the registry survive a
 * rollback of the caller (docs/sql-api.md, "Number administration").
 * Registry functions write the rows as the table's owner; readers see their
 * own rows, and members of toll_free_admin see every row.
 */
CREATE TABLE @extschema@.requests (
	id				bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	operation		text NOT NULL,
	numbers			@extschema@.tfn[],
	arguments		jsonb NOT NULL DEFAULT '{}',
	state			text NOT NULL
		CONSTRAINT requests_state_check
		CHECK (state IN ('queued', 'sending', 'done', 'failed', 'unknown')),
	origin			text NOT NULL DEFAULT 'call'
		CONSTRAINT requests_origin_check CHECK (origin IN ('call', 'queue')),
	registry_req_id	text,
	http_status		integer,
	result			jsonb,
	sqlstate		text,
	error			text,
	registry_code	text,
	attempts		integer NOT NULL DEFAULT 0,
	requested_by	name NOT NULL DEFAULT CURRENT_USER,
	created_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
	started_at		timestamptz,
	finished_at		timestamptz
);
CREATE INDEX requests_state_idx ON @extschema@.requests (state);
CREATE INDEX requests_registry_req_id_idx ON @extschema@.requests (registry_req_id)
	WHERE registry_req_id IS NOT NULL;
/* Rows arrive in created_at order: a BRIN index finds the old ones to delete. */
CREATE INDEX requests_created_at_idx ON @extschema@.requests USING brin (created_at);

COMMENT ON TABLE @extschema@.requests IS
	'One row per registry request, synchronous (origin call) or queued (origin queue).';

REVOKE ALL ON @extschema@.requests FROM PUBLIC;
GRANT SELECT ON @extschema@.requests TO toll_free_reader;

ALTER TABLE @extschema@.requests ENABLE ROW LEVEL SECURITY;
CREATE POLICY requests_own_rows ON @extschema@.requests FOR SELECT
	USING (requested_by OPERATOR(pg_catalog.=) CURRENT_USER
		   OR pg_catalog.pg_has_role(CURRENT_USER, 'toll_free_admin', 'MEMBER'));

SELECT pg_catalog.pg_extension_config_dump('@extschema@.requests', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.requests_id_seq', '');

/* What the registry reports about one number (numInfo). */
CREATE TYPE @extschema@.number_info AS (
	number			@extschema@.tfn,
	status			@extschema@.number_status,
	resporg			text,
	status_date		date,
	reserved_until	date,
	disconnect_until date,
	last_active		date,
	contact_name	text,
	contact_phone	text,
	notes			text,
	rec_version_id	text,
	auction			boolean
);

/* The outcome for one number of reserve, spare and change RespOrg. */
CREATE TYPE @extschema@.number_result AS (
	number			@extschema@.tfn,
	ok				boolean,
	status			@extschema@.number_status,
	resporg			text,
	reserved_until	date,
	rec_version_id	text,
	registry_code	text,
	message			text,
	request_id		bigint
);

/* The outcome of one disconnect. */
CREATE TYPE @extschema@.disconnect_result AS (
	number			@extschema@.tfn,
	ok				boolean,
	effective_at	timestamptz,
	record_status	text,
	rec_version_id	text,
	registry_code	text,
	message			text,
	request_id		bigint
);

/* The outcome of a registry request, as tf_request_status reports it. */
CREATE TYPE @extschema@.request_outcome AS (
	registry_req_id	text,
	state			text,
	http_status		integer,
	operation		text,
	numbers			@extschema@.tfn[],
	registry_code	text,
	message			text,
	request_id		bigint,
	checked_at		timestamptz
);

/*
 * Number administration functions.  All are VOLATILE and PARALLEL UNSAFE
 * (they talk to the registry) and pin search_path; 99_privileges.sql
 * revokes EXECUTE from PUBLIC and the grants below give it to the roles.
 */
CREATE FUNCTION @extschema@.tf_query(number @extschema@.tfn)
	RETURNS @extschema@.number_info
	AS 'MODULE_PATHNAME', 'tf_query'
	LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp;

/* The text overload makes tf_query('8005550100') pick the one-number form. */
CREATE FUNCTION @extschema@.tf_query(number text)
	RETURNS @extschema@.number_info
	AS 'MODULE_PATHNAME', 'tf_query'
	LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.tf_query(numbers @extschema@.tfn[])
	RETURNS SETOF @extschema@.number_info
	AS 'MODULE_PATHNAME', 'tf_query_many'
	LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.tf_search(
		quantity integer DEFAULT 1,
		npa text DEFAULT NULL,
		pattern text DEFAULT NULL,
		consecutive boolean DEFAULT false,
		numbers @extschema@.tfn[] DEFAULT NULL)
	RETURNS TABLE (number @extschema@.tfn)
	AS 'MODULE_PATHNAME', 'tf_search'
	LANGUAGE C VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp;

GRANT EXECUTE ON FUNCTION @extschema@.tf_query(@extschema@.tfn) TO toll_free_reader;
GRANT EXECUTE ON FUNCTION @extschema@.tf_query(text) TO toll_free_reader;
GRANT EXECUTE ON FUNCTION @extschema@.tf_query(@extschema@.tfn[]) TO toll_free_reader;
GRANT EXECUTE ON FUNCTION @extschema@.tf_search(integer, text, text, boolean, @extschema@.tfn[])
	TO toll_free_reader;

/*
 * Reserve: one number (a refusal raises), an array (a row per number,
 * refusals included) and a search pattern (search and reserve in one
 * request).  The pattern form needs quantity, which keeps
 * tf_reserve('8005550100') unambiguous.
 */
CREATE FUNCTION @extschema@.tf_reserve(
		number @extschema@.tfn,
		contact_name text DEFAULT NULL,
		contact_phone text DEFAULT NULL,
		notes text DEFAULT NULL)
	RETURNS @extschema@.number_result
	AS 'MODULE_PATHNAME', 'tf_reserve'
	LANGUAGE C VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.tf_reserve(
		number text,
		contact_name text DEFAULT NULL,
		contact_phone text DEFAULT NULL,
		notes text DEFAULT NULL)
	RETURNS @extschema@.number_result
	AS 'MODULE_PATHNAME', 'tf_reserve'
	LANGUAGE C VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.tf_reserve(
		numbers @extschema@.tfn[],
		contact_name text DEFAULT NULL,
		contact_phone text DEFAULT NULL,
		notes text DEFAULT NULL)
	RETURNS SETOF @extschema@.number_result
	AS 'MODULE_PATHNAME', 'tf_reserve_many'
	LANGUAGE C VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.tf_reserve(
		pattern text,
		quantity integer,
		contact_name text DEFAULT NULL,
		contact_phone text DEFAULT NULL,
		notes text DEFAULT NULL,
		npa text DEFAULT NULL,
		consecutive boolean DEFAULT false)
	RETURNS SETOF @extschema@.number_result
	AS 'MODULE_PATHNAME', 'tf_reserve_search'
	LANGUAGE C VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp;

/* Spare: return numbers to the spare pool. */
CREATE FUNCTION @extschema@.tf_spare(number @extschema@.tfn)
	RETURNS @extschema@.number_result
	AS 'MODULE_PATHNAME', 'tf_spare'
	LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.tf_spare(number text)
	RETURNS @extschema@.number_result
	AS 'MODULE_PATHNAME', 'tf_spare'
	LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.tf_spare(numbers @extschema@.tfn[])
	RETURNS SETOF @extschema@.number_result
	AS 'MODULE_PATHNAME', 'tf_spare_many'
	LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp;

/* Change RespOrg: move numbers to another RespOrg of the session's updList. */
CREATE FUNCTION @extschema@.tf_change_resporg(number @extschema@.tfn, new_resporg text)
	RETURNS @extschema@.number_result
	AS 'MODULE_PATHNAME', 'tf_change_resporg'
	LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.tf_change_resporg(number text, new_resporg text)
	RETURNS @extschema@.number_result
	AS 'MODULE_PATHNAME', 'tf_change_resporg'
	LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.tf_change_resporg(numbers @extschema@.tfn[], new_resporg text)
	RETURNS SETOF @extschema@.number_result
	AS 'MODULE_PATHNAME', 'tf_change_resporg_many'
	LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp;

/*
 * Disconnect: effective NULL means NOW; end_intercept NULL means the
 * registry's default (30 days after the disconnect); end_intercept_now
 * makes the number TRANSITIONAL at once (needs a NOW disconnect).
 */
CREATE FUNCTION @extschema@.tf_disconnect(
		number @extschema@.tfn,
		effective timestamptz DEFAULT NULL,
		end_intercept date DEFAULT NULL,
		referral boolean DEFAULT false,
		end_intercept_now boolean DEFAULT false)
	RETURNS @extschema@.disconnect_result
	AS 'MODULE_PATHNAME', 'tf_disconnect'
	LANGUAGE C VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.tf_disconnect(
		number text,
		effective timestamptz DEFAULT NULL,
		end_intercept date DEFAULT NULL,
		referral boolean DEFAULT false,
		end_intercept_now boolean DEFAULT false)
	RETURNS @extschema@.disconnect_result
	AS 'MODULE_PATHNAME', 'tf_disconnect'
	LANGUAGE C VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.tf_disconnect(
		numbers @extschema@.tfn[],
		effective timestamptz DEFAULT NULL,
		end_intercept date DEFAULT NULL,
		referral boolean DEFAULT false,
		end_intercept_now boolean DEFAULT false)
	RETURNS SETOF @extschema@.disconnect_result
	AS 'MODULE_PATHNAME', 'tf_disconnect_many'
	LANGUAGE C VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp;

/* The outcome of a pending (202) request, by registry or local request id. */
CREATE FUNCTION @extschema@.tf_request_status(request_id text)
	RETURNS @extschema@.request_outcome
	AS 'MODULE_PATHNAME', 'tf_request_status'
	LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp;

GRANT EXECUTE ON FUNCTION @extschema@.tf_request_status(text) TO toll_free_reader;
GRANT EXECUTE ON FUNCTION
	@extschema@.tf_reserve(@extschema@.tfn, text, text, text),
	@extschema@.tf_reserve(text, text, text, text),
	@extschema@.tf_reserve(@extschema@.tfn[], text, text, text),
	@extschema@.tf_reserve(text, integer, text, text, text, text, boolean),
	@extschema@.tf_spare(@extschema@.tfn),
	@extschema@.tf_spare(text),
	@extschema@.tf_spare(@extschema@.tfn[]),
	@extschema@.tf_change_resporg(@extschema@.tfn, text),
	@extschema@.tf_change_resporg(text, text),
	@extschema@.tf_change_resporg(@extschema@.tfn[], text),
	@extschema@.tf_disconnect(@extschema@.tfn, timestamptz, date, boolean, boolean),
	@extschema@.tf_disconnect(text, timestamptz, date, boolean, boolean),
	@extschema@.tf_disconnect(@extschema@.tfn[], timestamptz, date, boolean, boolean)
	TO toll_free_operator;
