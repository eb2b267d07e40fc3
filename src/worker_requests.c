/*-------------------------------------------------------------------------
 *
 * worker_requests.c
 *		Sync requests passed from tf_sync() to the worker through shared
 *		memory slots.
 *
 * tf_sync() takes a run id from toll_free.sync_runs' sequence (sequences
 * ignore rollback, so the id is the caller's at once), fills a slot and sets
 * the worker's latch.  The worker claims queued slots oldest first, runs the
 * sync under that id and writes the outcome back into the slot, waking the
 * callers that wait with tf_sync(..., wait => true).  A second request for a
 * RespOrg that is still queued gets the queued run's id instead of a slot of
 * its own.
 *
 * Requests live in shared memory only.  A server restart loses the queued
 * ones (their callers are gone too), and a worker that exits mid-run leaves
 * a running slot that its successor marks failed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/wait_event.h"
#include "utils/timestamp.h"

#include "sync.h"
#include "toll_free.h"
#include "worker.h"
#include "worker_internal.h"
#include "worker_requests.h"

/* The requesting role of the claimed run; TfSyncRun points into it. */
static NameData claimed_requested_by;

/* The request key of the claimed run. */
static uint64 claimed_request_key;

/*
 * find_queued
 *		The queued slot for a RespOrg and page size, or NULL.  Caller holds
 *		the spinlock.
 */
static TfSyncSlot *
find_queued(const char *resporg, int32 page_size)
{
	for (int i = 0; i < TF_SYNC_SLOTS; i++)
	{
		TfSyncSlot *slot = &tf_worker_shared->slots[i];

		if (slot->state == TF_SYNC_SLOT_QUEUED &&
			slot->page_size == page_size &&
			strcmp(slot->resporg, resporg) == 0)
			return slot;
	}

	return NULL;
}

/*
 * find_reusable
 *		A free slot, else the finished slot that finished first, else NULL.
 *		Caller holds the spinlock.
 */
static TfSyncSlot *
find_reusable(void)
{
	TfSyncSlot *oldest = NULL;

	for (int i = 0; i < TF_SYNC_SLOTS; i++)
	{
		TfSyncSlot *slot = &tf_worker_shared->slots[i];

		if (slot->state == TF_SYNC_SLOT_FREE)
			return slot;
		if ((slot->state == TF_SYNC_SLOT_DONE || slot->state == TF_SYNC_SLOT_FAILED) &&
			(oldest == NULL || slot->finished_at < oldest->finished_at))
			oldest = slot;
	}

	return oldest;
}

/*
 * find_request
 *		The slot of a request key, or NULL.  Caller holds the spinlock.
 */
static TfSyncSlot *
find_request(uint64 request_key)
{
	for (int i = 0; i < TF_SYNC_SLOTS; i++)
	{
		TfSyncSlot *slot = &tf_worker_shared->slots[i];

		if (slot->state != TF_SYNC_SLOT_FREE && slot->request_key == request_key)
			return slot;
	}

	return NULL;
}

/*
 * tf_sync_request_enqueue
 *		Queue a sync of a RespOrg for the worker; returns the request key.
 *
 * page_size 0 requests the registry's default page size.  Must be called in
 * a transaction (the run id comes from a sequence).
 */
uint64
tf_sync_request_enqueue(const char *resporg, int32 page_size)
{
	TfSyncSlot *slot;
	uint64		request_key = 0;
	int64		new_run_id;
	NameData	requested_by;

	/* A queued run of the same RespOrg serves this request too. */
	SpinLockAcquire(&tf_worker_shared->mutex);
	slot = find_queued(resporg, page_size);
	if (slot != NULL)
		request_key = slot->request_key;
	SpinLockRelease(&tf_worker_shared->mutex);

	if (request_key != 0)
		return request_key;

	/*
	 * Look up the id and the role name before taking the spinlock: both may
	 * do I/O or raise an error.
	 */
	new_run_id = tf_sync_allocate_run_id();
	namestrcpy(&requested_by, GetUserNameFromId(GetUserId(), false));

	SpinLockAcquire(&tf_worker_shared->mutex);
	slot = find_queued(resporg, page_size);
	if (slot != NULL)
		request_key = slot->request_key;
	else if ((slot = find_reusable()) != NULL)
	{
		memset(slot, 0, sizeof(TfSyncSlot));
		slot->state = TF_SYNC_SLOT_QUEUED;
		slot->request_key = ++tf_worker_shared->last_request_key;
		slot->run_id = new_run_id;
		strlcpy(slot->resporg, resporg, sizeof(slot->resporg));
		slot->page_size = page_size;
		slot->requested_by = requested_by;
		slot->requested_at = GetCurrentTimestamp();
		request_key = slot->request_key;
	}
	SpinLockRelease(&tf_worker_shared->mutex);

	if (slot == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("too many sync requests are waiting for the toll_free worker"),
				 errdetail("At most %d sync requests may be queued or running at the same time.",
						   TF_SYNC_SLOTS),
				 errhint("Wait for the queued syncs to finish; see toll_free.worker_status.")));

	tf_worker_wake();
	return request_key;
}

/*
 * tf_sync_request_lookup
 *		Copy the slot of a request; false when no slot contains it any more.
 */
bool
tf_sync_request_lookup(uint64 request_key, TfSyncSlot *copy)
{
	TfSyncSlot *slot;

	SpinLockAcquire(&tf_worker_shared->mutex);
	slot = find_request(request_key);
	if (slot != NULL)
		memcpy(copy, slot, sizeof(TfSyncSlot));
	SpinLockRelease(&tf_worker_shared->mutex);

	return slot != NULL;
}

/*
 * tf_sync_request_wait
 *		Wait until a request's run has finished or timeout_ms passed (-1: no
 *		limit), then copy its slot.  False when no slot contains it any more.
 *
 * The wait is interruptible: a cancel or statement_timeout ends it with the
 * usual error, and the run goes on in the worker.
 */
bool
tf_sync_request_wait(uint64 request_key, long timeout_ms, TfSyncSlot *copy)
{
	TimestampTz deadline = 0;
	bool		found;

	if (timeout_ms >= 0)
		deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);

	ConditionVariablePrepareToSleep(&tf_worker_shared->sync_cv);

	for (;;)
	{
		long		sleep_ms = -1;

		found = tf_sync_request_lookup(request_key, copy);
		if (!found || copy->state == TF_SYNC_SLOT_DONE ||
			copy->state == TF_SYNC_SLOT_FAILED)
			break;

		if (timeout_ms >= 0)
		{
			sleep_ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
			if (sleep_ms <= 0)
				break;
		}

		(void) ConditionVariableTimedSleep(&tf_worker_shared->sync_cv, sleep_ms,
										   PG_WAIT_EXTENSION);
	}

	ConditionVariableCancelSleep();
	return found;
}

/*
 * tf_sync_request_claim
 *		In the worker: take the oldest queued request and mark it running.
 */
bool
tf_sync_request_claim(TfSyncRun *run)
{
	TfSyncSlot *oldest = NULL;

	memset(run, 0, sizeof(TfSyncRun));

	SpinLockAcquire(&tf_worker_shared->mutex);
	for (int i = 0; i < TF_SYNC_SLOTS; i++)
	{
		TfSyncSlot *slot = &tf_worker_shared->slots[i];

		if (slot->state == TF_SYNC_SLOT_QUEUED &&
			(oldest == NULL || slot->requested_at < oldest->requested_at))
			oldest = slot;
	}
	if (oldest != NULL)
	{
		oldest->state = TF_SYNC_SLOT_RUNNING;
		oldest->started_at = GetCurrentTimestamp();
		run->run_id = oldest->run_id;
		strlcpy(run->resporg, oldest->resporg, sizeof(run->resporg));
		run->page_size = oldest->page_size;
		claimed_requested_by = oldest->requested_by;
		claimed_request_key = oldest->request_key;
	}
	SpinLockRelease(&tf_worker_shared->mutex);

	if (oldest == NULL)
		return false;

	run->origin = "request";
	run->requested_by = NameStr(claimed_requested_by);
	ConditionVariableBroadcast(&tf_worker_shared->sync_cv);
	return true;
}

/*
 * tf_sync_request_finish
 *		In the worker: store a claimed run's outcome and wake its waiters.
 */
void
tf_sync_request_finish(const TfSyncRun *run)
{
	TfSyncSlot *slot;

	SpinLockAcquire(&tf_worker_shared->mutex);
	slot = find_request(claimed_request_key);
	if (slot != NULL && slot->state == TF_SYNC_SLOT_RUNNING)
	{
		slot->state = run->succeeded ? TF_SYNC_SLOT_DONE : TF_SYNC_SLOT_FAILED;
		slot->started_at = run->started_at;
		slot->finished_at = run->finished_at;
		slot->numbers_seen = run->numbers_seen;
		slot->added = run->added;
		slot->changed = run->changed;
		slot->removed = run->removed;
		slot->pages = run->pages;
		strlcpy(slot->sqlstate, run->sqlstate, sizeof(slot->sqlstate));
		strlcpy(slot->error, run->error, sizeof(slot->error));
	}
	SpinLockRelease(&tf_worker_shared->mutex);

	ConditionVariableBroadcast(&tf_worker_shared->sync_cv);
}

/*
 * tf_sync_requests_fail_running
 *		In a starting worker: fail the runs an earlier worker left running.
 */
void
tf_sync_requests_fail_running(const char *reason)
{
	TimestampTz now = GetCurrentTimestamp();

	SpinLockAcquire(&tf_worker_shared->mutex);
	for (int i = 0; i < TF_SYNC_SLOTS; i++)
	{
		TfSyncSlot *slot = &tf_worker_shared->slots[i];

		if (slot->state != TF_SYNC_SLOT_RUNNING)
			continue;
		slot->state = TF_SYNC_SLOT_FAILED;
		slot->finished_at = now;
		strlcpy(slot->error, reason, sizeof(slot->error));
	}
	SpinLockRelease(&tf_worker_shared->mutex);

	ConditionVariableBroadcast(&tf_worker_shared->sync_cv);
}

/*
 * tf_sync_requests_adopt_extension
 *		In the worker: note the extension the requests are for.  When it is
 *		a new one (the extension was dropped and created again), the queued
 *		requests are failed: their run ids came from the old sequence.
 */
void
tf_sync_requests_adopt_extension(Oid extension_id)
{
	TimestampTz now = GetCurrentTimestamp();
	bool		failed_any = false;

	SpinLockAcquire(&tf_worker_shared->mutex);
	if (OidIsValid(tf_worker_shared->extension_id) &&
		tf_worker_shared->extension_id != extension_id)
	{
		for (int i = 0; i < TF_SYNC_SLOTS; i++)
		{
			TfSyncSlot *slot = &tf_worker_shared->slots[i];

			if (slot->state != TF_SYNC_SLOT_QUEUED)
				continue;
			slot->state = TF_SYNC_SLOT_FAILED;
			slot->finished_at = now;
			strlcpy(slot->error, "the extension was created again before the run started",
					sizeof(slot->error));
			failed_any = true;
		}
	}
	tf_worker_shared->extension_id = extension_id;
	SpinLockRelease(&tf_worker_shared->mutex);

	if (failed_any)
		ConditionVariableBroadcast(&tf_worker_shared->sync_cv);
}
