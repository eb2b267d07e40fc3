/*-------------------------------------------------------------------------
 *
 * worker.h
 *		The toll_free background worker, as seen by the rest of the
 *		extension.
 *
 * One worker per cluster, connected to the database named by
 * toll_free.database.  It syncs the inventory of the RespOrgs listed in
 * toll_free.sync_targets, carries out sync requests made with tf_sync(),
 * drains the audit rows that survived a caller's rollback, and deletes
 * history older than toll_free.history_retention.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_WORKER_H
#define TOLL_FREE_WORKER_H

/*
 * Set the worker's latch so that it looks for work at once.  A no-op when the
 * library was not preloaded or the worker is not running; safe to call from
 * any backend, inside or outside a transaction.
 */
extern void tf_worker_wake(void);

/* The worker's entry point, named in its BackgroundWorker registration. */
extern PGDLLEXPORT void tf_worker_main(Datum main_arg) pg_attribute_noreturn();

#endif							/* TOLL_FREE_WORKER_H */
