/*-------------------------------------------------------------------------
 *
 * retention.c
 *		Deletion of old history: the rows of synchronous registry calls in
 *		toll_free.requests, toll_free.number_history and finished
 *		toll_free.sync_runs, once older than toll_free.history_retention.
 *
 * Without it these tables grow by a row per call and per changed number
 * for as long as the extension runs.  The worker runs a pass when it
 * starts, after each reload and then every hour.  tf_purge_history() runs
 * one batch on demand, for example from a cron job or with a shorter age
 * than the setting.  A batch deletes at most a given number of rows per
 * table, so a large backlog goes in short transactions, not one long one.
 *
 * Three kinds of rows are never deleted here.  Queued requests follow
 * toll_free.queue_retention instead.  Call rows without a final outcome
 * (sending or unknown) wait for an operator to resolve them.  The last
 * finished sync run of each RespOrg gives the worker's schedule its next
 * due time.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "audit.h"
#include "retention.h"
#include "settings.h"
#include "toll_free.h"
#include "worker_internal.h"

PG_FUNCTION_INFO_V1(tf_purge_history);

/* Rows per table in one batch of the worker, and batches in one pass. */
#define RETENTION_BATCH_ROWS		10000
#define RETENTION_PASS_BATCHES		10

/* Pause after a pass that left rows behind, and between complete passes. */
#define RETENTION_BACKLOG_PAUSE_MS	1000
#define RETENTION_INTERVAL_MS		(3600 * 1000)

/*
 * The DELETE statement of each table.  $1 is the cutoff time and $2 the
 * batch size.
 * created_at and changed_at have BRIN indexes, so a pass that finds nothing
 * to delete reads little of a large table.
 */
typedef struct PurgeStatement
{
	const char *relation;
	const char *sql;
} PurgeStatement;

static const PurgeStatement purge_statements[] = {
	{
		"requests",
		"DELETE FROM toll_free.requests WHERE id IN"
		" (SELECT id FROM toll_free.requests"
		"  WHERE origin = 'call' AND state IN ('done', 'failed')"
		"    AND created_at < $1 AND finished_at < $1 LIMIT $2)"
	},
	{
		"number_history",
		"DELETE FROM toll_free.number_history WHERE id IN"
		" (SELECT id FROM toll_free.number_history WHERE changed_at < $1 LIMIT $2)"
	},
	{
		/* A run goes only when a later one could take its place in the schedule. */
		"sync_runs",
		"DELETE FROM toll_free.sync_runs WHERE id IN"
		" (SELECT r.id FROM toll_free.sync_runs r"
		"  WHERE r.state IN ('done', 'failed') AND r.finished_at < $1"
		"    AND EXISTS (SELECT FROM toll_free.sync_runs later"
		"                WHERE later.resporg = r.resporg AND later.id > r.id"
		"                  AND later.state IN ('done', 'failed')"
		"                  AND later.started_at IS NOT NULL)"
		"  LIMIT $2)"
	}
};

#define PURGE_STATEMENTS lengthof(purge_statements)

static TimestampTz next_pass_at = 0;

/*
 * purge_batch
 *		Delete up to batch_size rows older than cutoff from each table, as
 *		the table's owner, in the current transaction.  deleted[] receives
 *		the count of each.
 */
static void
purge_batch(TimestampTz cutoff, int batch_size, uint64 *deleted)
{
	Oid			argtypes[2] = {TIMESTAMPTZOID, INT4OID};
	Datum		values[2];
	Oid			save_userid;
	int			save_sec_context;

	values[0] = TimestampTzGetDatum(cutoff);
	values[1] = Int32GetDatum(batch_size);

	SPI_connect();
	GetUserIdAndSecContext(&save_userid, &save_sec_context);

	for (int i = 0; i < PURGE_STATEMENTS; i++)
	{
		int			rc;

		SetUserIdAndSecContext(tf_table_owner(purge_statements[i].relation),
							   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
		rc = SPI_execute_with_args(purge_statements[i].sql, 2, argtypes, values,
								   NULL, false, 0);
		SetUserIdAndSecContext(save_userid, save_sec_context);

		if (rc != SPI_OK_DELETE)
			elog(ERROR, "could not delete old rows of %s.%s: %s", TOLL_FREE_SCHEMA,
				 purge_statements[i].relation, SPI_result_code_string(rc));
		deleted[i] = SPI_processed;
	}

	SPI_finish();
}

/*
 * tf_retention_run_due
 *		Run a pass of up to RETENTION_PASS_BATCHES batches, each in its own
 *		transaction, when one is due.
 *
 * A pass that stops with a full batch leaves a backlog.  The next pass then
 * follows after a short pause, and the worker's other work runs in between.
 */
bool
tf_retention_run_due(void)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz cutoff;
	uint64		total[PURGE_STATEMENTS] = {0};
	bool		backlog = false;

	if (tf_history_retention_s == 0 || now < next_pass_at)
		return false;

	/* A pass that fails is tried again at the next interval, not at once. */
	next_pass_at = TimestampTzPlusMilliseconds(now, RETENTION_INTERVAL_MS);

	cutoff = TimestampTzPlusMilliseconds(now, -(int64) tf_history_retention_s * 1000);
	tf_worker_set_activity("deleting old history", NULL, 0);

	for (int batch = 0; batch < RETENTION_PASS_BATCHES; batch++)
	{
		uint64		deleted[PURGE_STATEMENTS];

		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		purge_batch(cutoff, RETENTION_BATCH_ROWS, deleted);
		PopActiveSnapshot();
		CommitTransactionCommand();

		backlog = false;
		for (int i = 0; i < PURGE_STATEMENTS; i++)
		{
			total[i] += deleted[i];
			if (deleted[i] == RETENTION_BATCH_ROWS)
				backlog = true;
		}

		CHECK_FOR_INTERRUPTS();
		if (!backlog)
			break;
	}

	if (total[0] + total[1] + total[2] > 0)
		ereport(LOG,
				(errmsg("toll_free worker deleted history older than %s",
						timestamptz_to_str(cutoff)),
				 errdetail("Rows deleted: %llu of requests, %llu of number_history, %llu of sync_runs.",
						   (unsigned long long) total[0],
						   (unsigned long long) total[1],
						   (unsigned long long) total[2])));

	if (backlog)
		next_pass_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												   RETENTION_BACKLOG_PAUSE_MS);
	tf_worker_set_activity("idle", NULL, 0);
	return true;
}

TimestampTz
tf_retention_next(void)
{
	if (tf_history_retention_s == 0)
		return 0;

	/* A pass made due by a reload has next_pass_at 0: due now. */
	return next_pass_at != 0 ? next_pass_at : GetCurrentTimestamp();
}

void
tf_retention_reschedule(void)
{
	next_pass_at = 0;
}

/*
 * retention_cutoff
 *		Compute the cutoff time of tf_purge_history(): older_than before the
 *		start of the transaction, or the setting when older_than is NULL.
 *		Return false when there is nothing to delete: older_than is NULL and
 *		the setting is 0.
 */
static bool
retention_cutoff(FunctionCallInfo fcinfo, TimestampTz *cutoff)
{
	TimestampTz start = GetCurrentTransactionStartTimestamp();
	Interval   *older_than;
	Interval	zero = {0};

	if (PG_ARGISNULL(0))
	{
		if (tf_history_retention_s == 0)
			return false;
		*cutoff = TimestampTzPlusMilliseconds(start, -(int64) tf_history_retention_s * 1000);
		return true;
	}

	older_than = PG_GETARG_INTERVAL_P(0);
	if (DatumGetInt32(DirectFunctionCall2(interval_cmp, IntervalPGetDatum(older_than),
										  IntervalPGetDatum(&zero))) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("older_than must be a positive interval"),
				 errdetail("The value given was %s.",
						   DatumGetCString(DirectFunctionCall1(interval_out,
															   IntervalPGetDatum(older_than))))));

	*cutoff = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
													  TimestampTzGetDatum(start),
													  IntervalPGetDatum(older_than)));
	return true;
}

/*
 * tf_purge_history(older_than interval, batch_size integer)
 *		RETURNS TABLE (relation text, deleted bigint)
 *
 * Delete one batch of each table in the caller's transaction and report
 * the rows deleted.  A count equal to batch_size means more may be left.
 */
Datum
tf_purge_history(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	uint64		deleted[PURGE_STATEMENTS] = {0};
	TimestampTz cutoff;
	int			batch_size;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch_size must not be null")));
	if (PG_GETARG_INT32(1) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch_size must be at least 1"),
				 errdetail("The value given was %d.", PG_GETARG_INT32(1))));
	batch_size = PG_GETARG_INT32(1);

	InitMaterializedSRF(fcinfo, 0);
	if (retention_cutoff(fcinfo, &cutoff))
		purge_batch(cutoff, batch_size, deleted);

	for (int i = 0; i < PURGE_STATEMENTS; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = CStringGetTextDatum(purge_statements[i].relation);
		values[1] = Int64GetDatum((int64) deleted[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	return (Datum) 0;
}
