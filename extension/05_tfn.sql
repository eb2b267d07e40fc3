/*
 * The tfn data type: a US toll-free number, stored as its ten digits in
 * 8 bytes and passed by value.  docs/sql-api.md ("Type tfn") lists the
 * accepted input forms and the functions.
 *
 * Volatility.  Text input, binary receive and the bigint cast accept only
 * area codes listed in toll_free.open_npa, which an administrator changes, so
 * they are STABLE, as enum_in is.  A consequence: a text-to-tfn conversion
 * cannot appear in an index expression or a generated column; convert when
 * the row is written instead.  Everything that depends on the value alone
 * (output, comparisons, formatting, the bigint result) is IMMUTABLE.  The
 * comparison functions raise no errors and are LEAKPROOF.
 *
 * Values already stored stay valid when a code is closed later.  They can
 * then no longer be restored from a text dump until the code is open again.
 */

CREATE TYPE @extschema@.tfn;

CREATE FUNCTION @extschema@.tfn_in(cstring) RETURNS @extschema@.tfn
	AS 'MODULE_PATHNAME', 'tfn_in'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.tfn_out(@extschema@.tfn) RETURNS cstring
	AS 'MODULE_PATHNAME', 'tfn_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.tfn_recv(internal) RETURNS @extschema@.tfn
	AS 'MODULE_PATHNAME', 'tfn_recv'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.tfn_send(@extschema@.tfn) RETURNS bytea
	AS 'MODULE_PATHNAME', 'tfn_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.tfn (
	INPUT = @extschema@.tfn_in,
	OUTPUT = @extschema@.tfn_out,
	RECEIVE = @extschema@.tfn_recv,
	SEND = @extschema@.tfn_send,
	INTERNALLENGTH = 8,
	PASSEDBYVALUE,
	ALIGNMENT = double,
	STORAGE = plain
);

COMMENT ON TYPE @extschema@.tfn IS
	'US toll-free number (10 digits, area code in toll_free.open_npa)';

/*
 * The open toll-free area codes.  Codes outside 800-899 are refused, so no
 * geographic code can be opened by mistake.  The statement trigger makes
 * every backend reload its cached copy once the change commits.
 */
CREATE TABLE @extschema@.open_npa (
	npa smallint PRIMARY KEY CHECK (npa BETWEEN 800 AND 899)
);

COMMENT ON TABLE @extschema@.open_npa IS
	'Toll-free area codes whose numbers the tfn type accepts';

INSERT INTO @extschema@.open_npa (npa)
	VALUES (800), (833), (844), (855), (866), (877), (888);

CREATE FUNCTION @extschema@.tfn_open_npa_changed() RETURNS trigger
	AS 'MODULE_PATHNAME', 'tfn_open_npa_changed'
	LANGUAGE C;

CREATE TRIGGER open_npa_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.open_npa
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.tfn_open_npa_changed();

/*
 * pg_dump saves the codes an administrator added.  The seven codes inserted
 * above come back with CREATE EXTENSION, so they are left out of the dump;
 * a restore therefore also reopens any of them that had been deleted.
 */
SELECT pg_catalog.pg_extension_config_dump('@extschema@.open_npa',
	'WHERE npa NOT IN (800, 833, 844, 855, 866, 877, 888)');

REVOKE ALL ON @extschema@.open_npa FROM PUBLIC;

/* Casts.  text <-> tfn are the automatic I/O conversion casts. */
CREATE FUNCTION @extschema@.tfn(bigint) RETURNS @extschema@.tfn
	AS 'MODULE_PATHNAME', 'tfn_from_bigint'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.tfn_to_bigint(@extschema@.tfn) RETURNS bigint
	AS 'MODULE_PATHNAME', 'tfn_to_bigint'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE CAST (bigint AS @extschema@.tfn)
	WITH FUNCTION @extschema@.tfn(bigint);

CREATE CAST (@extschema@.tfn AS bigint)
	WITH FUNCTION @extschema@.tfn_to_bigint(@extschema@.tfn);

/* Helpers. */
CREATE FUNCTION @extschema@.tfn_format(@extschema@.tfn, style text) RETURNS text
	AS 'MODULE_PATHNAME', 'tfn_format'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.tfn_format(@extschema@.tfn, text) IS
	'Format a toll-free number; style is digits, dashed, parenthesized or e164';

CREATE FUNCTION @extschema@.tfn_npa(@extschema@.tfn) RETURNS smallint
	AS 'MODULE_PATHNAME', 'tfn_npa'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.tfn_npa(@extschema@.tfn) IS
	'Area code (NPA) of a toll-free number, e.g. 800';

/* STABLE, as the input function: the open codes are table data. */
CREATE FUNCTION @extschema@.tfn_is_valid(text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'tfn_is_valid'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.tfn_is_valid(text) IS
	'Whether a text casts to tfn, without raising an error';

/* Comparison functions and operators. */
CREATE FUNCTION @extschema@.tfn_eq(@extschema@.tfn, @extschema@.tfn) RETURNS boolean
	AS 'MODULE_PATHNAME', 'tfn_eq'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION @extschema@.tfn_ne(@extschema@.tfn, @extschema@.tfn) RETURNS boolean
	AS 'MODULE_PATHNAME', 'tfn_ne'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION @extschema@.tfn_lt(@extschema@.tfn, @extschema@.tfn) RETURNS boolean
	AS 'MODULE_PATHNAME', 'tfn_lt'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION @extschema@.tfn_le(@extschema@.tfn, @extschema@.tfn) RETURNS boolean
	AS 'MODULE_PATHNAME', 'tfn_le'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION @extschema@.tfn_gt(@extschema@.tfn, @extschema@.tfn) RETURNS boolean
	AS 'MODULE_PATHNAME', 'tfn_gt'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION @extschema@.tfn_ge(@extschema@.tfn, @extschema@.tfn) RETURNS boolean
	AS 'MODULE_PATHNAME', 'tfn_ge'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION @extschema@.tfn_cmp(@extschema@.tfn, @extschema@.tfn) RETURNS integer
	AS 'MODULE_PATHNAME', 'tfn_cmp'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION @extschema@.tfn_sortsupport(internal) RETURNS void
	AS 'MODULE_PATHNAME', 'tfn_sortsupport'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.tfn_hash(@extschema@.tfn) RETURNS integer
	AS 'MODULE_PATHNAME', 'tfn_hash'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION @extschema@.tfn_hash_extended(@extschema@.tfn, bigint) RETURNS bigint
	AS 'MODULE_PATHNAME', 'tfn_hash_extended'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE OPERATOR @extschema@.= (
	LEFTARG = @extschema@.tfn, RIGHTARG = @extschema@.tfn,
	FUNCTION = @extschema@.tfn_eq,
	COMMUTATOR = OPERATOR(@extschema@.=), NEGATOR = OPERATOR(@extschema@.<>),
	RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES
);

CREATE OPERATOR @extschema@.<> (
	LEFTARG = @extschema@.tfn, RIGHTARG = @extschema@.tfn,
	FUNCTION = @extschema@.tfn_ne,
	COMMUTATOR = OPERATOR(@extschema@.<>), NEGATOR = OPERATOR(@extschema@.=),
	RESTRICT = neqsel, JOIN = neqjoinsel
);

CREATE OPERATOR @extschema@.< (
	LEFTARG = @extschema@.tfn, RIGHTARG = @extschema@.tfn,
	FUNCTION = @extschema@.tfn_lt,
	COMMUTATOR = OPERATOR(@extschema@.>), NEGATOR = OPERATOR(@extschema@.>=),
	RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);

CREATE OPERATOR @extschema@.<= (
	LEFTARG = @extschema@.tfn, RIGHTARG = @extschema@.tfn,
	FUNCTION = @extschema@.tfn_le,
	COMMUTATOR = OPERATOR(@extschema@.>=), NEGATOR = OPERATOR(@extschema@.>),
	RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);

CREATE OPERATOR @extschema@.> (
	LEFTARG = @extschema@.tfn, RIGHTARG = @extschema@.tfn,
	FUNCTION = @extschema@.tfn_gt,
	COMMUTATOR = OPERATOR(@extschema@.<), NEGATOR = OPERATOR(@extschema@.<=),
	RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);

CREATE OPERATOR @extschema@.>= (
	LEFTARG = @extschema@.tfn, RIGHTARG = @extschema@.tfn,
	FUNCTION = @extschema@.tfn_ge,
	COMMUTATOR = OPERATOR(@extschema@.<=), NEGATOR = OPERATOR(@extschema@.<),
	RESTRICT = scalargesel, JOIN = scalargejoinsel
);

CREATE OPERATOR CLASS @extschema@.tfn_ops
	DEFAULT FOR TYPE @extschema@.tfn USING btree AS
	OPERATOR 1 @extschema@.<,
	OPERATOR 2 @extschema@.<=,
	OPERATOR 3 @extschema@.=,
	OPERATOR 4 @extschema@.>=,
	OPERATOR 5 @extschema@.>,
	FUNCTION 1 @extschema@.tfn_cmp(@extschema@.tfn, @extschema@.tfn),
	FUNCTION 2 @extschema@.tfn_sortsupport(internal),
	FUNCTION 4 pg_catalog.btequalimage(oid);

CREATE OPERATOR CLASS @extschema@.tfn_ops
	DEFAULT FOR TYPE @extschema@.tfn USING hash AS
	OPERATOR 1 @extschema@.=,
	FUNCTION 1 @extschema@.tfn_hash(@extschema@.tfn),
	FUNCTION 2 @extschema@.tfn_hash_extended(@extschema@.tfn, bigint);

/* min() and max() over tfn, which can use a B-tree index. */
CREATE FUNCTION @extschema@.tfn_larger(@extschema@.tfn, @extschema@.tfn) RETURNS @extschema@.tfn
	AS 'MODULE_PATHNAME', 'tfn_larger'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.tfn_smaller(@extschema@.tfn, @extschema@.tfn) RETURNS @extschema@.tfn
	AS 'MODULE_PATHNAME', 'tfn_smaller'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE @extschema@.max(@extschema@.tfn) (
	SFUNC = @extschema@.tfn_larger, STYPE = @extschema@.tfn,
	COMBINEFUNC = @extschema@.tfn_larger,
	SORTOP = OPERATOR(@extschema@.>), PARALLEL = SAFE
);

CREATE AGGREGATE @extschema@.min(@extschema@.tfn) (
	SFUNC = @extschema@.tfn_smaller, STYPE = @extschema@.tfn,
	COMBINEFUNC = @extschema@.tfn_smaller,
	SORTOP = OPERATOR(@extschema@.<), PARALLEL = SAFE
);
