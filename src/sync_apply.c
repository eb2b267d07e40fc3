/*-------------------------------------------------------------------------
 *
 * sync_apply.c
 *		Second half of an inventory sync: the staged inventory applied to
 *		toll_free.numbers in one statement, with a history row per change.
 *
 * One statement with data-modifying CTEs compares the staged rows with
 * toll_free.numbers and, under one snapshot:
 *
 *	- inserts the numbers the RespOrg gained;
 *	- updates the numbers it still holds (every row gets last_seen and
 *	  synced_at; the registry data only changes where it differs);
 *	- deletes the numbers of this RespOrg that the check no longer lists
 *	  (spared, expired, moved to another RespOrg);
 *	- writes a number_history row for each number added, changed or removed.
 *
 * Rows that a registry call wrote through after the download started
 * (last_seen at or after the run's start) are left alone: the call saw the
 * registry later than the download did.  A number that moved here from
 * another RespOrg is taken over, because the check says it is this
 * RespOrg's now; apart from those, only rows of the synced RespOrg change.
 * Plain INSERT, UPDATE and DELETE take row locks only, so readers never
 * wait and see the old inventory until the transaction commits.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "sync.h"
#include "sync_internal.h"
#include "toll_free.h"

static const char apply_sql[] =
"WITH staged AS ("
"  SELECT s.number, s.resporg, s.status, s.status_date, s.reserved_until,"
"         s.disconnect_until, s.last_active, s.contact_name, s.contact_phone,"
"         s.notes, s.rec_version_id,"
"         n.number IS NULL AS is_new,"
"         n.status AS old_status, n.resporg AS old_resporg,"
"         n.number IS NOT NULL AND"
"         (n.resporg, n.status, n.status_date, n.reserved_until, n.disconnect_until,"
"          n.last_active, n.contact_name, n.contact_phone, n.notes, n.rec_version_id)"
"         IS DISTINCT FROM"
"         (s.resporg, s.status, s.status_date, s.reserved_until, s.disconnect_until,"
"          s.last_active, s.contact_name, s.contact_phone, s.notes, s.rec_version_id)"
"         AS is_changed"
"  FROM toll_free.sync_staging s"
"  LEFT JOIN toll_free.numbers n ON n.number OPERATOR(toll_free.=) s.number"
"  WHERE s.run_id = $1 AND (n.number IS NULL OR n.last_seen < $3)"
"), added AS ("
"  INSERT INTO toll_free.numbers AS n"
"    (number, resporg, status, status_date, reserved_until, disconnect_until,"
"     last_active, contact_name, contact_phone, notes, rec_version_id,"
"     last_seen, synced_at, source)"
"  SELECT number, resporg, status, status_date, reserved_until, disconnect_until,"
"         last_active, contact_name, contact_phone, notes, rec_version_id,"
"         pg_catalog.now(), pg_catalog.now(), 'sync'"
"  FROM staged WHERE is_new"
"  ON CONFLICT (number) DO NOTHING"
"  RETURNING n.number"
"), seen AS ("
"  UPDATE toll_free.numbers AS n"
"     SET resporg = s.resporg, status = s.status, status_date = s.status_date,"
"         reserved_until = s.reserved_until, disconnect_until = s.disconnect_until,"
"         last_active = s.last_active, contact_name = s.contact_name,"
"         contact_phone = s.contact_phone, notes = s.notes,"
"         rec_version_id = s.rec_version_id,"
"         last_seen = pg_catalog.now(), synced_at = pg_catalog.now(), source = 'sync'"
"  FROM staged s"
"  WHERE n.number OPERATOR(toll_free.=) s.number AND NOT s.is_new"
"  RETURNING n.number"
"), removed AS ("
"  DELETE FROM toll_free.numbers AS n"
"  WHERE n.resporg = $2 AND n.last_seen < $3"
"    AND NOT EXISTS (SELECT FROM toll_free.sync_staging s"
"                    WHERE s.run_id = $1 AND s.number OPERATOR(toll_free.=) n.number)"
"  RETURNING n.number, n.status, n.resporg"
"), history AS ("
"  INSERT INTO toll_free.number_history"
"    (number, changed_at, source, old_status, new_status, old_resporg, new_resporg,"
"     sync_run_id)"
"  SELECT number, pg_catalog.now(), 'sync', old_status, status, old_resporg, resporg, $1"
"  FROM staged WHERE is_changed OR (is_new AND $4)"
"  UNION ALL"
"  SELECT number, pg_catalog.now(), 'sync', status, NULL, resporg, NULL, $1"
"  FROM removed"
"  RETURNING 1"
")"
" SELECT (SELECT pg_catalog.count(*) FROM added),"
"        (SELECT pg_catalog.count(*) FROM staged WHERE is_changed),"
"        (SELECT pg_catalog.count(*) FROM removed),"
"        (SELECT pg_catalog.count(*) FROM seen),"
"        (SELECT pg_catalog.count(*) FROM history)";

static const char finish_sql[] =
"UPDATE toll_free.sync_runs"
"   SET state = 'done', finished_at = pg_catalog.clock_timestamp(),"
"       numbers_seen = $2, added = $3, changed = $4, removed = $5, pages = $6"
" WHERE id = $1";

/*
 * count_column
 *		A bigint column of the single result row.
 */
static int64
count_column(int column)
{
	bool		isnull;
	Datum		value;

	value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, column, &isnull);
	return isnull ? 0 : DatumGetInt64(value);
}

/*
 * tf_sync_apply
 *		Apply the staged rows of a run, mark the run done and empty the
 *		staging table, all in the current transaction.
 */
void
tf_sync_apply(TfSyncRun *run, bool record_new)
{
	Oid			apply_types[4] = {INT8OID, TEXTOID, TIMESTAMPTZOID, BOOLOID};
	Datum		apply_values[4];
	Oid			finish_types[6] = {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT4OID};
	Datum		finish_values[6];
	int			rc;

	apply_values[0] = Int64GetDatum(run->run_id);
	apply_values[1] = CStringGetTextDatum(run->resporg);
	apply_values[2] = TimestampTzGetDatum(run->started_at);
	apply_values[3] = BoolGetDatum(record_new);

	rc = SPI_execute_with_args(apply_sql, 4, apply_types, apply_values, NULL, false, 0);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "applying the staged inventory failed: %s", SPI_result_code_string(rc));

	run->added = count_column(1);
	run->changed = count_column(2);
	run->removed = count_column(3);

	finish_values[0] = Int64GetDatum(run->run_id);
	finish_values[1] = Int64GetDatum(run->numbers_seen);
	finish_values[2] = Int64GetDatum(run->added);
	finish_values[3] = Int64GetDatum(run->changed);
	finish_values[4] = Int64GetDatum(run->removed);
	finish_values[5] = Int32GetDatum(run->pages);

	rc = SPI_execute_with_args(finish_sql, 6, finish_types, finish_values, NULL, false, 0);
	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "recording the sync run failed: %s", SPI_result_code_string(rc));

	rc = SPI_execute("TRUNCATE toll_free.sync_staging", false, 0);
	if (rc != SPI_OK_UTILITY)
		elog(ERROR, "emptying the staging table failed: %s", SPI_result_code_string(rc));
}

/*
 * tf_sync_relation_oid
 *		The OID of table toll_free.<name>; raises when it is missing.
 */
Oid
tf_sync_relation_oid(const char *name)
{
	Oid			schema = get_namespace_oid(TOLL_FREE_SCHEMA, false);
	Oid			relid = get_relname_relid(name, schema);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation %s.%s does not exist", TOLL_FREE_SCHEMA, name),
				 errhint("Create the extension with CREATE EXTENSION toll_free.")));

	return relid;
}
