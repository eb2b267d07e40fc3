/*-------------------------------------------------------------------------
 *
 * worker_sql.c
 *		SQL functions around the background worker: tf_sync(),
 *		tf_worker_status(), tf_worker_restart() and tf_worker_wake().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "commands/dbcommands.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "rck.h"
#include "settings.h"
#include "toll_free.h"
#include "worker.h"
#include "worker_internal.h"
#include "worker_requests.h"

PG_FUNCTION_INFO_V1(tf_sync);
PG_FUNCTION_INFO_V1(tf_worker_status);
PG_FUNCTION_INFO_V1(tf_worker_restart);
PG_FUNCTION_INFO_V1(tf_worker_wake_at_commit);

/* Columns of toll_free.sync_runs, in order. */
enum
{
	RUN_ID,
	RUN_RESPORG,
	RUN_ORIGIN,
	RUN_REQUESTED_BY,
	RUN_STARTED_AT,
	RUN_FINISHED_AT,
	RUN_STATE,
	RUN_NUMBERS_SEEN,
	RUN_ADDED,
	RUN_CHANGED,
	RUN_REMOVED,
	RUN_PAGES,
	RUN_SQLSTATE,
	RUN_ERROR,
	RUN_COLUMNS
};

/* Default of tf_sync()'s timeout when it is passed as NULL: 5 minutes. */
#define TF_SYNC_DEFAULT_TIMEOUT_MS	(5 * 60 * 1000L)

static bool wake_at_commit = false;
static bool wake_callback_registered = false;

/*
 * require_worker
 *		Raise an error unless a worker serves this database.
 */
static void
require_worker(void)
{
	Oid			worker_database;

	tf_require_preload("inventory syncs");

	if (!tf_worker_enabled)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the toll_free background worker is turned off"),
				 errhint("Set toll_free.worker = on and restart the server.")));

	worker_database = get_database_oid(tf_worker_database, true);
	if (worker_database != MyDatabaseId)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("inventory syncs run in database \"%s\", not in this one",
						tf_worker_database),
				 errhint("Call tf_sync() in the database named by toll_free.database.")));
}

/*
 * interval_to_ms
 *		An interval as milliseconds (months count 30 days); raises when
 *		negative.
 */
static long
interval_to_ms(Interval *span)
{
	int64		usecs;

	usecs = span->time +
		(span->day + (int64) span->month * DAYS_PER_MONTH) * USECS_PER_DAY;
	if (usecs < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("timeout must not be negative")));

	return (long) Min(usecs / 1000, (int64) LONG_MAX);
}

static const char *
slot_state_name(TfSyncSlotState state)
{
	switch (state)
	{
		case TF_SYNC_SLOT_QUEUED:
			return "queued";
		case TF_SYNC_SLOT_RUNNING:
			return "running";
		case TF_SYNC_SLOT_DONE:
			return "done";
		case TF_SYNC_SLOT_FAILED:
			return "failed";
		case TF_SYNC_SLOT_FREE:
			break;
	}
	return "unknown";
}

/*
 * timestamp_or_null
 *		Set a timestamptz column; 0 means unknown.
 */
static void
timestamp_or_null(Datum *values, bool *nulls, int col, TimestampTz value)
{
	nulls[col] = value == 0;
	values[col] = TimestampTzGetDatum(value);
}

static void
text_or_null(Datum *values, bool *nulls, int col, const char *value)
{
	nulls[col] = value == NULL || value[0] == '\0';
	values[col] = nulls[col] ? (Datum) 0 : CStringGetTextDatum(value);
}

/*
 * run_tuple
 *		A toll_free.sync_runs row built from a request slot.
 */
static HeapTuple
run_tuple(TupleDesc tupdesc, const TfSyncSlot *slot)
{
	Datum		values[RUN_COLUMNS];
	bool		nulls[RUN_COLUMNS];
	bool		finished = slot->state == TF_SYNC_SLOT_DONE ||
		slot->state == TF_SYNC_SLOT_FAILED;

	memset(nulls, 0, sizeof(nulls));
	values[RUN_ID] = Int64GetDatum(slot->run_id);
	values[RUN_RESPORG] = CStringGetTextDatum(slot->resporg);
	values[RUN_ORIGIN] = CStringGetTextDatum("request");
	values[RUN_REQUESTED_BY] = NameGetDatum(&slot->requested_by);
	timestamp_or_null(values, nulls, RUN_STARTED_AT,
					  slot->state == TF_SYNC_SLOT_QUEUED ? 0 : slot->started_at);
	timestamp_or_null(values, nulls, RUN_FINISHED_AT, finished ? slot->finished_at : 0);
	values[RUN_STATE] = CStringGetTextDatum(slot_state_name(slot->state));
	values[RUN_NUMBERS_SEEN] = Int64GetDatum(slot->numbers_seen);
	values[RUN_ADDED] = Int64GetDatum(slot->added);
	values[RUN_CHANGED] = Int64GetDatum(slot->changed);
	values[RUN_REMOVED] = Int64GetDatum(slot->removed);
	values[RUN_PAGES] = Int32GetDatum(slot->pages);
	text_or_null(values, nulls, RUN_SQLSTATE, slot->sqlstate);
	text_or_null(values, nulls, RUN_ERROR, slot->error);

	return heap_form_tuple(tupdesc, values, nulls);
}

/*
 * tf_sync
 *		SQL: tf_sync(resporg text, wait boolean DEFAULT false,
 *		timeout interval DEFAULT '5 min', page_size int DEFAULT NULL)
 *		RETURNS toll_free.sync_runs.
 *
 * Asks the worker to sync a RespOrg now and returns the run: 'queued' at
 * once, or with wait, its outcome ('done' or 'failed'), or 'queued' or
 * 'running' when the timeout passed first.  The request takes
 * effect at once; a rollback of the caller does not withdraw it.
 */
Datum
tf_sync(PG_FUNCTION_ARGS)
{
	char	   *resporg;
	bool		wait;
	long		timeout_ms = TF_SYNC_DEFAULT_TIMEOUT_MS;
	int32		page_size;
	uint64		request_key;
	TfSyncSlot	slot;
	TupleDesc	tupdesc;
	bool		found;

	require_worker();

	resporg = tf_resporg_argument(PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0));
	wait = PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1);
	if (!PG_ARGISNULL(2))
		timeout_ms = interval_to_ms(PG_GETARG_INTERVAL_P(2));
	page_size = tf_page_size_argument(PG_ARGISNULL(3), PG_ARGISNULL(3) ? 0 : PG_GETARG_INT32(3));

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE ||
		tupdesc->natts != RUN_COLUMNS)
		elog(ERROR, "tf_sync must return toll_free.sync_runs");
	tupdesc = BlessTupleDesc(tupdesc);

	request_key = tf_sync_request_enqueue(resporg, page_size);

	if (wait)
		found = tf_sync_request_wait(request_key, timeout_ms, &slot);
	else
		found = tf_sync_request_lookup(request_key, &slot);

	/* Only 32 newer requests could have taken the slot in the meantime. */
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the sync of RespOrg %s is no longer tracked by the toll_free worker",
						resporg),
				 errhint("Look it up in toll_free.sync_runs.")));

	if (wait && (slot.state == TF_SYNC_SLOT_QUEUED || slot.state == TF_SYNC_SLOT_RUNNING))
		ereport(NOTICE,
				(errmsg("sync %lld of RespOrg %s has not finished within the timeout",
						(long long) slot.run_id, resporg),
				 errhint("Its outcome will appear in toll_free.sync_runs.")));

	PG_RETURN_DATUM(HeapTupleGetDatum(run_tuple(tupdesc, &slot)));
}

/*
 * tf_worker_status
 *		SQL: the worker's state, one row (toll_free.worker_status).
 */
Datum
tf_worker_status(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	TfWorkerShared copy;
	Datum		values[14];
	bool		nulls[14];
	int			queued = 0;
	const char *state;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE ||
		tupdesc->natts != 14)
		elog(ERROR, "tf_worker_status has the wrong result type");
	tupdesc = BlessTupleDesc(tupdesc);

	memset(&copy, 0, sizeof(copy));
	if (tf_worker_shared != NULL)
	{
		SpinLockAcquire(&tf_worker_shared->mutex);
		memcpy(&copy, tf_worker_shared, sizeof(copy));
		SpinLockRelease(&tf_worker_shared->mutex);
	}

	for (int i = 0; i < TF_SYNC_SLOTS; i++)
		queued += copy.slots[i].state == TF_SYNC_SLOT_QUEUED;

	if (tf_worker_shared == NULL)
		state = "not loaded";
	else if (!tf_worker_enabled)
		state = "turned off";
	else if (copy.pid == 0)
		state = copy.starts == 0 ? "not started" : "stopped";
	else
		state = copy.activity;

	memset(nulls, 0, sizeof(nulls));
	nulls[0] = copy.pid == 0;
	values[0] = Int32GetDatum(copy.pid);
	text_or_null(values, nulls, 1, tf_worker_database);
	values[2] = CStringGetTextDatum(state);
	timestamp_or_null(values, nulls, 3, copy.pid ? copy.activity_since : 0);
	timestamp_or_null(values, nulls, 4, copy.started_at);
	values[5] = Int64GetDatum(Max(copy.starts - 1, 0));
	text_or_null(values, nulls, 6, copy.current_resporg);
	nulls[7] = copy.current_run_id == 0;
	values[7] = Int64GetDatum(copy.current_run_id);
	nulls[8] = nulls[7];
	values[8] = Int64GetDatum(copy.current_numbers);
	values[9] = Int32GetDatum(queued);
	text_or_null(values, nulls, 10, copy.next_resporg);
	timestamp_or_null(values, nulls, 11, copy.next_sync_at);
	text_or_null(values, nulls, 12, copy.last_error);
	timestamp_or_null(values, nulls, 13, copy.last_error_at);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * tf_worker_restart
 *		SQL: end the worker so that the postmaster starts it again; false
 *		when no worker was running.
 */
Datum
tf_worker_restart(PG_FUNCTION_ARGS)
{
	pid_t		pid;

	tf_require_preload("the background worker");

	SpinLockAcquire(&tf_worker_shared->mutex);
	pid = tf_worker_shared->pid;
	SpinLockRelease(&tf_worker_shared->mutex);

	if (pid == 0)
	{
		ereport(NOTICE,
				(errmsg("the toll_free worker is not running"),
				 errhint(tf_worker_enabled
						 ? "The postmaster starts it again within a few seconds of an exit."
						 : "Set toll_free.worker = on and restart the server.")));
		PG_RETURN_BOOL(false);
	}

	if (kill(pid, SIGTERM) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not signal the toll_free worker (process %d): %m", (int) pid)));

	PG_RETURN_BOOL(true);
}

/*
 * wake_at_commit_callback
 *		Wake the worker when a transaction that asked for it commits.
 */
static void
wake_at_commit_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (wake_at_commit)
				tf_worker_wake();
			wake_at_commit = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			wake_at_commit = false;
			break;
		default:
			break;
	}
}

/*
 * tf_worker_wake_at_commit
 *		SQL: tf_worker_wake(): wake the worker when this transaction commits.
 *
 * CREATE EXTENSION calls it, so the worker finds the new tables at once
 * instead of at its next periodic check.
 */
Datum
tf_worker_wake_at_commit(PG_FUNCTION_ARGS)
{
	if (!wake_callback_registered)
	{
		RegisterXactCallback(wake_at_commit_callback, NULL);
		wake_callback_registered = true;
	}
	wake_at_commit = true;

	PG_RETURN_VOID();
}
