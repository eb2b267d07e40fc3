/*-------------------------------------------------------------------------
 *
 * session.h
 *		The cluster's one registry session and request budget, kept in
 *		shared memory and used by every backend and the worker.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_SESSION_H
#define TOLL_FREE_SESSION_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "storage/condition_variable.h"
#include "storage/lwlock.h"
#include "storage/s_lock.h"

/* Maximum token size and number of updList entries kept from a session open. */
#define TF_TOKEN_SIZE		512
#define TF_MAX_UPD_LIST		64
#define TF_RESPORG_SIZE		8

/* Shared state of the client; plain data only. */
typedef struct TfClientShared
{
	LWLock	   *lock;			/* protects the session fields */
	ConditionVariable session_cv;	/* broadcast when an open ends */

	/* A process opening the session; the others wait on session_cv. */
	bool		opening;
	int			opener_pid;
	TimestampTz opening_since;

	/* The session; generation counts the tokens obtained so far. */
	bool		valid;
	uint64		generation;
	char		token[TF_TOKEN_SIZE];
	TimestampTz expires_at;
	char		resporg[TF_RESPORG_SIZE];
	int			n_upd_list;
	char		upd_list[TF_MAX_UPD_LIST][TF_RESPORG_SIZE];

	/* Request budget: a token bucket under rate_mutex. */
	slock_t		rate_mutex;
	double		rate_tokens;
	TimestampTz rate_refilled_at;
	TimestampTz rate_blocked_until; /* after a 429, no request goes out before this */
	uint64		requests_sent;	/* every request that took from the budget */
} TfClientShared;

extern TfClientShared *tf_client_shared;

/* Copy the current token into buf (TF_TOKEN_SIZE), opening a session if needed. */
extern void tf_session_token(char *buf, uint64 *generation);

/* Forget the token of the given generation after the registry rejected it. */
extern void tf_session_invalidate(uint64 generation);

/* Read the credentials file; raises with a hint on any problem. */
extern void tf_read_credentials(char **user, char **password);

/* No one sends a request before this time (a 429's Retry-After). */
extern void tf_rate_block_until(TimestampTz until);

/* Shared memory of the audit ring (audit.c). */
extern Size tf_audit_shmem_size(void);
extern void tf_audit_shmem_init(void);

#endif							/* TOLL_FREE_SESSION_H */
