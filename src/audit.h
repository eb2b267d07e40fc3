/*-------------------------------------------------------------------------
 *
 * audit.h
 *		Rows of toll_free.requests written by synchronous registry calls,
 *		and the copies that survive a rollback of the caller.
 *
 * A registry action cannot be rolled back, so the row that records it must
 * outlive the caller's transaction.  The row is inserted in the caller's
 * transaction as usual, and a copy is kept in backend memory.  If the
 * transaction (or the subtransaction that wrote it) aborts, the copy goes
 * to a ring in shared memory.  The worker, woken for it, inserts it again
 * with its original id (tf_audit_drain).  A backend of the same database
 * also drains the ring at its next registry call.
 *
 * Rows are written as the owner of toll_free.requests, so callers need no
 * privileges on the table; requested_by records the calling role.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_AUDIT_H
#define TOLL_FREE_AUDIT_H

#include "postgres.h"

/* The outcome columns of a requests row. */
typedef struct TfAuditOutcome
{
	const char *state;			/* done, failed or unknown */
	long		http_status;	/* 0 for none */
	const char *result_json;	/* NULL for none */
	int			sqlstate;		/* ERRCODE_* value, 0 for none */
	const char *error;			/* error message, NULL for none */
	const char *registry_code;	/* e.g. "801124", NULL for none */
	const char *registry_req_id;	/* reqId of a 202 response, NULL for none */

	/*
	 * tf_audit_finish only: the numbers of a row begun without them, as an
	 * array literal ("{8005550100}"); NULL leaves the column as it is.
	 */
	const char *numbers;
} TfAuditOutcome;

/*
 * Insert a row in state 'sending' before a request that changes state is
 * sent, and keep a copy that survives a rollback.  Returns the row's id.
 * numbers is an array literal of 10-digit numbers ("{8005550100}") or NULL.
 * arguments_json must not contain secrets.
 */
extern int64 tf_audit_begin(const char *operation, const char *numbers,
							const char *arguments_json);

/* Record the outcome of a row begun with tf_audit_begin. */
extern void tf_audit_finish(int64 id, const TfAuditOutcome *outcome);

/*
 * Insert a finished row in one step (read-only calls).  The row survives a
 * rollback only when keep_on_rollback is true.
 */
extern int64 tf_audit_record(const char *operation, const char *numbers,
							 const char *arguments_json,
							 const TfAuditOutcome *outcome,
							 TimestampTz started_at, bool keep_on_rollback);

/* Owner of table toll_free.<name>, as whom internal writes run; raises if absent. */
extern Oid	tf_table_owner(const char *name);

/* True when the ring holds rows of this database (cheap, lock-free read). */
extern bool tf_audit_pending(void);

/*
 * Insert the ring's rows of this database into toll_free.requests (ON
 * CONFLICT DO NOTHING).  Must run inside a transaction with SPI available.
 */
extern void tf_audit_drain(void);

#endif							/* TOLL_FREE_AUDIT_H */
