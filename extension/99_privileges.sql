/*
 * Privileges: no registry function is executable by PUBLIC.
 *
 * Each fragment grants its functions to toll_free_reader, toll_free_operator
 * or toll_free_admin.  This last fragment revokes EXECUTE from PUBLIC on every
 * function whose name starts with tf_ (the functions that call the registry,
 * queue work or manage the worker), so a function added later cannot be left
 * open by mistake.  The tfn_* functions of the tfn type stay usable by all.
 */
DO $privileges$
DECLARE
	fn regprocedure;
BEGIN
	FOR fn IN
		SELECT p.oid::regprocedure
		FROM pg_catalog.pg_proc p
		WHERE p.pronamespace = '@extschema@'::regnamespace
		  AND p.proname LIKE 'tf\_%'
	LOOP
		EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', fn);
	END LOOP;
END
$privileges$;

/*
 * The open NPA list is created before the roles exist (the tfn type comes
 * first), so its grants are made here.  Every role may use the tfn type,
 * and its errors point to this list, so every role may read it.
 */
GRANT SELECT ON @extschema@.open_npa TO PUBLIC;
GRANT INSERT, UPDATE, DELETE, TRUNCATE ON @extschema@.open_npa TO toll_free_admin;
