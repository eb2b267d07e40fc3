/*-------------------------------------------------------------------------
 *
 * sync_download.c
 *		First half of an inventory sync: the RespOrg check, page by page,
 *		bulk-loaded into the UNLOGGED table toll_free.sync_staging.
 *
 * Rows are inserted with table_multi_insert() in batches of
 * DOWNLOAD_BATCH_ROWS, the way COPY loads a table, so no SQL is parsed or
 * planned per row.  The staging table has no index and no trigger (checked
 * here), and being UNLOGGED it writes no WAL.  Each page is one transaction,
 * so a long download keeps no snapshot that would hold back vacuum.  A
 * failure leaves only staging rows, which the next run discards.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "executor/tuptable.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"

#include "inventory.h"
#include "rck.h"
#include "sync.h"
#include "sync_internal.h"
#include "toll_free.h"
#include "worker_internal.h"

/* Rows collected before each table_multi_insert() call. */
#define DOWNLOAD_BATCH_ROWS		1000

/* Columns of toll_free.sync_staging, in order. */
enum
{
	STAGE_RUN_ID,
	STAGE_NUMBER,
	STAGE_RESPORG,
	STAGE_STATUS,
	STAGE_STATUS_DATE,
	STAGE_RESERVED_UNTIL,
	STAGE_DISCONNECT_UNTIL,
	STAGE_LAST_ACTIVE,
	STAGE_CONTACT_NAME,
	STAGE_CONTACT_PHONE,
	STAGE_NOTES,
	STAGE_REC_VERSION_ID,
	STAGE_COLUMNS
};

/* State of the page being loaded; rebuilt in each page's transaction. */
typedef struct StagingLoad
{
	TfSyncRun  *run;
	TfInventoryTypes types;
	Relation	staging;
	BulkInsertState bistate;
	CommandId	cid;
	TupleTableSlot *slots[DOWNLOAD_BATCH_ROWS];
	int			nslots;
	MemoryContext batch_cxt;	/* the batch's tuples; reset after each insert */
} StagingLoad;

/*
 * staging_flush
 *		Insert the collected batch.
 */
static void
staging_flush(StagingLoad *load)
{
	MemoryContext oldcxt;

	if (load->nslots == 0)
		return;

	/* table_multi_insert() leaks into the current context: use the batch's. */
	oldcxt = MemoryContextSwitchTo(load->batch_cxt);
	table_multi_insert(load->staging, load->slots, load->nslots, load->cid, 0,
					   load->bistate);
	MemoryContextSwitchTo(oldcxt);

	for (int i = 0; i < load->nslots; i++)
		ExecClearTuple(load->slots[i]);
	load->nslots = 0;
	MemoryContextReset(load->batch_cxt);
}

static void
set_date(Datum *values, bool *nulls, int col, bool present, DateADT value)
{
	nulls[col] = !present;
	values[col] = present ? DateADTGetDatum(value) : (Datum) 0;
}

static void
set_text(Datum *values, bool *nulls, int col, const char *value)
{
	nulls[col] = value == NULL;
	values[col] = value ? CStringGetTextDatum(value) : (Datum) 0;
}

/*
 * staging_on_row
 *		Parser callback: add a row to the batch, inserting full batches.
 */
static void
staging_on_row(void *arg, const TfRckRow *info)
{
	StagingLoad *load = (StagingLoad *) arg;
	MemoryContext oldcxt = MemoryContextSwitchTo(load->batch_cxt);
	Datum		values[STAGE_COLUMNS];
	bool		nulls[STAGE_COLUMNS];
	HeapTuple	tuple;

	memset(nulls, 0, sizeof(nulls));
	values[STAGE_RUN_ID] = Int64GetDatum(load->run->run_id);
	values[STAGE_NUMBER] = tf_inventory_number_datum(&load->types, info->number);
	values[STAGE_RESPORG] = CStringGetTextDatum(info->resporg);
	values[STAGE_STATUS] = ObjectIdGetDatum(load->types.status_values[info->status]);
	set_date(values, nulls, STAGE_STATUS_DATE, info->has_status_date, info->status_date);
	set_date(values, nulls, STAGE_RESERVED_UNTIL, info->has_reserved_until,
			 info->reserved_until);
	set_date(values, nulls, STAGE_DISCONNECT_UNTIL, info->has_disconnect_until,
			 info->disconnect_until);
	set_date(values, nulls, STAGE_LAST_ACTIVE, info->has_last_active, info->last_active);
	set_text(values, nulls, STAGE_CONTACT_NAME, info->contact_name);
	set_text(values, nulls, STAGE_CONTACT_PHONE, info->contact_phone);
	set_text(values, nulls, STAGE_NOTES, info->notes);
	set_text(values, nulls, STAGE_REC_VERSION_ID, info->rec_version_id);

	tuple = heap_form_tuple(RelationGetDescr(load->staging), values, nulls);
	ExecStoreHeapTuple(tuple, load->slots[load->nslots++], false);
	MemoryContextSwitchTo(oldcxt);

	if (load->nslots == DOWNLOAD_BATCH_ROWS)
		staging_flush(load);
}

/*
 * staging_open
 *		In a page's transaction: open the staging table and the batch.
 */
static void
staging_open(StagingLoad *load)
{
	Relation	staging;

	staging = table_open(tf_sync_relation_oid("sync_staging"), RowExclusiveLock);

	/* table_multi_insert() maintains no index and fires no trigger. */
	if (RelationGetForm(staging)->relhasindex || staging->trigdesc != NULL ||
		RelationGetDescr(staging)->natts != STAGE_COLUMNS)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s.sync_staging has been changed", TOLL_FREE_SCHEMA),
				 errdetail("The inventory sync loads it in bulk, which needs its original %d columns and no index or trigger.",
						   STAGE_COLUMNS),
				 errhint("Drop the added index or trigger, or recreate the extension.")));

	load->staging = staging;
	tf_inventory_types_load(&load->types);
	load->bistate = GetBulkInsertState();
	load->cid = GetCurrentCommandId(true);
	load->nslots = 0;
	load->batch_cxt = AllocSetContextCreate(CurTransactionContext, "sync staging batch",
											ALLOCSET_DEFAULT_SIZES);
	for (int i = 0; i < DOWNLOAD_BATCH_ROWS; i++)
		load->slots[i] = MakeSingleTupleTableSlot(RelationGetDescr(staging),
												  &TTSOpsHeapTuple);
}

/*
 * staging_close
 *		In a page's transaction: insert the rest and release the batch.
 */
static void
staging_close(StagingLoad *load)
{
	staging_flush(load);

	for (int i = 0; i < DOWNLOAD_BATCH_ROWS; i++)
		ExecDropSingleTupleTableSlot(load->slots[i]);
	FreeBulkInsertState(load->bistate);
	table_close(load->staging, NoLock);
	load->staging = NULL;
}

/*
 * report_page
 *		Show the download's progress in pg_stat_activity and worker_status.
 */
static void
report_page(TfSyncRun *run, TfRck *rck)
{
	char		activity[128];

	snprintf(activity, sizeof(activity),
			 "toll_free: inventory sync %lld of %s, page %d",
			 (long long) run->run_id, run->resporg, tf_rck_pages(rck) + 1);
	pgstat_report_activity(STATE_RUNNING, activity);
	tf_worker_set_progress(tf_rck_pages(rck), tf_rck_rows(rck));
}

/*
 * tf_sync_download
 *		Download every page into the staging table; call outside any
 *		transaction, in a memory context that outlives the download.
 *
 * After an error the caller deletes that context, which frees the check
 * and the batch (the registry layer has released the transfer itself).
 */
void
tf_sync_download(TfSyncRun *run)
{
	StagingLoad *load;
	TfRck	   *rck;
	TfRckStep	step;

	load = palloc0(sizeof(StagingLoad));
	load->run = run;

	/* The check spans the page transactions, so it lives outside them. */
	rck = tf_rck_begin(run->resporg, run->page_size, staging_on_row, load);

	do
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		report_page(run, rck);
		staging_open(load);

		do
		{
			step = tf_rck_step(rck);
			tf_worker_set_progress(tf_rck_pages(rck), tf_rck_rows(rck));
		} while (step == TF_RCK_MORE);

		staging_close(load);
		PopActiveSnapshot();
		CommitTransactionCommand();
		pgstat_report_stat(false);

		run->pages = tf_rck_pages(rck);
		run->numbers_seen = tf_rck_rows(rck);
	} while (step != TF_RCK_END);

	tf_rck_end(rck);
	pfree(load);
}
