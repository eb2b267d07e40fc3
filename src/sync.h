/*-------------------------------------------------------------------------
 *
 * sync.h
 *		Inventory sync: one RespOrg's numbers from the RespOrg check into
 *		toll_free.numbers, applied atomically.
 *
 * A run downloads every page into the UNLOGGED staging table
 * toll_free.sync_staging, one transaction per page, and then applies the
 * difference to toll_free.numbers, toll_free.number_history and its
 * toll_free.sync_runs row in one transaction.  A failed download changes
 * nothing in toll_free.numbers and leaves a failed sync_runs row.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_SYNC_H
#define TOLL_FREE_SYNC_H

#include "datatype/timestamp.h"

#include "worker_internal.h"

/* One sync run: what to sync, and once finished, its outcome. */
typedef struct TfSyncRun
{
	/* Set by the caller. */
	int64		run_id;			/* 0: allocate one from sync_runs' sequence */
	char		resporg[TF_RESPORG_LEN + 1];
	const char *origin;			/* "schedule" or "request" */
	const char *requested_by;	/* role that called tf_sync(), or NULL */
	int32		page_size;		/* 0: the registry's default */

	/* Set by tf_sync_execute(). */
	bool		succeeded;
	TimestampTz started_at;
	TimestampTz finished_at;
	int64		numbers_seen;
	int64		added;
	int64		changed;
	int64		removed;
	int32		pages;
	char		sqlstate[6];	/* of the error that failed the run */
	char		error[TF_WORKER_ERROR_LEN];
} TfSyncRun;

/*
 * Run a sync and record it in toll_free.sync_runs.  Call outside any
 * transaction; errors are caught, logged and recorded in the run (only
 * FATAL errors and process exit get past it).
 */
extern void tf_sync_execute(TfSyncRun *run);

/*
 * Mark runs left 'running' by an earlier worker as failed and empty the
 * staging table.  Call once when the worker starts (or finds the extension
 * created again), outside any transaction.
 */
extern void tf_sync_recover_at_start(void);

/* Sync_runs' id sequence, for ids handed out before a run starts. */
extern int64 tf_sync_allocate_run_id(void);

#endif							/* TOLL_FREE_SYNC_H */
