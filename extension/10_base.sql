/*
 * Base objects: the roles that grant access and the number status type.
 *
 * PUBLIC may use the schema, so the tfn type, its operators and its tfn_*
 * helpers work for every role (analysts join their own tables on tfn).
 * Nothing else is granted to PUBLIC: tables carry no PUBLIC privileges, and
 * 99_privileges.sql revokes EXECUTE on every tf_* function.  Three roles
 * carry the privileges, and an administrator grants them to people and
 * applications:
 *
 *   toll_free_reader    read the inventory, query and search the registry
 *   toll_free_operator  also reserve, spare, disconnect, change RespOrg,
 *                       build customer records and queue registry work
 *   toll_free_admin     also change the open NPA list, run syncs, restart
 *                       the worker and purge history
 *
 * Roles are cluster-wide, so they are created only when missing: a second
 * database with the extension reuses them.
 */
DO $roles$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'toll_free_reader') THEN
		CREATE ROLE toll_free_reader NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'toll_free_operator') THEN
		CREATE ROLE toll_free_operator NOLOGIN IN ROLE toll_free_reader;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'toll_free_admin') THEN
		CREATE ROLE toll_free_admin NOLOGIN IN ROLE toll_free_operator;
	END IF;
END
$roles$;

GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

/* Registry number statuses, in the registry's own words. */
CREATE TYPE @extschema@.number_status AS ENUM (
	'SPARE', 'RESERVED', 'ASSIGNED', 'WORKING',
	'DISCONNECT', 'TRANSITIONAL', 'UNAVAILABLE', 'SUSPEND'
);
