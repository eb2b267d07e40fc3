/*-------------------------------------------------------------------------
 *
 * queue_enqueue.c
 *		tf_enqueue and tf_wait, the commit-time wake-up of the worker, and
 *		the queue's shared memory.
 *
 * tf_enqueue only inserts a row; nothing reaches the registry before the
 * enqueuing transaction commits.  A transaction callback, registered once
 * per process, runs at commit and sets a flag in shared memory and the
 * worker's latch.  A rolled-back transaction leaves neither a row nor a
 * wake-up.  Rows inserted by other means (or by a prepared transaction that
 * is committed later) are found by the worker's safety poll.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "queue.h"
#include "queue_internal.h"
#include "settings.h"
#include "toll_free.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(tf_enqueue);
PG_FUNCTION_INFO_V1(tf_wait);

TfQueueShared *tf_queue_shared = NULL;

/* Per-process state of the current transaction's enqueues. */
static bool xact_callback_registered = false;
static bool xact_enqueued = false;
static int64 xact_unfinished = -1;	/* -1: not counted yet */
static List *xact_request_ids = NIL;	/* in TopTransactionContext */

/*
 * tf_queue_shmem_request
 *		Reserve the queue's shared memory (called from the worker's
 *		shmem_request hook).
 */
void
tf_queue_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(TfQueueShared)));
}

/*
 * tf_queue_shmem_startup
 *		Attach to the queue's shared memory, initializing it once.
 */
void
tf_queue_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	tf_queue_shared = ShmemInitStruct("toll_free request queue",
									  sizeof(TfQueueShared), &found);
	if (!found)
		pg_atomic_init_u32(&tf_queue_shared->work_committed, 0);
	LWLockRelease(AddinShmemInitLock);
}

/*
 * queue_xact_callback
 *		At commit of a transaction that enqueued, tell the worker; at the end
 *		of any transaction, forget its enqueues.
 */
static void
queue_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (xact_enqueued && tf_queue_shared != NULL)
			{
				pg_atomic_write_u32(&tf_queue_shared->work_committed, 1);
				tf_worker_wake();
			}
			break;

		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			break;

		default:
			/* Pre-commit events: the transaction may still abort. */
			return;
	}

	xact_enqueued = false;
	xact_unfinished = -1;
	xact_request_ids = NIL;
}

/* count_unfinished: queued requests not finished yet, for the cap. */
static int64
count_unfinished(void)
{
	bool		isnull;
	Datum		count;

	if (SPI_execute("SELECT pg_catalog.count(*) FROM toll_free.requests"
					" WHERE origin = 'queue' AND finished_at IS NULL",
					true, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not count unfinished queued requests");

	count = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetInt64(count);
}

/*
 * check_queue_cap
 *		Raise 53400 when the queue already contains toll_free.queue_cap
 *		unfinished requests.  The count is taken once per transaction and
 *		then kept up to date, so a trigger enqueueing thousands of rows in
 *		one statement does not count them again each time.
 *
 * NOTE: concurrent transactions each see the others' rows only after they
 * commit, so together they may pass the cap by the size of their batches.
 */
static void
check_queue_cap(void)
{
	if (xact_unfinished < 0)
		xact_unfinished = count_unfinished();

	if (xact_unfinished >= tf_queue_cap)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("request queue is full"),
				 errdetail("%lld queued requests are unfinished, and toll_free.queue_cap is %d.",
						   (long long) xact_unfinished, tf_queue_cap),
				 errhint("Check that the worker is running and draining the queue (toll_free.queue_summary), or raise toll_free.queue_cap.")));

	xact_unfinished++;
}

/* number_text: the 10-digit text of argument argno, whatever its type. */
static char *
number_text(FunctionCallInfo fcinfo, int argno)
{
	Oid			type = get_fn_expr_argtype(fcinfo->flinfo, argno);
	Oid			output;
	bool		varlena;

	if (!OidIsValid(type))
		elog(ERROR, "could not determine the type of argument %d", argno);
	getTypeOutputInfo(type, &output, &varlena);
	return OidOutputFunctionCall(output, PG_GETARG_DATUM(argno));
}

/*
 * tf_enqueue(operation text, number tfn, arguments jsonb) returns bigint
 *		Queue a registry operation for the worker; returns the request id.
 */
Datum
tf_enqueue(PG_FUNCTION_ARGS)
{
	char	   *operation;
	char	   *number;
	Jsonb	   *arguments;
	int			op;
	Oid			argtypes[5] = {TEXTOID, TEXTOID, JSONBOID, TEXTOID, INT4OID};
	Datum		values[5];
	int64		id;
	bool		isnull;
	MemoryContext oldcontext;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("operation and number of a queued request must not be null")));

	operation = text_to_cstring(PG_GETARG_TEXT_PP(0));
	number = number_text(fcinfo, 1);
	arguments = PG_ARGISNULL(2) ?
		DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"))) :
		PG_GETARG_JSONB_P(2);

	op = tf_queue_lookup_op(operation);
	if (op < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid queued operation \"%s\"", operation),
				 errhint("Queued operations are reserve, spare, disconnect, change_resporg, copy_record and update_record.")));

	tf_queue_check_arguments((TfQueueOp) op, number, arguments);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	check_queue_cap();

	values[0] = CStringGetTextDatum(operation);
	values[1] = CStringGetTextDatum(number);
	values[2] = JsonbPGetDatum(arguments);
	values[3] = CStringGetTextDatum(GetUserNameFromId(GetOuterUserId(), false));
	values[4] = Int32GetDatum(0);
	if (SPI_execute_with_args("INSERT INTO toll_free.requests"
							  " (operation, numbers, arguments, state, origin,"
							  "  attempts, requested_by, created_at)"
							  " VALUES ($1, ARRAY[$2::toll_free.tfn], $3, 'queued', 'queue',"
							  "  $5, $4::name, pg_catalog.now())"
							  " RETURNING id",
							  5, argtypes, values, NULL, false, 1) != SPI_OK_INSERT_RETURNING ||
		SPI_processed != 1)
		elog(ERROR, "could not insert the queued request");

	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									 1, &isnull));
	SPI_finish();

	if (!xact_callback_registered)
	{
		RegisterXactCallback(queue_xact_callback, NULL);
		xact_callback_registered = true;
	}
	xact_enqueued = true;

	oldcontext = MemoryContextSwitchTo(TopTransactionContext);
	xact_request_ids = lappend(xact_request_ids, palloc(sizeof(int64)));
	*(int64 *) llast(xact_request_ids) = id;
	MemoryContextSwitchTo(oldcontext);

	PG_RETURN_INT64(id);
}

/* enqueued_here: true when this transaction enqueued request id. */
static bool
enqueued_here(int64 id)
{
	ListCell   *lc;

	foreach(lc, xact_request_ids)
	{
		if (*(int64 *) lfirst(lc) == id)
			return true;
	}
	return false;
}

/* interval_ms: an interval as milliseconds (a month counts as 30 days). */
static int64
interval_ms(Interval *interval)
{
	int64		usecs = interval->time +
		(int64) interval->day * USECS_PER_DAY +
		(int64) interval->month * DAYS_PER_MONTH * USECS_PER_DAY;

	return usecs / 1000;
}

/*
 * tf_wait(request_id bigint, timeout interval) returns toll_free.requests
 *		Wait until a request has finished (done, failed, or unknown after
 *		the worker gave up resolving it) and return its row.  After the
 *		timeout the row is returned as it is, unfinished; the caller tells
 *		by finished_at being null.
 *
 * Waiting is a latch wait with short, growing sleeps between looks at the
 * row: no LISTEN, and a cancel or statement_timeout ends it at once.
 */
Datum
tf_wait(PG_FUNCTION_ARGS)
{
	int64		id;
	int64		timeout_ms;
	TimestampTz deadline;
	long		sleep_ms = 10;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	Datum		row;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("request id must not be null")));
	id = PG_GETARG_INT64(0);
	timeout_ms = PG_ARGISNULL(1) ? 30000 : interval_ms(PG_GETARG_INTERVAL_P(1));
	if (timeout_ms < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("timeout must not be negative")));

	if (enqueued_here(id))
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("request %lld was enqueued in this transaction", (long long) id),
				 errdetail("A queued request is sent only after the enqueuing transaction commits."),
				 errhint("Commit first, then call tf_wait.")));
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("tf_wait cannot see the worker's progress in a REPEATABLE READ or SERIALIZABLE transaction"),
				 errhint("Call tf_wait in a READ COMMITTED transaction.")));

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
	values[0] = Int64GetDatum(id);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	for (;;)
	{
		bool		isnull;
		bool		finished;

		/* A volatile function's query takes a fresh snapshot each time. */
		if (SPI_execute_with_args("SELECT r, r.finished_at IS NOT NULL"
								  " FROM toll_free.requests r WHERE r.id = $1",
								  1, argtypes, values, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read request %lld", (long long) id);
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("request %lld does not exist", (long long) id),
					 errhint("Finished requests are purged after toll_free.queue_retention.")));

		row = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		finished = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
											  SPI_tuptable->tupdesc, 2, &isnull));
		if (finished || GetCurrentTimestamp() >= deadline)
			break;

		SPI_freetuptable(SPI_tuptable);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 sleep_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		sleep_ms = Min(sleep_ms * 2, 250);
	}

	row = SPI_datumTransfer(row, false, -1);
	SPI_finish();

	PG_RETURN_DATUM(row);
}
