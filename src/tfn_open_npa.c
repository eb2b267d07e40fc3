/*-------------------------------------------------------------------------
 *
 * tfn_open_npa.c
 *		Per-backend cache of the open toll-free area codes.
 *
 * Which toll-free codes accept numbers is data: the table toll_free.open_npa,
 * which an administrator changes without a rebuild when a new code opens.
 * The tfn input function consults it for every value, so each backend keeps
 * the set as a bitmap and reloads it only after a relcache invalidation of
 * the table.  The table's statement-level trigger sends that invalidation
 * (plain DML sends none), so:
 *
 *	 - a change committed by another session reaches this backend when it
 *	   next processes invalidation messages, which it does at the start of
 *	   every transaction and whenever it takes a lock;
 *	 - this session's own uncommitted change is visible to its next command,
 *	   and is undone in the cache when the transaction aborts.
 *
 * The set is read with a fresh catalog snapshot, so that it always shows
 * the latest committed state plus this transaction's own changes, even
 * inside a REPEATABLE READ transaction, just as system catalogs do.
 *
 * The setting toll_free.check_open_npa turns the check off (every code from
 * 800 to 899 is then accepted).  The check is also skipped while
 * check_function_bodies is off, as pg_dump's scripts and pg_restore set it.
 * A dump writes the rows of toll_free.open_npa after the tables of schemas
 * whose names sort before "toll_free".  Without the skip, restoring numbers
 * in a code an administrator opened would fail and leave those tables empty.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "tfn.h"
#include "toll_free.h"

#define OPEN_NPA_TABLE		"open_npa"
#define OPEN_NPA_COUNT		(TFN_NPA_LAST - TFN_NPA_FIRST + 1)

/* open_npa[i] is true when code TFN_NPA_FIRST + i is open. */
static bool open_npa[OPEN_NPA_COUNT];
static bool open_npa_valid = false;
static bool open_npa_callback_registered = false;

/* The table's OID when the cache was loaded, for the invalidation callback. */
static Oid	open_npa_relid = InvalidOid;

/* toll_free.check_open_npa */
static bool tfn_check_open_npa = true;

PG_FUNCTION_INFO_V1(tfn_open_npa_changed);

/*
 * open_npa_invalidate
 *		Relcache invalidation callback: forget the cached set when the table
 *		changed, or when every relcache entry is being reset.
 */
static void
open_npa_invalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == open_npa_relid)
		open_npa_valid = false;
}

/*
 * open_npa_lookup
 *		Return the OID of toll_free.open_npa, raising an error if it is gone.
 */
static Oid
open_npa_lookup(void)
{
	Oid			namespace = get_namespace_oid(TOLL_FREE_SCHEMA, true);
	Oid			relid = InvalidOid;

	if (OidIsValid(namespace))
		relid = get_relname_relid(OPEN_NPA_TABLE, namespace);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s.%s\" does not exist",
						TOLL_FREE_SCHEMA, OPEN_NPA_TABLE),
				 errdetail("The tfn type reads the open toll-free codes from this table."),
				 errhint("Reinstall the toll_free extension.")));

	return relid;
}

/*
 * open_npa_load
 *		Read toll_free.open_npa into the cache.
 *
 * Invalidation messages are processed when the table is locked, before the
 * snapshot is taken.  A change that commits after that point sends its
 * message after it became visible.  The next transaction or lock of this
 * backend then marks the cache stale again, so no change is missed.
 */
static void
open_npa_load(void)
{
	bool		loaded[OPEN_NPA_COUNT] = {false};
	Oid			relid;
	Relation	rel;
	Snapshot	snapshot;
	TableScanDesc scan;
	TupleTableSlot *slot;

	if (!open_npa_callback_registered)
	{
		CacheRegisterRelcacheCallback(open_npa_invalidate, (Datum) 0);
		open_npa_callback_registered = true;
	}

	relid = open_npa_lookup();
	rel = table_open(relid, AccessShareLock);

	if (RelationGetDescr(rel)->natts < 1 ||
		TupleDescAttr(RelationGetDescr(rel), 0)->atttypid != INT2OID)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("relation \"%s.%s\" does not start with a smallint column",
						TOLL_FREE_SCHEMA, OPEN_NPA_TABLE),
				 errhint("Reinstall the toll_free extension.")));

	/* The catalog snapshot in use may predate this transaction's last CCI. */
	InvalidateCatalogSnapshot();
	snapshot = RegisterSnapshot(GetCatalogSnapshot(relid));

	scan = table_beginscan(rel, snapshot, 0, NULL);
	slot = table_slot_create(rel, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		datum = slot_getattr(slot, 1, &isnull);
		int			npa;

		if (isnull)
			continue;
		npa = DatumGetInt16(datum);
		if (npa >= TFN_NPA_FIRST && npa <= TFN_NPA_LAST)
			loaded[npa - TFN_NPA_FIRST] = true;
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);

	memcpy(open_npa, loaded, sizeof(open_npa));
	open_npa_relid = relid;
	open_npa_valid = true;
}

/*
 * tfn_npa_state
 *		Classify area code "npa" as open, not open, or not a toll-free code.
 */
TfnNpaState
tfn_npa_state(int npa)
{
	if (npa < TFN_NPA_FIRST || npa > TFN_NPA_LAST)
		return TFN_NPA_NOT_TOLL_FREE;

	/* Off by the setting, or while a dump is being restored. */
	if (!tfn_check_open_npa || !check_function_bodies)
		return TFN_NPA_OPEN;

	if (!open_npa_valid)
		open_npa_load();

	return open_npa[npa - TFN_NPA_FIRST] ? TFN_NPA_OPEN : TFN_NPA_NOT_OPEN;
}

/*
 * tfn_define_settings
 *		Define toll_free.check_open_npa; called from _PG_init.
 */
void
tfn_define_settings(void)
{
	DefineCustomBoolVariable("toll_free.check_open_npa",
							 "Accepts tfn values only in the area codes listed in toll_free.open_npa.",
							 "When off, every area code from 800 to 899 is accepted.  "
							 "The check is also skipped while check_function_bodies is off, as during a restore of a dump.",
							 &tfn_check_open_npa,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
}

/*
 * tfn_open_npa_changed
 *		Statement-level trigger on toll_free.open_npa: make every backend
 *		reload its cached set once this transaction commits.
 */
Datum
tfn_open_npa_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was not called by the trigger manager",
						"tfn_open_npa_changed")));

	CacheInvalidateRelcache(trigdata->tg_relation);

	return PointerGetDatum(NULL);
}
