/*-------------------------------------------------------------------------
 *
 * writethrough.c
 *		Write what a registry call learned about a number into
 *		toll_free.numbers and toll_free.number_history.
 *
 * A number held by the session's RespOrg or one in its updList is upserted
 * (source 'call'); a number that became SPARE or went to another RespOrg
 * is deleted.  Each change of status or RespOrg also gets a number_history
 * row; as for a sync, new_status and new_resporg are NULL when the number
 * left the inventory.  The tables belong to the inventory part of the extension and are
 * written as their owner, so callers need no privileges on them.  When the
 * numbers table does not exist, nothing is written.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "numadmin.h"
#include "toll_free.h"

static SPIPlanPtr upsert_plan = NULL;
static SPIPlanPtr delete_plan = NULL;

/*
 * The upsert: lock the old row, insert or update, and log a history row
 * when the status or RespOrg changed.  With $13 (partial) true, fields the
 * response did not carry keep their stored values.
 */
static const char *upsert_sql =
"WITH old AS ( "
"  SELECT n.status, n.resporg FROM toll_free.numbers n "
"  WHERE n.number OPERATOR(toll_free.=) $1::toll_free.tfn FOR UPDATE "
"), up AS ( "
"  INSERT INTO toll_free.numbers AS n (number, resporg, status, status_date, reserved_until, "
"    disconnect_until, last_active, contact_name, contact_phone, notes, rec_version_id, "
"    last_seen, source) "
"  VALUES ($1::toll_free.tfn, $2, $3::toll_free.number_status, $4::pg_catalog.date, "
"    $5::pg_catalog.date, $6::pg_catalog.date, $7::pg_catalog.date, $8, $9, $10, $11, "
"    pg_catalog.now(), 'call') "
"  ON CONFLICT (number) DO UPDATE SET "
"    resporg = EXCLUDED.resporg, status = EXCLUDED.status, "
"    status_date = CASE WHEN $13 THEN COALESCE(EXCLUDED.status_date, n.status_date) ELSE EXCLUDED.status_date END, "
"    reserved_until = CASE WHEN $13 THEN COALESCE(EXCLUDED.reserved_until, n.reserved_until) ELSE EXCLUDED.reserved_until END, "
"    disconnect_until = CASE WHEN $13 THEN COALESCE(EXCLUDED.disconnect_until, n.disconnect_until) ELSE EXCLUDED.disconnect_until END, "
"    last_active = CASE WHEN $13 THEN COALESCE(EXCLUDED.last_active, n.last_active) ELSE EXCLUDED.last_active END, "
"    contact_name = CASE WHEN $13 THEN COALESCE(EXCLUDED.contact_name, n.contact_name) ELSE EXCLUDED.contact_name END, "
"    contact_phone = CASE WHEN $13 THEN COALESCE(EXCLUDED.contact_phone, n.contact_phone) ELSE EXCLUDED.contact_phone END, "
"    notes = CASE WHEN $13 THEN COALESCE(EXCLUDED.notes, n.notes) ELSE EXCLUDED.notes END, "
"    rec_version_id = COALESCE(EXCLUDED.rec_version_id, n.rec_version_id), "
"    last_seen = EXCLUDED.last_seen, source = EXCLUDED.source "
"  RETURNING n.number "
") "
"INSERT INTO toll_free.number_history "
"  (number, changed_at, source, old_status, new_status, old_resporg, new_resporg, request_id) "
"SELECT $1::toll_free.tfn, pg_catalog.now(), 'call', old.status, $3::toll_free.number_status, "
"  old.resporg, $2, $12 "
"FROM (SELECT 1) AS one LEFT JOIN old ON true "
"WHERE old.status IS DISTINCT FROM $3::toll_free.number_status "
"   OR old.resporg IS DISTINCT FROM $2";

static const char *delete_sql =
"WITH gone AS ( "
"  DELETE FROM toll_free.numbers n WHERE n.number OPERATOR(toll_free.=) $1::toll_free.tfn "
"  RETURNING n.status, n.resporg "
") "
"INSERT INTO toll_free.number_history "
"  (number, changed_at, source, old_status, new_status, old_resporg, new_resporg, request_id) "
"SELECT $1::toll_free.tfn, pg_catalog.now(), 'call', gone.status, NULL, gone.resporg, NULL, $12 "
"  FROM gone";

/*
 * numbers_table_owner
 *		Owner of toll_free.numbers, or InvalidOid when the table is absent.
 */
static Oid
numbers_table_owner(void)
{
	Oid			namespace_oid = get_namespace_oid(TOLL_FREE_SCHEMA, true);
	Oid			relid;
	HeapTuple	tuple;
	Oid			owner;

	if (!OidIsValid(namespace_oid))
		return InvalidOid;
	relid = get_relname_relid("numbers", namespace_oid);
	if (!OidIsValid(relid) ||
		!OidIsValid(get_relname_relid("number_history", namespace_oid)))
		return InvalidOid;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return InvalidOid;
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

static Datum
text_param(const char *value, char *nulls, int i)
{
	if (value == NULL)
	{
		nulls[i] = 'n';
		return (Datum) 0;
	}
	nulls[i] = ' ';
	return CStringGetTextDatum(value);
}

static SPIPlanPtr
kept_plan(SPIPlanPtr *plan, const char *sql, Oid *argtypes)
{
	if (*plan == NULL)
	{
		SPIPlanPtr	prepared = SPI_prepare(sql, 13, argtypes);

		if (prepared == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(prepared);
		*plan = prepared;
	}
	return *plan;
}

/*
 * tf_write_through
 *		Upsert or delete one number and log the change.
 */
void
tf_write_through(const TfNumInfo *info, bool partial, const char *default_resporg,
				 int64 request_id)
{
	Oid			argtypes[13] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT8OID, BOOLOID};
	Datum		values[13];
	char		nulls[13];
	const char *resporg = info->resporg ? info->resporg : default_resporg;
	bool		held;
	Oid			owner;
	Oid			save_userid;
	int			save_sec_context;
	SPIPlanPtr	plan;

	if (info->num == NULL || info->status == NULL)
		return;

	owner = numbers_table_owner();
	if (!OidIsValid(owner))
		return;

	held = strcmp(info->status, "SPARE") != 0 && resporg != NULL &&
		tf_registry_may_update(resporg);
	if (strcmp(info->status, "SPARE") == 0)
		resporg = NULL;

	values[0] = text_param(info->num, nulls, 0);
	values[1] = text_param(resporg, nulls, 1);
	values[2] = text_param(info->status, nulls, 2);
	values[3] = text_param(info->status_date, nulls, 3);
	values[4] = text_param(info->reserved_until, nulls, 4);
	values[5] = text_param(info->disconnect_until, nulls, 5);
	values[6] = text_param(info->last_active, nulls, 6);
	values[7] = text_param(info->contact_name, nulls, 7);
	values[8] = text_param(info->contact_phone, nulls, 8);
	values[9] = text_param(info->notes, nulls, 9);
	values[10] = text_param(info->rec_version_id, nulls, 10);
	values[11] = Int64GetDatum(request_id);
	nulls[11] = request_id > 0 ? ' ' : 'n';
	values[12] = BoolGetDatum(partial);
	nulls[12] = ' ';

	SPI_connect();
	plan = held ? kept_plan(&upsert_plan, upsert_sql, argtypes) :
		kept_plan(&delete_plan, delete_sql, argtypes);

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	if (SPI_execute_plan(plan, values, nulls, false, 0) < 0)
		elog(ERROR, "could not write number %s through to toll_free.numbers", info->num);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	SPI_finish();
}
