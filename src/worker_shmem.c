/*-------------------------------------------------------------------------
 *
 * worker_shmem.c
 *		Shared memory of the background worker: its identity and activity
 *		(shown by toll_free.worker_status), the latch other processes set to
 *		wake it, and the slots through which tf_sync() requests a sync.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "queue.h"
#include "toll_free.h"
#include "worker.h"
#include "worker_internal.h"

TfWorkerShared *tf_worker_shared = NULL;

/*
 * tf_worker_shmem_request
 *		Reserve the worker's shared memory (called from shmem_request_hook).
 */
void
tf_worker_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(TfWorkerShared)));

	/* The request queue's commit flag (queue_enqueue.c). */
	tf_queue_shmem_request();
}

/*
 * tf_worker_shmem_startup
 *		Create or attach to the worker's shared memory.
 *
 * After a crash restart the postmaster creates shared memory anew, so every
 * pending sync request is forgotten along with the backends that waited for
 * them.
 */
void
tf_worker_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);

	tf_worker_shared = ShmemInitStruct("toll_free worker",
									   sizeof(TfWorkerShared), &found);
	if (!found)
	{
		memset(tf_worker_shared, 0, sizeof(TfWorkerShared));
		SpinLockInit(&tf_worker_shared->mutex);
		ConditionVariableInit(&tf_worker_shared->sync_cv);
		tf_worker_shared->pgprocno = -1;
		tf_worker_shared->warning_days = -1;
	}

	LWLockRelease(AddinShmemInitLock);

	/* The request queue's commit flag (queue_enqueue.c). */
	tf_queue_shmem_startup();
}

/*
 * tf_worker_wake
 *		Set the running worker's latch.
 */
void
tf_worker_wake(void)
{
	int			pgprocno = -1;

	if (tf_worker_shared == NULL)
		return;

	SpinLockAcquire(&tf_worker_shared->mutex);
	tf_worker_shared->wake_pending = true;
	if (tf_worker_shared->pid != 0)
		pgprocno = tf_worker_shared->pgprocno;
	SpinLockRelease(&tf_worker_shared->mutex);

	/*
	 * The PGPROC array is in shared memory and never moves, so setting the
	 * latch of a worker that exited in the meantime is harmless: at worst it
	 * wakes whichever process now uses that PGPROC.
	 */
	if (pgprocno >= 0)
		SetLatch(&ProcGlobal->allProcs[pgprocno].procLatch);
}

/*
 * tf_worker_take_wake
 *		In the worker: whether tf_worker_wake() was called since the last
 *		call of this function.
 */
bool
tf_worker_take_wake(void)
{
	bool		pending;

	SpinLockAcquire(&tf_worker_shared->mutex);
	pending = tf_worker_shared->wake_pending;
	tf_worker_shared->wake_pending = false;
	SpinLockRelease(&tf_worker_shared->mutex);

	return pending;
}

/*
 * tf_worker_set_activity
 *		Record what the worker is doing, for toll_free.worker_status.
 *
 * resporg and run_id describe the sync in progress (NULL and 0 when none).
 */
void
tf_worker_set_activity(const char *activity, const char *resporg, int64 run_id)
{
	TimestampTz now = GetCurrentTimestamp();

	SpinLockAcquire(&tf_worker_shared->mutex);
	if (strcmp(tf_worker_shared->activity, activity) != 0 ||
		tf_worker_shared->current_run_id != run_id)
		tf_worker_shared->activity_since = now;
	strlcpy(tf_worker_shared->activity, activity, TF_WORKER_ACTIVITY_LEN);
	strlcpy(tf_worker_shared->current_resporg, resporg ? resporg : "",
			TF_RESPORG_LEN + 1);
	tf_worker_shared->current_run_id = run_id;
	tf_worker_shared->current_pages = 0;
	tf_worker_shared->current_numbers = 0;
	SpinLockRelease(&tf_worker_shared->mutex);
}

/*
 * tf_worker_set_progress
 *		Record the pages and numbers the running sync has received.
 */
void
tf_worker_set_progress(int32 pages, int64 numbers)
{
	SpinLockAcquire(&tf_worker_shared->mutex);
	tf_worker_shared->current_pages = pages;
	tf_worker_shared->current_numbers = numbers;
	SpinLockRelease(&tf_worker_shared->mutex);
}
