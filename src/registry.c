/*-------------------------------------------------------------------------
 *
 * registry.c
 *		One registry request with everything around it: the shared session,
 *		the request budget, and the responses that need more than one HTTP
 *		exchange (401, 429, 202).
 *
 * A call is a small state machine over HTTP transfers:
 *
 *   send ──2xx──> done (the body streams to the caller)
 *        ──401 token rejected──> renew the session once, send again
 *        ──429──> hold every process back for Retry-After, send again
 *        ──202──> poll GET /sys/req/{reqId} until a final response or
 *                 toll_free.pending_wait runs out
 *        ──other──> done (the error body is decoded for the caller)
 *
 * Sending again is only done where the registry has certainly done
 * nothing: a 401 or a 429 response.  A transport failure of a request that
 * changes state is never repeated here; the caller learns that the request
 * may have reached the registry and resolves the outcome by a query.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "dialect.h"
#include "errors.h"
#include "registry.h"
#include "session.h"
#include "settings.h"

/* Largest error or pending body kept (they are a few hundred bytes). */
#define MAX_SIDE_BODY		(256 * 1024)

/* Maximum number of 429 responses retried in one call. */
#define MAX_THROTTLED		5

/* Poll interval for a pending request: starts here, grows to the maximum. */
#define FIRST_POLL_MS		100
#define MAX_POLL_MS			1000

struct TfRegistryCall
{
	MemoryContext mcxt;
	int			flags;

	/* The request as given, and what is being sent now (maybe a poll). */
	TfHttpRequest request;
	TfHttpRequest current;
	char	   *poll_path;

	TfHttpBodyCallback on_body;
	void	   *arg;

	TfHttpTransfer *xfer;
	bool		delivered;		/* on_body ran during this pump */
	bool		delivered_any;	/* on_body ran for the current transfer */
	StringInfoData side_body;	/* body of a non-2xx or 202 response */
	char		content_type[128];

	uint64		session_generation;
	bool		renewed;
	int			throttled;
	bool		polling;
	TimestampTz pending_deadline;
	long		poll_interval_ms;

	bool		finished;
	TfCallOutcome outcome;
	TfResponse	error_response;
};

/*
 * route_body
 *		Body callback of every transfer: a final 2xx body goes to the caller,
 *		anything else is kept for decoding.
 */
static void
route_body(void *arg, const char *data, size_t len)
{
	TfRegistryCall *call = (TfRegistryCall *) arg;
	long		status = tf_http_status(call->xfer);

	/*
	 * A gateway's HTML page is not the registry's response, whether it comes
	 * as a final (2xx) or a pending (202) one.
	 */
	if (status >= 200 && status < 300 && !call->delivered_any &&
		strstr(tf_http_content_type(call->xfer), "xml") == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("registry answered with an unexpected content type"),
				 errdetail("HTTP %ld with Content-Type \"%s\" instead of application/xml.",
						   status, tf_http_content_type(call->xfer))));

	if (status >= 200 && status < 300 && status != 202)
	{
		if (call->on_body != NULL)
			call->on_body(call->arg, data, len);
		call->delivered = true;
		call->delivered_any = true;
		return;
	}

	if (call->side_body.len + len > MAX_SIDE_BODY)
		ereport(ERROR,
				(errcode(ERRCODE_TF_REGISTRY_FAULT),
				 errmsg("registry error answer is too large"),
				 errdetail("The registry answered HTTP %ld with more than %d bytes.",
						   status, MAX_SIDE_BODY)));
	appendBinaryStringInfo(&call->side_body, data, len);
}

/*
 * start_transfer
 *		Take a token from the budget and send the current request with the
 *		session's token.
 */
static void
start_transfer(TfRegistryCall *call)
{
	char		token[TF_TOKEN_SIZE];
	MemoryContext old = MemoryContextSwitchTo(call->mcxt);

	tf_session_token(token, &call->session_generation);
	tf_rate_acquire();

	call->current.bearer_token = token;
	resetStringInfo(&call->side_body);
	call->delivered_any = false;
	call->xfer = tf_http_start(&call->current, route_body, call);
	call->current.bearer_token = NULL;
	explicit_bzero(token, sizeof(token));

	MemoryContextSwitchTo(old);
}

/*
 * decode_side_body
 *		Decode an error or pending response, if it is XML.
 */
static bool
decode_side_body(TfRegistryCall *call)
{
	if (call->side_body.len == 0)
		return false;
	if (strstr(call->content_type, "xml") == NULL)
		return false;

	tf_decode_response(call->side_body.data, call->side_body.len, &call->error_response);
	return true;
}

static bool
has_code(List *errors, const char *code)
{
	ListCell   *lc;

	foreach(lc, errors)
	{
		TfRegistryMessage *m = (TfRegistryMessage *) lfirst(lc);

		if (m->code != NULL && strcmp(m->code, code) == 0)
			return true;
	}
	return false;
}

/*
 * handle_answer
 *		Decide what a finished HTTP exchange means; returns true when
 *		another exchange is needed (it has been prepared).
 */
static bool
handle_answer(TfRegistryCall *call, long status, int retry_after)
{
	bool		decoded;

	if (status >= 200 && status < 300 && status != 202)
	{
		call->outcome.http_status = status;
		return false;
	}

	decoded = decode_side_body(call);

	/* Rejected token: renew the session once and send again. */
	if (status == 401 && !call->renewed && decoded &&
		(has_code(call->error_response.errors, "900901") ||
		 has_code(call->error_response.errors, "900902") ||
		 has_code(call->error_response.errors, "900903")))
	{
		tf_session_invalidate(call->session_generation);
		call->renewed = true;
		return true;
	}

	/* Throttled, so nothing happened: every process waits for Retry-After. */
	if (status == 429 && call->throttled < MAX_THROTTLED)
	{
		int			seconds = retry_after >= 0 ? retry_after : 1;
		TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
														(int64) seconds * 1000);

		call->throttled++;
		ereport(DEBUG1,
				(errmsg("toll_free: registry throttled a request; retrying in %d s", seconds)));
		tf_rate_block_until(until);
		return true;
	}

	/* Pending: poll request status until a final response or the deadline. */
	if (status == 202 && decoded && call->error_response.req_id != NULL)
	{
		TimestampTz now = GetCurrentTimestamp();

		if (call->outcome.registry_req_id == NULL)
		{
			call->outcome.registry_req_id = MemoryContextStrdup(call->mcxt,
																call->error_response.req_id);
			call->poll_path = MemoryContextStrdup(call->mcxt,
												  psprintf("/sys/req/%s", call->outcome.registry_req_id));
			call->pending_deadline = TimestampTzPlusMilliseconds(now, tf_pending_wait_ms);
			call->poll_interval_ms = FIRST_POLL_MS;
		}

		if (now >= call->pending_deadline || (call->flags & TF_CALL_NO_POLL) != 0)
		{
			call->outcome.http_status = 202;
			call->outcome.pending = true;
			return false;
		}

		{
			long		secs;
			int			usecs;
			long		left_ms;

			TimestampDifference(now, call->pending_deadline, &secs, &usecs);
			left_ms = secs * 1000 + usecs / 1000 + 1;
			tf_http_sleep(Min(call->poll_interval_ms, left_ms));
		}
		call->poll_interval_ms = Min(call->poll_interval_ms * 2, MAX_POLL_MS);

		memset(&call->current, 0, sizeof(TfHttpRequest));
		call->current.method = "GET";
		call->current.path = call->poll_path;
		call->current.changes_state = false;
		call->polling = true;
		return true;
	}

	call->outcome.http_status = status;
	if (decoded)
		call->outcome.error_response = &call->error_response;
	return false;
}

/*
 * tf_registry_open_ext
 *		Prepare a call; nothing is sent until the first pump.
 */
TfRegistryCall *
tf_registry_open_ext(const TfHttpRequest *req, TfHttpBodyCallback on_body, void *arg,
					 int flags)
{
	MemoryContext mcxt = AllocSetContextCreate(CurrentMemoryContext,
											   "toll_free registry call",
											   ALLOCSET_SMALL_SIZES);
	TfRegistryCall *call = MemoryContextAllocZero(mcxt, sizeof(TfRegistryCall));
	MemoryContext old = MemoryContextSwitchTo(mcxt);

	call->mcxt = mcxt;
	call->flags = flags;
	call->on_body = on_body;
	call->arg = arg;

	call->request.method = pstrdup(req->method);
	call->request.path = pstrdup(req->path);
	if (req->body != NULL)
	{
		char	   *body = palloc(req->body_len + 1);

		memcpy(body, req->body, req->body_len);
		body[req->body_len] = '\0';
		call->request.body = body;
		call->request.body_len = req->body_len;
	}
	call->request.changes_state = req->changes_state;
	call->current = call->request;

	initStringInfo(&call->side_body);
	MemoryContextSwitchTo(old);
	return call;
}

TfRegistryCall *
tf_registry_open(const TfHttpRequest *req, TfHttpBodyCallback on_body, void *arg)
{
	return tf_registry_open_ext(req, on_body, arg, 0);
}

/*
 * tf_registry_start
 *		Send the request now; later pumps collect the response.
 */
void
tf_registry_start(TfRegistryCall *call)
{
	if (!call->finished && call->xfer == NULL)
		start_transfer(call);
}

/*
 * tf_registry_pump
 *		Move the call on until the caller got more body or the call ended.
 */
bool
tf_registry_pump(TfRegistryCall *call)
{
	if (call->finished)
		return false;

	for (;;)
	{
		TfHttpFailure failure;
		long		status;
		int			retry_after;

		if (call->xfer == NULL)
			start_transfer(call);

		call->delivered = false;
		if (tf_http_pump_noraise(call->xfer, &failure))
		{
			if (call->delivered)
				return true;
			continue;
		}

		if (failure.sqlstate != 0)
		{
			tf_http_release(call->xfer);
			call->xfer = NULL;
			call->finished = true;
			call->outcome.transport_failed = true;
			call->outcome.failure = failure;

			/* Once accepted (202), the operation happens whether we poll or not. */
			if (call->request.changes_state && (failure.request_sent || call->polling))
				call->outcome.outcome_unknown = true;
			if ((call->flags & TF_CALL_NO_RAISE) == 0)
				tf_http_raise(&failure);
			return false;
		}

		status = tf_http_status(call->xfer);
		retry_after = tf_http_retry_after(call->xfer);
		strlcpy(call->content_type, tf_http_content_type(call->xfer),
				sizeof(call->content_type));
		tf_http_release(call->xfer);
		call->xfer = NULL;

		if (handle_answer(call, status, retry_after))
			continue;

		call->finished = true;
		return false;
	}
}

void
tf_registry_outcome(TfRegistryCall *call, TfCallOutcome *outcome)
{
	*outcome = call->outcome;
}

/*
 * tf_registry_raise_outcome
 *		Raise the error for a failed, refused or still pending call.
 */
void
tf_registry_raise_outcome(const char *what, const TfCallOutcome *outcome)
{
	if (outcome->transport_failed)
		tf_http_raise(&outcome->failure);

	if (outcome->pending)
		ereport(ERROR,
				(errcode(ERRCODE_TF_PENDING),
				 errmsg("registry has not finished the %s request", what),
				 errdetail("The registry request id is %s; it was still pending after toll_free.pending_wait.",
						   outcome->registry_req_id),
				 errhint("Call tf_request_status('%s') later to learn the outcome.",
						 outcome->registry_req_id)));

	tf_raise_registry_error(what, outcome->http_status,
							outcome->error_response ? outcome->error_response->errors : NIL);
}

/*
 * tf_registry_finish
 *		The final HTTP status; raises for anything but a 2xx response unless
 *		the call was opened with TF_CALL_NO_RAISE.
 */
long
tf_registry_finish(TfRegistryCall *call)
{
	while (!call->finished)
		tf_registry_pump(call);

	if ((call->flags & TF_CALL_NO_RAISE) == 0 &&
		(call->outcome.transport_failed || call->outcome.pending ||
		 call->outcome.http_status < 200 || call->outcome.http_status >= 300))
		tf_registry_raise_outcome(call->request.path, &call->outcome);

	return call->outcome.http_status;
}

/*
 * tf_registry_release
 *		Free the call, its transfer and everything it decoded.
 */
void
tf_registry_release(TfRegistryCall *call)
{
	if (call == NULL)
		return;
	if (call->request.body != NULL)
		explicit_bzero((char *) call->request.body, call->request.body_len);
	MemoryContextDelete(call->mcxt);
}

/* Body callback of tf_registry_request. */
static void
append_body(void *arg, const char *data, size_t len)
{
	appendBinaryStringInfo((StringInfo) arg, data, len);
}

/*
 * tf_registry_request
 *		Run a call to the end with the whole body in memory.
 */
long
tf_registry_request(const TfHttpRequest *req, StringInfo body)
{
	TfRegistryCall *call = tf_registry_open(req, append_body, body);
	long		status;

	while (tf_registry_pump(call))
		;
	status = tf_registry_finish(call);
	tf_registry_release(call);
	return status;
}
