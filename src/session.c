/*-------------------------------------------------------------------------
 *
 * session.c
 *		The cluster's one registry session, shared by every backend and the
 *		worker through shared memory.
 *
 * The registry allows one session per user: a second login while the first
 * is valid fails with 701003.  So the token lives in shared memory, and
 * exactly one process opens a session at a time while the others wait on a
 * condition variable.  When the registry rejects a token (401 with 900901
 * or 900903), the caller invalidates that token's generation.  The first
 * process to notice opens a new session.  A process that still has an
 * older generation cannot throw away the newer token.
 *
 * If a session open returns 701003 anyway (another client logged in as the
 * same user, or this cluster's token was lost), we take the session over
 * with the sessOverrideKey the response carries: the registry then ends the
 * old session.  Whatever else used that session must log in again.
 *
 * The session is never closed explicitly; it ends at the registry when it
 * expires.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "dialect.h"
#include "errors.h"
#include "http.h"
#include "registry.h"
#include "session.h"
#include "settings.h"
#include "toll_free.h"

TfClientShared *tf_client_shared = NULL;

/* A token is renewed this long before the registry's expiry. */
#define EXPIRY_MARGIN_S		30

static bool exit_callback_registered = false;

/*
 * tf_client_shmem_request
 *		Reserve shared memory and the LWLock of the client.
 */
void
tf_client_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(TfClientShared)) + tf_audit_shmem_size());
	RequestNamedLWLockTranche("toll_free client", 2);
}

/*
 * tf_client_shmem_startup
 *		Attach to the client's shared state, initializing it on first use.
 */
void
tf_client_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);

	tf_client_shared = ShmemInitStruct("toll_free client", sizeof(TfClientShared), &found);
	if (!found)
	{
		memset(tf_client_shared, 0, sizeof(TfClientShared));
		tf_client_shared->lock = &(GetNamedLWLockTranche("toll_free client"))[0].lock;
		ConditionVariableInit(&tf_client_shared->session_cv);
		SpinLockInit(&tf_client_shared->rate_mutex);
		tf_client_shared->rate_tokens = -1;		/* filled on first use */
	}
	tf_audit_shmem_init();

	LWLockRelease(AddinShmemInitLock);
}

/*
 * clear_opening_at_exit
 *		If this process dies while opening the session, let the others go.
 */
static void
clear_opening_at_exit(int code, Datum arg)
{
	if (tf_client_shared == NULL)
		return;

	LWLockAcquire(tf_client_shared->lock, LW_EXCLUSIVE);
	if (tf_client_shared->opening && tf_client_shared->opener_pid == MyProcPid)
		tf_client_shared->opening = false;
	LWLockRelease(tf_client_shared->lock);
	ConditionVariableBroadcast(&tf_client_shared->session_cv);
}

/*
 * opener_is_stale
 *		True when the process marked as opening is gone or has taken longer
 *		than any open could.  Caller holds the lock.
 */
static bool
opener_is_stale(void)
{
	long		limit_ms = (long) tf_connect_timeout_ms + tf_timeout_ms + 5000;

	if (kill(tf_client_shared->opener_pid, 0) != 0 && errno == ESRCH)
		return true;
	return TimestampDifferenceExceeds(tf_client_shared->opening_since,
									  GetCurrentTimestamp(), (int) Min(limit_ms, INT_MAX));
}

/*
 * collect_body
 *		Body callback of the session open: append to a StringInfo.
 */
static void
collect_body(void *arg, const char *data, size_t len)
{
	StringInfo	body = (StringInfo) arg;

	if (body->len + len > 1024 * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("registry session answer is too large")));
	appendBinaryStringInfo(body, data, len);
}

/*
 * open_session
 *		Log in and store the new session in shared memory.
 */
static void
open_session(void)
{
	char	   *user;
	char	   *password;
	StringInfoData body;
	TfResponse response;
	TfHttpRequest req;
	TfHttpTransfer *xfer;
	long		status = 0;
	char	   *override_key = NULL;

	initStringInfo(&body);
	tf_read_credentials(&user, &password);

	PG_TRY();
	{
		for (int attempt = 0; attempt < 2; attempt++)
		{
			size_t		len;
			char	   *document = tf_build_session_open(user, password, override_key, &len);

			memset(&req, 0, sizeof(req));
			req.method = "POST";
			req.path = "/sec/session/open";
			req.body = document;
			req.body_len = len;

			tf_rate_acquire();
			resetStringInfo(&body);
			xfer = tf_http_start(&req, collect_body, &body);
			explicit_bzero(document, len);
			while (tf_http_pump(xfer))
				;
			status = tf_http_status(xfer);
			tf_http_release(xfer);

			tf_decode_response(body.data, body.len, &response);

			/* 701003: another login has the session; take it over once. */
			if (status == 409 && response.override_key != NULL && override_key == NULL)
			{
				ereport(LOG,
						(errmsg("toll_free: registry user already logged in; taking the session over")));
				override_key = response.override_key;
				continue;
			}
			break;
		}
	}
	PG_FINALLY();
	{
		explicit_bzero(password, strlen(password));
	}
	PG_END_TRY();

	if (status != 200 || response.token == NULL)
	{
		explicit_bzero(body.data, body.len);
		tf_raise_registry_error("session open", status, response.errors);
	}

	if (strlen(response.token) >= TF_TOKEN_SIZE)
		ereport(ERROR,
				(errcode(ERRCODE_TF_REGISTRY_FAULT),
				 errmsg("registry session token is too long")));

	LWLockAcquire(tf_client_shared->lock, LW_EXCLUSIVE);
	strlcpy(tf_client_shared->token, response.token, TF_TOKEN_SIZE);
	tf_client_shared->expires_at =
		TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
									(int64) Max(response.expires_in - EXPIRY_MARGIN_S, 1) * 1000);
	strlcpy(tf_client_shared->resporg, response.resporg ? response.resporg : "",
			TF_RESPORG_SIZE);
	tf_client_shared->n_upd_list = 0;
	{
		ListCell   *lc;

		foreach(lc, response.upd_list)
		{
			if (tf_client_shared->n_upd_list == TF_MAX_UPD_LIST)
				break;
			strlcpy(tf_client_shared->upd_list[tf_client_shared->n_upd_list++],
					(char *) lfirst(lc), TF_RESPORG_SIZE);
		}
	}
	tf_client_shared->generation++;
	tf_client_shared->valid = true;
	tf_client_shared->opening = false;
	LWLockRelease(tf_client_shared->lock);

	explicit_bzero(response.token, strlen(response.token));
	explicit_bzero(body.data, body.len);
	ConditionVariableBroadcast(&tf_client_shared->session_cv);

	ereport(LOG,
			(errmsg("toll_free: registry session opened for RespOrg %s",
					response.resporg ? response.resporg : "(none)")));
}

/*
 * tf_session_token
 *		Copy the shared token into buf, opening a session first when there is
 *		none; a process that finds another one opening waits for it.
 */
void
tf_session_token(char *buf, uint64 *generation)
{
	if (tf_client_shared == NULL)
		tf_require_preload("registry calls");

	if (!exit_callback_registered)
	{
		on_shmem_exit(clear_opening_at_exit, 0);
		exit_callback_registered = true;
	}

	for (;;)
	{
		bool		must_open = false;

		LWLockAcquire(tf_client_shared->lock, LW_EXCLUSIVE);
		if (tf_client_shared->valid &&
			GetCurrentTimestamp() < tf_client_shared->expires_at)
		{
			strlcpy(buf, tf_client_shared->token, TF_TOKEN_SIZE);
			*generation = tf_client_shared->generation;
			LWLockRelease(tf_client_shared->lock);
			ConditionVariableCancelSleep();
			return;
		}
		if (!tf_client_shared->opening || opener_is_stale())
		{
			tf_client_shared->opening = true;
			tf_client_shared->opener_pid = MyProcPid;
			tf_client_shared->opening_since = GetCurrentTimestamp();
			must_open = true;
		}
		LWLockRelease(tf_client_shared->lock);

		if (must_open)
			break;

		ConditionVariableTimedSleep(&tf_client_shared->session_cv, 1000,
									TF_WAIT_EVENT_REGISTRY);
	}
	ConditionVariableCancelSleep();

	PG_TRY();
	{
		open_session();
	}
	PG_CATCH();
	{
		LWLockAcquire(tf_client_shared->lock, LW_EXCLUSIVE);
		if (tf_client_shared->opener_pid == MyProcPid)
			tf_client_shared->opening = false;
		LWLockRelease(tf_client_shared->lock);
		ConditionVariableBroadcast(&tf_client_shared->session_cv);
		PG_RE_THROW();
	}
	PG_END_TRY();

	/* Loop once more to copy the token under the lock. */
	tf_session_token(buf, generation);
}

/*
 * tf_session_invalidate
 *		Forget the token of this generation; a newer one is kept.
 */
void
tf_session_invalidate(uint64 generation)
{
	LWLockAcquire(tf_client_shared->lock, LW_EXCLUSIVE);
	if (tf_client_shared->generation == generation)
		tf_client_shared->valid = false;
	LWLockRelease(tf_client_shared->lock);
}

/*
 * ensure_session
 *		Make sure a session exists, for the functions that read its RespOrgs.
 */
static void
ensure_session(void)
{
	char		token[TF_TOKEN_SIZE];
	uint64		generation;

	tf_session_token(token, &generation);
	explicit_bzero(token, sizeof(token));
}

/*
 * tf_registry_resporg
 *		The RespOrg of the session's user, in a palloc'd copy.
 */
const char *
tf_registry_resporg(void)
{
	char	   *resporg = palloc(TF_RESPORG_SIZE);

	ensure_session();
	LWLockAcquire(tf_client_shared->lock, LW_SHARED);
	strlcpy(resporg, tf_client_shared->resporg, TF_RESPORG_SIZE);
	LWLockRelease(tf_client_shared->lock);
	return resporg;
}

/*
 * tf_registry_may_update
 *		True when the session may update numbers of this RespOrg: its own
 *		RespOrg or one in its updList.
 */
bool
tf_registry_may_update(const char *resporg)
{
	bool		allowed = false;

	if (resporg == NULL)
		return false;

	ensure_session();
	LWLockAcquire(tf_client_shared->lock, LW_SHARED);
	if (strcmp(tf_client_shared->resporg, resporg) == 0)
		allowed = true;
	for (int i = 0; !allowed && i < tf_client_shared->n_upd_list; i++)
	{
		if (strcmp(tf_client_shared->upd_list[i], resporg) == 0)
			allowed = true;
	}
	LWLockRelease(tf_client_shared->lock);
	return allowed;
}
