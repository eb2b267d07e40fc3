/*-------------------------------------------------------------------------
 *
 * worker_internal.h
 *		Shared memory of the background worker and the sync request slots
 *		that tf_sync() fills and the worker empties.
 *
 * Everything here is plain data guarded by one spinlock: no pointers into a
 * process's private memory, so a worker that dies at any point leaves
 * nothing that the next one (or a backend) could dereference.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_WORKER_INTERNAL_H
#define TOLL_FREE_WORKER_INTERNAL_H

#include "datatype/timestamp.h"
#include "storage/condition_variable.h"
#include "storage/spin.h"
#include "utils/date.h"

/* A RespOrg ID has five characters. */
#define TF_RESPORG_LEN			5

/* Sync requests that may wait for the worker at the same time. */
#define TF_SYNC_SLOTS			32

/* RespOrgs whose reservation warnings are tracked (once a day each). */
#define TF_WARNING_SLOTS		32

/* Room for an error message kept in shared memory (longer ones are cut). */
#define TF_WORKER_ERROR_LEN		256

/* Room for the worker's activity text shown in worker_status. */
#define TF_WORKER_ACTIVITY_LEN	64

typedef enum TfSyncSlotState
{
	TF_SYNC_SLOT_FREE = 0,
	TF_SYNC_SLOT_QUEUED,		/* requested, the worker has not started it */
	TF_SYNC_SLOT_RUNNING,
	TF_SYNC_SLOT_DONE,
	TF_SYNC_SLOT_FAILED
} TfSyncSlotState;

/*
 * One sync request and, once the worker ran it, its outcome.  A finished
 * slot keeps its outcome until the slot is reused, so that a waiting
 * tf_sync() can report it even when its snapshot cannot see the sync_runs
 * row yet.
 */
typedef struct TfSyncSlot
{
	TfSyncSlotState state;
	uint64		request_key;	/* unique for the life of the server */
	int64		run_id;			/* sync_runs.id, allocated by tf_sync() */
	char		resporg[TF_RESPORG_LEN + 1];
	int32		page_size;		/* 0: the registry's default page size */
	NameData	requested_by;
	TimestampTz requested_at;
	TimestampTz started_at;
	TimestampTz finished_at;
	int64		numbers_seen;
	int64		added;
	int64		changed;
	int64		removed;
	int32		pages;
	char		sqlstate[6];
	char		error[TF_WORKER_ERROR_LEN];
} TfSyncSlot;

/* The day a RespOrg's expiring reservations were last reported. */
typedef struct TfWarningDay
{
	char		resporg[TF_RESPORG_LEN + 1];
	DateADT		warned_on;
} TfWarningDay;

typedef struct TfWorkerShared
{
	slock_t		mutex;

	/* The running worker; pid 0 when none is attached. */
	pid_t		pid;
	bool		wake_pending;	/* set by tf_worker_wake(), cleared by the worker */
	int			pgprocno;
	Oid			database_id;
	Oid			extension_id;	/* the extension the queued requests belong to */
	TimestampTz started_at;
	int64		starts;			/* worker starts since the server started */

	/* What the worker does now, for toll_free.worker_status. */
	char		activity[TF_WORKER_ACTIVITY_LEN];
	TimestampTz activity_since;
	char		current_resporg[TF_RESPORG_LEN + 1];
	int64		current_run_id;
	int32		current_pages;
	int64		current_numbers;
	char		next_resporg[TF_RESPORG_LEN + 1];
	TimestampTz next_sync_at;	/* 0 when no scheduled sync is due */
	char		last_error[TF_WORKER_ERROR_LEN];
	TimestampTz last_error_at;

	TfWarningDay warnings[TF_WARNING_SLOTS];
	int			warning_days;	/* the horizon the warnings were made for */

	/*
	 * tf_sync() waits on this; the worker broadcasts on each slot change.
	 * Slots are found by request key, because run ids start again at 1 when
	 * the extension is created again.
	 */
	ConditionVariable sync_cv;
	uint64		last_request_key;
	TfSyncSlot	slots[TF_SYNC_SLOTS];
} TfWorkerShared;

/* NULL unless the library was preloaded. */
extern TfWorkerShared *tf_worker_shared;

extern void tf_worker_set_activity(const char *activity, const char *resporg,
								   int64 run_id);
extern void tf_worker_set_progress(int32 pages, int64 numbers);
extern bool tf_worker_take_wake(void);

#endif							/* TOLL_FREE_WORKER_INTERNAL_H */
