/*-------------------------------------------------------------------------
 *
 * rck_srf.c
 *		tf_resporg_check(): every number a RespOrg controls, as rows that
 *		stream out while the registry's pages are still arriving.
 *
 * A value-per-call set-returning function.  Each call returns one row from
 * a small queue.  Only when the queue is empty does it move the transfer on
 * (tf_rck_step), which parses whatever arrived and refills the queue.  So
 * memory is bounded by what one step delivers, however many numbers the
 * RespOrg holds.  (Called in FROM, PostgreSQL itself stores the rows in a
 * tuplestore, which spills to disk beyond work_mem.)
 *
 * A caller that stops early (LIMIT, a closed cursor) never makes the call
 * that would end the set, and a value-per-call function gets no final call.
 * So the transfer and the parser are released from an ExprContext shutdown
 * callback, which the executor runs when it shuts the scan down.  After an
 * error, the memory-context reset callback on the scan's context does the
 * rest: the parser is freed with the memory, and the registry layer has
 * already released the transfer during the abort.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/memutils.h"

#include "inventory.h"
#include "rck.h"
#include "toll_free.h"

PG_FUNCTION_INFO_V1(tf_resporg_check);

/* Columns of toll_free.number_info, in order. */
enum
{
	COL_NUMBER,
	COL_STATUS,
	COL_RESPORG,
	COL_STATUS_DATE,
	COL_RESERVED_UNTIL,
	COL_DISCONNECT_UNTIL,
	COL_LAST_ACTIVE,
	COL_CONTACT_NAME,
	COL_CONTACT_PHONE,
	COL_NOTES,
	COL_REC_VERSION_ID,
	COL_AUCTIONED,
	COL_COUNT
};

/* One row waiting in the queue. */
typedef struct QueuedRow
{
	Datum		values[COL_COUNT];
	bool		nulls[COL_COUNT];
} QueuedRow;

typedef struct RckScan
{
	MemoryContext cxt;			/* this struct and everything below */
	MemoryContextCallback reset_callback;
	ExprContext *econtext;
	bool		shutdown_registered;

	TfRck	   *rck;			/* NULL once released */
	bool		last_page_done;
	TupleDesc	tupdesc;
	TfInventoryTypes types;

	/* Rows parsed but not yet returned; reset whenever it runs empty. */
	MemoryContext queue_cxt;
	QueuedRow  *rows;
	int			nrows;
	int			capacity;
	int			next;
} RckScan;

/*
 * date_or_null
 *		Set a date column from a TfRckRow field.
 */
static void
date_or_null(QueuedRow *row, int col, bool present, DateADT value)
{
	row->nulls[col] = !present;
	row->values[col] = present ? DateADTGetDatum(value) : (Datum) 0;
}

/*
 * text_or_null
 *		Set a text column from a TfRckRow field.
 */
static void
text_or_null(QueuedRow *row, int col, const char *value)
{
	row->nulls[col] = value == NULL;
	row->values[col] = value ? CStringGetTextDatum(value) : (Datum) 0;
}

/*
 * scan_on_row
 *		Parser callback: convert a row into Datums and queue it.
 */
static void
scan_on_row(void *arg, const TfRckRow *info)
{
	RckScan    *scan = (RckScan *) arg;
	MemoryContext oldcxt = MemoryContextSwitchTo(scan->queue_cxt);
	QueuedRow  *row;

	if (scan->nrows == scan->capacity)
	{
		scan->capacity = scan->capacity ? scan->capacity * 2 : 64;
		scan->rows = scan->rows ? repalloc(scan->rows, scan->capacity * sizeof(QueuedRow))
			: palloc(scan->capacity * sizeof(QueuedRow));
	}
	row = &scan->rows[scan->nrows++];
	memset(row->nulls, 0, sizeof(row->nulls));

	row->values[COL_NUMBER] = tf_inventory_number_datum(&scan->types, info->number);
	row->values[COL_RESPORG] = CStringGetTextDatum(info->resporg);
	row->values[COL_STATUS] = ObjectIdGetDatum(scan->types.status_values[info->status]);
	date_or_null(row, COL_STATUS_DATE, info->has_status_date, info->status_date);
	date_or_null(row, COL_RESERVED_UNTIL, info->has_reserved_until, info->reserved_until);
	date_or_null(row, COL_DISCONNECT_UNTIL, info->has_disconnect_until, info->disconnect_until);
	date_or_null(row, COL_LAST_ACTIVE, info->has_last_active, info->last_active);
	text_or_null(row, COL_CONTACT_NAME, info->contact_name);
	text_or_null(row, COL_CONTACT_PHONE, info->contact_phone);
	text_or_null(row, COL_NOTES, info->notes);
	text_or_null(row, COL_REC_VERSION_ID, info->rec_version_id);
	row->nulls[COL_AUCTIONED] = info->auctioned < 0;
	row->values[COL_AUCTIONED] = BoolGetDatum(info->auctioned > 0);

	MemoryContextSwitchTo(oldcxt);
}

/*
 * scan_release
 *		Release the transfer and the parser at once (normal paths only).
 */
static void
scan_release(RckScan *scan)
{
	if (scan->rck != NULL)
	{
		TfRck	   *rck = scan->rck;

		scan->rck = NULL;
		tf_rck_end(rck);
	}
}

/*
 * scan_shutdown
 *		ExprContext shutdown callback: the executor is done with the scan,
 *		whether or not every row was read.
 */
static void
scan_shutdown(Datum arg)
{
	RckScan    *scan = (RckScan *) DatumGetPointer(arg);

	scan->shutdown_registered = false;
	scan_release(scan);
	MemoryContextDelete(scan->cxt);
}

/*
 * scan_reset
 *		Memory-context reset callback of the scan's context.
 *
 * Runs when the context goes away without scan_shutdown(): after an error.
 * The child contexts, with the parser and the transfer's memory, are gone
 * already, so only the shutdown callback is left to unregister.  The
 * ExprContext lives in the parent context and is still intact.
 */
static void
scan_reset(void *arg)
{
	RckScan    *scan = (RckScan *) arg;

	scan->rck = NULL;
	if (scan->shutdown_registered)
	{
		scan->shutdown_registered = false;
		UnregisterExprContextCallback(scan->econtext, scan_shutdown,
									  PointerGetDatum(scan));
	}
}

/*
 * scan_begin
 *		First call: check the arguments and set the scan up.
 */
static RckScan *
scan_begin(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *resporg;
	int32		page_size;
	MemoryContext cxt;
	MemoryContext oldcxt;
	RckScan    *scan;
	TupleDesc	tupdesc;

	tf_require_preload("RespOrg checks");

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) || rsinfo->econtext == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));

	resporg = tf_resporg_argument(PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0));
	page_size = tf_page_size_argument(PG_ARGISNULL(1), PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1));

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE ||
		tupdesc->natts != COL_COUNT)
		elog(ERROR, "tf_resporg_check must return toll_free.number_info");

	cxt = AllocSetContextCreate(rsinfo->econtext->ecxt_per_query_memory,
								"tf_resporg_check", ALLOCSET_SMALL_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);

	scan = palloc0(sizeof(RckScan));
	scan->cxt = cxt;
	scan->econtext = rsinfo->econtext;
	scan->tupdesc = BlessTupleDesc(CreateTupleDescCopy(tupdesc));
	tf_inventory_types_load(&scan->types);
	scan->queue_cxt = AllocSetContextCreate(cxt, "tf_resporg_check rows",
											ALLOCSET_DEFAULT_SIZES);

	/* Both callbacks are in place before any transfer exists. */
	scan->reset_callback.func = scan_reset;
	scan->reset_callback.arg = scan;
	MemoryContextRegisterResetCallback(cxt, &scan->reset_callback);
	RegisterExprContextCallback(rsinfo->econtext, scan_shutdown, PointerGetDatum(scan));
	scan->shutdown_registered = true;

	scan->rck = tf_rck_begin(resporg, page_size, scan_on_row, scan);

	MemoryContextSwitchTo(oldcxt);
	return scan;
}

/*
 * scan_fill
 *		Refill the empty queue; false when the last page has ended and no
 *		row is left.
 */
static bool
scan_fill(RckScan *scan)
{
	scan->nrows = 0;
	scan->next = 0;
	scan->rows = NULL;
	scan->capacity = 0;
	MemoryContextReset(scan->queue_cxt);

	while (scan->nrows == 0)
	{
		if (scan->last_page_done || scan->rck == NULL)
			return false;

		if (tf_rck_step(scan->rck) == TF_RCK_END)
			scan->last_page_done = true;
	}

	return true;
}

/*
 * tf_resporg_check
 *		SQL: tf_resporg_check(resporg text DEFAULT NULL, page_size int
 *		DEFAULT NULL) RETURNS SETOF toll_free.number_info.
 */
Datum
tf_resporg_check(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	RckScan    *scan;
	QueuedRow  *row;
	HeapTuple	tuple;

	if (SRF_IS_FIRSTCALL())
	{
		funcctx = SRF_FIRSTCALL_INIT();
		funcctx->user_fctx = scan_begin(fcinfo);
	}

	funcctx = SRF_PERCALL_SETUP();
	scan = (RckScan *) funcctx->user_fctx;

	if (scan->next >= scan->nrows && !scan_fill(scan))
	{
		scan_release(scan);
		SRF_RETURN_DONE(funcctx);
	}

	row = &scan->rows[scan->next++];
	tuple = heap_form_tuple(scan->tupdesc, row->values, row->nulls);
	SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(tuple));
}
