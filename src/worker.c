/*-------------------------------------------------------------------------
 *
 * worker.c
 *		The toll_free background worker: registration, start-up and the main
 *		loop that dispatches its work.
 *
 * The worker is registered when toll_free is preloaded and toll_free.worker
 * is on.  It connects to toll_free.database as toll_free.worker_role (or the
 * bootstrap superuser) and then loops:
 *
 *	 1. process interrupts and, after SIGHUP, reload the settings;
 *	 2. make sure the extension exists in the database (while it is absent,
 *		being created or the server is in recovery, do nothing);
 *	 3. do one piece of work: drain audit rows, carry out queued requests,
 *		run a requested sync, run a scheduled sync, report expiring
 *		reservations or delete history past its retention;
 *	 4. when nothing is left, sleep on the latch until the next scheduled
 *		piece of work.  Backends set the latch to ask for work.
 *
 * The loop runs no SQL while it sleeps.  SIGTERM (pg_terminate_backend or
 * tf_worker_restart()) ends the worker with exit code 1, so the postmaster
 * starts it again after bgw_restart_time.  Every wait processes interrupts,
 * so a ProcSignalBarrier (DROP DATABASE, for instance) never waits on it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "audit.h"
#include "inventory.h"
#include "settings.h"
#include "sync.h"
#include "toll_free.h"
#include "queue.h"
#include "retention.h"
#include "worker.h"
#include "worker_internal.h"
#include "worker_requests.h"
#include "worker_schedule.h"

/* Seconds the postmaster waits before starting an exited worker again. */
#define TF_WORKER_RESTART_DELAY		5

/* While the extension is absent, look for it again this often (ms). */
#define TF_EXTENSION_RECHECK_MS		60000

/* Pause after an unexpected error in a piece of work (ms). */
#define TF_WORKER_ERROR_PAUSE_MS	10000

/* What the readiness check found. */
typedef enum WorkerReadiness
{
	WORKER_READY,
	WORKER_IN_RECOVERY,
	WORKER_NO_EXTENSION
} WorkerReadiness;

static void worker_sleep(long timeout_ms, const char *activity);

/* The extension's OID when last seen, to notice a DROP and CREATE. */
static Oid	extension_seen = InvalidOid;

/*
 * tf_worker_register
 *		Register the worker with the postmaster (from _PG_init).
 */
void
tf_worker_register(void)
{
	BackgroundWorker worker;

	if (!tf_worker_enabled)
		return;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = TF_WORKER_RESTART_DELAY;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "toll_free");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "tf_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "toll_free worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "toll_free worker");

	RegisterBackgroundWorker(&worker);
}

/*
 * worker_detach
 *		Clear the worker's entry in shared memory as it exits.
 */
static void
worker_detach(int code, Datum arg)
{
	SpinLockAcquire(&tf_worker_shared->mutex);
	if (tf_worker_shared->pid == MyProcPid)
	{
		tf_worker_shared->pid = 0;
		tf_worker_shared->pgprocno = -1;
		strlcpy(tf_worker_shared->activity, "stopped", TF_WORKER_ACTIVITY_LEN);
		tf_worker_shared->activity_since = GetCurrentTimestamp();
		tf_worker_shared->current_resporg[0] = '\0';
		tf_worker_shared->current_run_id = 0;
	}
	SpinLockRelease(&tf_worker_shared->mutex);
}

/*
 * worker_attach
 *		Publish this process as the worker, so that backends can wake it.
 */
static void
worker_attach(void)
{
	TimestampTz now = GetCurrentTimestamp();

	SpinLockAcquire(&tf_worker_shared->mutex);
	tf_worker_shared->pid = MyProcPid;
	tf_worker_shared->pgprocno = MyProc->pgprocno;
	tf_worker_shared->database_id = MyDatabaseId;
	tf_worker_shared->started_at = now;
	tf_worker_shared->starts++;
	strlcpy(tf_worker_shared->activity, "starting", TF_WORKER_ACTIVITY_LEN);
	tf_worker_shared->activity_since = now;
	SpinLockRelease(&tf_worker_shared->mutex);

	on_shmem_exit(worker_detach, (Datum) 0);
}

/*
 * worker_check_ready
 *		Whether the extension is installed and usable in this database.
 *
 * The extension counts as present once its pg_extension row and its tables
 * are visible: an uncommitted CREATE EXTENSION is invisible, and a schema
 * left without its tables (a failed manual clean-up) is treated as absent
 * rather than failing every loop.  Catalog lookups only: no SQL runs.
 */
static WorkerReadiness
worker_check_ready(void)
{
	Oid			extension_oid;
	Oid			schema_oid;
	bool		ready;

	if (RecoveryInProgress())
		return WORKER_IN_RECOVERY;

	StartTransactionCommand();

	extension_oid = get_extension_oid("toll_free", true);
	schema_oid = get_namespace_oid(TOLL_FREE_SCHEMA, true);
	ready = OidIsValid(extension_oid) && OidIsValid(schema_oid) &&
		OidIsValid(get_relname_relid("numbers", schema_oid)) &&
		OidIsValid(get_relname_relid("number_history", schema_oid)) &&
		OidIsValid(get_relname_relid("sync_runs", schema_oid)) &&
		OidIsValid(get_relname_relid("sync_staging", schema_oid));

	CommitTransactionCommand();

	if (!ready)
	{
		extension_seen = InvalidOid;
		return WORKER_NO_EXTENSION;
	}

	/* First sight of this extension: clean up what an earlier worker left. */
	if (extension_oid != extension_seen)
	{
		tf_worker_set_activity("recovering", NULL, 0);
		tf_sync_recover_at_start();
		tf_sync_requests_fail_running("the worker stopped before the run finished");
		tf_sync_requests_adopt_extension(extension_oid);
		tf_schedule_reload();
		extension_seen = extension_oid;
		ereport(LOG,
				(errmsg("toll_free worker found the extension in database \"%s\"",
						tf_worker_database)));
	}

	return WORKER_READY;
}

/*
 * worker_run_sync
 *		Run one sync and publish its outcome.
 */
static void
worker_run_sync(TfSyncRun *run)
{
	char		activity[TF_WORKER_ACTIVITY_LEN];

	snprintf(activity, sizeof(activity), "syncing %s", run->resporg);
	tf_worker_set_activity(activity, run->resporg, run->run_id);

	tf_sync_execute(run);

	tf_schedule_ran(run->resporg, run->started_at, run->succeeded);

	if (!run->succeeded)
	{
		SpinLockAcquire(&tf_worker_shared->mutex);
		snprintf(tf_worker_shared->last_error, TF_WORKER_ERROR_LEN,
				 "sync %lld of %s: %s", (long long) run->run_id, run->resporg,
				 run->error);
		tf_worker_shared->last_error_at = run->finished_at;
		SpinLockRelease(&tf_worker_shared->mutex);
	}

	tf_worker_set_activity("idle", NULL, 0);
}

/*
 * worker_do_audit_drain
 *		Insert the audit rows that survived their callers' rollback.
 */
static bool
worker_do_audit_drain(void)
{
	if (!tf_audit_pending())
		return false;

	tf_worker_set_activity("writing audit rows", NULL, 0);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	tf_audit_drain();
	PopActiveSnapshot();
	CommitTransactionCommand();
	tf_worker_set_activity("idle", NULL, 0);
	return true;
}

/*
 * worker_do_requested_sync
 *		Run the oldest sync asked for through tf_sync(), if any.
 */
static bool
worker_do_requested_sync(void)
{
	TfSyncRun	run;

	if (!tf_sync_request_claim(&run))
		return false;

	worker_run_sync(&run);
	tf_sync_request_finish(&run);
	return true;
}

/*
 * worker_do_scheduled_sync
 *		Run the sync of the target that is most overdue, if any.
 */
static bool
worker_do_scheduled_sync(void)
{
	const char *resporg;
	TfSyncRun	run;

	tf_schedule_load();
	resporg = tf_schedule_due(GetCurrentTimestamp());
	if (resporg == NULL)
		return false;

	memset(&run, 0, sizeof(run));
	strlcpy(run.resporg, resporg, sizeof(run.resporg));
	run.origin = "schedule";

	worker_run_sync(&run);
	return true;
}

/*
 * worker_today
 *		Today's date in the server's time zone.
 */
static DateADT
worker_today(void)
{
	return DatumGetDateADT(DirectFunctionCall1(timestamptz_date,
											   TimestampTzGetDatum(GetCurrentTimestamp())));
}

/*
 * worker_do_reservation_warnings
 *		Report the expiring reservations of one target, once a day.
 */
static bool
worker_do_reservation_warnings(void)
{
	DateADT		today = worker_today();
	const char *resporg = tf_schedule_warning_due(today);

	if (resporg == NULL)
		return false;

	tf_worker_set_activity("checking reservations", resporg, 0);
	tf_reservations_warn(resporg, tf_reservation_warning_days);
	tf_schedule_warned(resporg, today);
	tf_worker_set_activity("idle", NULL, 0);
	return true;
}

/*
 * worker_do_work
 *		Do one piece of work; false when there was none.
 *
 * Each step runs its own transactions and is called outside of one.  One
 * piece at a time keeps the worker responsive: after each, the loop checks
 * for interrupts, reloads and requests before doing more.
 */
static bool
worker_do_work(void)
{
	if (worker_do_audit_drain())
		return true;

	/* Request queue (queue_worker.c): after a commit wake, a poll or a due retry. */
	if (tf_queue_has_work())
	{
		tf_queue_process();
		return true;
	}

	if (worker_do_requested_sync())
		return true;

	if (worker_do_scheduled_sync())
		return true;

	if (worker_do_reservation_warnings())
		return true;

	/* Deletion of old history (retention.c): last, as the least urgent. */
	if (tf_retention_run_due())
		return true;

	return false;
}

/*
 * worker_do_work_guarded
 *		Check readiness and do one piece of work, with an error logged and
 *		survived instead of ending the worker.  False when there was no work.
 *
 * The pieces catch their own expected failures (a failed sync is recorded
 * in sync_runs).  This catches the rest, such as the extension being
 * dropped while a reservation report reads its view.  The worker then
 * pauses for TF_WORKER_ERROR_PAUSE_MS, so a persistent fault cannot spin
 * the loop.
 */
static bool
worker_do_work_guarded(WorkerReadiness *readiness)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	bool		did_work = false;

	*readiness = WORKER_NO_EXTENSION;

	PG_TRY();
	{
		*readiness = worker_check_ready();
		if (*readiness == WORKER_READY)
			did_work = worker_do_work();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		HOLD_INTERRUPTS();
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		RESUME_INTERRUPTS();

		SpinLockAcquire(&tf_worker_shared->mutex);
		strlcpy(tf_worker_shared->last_error, edata->message ? edata->message : "",
				TF_WORKER_ERROR_LEN);
		tf_worker_shared->last_error_at = GetCurrentTimestamp();
		SpinLockRelease(&tf_worker_shared->mutex);
		FreeErrorData(edata);

		worker_sleep(TF_WORKER_ERROR_PAUSE_MS, "paused after an error");
		did_work = true;
	}
	PG_END_TRY();

	return did_work;
}

/*
 * worker_sleep_ms
 *		How long the worker may sleep: until the next scheduled sync, the
 *		next day's reservation report, the queue's next poll or retry, or the
 *		next retention pass; -1 for no limit.
 */
static long
worker_sleep_ms(WorkerReadiness readiness)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz wake_at = 0;
	TimestampTz next_sync;

	if (readiness != WORKER_READY)
		return TF_EXTENSION_RECHECK_MS;

	next_sync = tf_schedule_next();
	if (next_sync != 0)
		wake_at = next_sync;

	if (tf_reservation_warning_days > 0)
	{
		TimestampTz tomorrow;

		tomorrow = DatumGetTimestampTz(DirectFunctionCall1(date_timestamptz,
														   DateADTGetDatum(worker_today() + 1)));
		if (wake_at == 0 || tomorrow < wake_at)
			wake_at = tomorrow;
	}

	/* Request queue: its safety poll or the next deferred retry. */
	{
		TimestampTz queue_at = TimestampTzPlusMilliseconds(now, tf_queue_next_wakeup_ms());

		if (wake_at == 0 || queue_at < wake_at)
			wake_at = queue_at;
	}

	/* The next retention pass, when the retention is on (0: off). */
	{
		TimestampTz retention_at = tf_retention_next();

		if (retention_at != 0 && retention_at < wake_at)
			wake_at = Max(retention_at, now);
	}

	if (wake_at == 0)
		return -1;
	if (wake_at <= now)
		return 0;

	/* Whole milliseconds, rounded up so that the target is due on waking. */
	return (long) Min((wake_at - now + 999) / 1000, (int64) INT_MAX);
}

/*
 * worker_sleep
 *		Sleep until tf_worker_wake(), a reload, the timeout (-1: none) or
 *		postmaster death.
 *
 * The latch is also set by signals that need no work from the loop, such
 * as a barrier or a catch-up of invalidation messages.  Those are processed
 * here and the sleep goes on, so an idle worker starts no transaction.
 */
static void
worker_sleep(long timeout_ms, const char *activity)
{
	TimestampTz deadline = 0;

	tf_worker_set_activity(activity, NULL, 0);
	pgstat_report_activity(STATE_IDLE, NULL);

	if (timeout_ms >= 0)
		deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);

	for (;;)
	{
		int			events = WL_LATCH_SET | WL_EXIT_ON_PM_DEATH;
		long		remaining_ms = -1;

		if (timeout_ms >= 0)
		{
			remaining_ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
			if (remaining_ms <= 0)
				break;
			events |= WL_TIMEOUT;
		}

		(void) WaitLatch(MyLatch, events, remaining_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();

		if (ConfigReloadPending || tf_worker_take_wake())
			break;
	}
}

/*
 * tf_worker_main
 *		Entry point of the background worker.
 */
void
tf_worker_main(Datum main_arg)
{
	const char *role = (tf_worker_role && tf_worker_role[0]) ? tf_worker_role : NULL;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(tf_worker_database, role, 0);
	pgstat_report_appname("toll_free worker");

	/* Internal SQL is schema-qualified; pg_catalog alone resolves the rest. */
	SetConfigOption("search_path", "", PGC_SUSET, PGC_S_OVERRIDE);
	worker_attach();

	ereport(LOG,
			(errmsg("toll_free worker started"),
			 errdetail("Database \"%s\", role \"%s\".", tf_worker_database,
					   role ? role : "bootstrap superuser")));

	tf_schedule_reload();

	for (;;)
	{
		WorkerReadiness readiness;
		const char *activity;

		CHECK_FOR_INTERRUPTS();
		(void) tf_worker_take_wake();

		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			tf_schedule_reload();
			tf_retention_reschedule();
		}

		if (worker_do_work_guarded(&readiness))
		{
			pgstat_report_stat(false);
			continue;
		}

		if (readiness == WORKER_READY)
			activity = "idle";
		else if (readiness == WORKER_IN_RECOVERY)
			activity = "waiting for recovery to end";
		else
			activity = "waiting for the extension";

		pgstat_report_stat(true);
		worker_sleep(worker_sleep_ms(readiness), activity);
	}
}
