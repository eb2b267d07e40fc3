/*-------------------------------------------------------------------------
 *
 * worker_schedule.c
 *		The RespOrgs named in toll_free.sync_targets, when each is next due
 *		for a sync, and on which day its expiring reservations were last
 *		reported.
 *
 * Due times come from toll_free.sync_runs, so a restarted worker neither
 * syncs everything at once nor skips the retry of a sync that failed.  A
 * RespOrg is due toll_free.sync_interval after its last run started, or
 * TF_SYNC_RETRY_DELAY after a failed one, and at once when it has never been
 * synced.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "settings.h"
#include "toll_free.h"
#include "worker_internal.h"
#include "worker_schedule.h"

/* Wait before retrying a RespOrg whose last sync failed, in seconds. */
#define TF_SYNC_RETRY_DELAY		60

typedef struct SyncTarget
{
	char		resporg[TF_RESPORG_LEN + 1];
	TimestampTz next_due;		/* 0 while unknown */
} SyncTarget;

static SyncTarget targets[TF_MAX_SYNC_TARGETS];
static int	ntargets = 0;
static bool targets_loaded = false;

/*
 * tf_resporg_id_is_valid
 *		True for a RespOrg ID: five upper-case letters or digits.
 */
bool
tf_resporg_id_is_valid(const char *id)
{
	if (strlen(id) != TF_RESPORG_LEN)
		return false;

	for (const char *p = id; *p; p++)
	{
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			return false;
	}

	return true;
}

/*
 * tf_schedule_reload
 *		Parse toll_free.sync_targets again (at start and after SIGHUP).
 *
 * Entries are folded to upper case; an invalid entry is reported and left
 * out, so that one typing mistake does not stop the other syncs.  Due times
 * are read again from sync_runs by the next tf_schedule_load().
 */
void
tf_schedule_reload(void)
{
	char	   *raw = pstrdup(tf_sync_targets ? tf_sync_targets : "");
	char	   *token;
	char	   *saveptr = NULL;

	ntargets = 0;
	targets_loaded = false;

	for (token = strtok_r(raw, ", \t\n", &saveptr); token != NULL;
		 token = strtok_r(NULL, ", \t\n", &saveptr))
	{
		bool		duplicate = false;

		for (char *p = token; *p; p++)
			*p = pg_toupper((unsigned char) *p);

		if (!tf_resporg_id_is_valid(token))
		{
			ereport(WARNING,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid RespOrg ID \"%s\" in toll_free.sync_targets", token),
					 errdetail("A RespOrg ID has exactly five letters or digits; this entry is skipped.")));
			continue;
		}

		for (int i = 0; i < ntargets; i++)
			duplicate |= strcmp(targets[i].resporg, token) == 0;
		if (duplicate)
			continue;

		if (ntargets == TF_MAX_SYNC_TARGETS)
		{
			ereport(WARNING,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("toll_free.sync_targets lists more than %d RespOrgs", TF_MAX_SYNC_TARGETS),
					 errdetail("RespOrg %s and those after it are not synced on schedule.", token)));
			break;
		}

		strlcpy(targets[ntargets].resporg, token, TF_RESPORG_LEN + 1);
		targets[ntargets].next_due = 0;
		ntargets++;
	}

	pfree(raw);

	/*
	 * A new warning horizon gives a new set of numbers to report today.  The
	 * horizon is kept in shared memory with the warnings, so a restarted
	 * worker does not report the same day again.
	 */
	SpinLockAcquire(&tf_worker_shared->mutex);
	if (tf_worker_shared->warning_days != tf_reservation_warning_days)
	{
		tf_worker_shared->warning_days = tf_reservation_warning_days;
		memset(tf_worker_shared->warnings, 0, sizeof(tf_worker_shared->warnings));
	}
	SpinLockRelease(&tf_worker_shared->mutex);
}

/*
 * next_due_after
 *		When a RespOrg whose last run started at "started_at" is due again.
 */
static TimestampTz
next_due_after(TimestampTz started_at, bool succeeded)
{
	int			delay_s = tf_sync_interval_s;

	if (!succeeded)
		delay_s = Min(delay_s, TF_SYNC_RETRY_DELAY);

	return TimestampTzPlusMilliseconds(started_at, (int64) delay_s * 1000);
}

/*
 * tf_schedule_load
 *		Read each target's last run from toll_free.sync_runs, once after each
 *		reload.  Call outside any transaction, with the extension present.
 */
void
tf_schedule_load(void)
{
	TimestampTz now = GetCurrentTimestamp();

	if (targets_loaded)
		return;

	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());

	for (int i = 0; i < ntargets; i++)
	{
		Datum		arg = CStringGetTextDatum(targets[i].resporg);
		Oid			argtype = TEXTOID;
		int			rc;

		rc = SPI_execute_with_args("SELECT started_at, state = 'done' FROM toll_free.sync_runs"
								   " WHERE resporg = $1 AND state IN ('done', 'failed')"
								   "   AND started_at IS NOT NULL"
								   " ORDER BY id DESC LIMIT 1",
								   1, &argtype, &arg, NULL, true, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "reading the last sync run failed: %s", SPI_result_code_string(rc));

		if (SPI_processed == 0)
			targets[i].next_due = now;
		else
		{
			bool		isnull;
			TimestampTz started_at;
			bool		succeeded;

			started_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
														   SPI_tuptable->tupdesc,
														   1, &isnull));
			succeeded = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
												   SPI_tuptable->tupdesc,
												   2, &isnull));
			targets[i].next_due = next_due_after(started_at, succeeded);
		}
	}

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();

	targets_loaded = true;
}

/*
 * tf_schedule_due
 *		The target that has been due for longest at "now", or NULL.
 */
const char *
tf_schedule_due(TimestampTz now)
{
	int			best = -1;

	if (tf_sync_interval_s <= 0 || !targets_loaded)
		return NULL;

	for (int i = 0; i < ntargets; i++)
	{
		if (targets[i].next_due > now)
			continue;
		if (best < 0 || targets[i].next_due < targets[best].next_due)
			best = i;
	}

	return best < 0 ? NULL : targets[best].resporg;
}

/*
 * tf_schedule_ran
 *		Note a finished run (scheduled or requested) of a RespOrg.
 */
void
tf_schedule_ran(const char *resporg, TimestampTz started_at, bool succeeded)
{
	for (int i = 0; i < ntargets; i++)
	{
		if (strcmp(targets[i].resporg, resporg) == 0)
			targets[i].next_due = next_due_after(started_at, succeeded);
	}
}

/*
 * tf_schedule_next
 *		The earliest time a target falls due, or 0 when none will; also shown
 *		in toll_free.worker_status.
 */
TimestampTz
tf_schedule_next(void)
{
	int			best = -1;

	if (tf_sync_interval_s > 0 && targets_loaded)
	{
		for (int i = 0; i < ntargets; i++)
		{
			if (best < 0 || targets[i].next_due < targets[best].next_due)
				best = i;
		}
	}

	SpinLockAcquire(&tf_worker_shared->mutex);
	tf_worker_shared->next_sync_at = best < 0 ? 0 : targets[best].next_due;
	strlcpy(tf_worker_shared->next_resporg, best < 0 ? "" : targets[best].resporg,
			TF_RESPORG_LEN + 1);
	SpinLockRelease(&tf_worker_shared->mutex);

	return best < 0 ? 0 : targets[best].next_due;
}

/*
 * find_warning_day
 *		The warning-day entry of a RespOrg, claiming a free one if needed.
 *		Caller holds the spinlock.
 */
static TfWarningDay *
find_warning_day(const char *resporg)
{
	TfWarningDay *free_entry = NULL;

	for (int i = 0; i < TF_WARNING_SLOTS; i++)
	{
		TfWarningDay *entry = &tf_worker_shared->warnings[i];

		if (strcmp(entry->resporg, resporg) == 0)
			return entry;
		if (entry->resporg[0] == '\0' && free_entry == NULL)
			free_entry = entry;
	}

	if (free_entry != NULL)
	{
		strlcpy(free_entry->resporg, resporg, TF_RESPORG_LEN + 1);
		free_entry->warned_on = DATEVAL_NOBEGIN;
	}

	return free_entry;
}

/*
 * tf_schedule_warning_due
 *		A target whose expiring reservations were not yet reported on
 *		"today", or NULL.  Nothing is due while the warning is turned off.
 */
const char *
tf_schedule_warning_due(DateADT today)
{
	const char *due = NULL;

	if (tf_reservation_warning_days <= 0)
		return NULL;

	SpinLockAcquire(&tf_worker_shared->mutex);
	for (int i = 0; i < ntargets && due == NULL; i++)
	{
		TfWarningDay *entry = find_warning_day(targets[i].resporg);

		if (entry != NULL && entry->warned_on < today)
			due = targets[i].resporg;
	}
	SpinLockRelease(&tf_worker_shared->mutex);

	return due;
}

/*
 * tf_schedule_warned
 *		Note that a RespOrg's expiring reservations were reported on "today".
 */
void
tf_schedule_warned(const char *resporg, DateADT today)
{
	TfWarningDay *entry;

	SpinLockAcquire(&tf_worker_shared->mutex);
	entry = find_warning_day(resporg);
	if (entry != NULL)
		entry->warned_on = today;
	SpinLockRelease(&tf_worker_shared->mutex);
}
