/*-------------------------------------------------------------------------
 *
 * sync.c
 *		One inventory sync run from start to end: the sync_runs row, the
 *		download, the atomic apply, and the failure path.
 *
 * Transactions of a run:
 *
 *	1. start: insert the sync_runs row (state 'running') and empty the
 *	   staging table;
 *	2. one per page: load the page into toll_free.sync_staging;
 *	3. apply: change toll_free.numbers and number_history, mark the run
 *	   'done' and empty the staging table.
 *
 * Until step 3 commits, toll_free.numbers is untouched.  When any step
 * fails, the error is logged, the open transaction rolls back, and the run
 * is marked 'failed' with the error in a transaction of its own.  If even
 * that fails (the extension was dropped meanwhile, say), the worker logs it
 * and carries on: the next loop finds the extension missing and waits.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "sync.h"
#include "sync_internal.h"
#include "toll_free.h"

/*
 * tf_sync_allocate_run_id
 *		Take the next id of sync_runs' identity sequence; in a transaction.
 *
 * The caller's EXECUTE privilege on tf_sync() is the permission check, so
 * the sequence's own is skipped.
 */
int64
tf_sync_allocate_run_id(void)
{
	Oid			sequence;

	sequence = getIdentitySequence(tf_sync_relation_oid("sync_runs"), 1, false);
	return nextval_internal(sequence, false);
}

/*
 * begin_transaction
 *		Start a transaction with SPI and a snapshot, for a step of the run.
 */
static void
begin_transaction(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
}

static void
commit_transaction(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
}

/*
 * sync_start
 *		Step 1: record the run as running; returns true when the RespOrg was
 *		never synced successfully before (its first load).
 */
static bool
sync_start(TfSyncRun *run)
{
	Oid			types[5] = {INT8OID, TEXTOID, TEXTOID, NAMEOID, TIMESTAMPTZOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	NameData	requested_by;
	Oid			first_type = TEXTOID;
	Datum		first_value;
	bool		isnull;
	bool		first_load;
	int			rc;

	begin_transaction();

	if (run->run_id == 0)
		run->run_id = tf_sync_allocate_run_id();

	values[0] = Int64GetDatum(run->run_id);
	values[1] = CStringGetTextDatum(run->resporg);
	values[2] = CStringGetTextDatum(run->origin);
	if (run->requested_by != NULL)
	{
		namestrcpy(&requested_by, run->requested_by);
		values[3] = NameGetDatum(&requested_by);
	}
	else
		nulls[3] = 'n';
	values[4] = TimestampTzGetDatum(run->started_at);

	rc = SPI_execute_with_args("INSERT INTO toll_free.sync_runs"
							   " (id, resporg, origin, requested_by, started_at, state)"
							   " VALUES ($1, $2, $3, $4, $5, 'running')",
							   5, types, values, nulls, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "recording the sync run failed: %s", SPI_result_code_string(rc));

	first_value = CStringGetTextDatum(run->resporg);
	rc = SPI_execute_with_args("SELECT NOT EXISTS (SELECT FROM toll_free.sync_runs"
							   " WHERE resporg = $1 AND state = 'done')",
							   1, &first_type, &first_value, NULL, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "reading earlier sync runs failed: %s", SPI_result_code_string(rc));
	first_load = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
											SPI_tuptable->tupdesc, 1, &isnull));

	rc = SPI_execute("TRUNCATE toll_free.sync_staging", false, 0);
	if (rc != SPI_OK_UTILITY)
		elog(ERROR, "emptying the staging table failed: %s", SPI_result_code_string(rc));

	commit_transaction();
	return first_load;
}

/*
 * sync_record_failure
 *		Mark the run failed with its error, in a transaction of its own.
 *
 * The row may be missing when step 1 itself failed; it is inserted then.
 */
static void
sync_record_failure(TfSyncRun *run)
{
	Oid			types[8] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, INT8OID,
	INT4OID, TEXTOID};
	Datum		values[8];
	int			rc;

	begin_transaction();

	values[0] = Int64GetDatum(run->run_id);
	values[1] = CStringGetTextDatum(run->resporg);
	values[2] = CStringGetTextDatum(run->sqlstate);
	values[3] = CStringGetTextDatum(run->error);
	values[4] = TimestampTzGetDatum(run->started_at);
	values[5] = Int64GetDatum(run->numbers_seen);
	values[6] = Int32GetDatum(run->pages);
	values[7] = CStringGetTextDatum(run->origin);

	rc = SPI_execute_with_args("INSERT INTO toll_free.sync_runs AS r"
							   " (id, resporg, origin, started_at, finished_at, state,"
							   "  numbers_seen, pages, sqlstate, error)"
							   " VALUES ($1, $2, $8, $5, pg_catalog.clock_timestamp(),"
							   "         'failed', $6, $7, $3, $4)"
							   " ON CONFLICT (id) DO UPDATE"
							   " SET state = 'failed', finished_at = excluded.finished_at,"
							   "     numbers_seen = excluded.numbers_seen,"
							   "     pages = excluded.pages, sqlstate = excluded.sqlstate,"
							   "     error = excluded.error",
							   8, types, values, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "recording the failed sync run failed: %s", SPI_result_code_string(rc));

	commit_transaction();
}

/*
 * sync_failed
 *		Error path: log the error, roll back and record the failed run.
 *
 * Called in PG_CATCH with the error still current.
 */
static void
sync_failed(TfSyncRun *run, MemoryContext run_cxt)
{
	ErrorData  *edata;
	MemoryContext oldcxt;

	HOLD_INTERRUPTS();

	/* Keep a copy of the error for the sync_runs row, then report it. */
	oldcxt = MemoryContextSwitchTo(run_cxt);
	edata = CopyErrorData();
	MemoryContextSwitchTo(oldcxt);
	EmitErrorReport();
	FlushErrorState();

	AbortCurrentTransaction();
	RESUME_INTERRUPTS();

	strlcpy(run->sqlstate, unpack_sql_state(edata->sqlerrcode), sizeof(run->sqlstate));
	if (edata->detail != NULL)
		snprintf(run->error, sizeof(run->error), "%s: %s", edata->message, edata->detail);
	else
		strlcpy(run->error, edata->message ? edata->message : "unknown error",
				sizeof(run->error));
	run->finished_at = GetCurrentTimestamp();

	ereport(LOG,
			(errmsg("inventory sync %lld of RespOrg %s failed; toll_free.numbers is unchanged",
					(long long) run->run_id, run->resporg),
			 errdetail("%s", run->error)));

	if (run->run_id == 0)
		return;

	PG_TRY();
	{
		sync_record_failure(run);
	}
	PG_CATCH();
	{
		HOLD_INTERRUPTS();
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		RESUME_INTERRUPTS();
		ereport(LOG,
				(errmsg("could not record the failure of inventory sync %lld",
						(long long) run->run_id)));
	}
	PG_END_TRY();
}

/*
 * tf_sync_execute
 *		Run a sync of run->resporg; see the file header.
 */
void
tf_sync_execute(TfSyncRun *run)
{
	MemoryContext run_cxt;
	MemoryContext oldcxt;
	volatile TimestampTz applying_since = 0;

	run_cxt = AllocSetContextCreate(TopMemoryContext, "inventory sync",
									ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(run_cxt);

	run->succeeded = false;
	run->started_at = GetCurrentTimestamp();
	run->sqlstate[0] = '\0';
	run->error[0] = '\0';

	PG_TRY();
	{
		bool		first_load;

		first_load = sync_start(run);

		/*
		 * sync_start's commit left TopMemoryContext current; the download
		 * must allocate in run_cxt, which the error path deletes.
		 */
		MemoryContextSwitchTo(run_cxt);
		tf_sync_download(run);
		applying_since = GetCurrentTimestamp();

		begin_transaction();
		pgstat_report_activity(STATE_RUNNING, "toll_free: applying the inventory sync");
		tf_sync_apply(run, !first_load);
		commit_transaction();

		run->finished_at = GetCurrentTimestamp();
		run->succeeded = true;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		sync_failed(run, run_cxt);
	}
	PG_END_TRY();

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(run_cxt);
	pgstat_report_activity(STATE_IDLE, NULL);

	if (run->succeeded)
		ereport(LOG,
				(errmsg("inventory sync %lld of RespOrg %s done: %lld numbers, %lld added, %lld changed, %lld removed",
						(long long) run->run_id, run->resporg,
						(long long) run->numbers_seen, (long long) run->added,
						(long long) run->changed, (long long) run->removed),
				 errdetail("Download %.3f s (%d pages), apply %.3f s.",
						   (double) (applying_since - run->started_at) / USECS_PER_SEC,
						   run->pages,
						   (double) (run->finished_at - applying_since) / USECS_PER_SEC)));
}

/*
 * tf_sync_recover_at_start
 *		Fail the runs a stopped worker left running, and empty the staging
 *		table.  Call outside any transaction.
 */
void
tf_sync_recover_at_start(void)
{
	int			rc;

	begin_transaction();

	rc = SPI_execute("UPDATE toll_free.sync_runs"
					 "   SET state = 'failed', finished_at = pg_catalog.clock_timestamp(),"
					 "       error = 'the worker stopped before the run finished'"
					 " WHERE state = 'running'",
					 false, 0);
	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "marking interrupted sync runs failed: %s", SPI_result_code_string(rc));
	if (SPI_processed > 0)
		ereport(LOG,
				(errmsg("marked %llu interrupted inventory sync runs as failed",
						(unsigned long long) SPI_processed)));

	rc = SPI_execute("TRUNCATE toll_free.sync_staging", false, 0);
	if (rc != SPI_OK_UTILITY)
		elog(ERROR, "emptying the staging table failed: %s", SPI_result_code_string(rc));

	commit_transaction();
}
