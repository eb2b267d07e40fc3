/*
 * Customer records (CR): query, retrieve, copy and update.
 *
 * A number's routing lives in customer records, one per effective date/time.
 * toll_free.records keeps the last summary of each record version that a
 * record function saw; the full content stays at the registry and comes back
 * as XML from tf_retrieve.  docs/sql-api.md ("Customer records") documents the
 * functions and the record XML.
 *
 * Input parameters that name a number are called num (the registry's field
 * name), because the result columns are called number.
 */

/* Record statuses, in the registry's own words. */
CREATE TYPE @extschema@.record_status AS ENUM (
	'SAVED', 'PENDING', 'SENDING', 'ACTIVE', 'OLD', 'INVALID',
	'DISCONNECT', 'MUST CHECK', 'FAILED', 'HOLD'
);

/*
 * Last known summary of each record version of a number.  tf_query_records
 * replaces a number's rows with the registry's full list; tf_retrieve,
 * tf_copy_record and tf_update_record upsert the one version they saw.
 */
CREATE TABLE @extschema@.records (
	number		@extschema@.tfn NOT NULL,
	effective	timestamptz NOT NULL,
	status		@extschema@.record_status NOT NULL,
	parts		text,
	approval	text,
	action		text,
	version		text,
	seen_at		timestamptz NOT NULL,
	PRIMARY KEY (number, effective)
);
REVOKE ALL ON @extschema@.records FROM PUBLIC;
GRANT SELECT ON @extschema@.records TO toll_free_reader;

/* Saved by pg_dump like the inventory it describes. */
SELECT pg_catalog.pg_extension_config_dump('@extschema@.records', '');

CREATE FUNCTION @extschema@.tf_query_records(
	num @extschema@.tfn,
	OUT number @extschema@.tfn,
	OUT effective timestamptz,
	OUT status @extschema@.record_status,
	OUT parts text,
	OUT approval text,
	OUT action text,
	OUT version text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tf_query_records'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.tf_retrieve(
	num @extschema@.tfn,
	effective timestamptz DEFAULT NULL)
RETURNS xml
AS 'MODULE_PATHNAME', 'tf_retrieve'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.tf_retrieve_template(
	name text,
	effective timestamptz DEFAULT NULL)
RETURNS xml
AS 'MODULE_PATHNAME', 'tf_retrieve_template'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.tf_copy_record(
	source text,
	target @extschema@.tfn,
	source_effective timestamptz DEFAULT NULL,
	target_effective timestamptz DEFAULT NULL,
	parts text DEFAULT 'CAD, LAD, CPR',
	pointer boolean DEFAULT false,
	OUT number @extschema@.tfn,
	OUT effective timestamptz,
	OUT status @extschema@.record_status,
	OUT version text)
RETURNS record
AS 'MODULE_PATHNAME', 'tf_copy_record'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION @extschema@.tf_update_record(
	num @extschema@.tfn,
	record xml,
	submit boolean DEFAULT true,
	OUT number @extschema@.tfn,
	OUT effective timestamptz,
	OUT status @extschema@.record_status,
	OUT version text)
RETURNS record
AS 'MODULE_PATHNAME', 'tf_update_record'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

GRANT EXECUTE ON FUNCTION
	@extschema@.tf_query_records(@extschema@.tfn),
	@extschema@.tf_retrieve(@extschema@.tfn, timestamptz),
	@extschema@.tf_retrieve_template(text, timestamptz)
	TO toll_free_reader;

GRANT EXECUTE ON FUNCTION
	@extschema@.tf_copy_record(text, @extschema@.tfn, timestamptz, timestamptz, text, boolean),
	@extschema@.tf_update_record(@extschema@.tfn, xml, boolean)
	TO toll_free_operator;
