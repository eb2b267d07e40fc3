/*-------------------------------------------------------------------------
 *
 * queue.h
 *		The request queue: registry work queued by SQL (often from triggers)
 *		and carried out by the background worker after the enqueuing
 *		transaction commits.
 *
 * tf_enqueue() inserts a row into toll_free.requests (state 'queued').  When
 * the enqueuing transaction commits, a flag in shared memory and the
 * worker's latch are set.  A rolled-back transaction leaves no row and no
 * wake-up.  The worker's main loop calls tf_queue_has_work() and
 * tf_queue_process(); the latter claims rows, sends them and records each
 * outcome, every step in its own short transaction.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_QUEUE_H
#define TOLL_FREE_QUEUE_H

/* Shared memory of the queue; the worker's shmem hooks call these. */
extern void tf_queue_shmem_request(void);
extern void tf_queue_shmem_startup(void);

/*
 * True when queued work may be ready: an enqueuing transaction committed, the
 * safety poll interval (toll_free.queue_poll_interval) passed, or a retry
 * that was deferred is now due.  Cheap: reads shared memory and the clock.
 */
extern bool tf_queue_has_work(void);

/*
 * Milliseconds until tf_queue_has_work() may turn true by itself, through the
 * poll timer or a due retry.  The worker uses it to bound its latch wait.
 */
extern long tf_queue_next_wakeup_ms(void);

/*
 * Claim, send and record queued requests.  Call outside any transaction.
 * Returns when nothing is ready or in flight, or after a bounded slice of
 * work so that the caller's loop stays responsive.
 */
extern void tf_queue_process(void);

/*
 * Mark the queue's rows left in state 'sending' by an earlier worker as
 * 'unknown', so that they are resolved through request status or a query
 * and never resent blindly.  Call once at worker start, outside any
 * transaction.
 */
extern void tf_queue_reconcile_at_start(void);

#endif							/* TOLL_FREE_QUEUE_H */
