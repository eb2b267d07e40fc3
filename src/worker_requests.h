/*-------------------------------------------------------------------------
 *
 * worker_requests.h
 *		Sync requests passed from tf_sync() to the worker through shared
 *		memory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_WORKER_REQUESTS_H
#define TOLL_FREE_WORKER_REQUESTS_H

#include "sync.h"
#include "worker_internal.h"

/* Backend side. */
extern uint64 tf_sync_request_enqueue(const char *resporg, int32 page_size);
extern bool tf_sync_request_lookup(uint64 request_key, TfSyncSlot *copy);
extern bool tf_sync_request_wait(uint64 request_key, long timeout_ms,
								 TfSyncSlot *copy);

/* Worker side. */
extern bool tf_sync_request_claim(TfSyncRun *run);
extern void tf_sync_request_finish(const TfSyncRun *run);
extern void tf_sync_requests_fail_running(const char *reason);
extern void tf_sync_requests_adopt_extension(Oid extension_id);

#endif							/* TOLL_FREE_WORKER_REQUESTS_H */
