/*-------------------------------------------------------------------------
 *
 * queue_worker.c
 *		The worker's side of the request queue: claim, send, record,
 *		resolve unknown outcomes, purge.
 *
 * Each step runs in its own short transaction and no transaction is open
 * while a request is on the wire:
 *
 *   1. claim: UPDATE ... FOR UPDATE SKIP LOCKED sets state 'sending' and
 *      counts the attempt, then commits;
 *   2. send: up to toll_free.queue_max_in_flight requests are on the wire at
 *      once, driven by the client's transfer pump;
 *   3. record: each outcome is written in its own transaction, with a
 *      NOTIFY on channel toll_free_requests when the request finished.
 *
 * Outcomes:
 *   - done or refused by the registry: finished ('done' or 'failed');
 *   - transient, the registry did nothing (connect failure, 429, 5xx):
 *     'queued' again with back-off, until toll_free.queue_max_attempts;
 *   - unknown (timeout or reset after the request left, unreadable response,
 *     202 still pending, worker killed mid-call): 'unknown'.  An unknown
 *     request is resolved through request status (when the registry gave a
 *     reqId) or a read-only query of the number.  It is sent again only
 *     when two such queries show the operation did not take effect.
 *
 * A row whose setup, send or recording fails is handled alone: the others
 * in flight carry on, and the attempt counter (committed before the send)
 * ends a row that keeps failing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "queue.h"
#include "dialect.h"
#include "errors.h"
#include "numadmin.h"
#include "queue_internal.h"
#include "registry.h"
#include "settings.h"

/* Maximum requests sent in one call of tf_queue_process. */
#define QUEUE_SLICE_REQUESTS	200

/* Maximum time one call of tf_queue_process keeps claiming new work. */
#define QUEUE_SLICE_MS			5000

/* Back-off between attempts: 1 s, doubling, at most this. */
#define QUEUE_MAX_BACKOFF_MS	60000

/* Finished rows deleted per purge transaction, and purge interval. */
#define QUEUE_PURGE_BATCH		1000
#define QUEUE_PURGE_INTERVAL_MS 60000

/* Hard upper bound for toll_free.queue_max_in_flight. */
#define QUEUE_MAX_SLOTS			64

/* Checks of an unknown outcome per allowed attempt before giving up. */
#define QUEUE_CHECKS_PER_ATTEMPT 4

/* What the worker does with a row after an attempt or a check. */
typedef enum OutcomeKind
{
	OUTCOME_DONE,				/* finished: the operation took effect */
	OUTCOME_REFUSED,			/* finished: the registry refused it */
	OUTCOME_RETRY,				/* nothing happened; send again later */
	OUTCOME_UNKNOWN,			/* may have happened; check before resending */
	OUTCOME_UNDECIDABLE			/* finished as 'unknown': nobody can tell */
} OutcomeKind;

typedef struct Outcome
{
	OutcomeKind kind;
	long		http_status;	/* 0: none */
	const char *result_json;	/* NULL: keep the column */
	const char *sqlstate;		/* 5 characters or NULL */
	const char *error;
	const char *registry_code;
	const char *registry_req_id;
	long		delay_ms;		/* before the next attempt or check */

	/*
	 * A registry response with a numResult or numInfo of the number, written
	 * through to toll_free.numbers when the request is done (NULL: none).
	 * partial: a numResult, whose absent fields keep their stored values.
	 */
	const char *through_body;
	size_t		through_len;
	bool		through_partial;
} Outcome;

/* One queued request the worker has claimed (in flight or being checked). */
typedef struct QueueSlot
{
	bool		used;
	int64		id;
	int			op;				/* TfQueueOp, or -1 for an unknown name */
	char	   *operation;
	char	   *number;
	Jsonb	   *arguments;
	int			attempts;		/* including this one */
	int			checks;
	char	   *req_id;
	TfQueueRequestDoc doc;
	TfHttpRequest req;
	TfRegistryCall *call;
	StringInfoData body;
	MemoryContext cxt;
} QueueSlot;

static MemoryContext queue_cxt = NULL;
static QueueSlot slots[QUEUE_MAX_SLOTS];

/* Process-local timers of the worker. */
static TimestampTz next_poll_at = 0;
static TimestampTz next_due_at = 0; /* earliest deferred retry or check */
static TimestampTz next_purge_at = 0;
static bool more_ready = false; /* the last slice stopped with work left */
static bool reconciled = false;	/* tf_queue_reconcile_at_start ran here */

/* ---------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------
 */

/* backoff_ms: 1 s doubling per earlier attempt, capped. */
static long
backoff_ms(int attempts)
{
	long		delay = 1000;

	while (attempts-- > 1 && delay < QUEUE_MAX_BACKOFF_MS)
		delay *= 2;
	return Min(delay, QUEUE_MAX_BACKOFF_MS);
}

/* start_xact: a transaction with SPI and a snapshot, for one short step. */
static void
start_xact(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
}

static void
finish_xact(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);

	/* Commit leaves TopMemoryContext current; the queue allocates here. */
	MemoryContextSwitchTo(queue_cxt);
}

/*
 * catch_error
 *		After PG_CATCH: copy the error into the queue's memory, clear the
 *		error state and abort a transaction that was open.
 */
static ErrorData *
catch_error(void)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(queue_cxt);
	edata = CopyErrorData();
	FlushErrorState();
	if (IsTransactionState() || IsAbortedTransactionBlockState())
		AbortCurrentTransaction();
	MemoryContextSwitchTo(queue_cxt);
	return edata;
}

/* text_or_null: SPI column as palloc'd text in the current context. */
static char *
text_or_null(HeapTuple tuple, TupleDesc desc, int column)
{
	char	   *value = SPI_getvalue(tuple, desc, column);

	return value ? pstrdup(value) : NULL;
}

/* queue_installed: the extension and the queue's columns exist here. */
static bool
queue_installed(void)
{
	bool		installed;

	start_xact();
	installed = SPI_execute("SELECT 1 FROM pg_catalog.pg_attribute"
							" WHERE attrelid = pg_catalog.to_regclass('toll_free.requests')"
							"   AND attname = 'next_attempt_at' AND NOT attisdropped",
							true, 1) == SPI_OK_SELECT && SPI_processed == 1;
	finish_xact();
	return installed;
}

/*
 * registry_code_from_detail
 *		The registry's error code quoted in an error detail (the client puts
 *		it there), as the first run of 4 to 6 digits; NULL when there is none.
 */
static char *
registry_code_from_detail(const char *detail)
{
	const char *p = detail;

	while (p && *p)
	{
		size_t		n = strspn(p, "0123456789");

		if (n >= 4 && n <= 6)
			return pnstrdup(p, n);
		p += n > 0 ? n : 1;
	}
	return NULL;
}

/*
 * request_status
 *		GET /sys/req/{reqId}.  Returns the HTTP status (200 or 202) with the
 *		body, or 404 when the registry no longer has the id (099060).
 */
static long
request_status(const TfHttpRequest *req, StringInfo body)
{
	MemoryContext old = CurrentMemoryContext;
	volatile long status = 0;

	PG_TRY();
	{
		status = tf_registry_request(req, body);
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		char	   *code;

		MemoryContextSwitchTo(old);
		edata = CopyErrorData();
		code = registry_code_from_detail(edata->detail);
		if (code == NULL || strcmp(code, "099060") != 0)
			PG_RE_THROW();
		FlushErrorState();
		status = 404;
	}
	PG_END_TRY();

	return status;
}

/* ---------------------------------------------------------------------
 * Recording outcomes
 * ---------------------------------------------------------------------
 */

/*
 * query_disconnected_number
 *		A disconnect returns a recResponse, which does not show the
 *		number's new status.  When the disconnect was effective NOW, query
 *		the number (one read-only call, outside any transaction) so that
 *		write_through() has its numInfo.  A disconnect effective later
 *		changes the number only at that time, and the next sync records it.
 *		A failed query is logged and skipped.
 */
static void
query_disconnected_number(QueueSlot *slot, Outcome *out)
{
	MemoryContext old;
	const char *effective;

	if (slot->op != TF_OP_DISCONNECT || slot->number == NULL || slot->arguments == NULL)
		return;
	effective = tf_queue_arg(slot->arguments, "effective");
	if (effective != NULL && strcmp(effective, "NOW") != 0)
		return;

	old = MemoryContextSwitchTo(slot->cxt);
	PG_TRY();
	{
		StringInfoData body;

		initStringInfo(&body);
		tf_queue_query_number(slot->number, &body);
		out->through_body = body.data;
		out->through_len = body.len;
		out->through_partial = false;
	}
	PG_CATCH();
	{
		ErrorData  *edata = catch_error();

		ereport(WARNING,
				(errmsg("could not query number %s after queued disconnect %lld: %s",
						slot->number, (long long) slot->id, edata->message),
				 errdetail("The disconnect is done; the next sync updates the number in toll_free.numbers.")));
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
}

/*
 * write_through
 *		Write what the registry returned about a done request's number into
 *		toll_free.numbers and number_history, so the inventory shows queued
 *		work before the next sync.  Runs inside the outcome transaction, in
 *		a subtransaction: a failure here is logged and leaves the outcome as
 *		it is, because the registry did carry the request out.
 */
static void
write_through(QueueSlot *slot, const Outcome *out)
{
	MemoryContext old = CurrentMemoryContext;
	ResourceOwner old_owner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(old);

	PG_TRY();
	{
		TfResponse	response;
		TfNumInfo  *info;
		const char *default_resporg = NULL;

		memset(&response, 0, sizeof(response));
		tf_decode_response(out->through_body, out->through_len, &response);
		info = tf_find_number(response.numbers, slot->number);

		if (info != NULL && info->status != NULL && tf_number_error(info) == NULL)
		{
			/*
			 * A reserve's numResult leaves out the RespOrg (the session's)
			 * and the contact (the request's); a change of RespOrg may
			 * leave out the new RespOrg.
			 */
			if (slot->op == TF_OP_RESERVE)
			{
				default_resporg = tf_registry_resporg();
				if (info->contact_name == NULL)
					info->contact_name = tf_queue_arg(slot->arguments, "contact_name");
				if (info->contact_phone == NULL)
					info->contact_phone = tf_queue_arg(slot->arguments, "contact_phone");
				if (info->notes == NULL)
					info->notes = tf_queue_arg(slot->arguments, "notes");
			}
			else if (slot->op == TF_OP_CHANGE_RESPORG)
				default_resporg = tf_queue_arg(slot->arguments, "resporg");

			tf_write_through(info, out->through_partial, default_resporg, slot->id);
		}

		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(old);
		CurrentResourceOwner = old_owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(old);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(old);
		CurrentResourceOwner = old_owner;

		ereport(WARNING,
				(errmsg("could not write queued request %lld through to toll_free.numbers: %s",
						(long long) slot->id, edata->message),
				 errdetail("The request is done at the registry; the next sync updates the number.")));
		FreeErrorData(edata);
	}
	PG_END_TRY();
}

/*
 * write_outcome
 *		Write a row's new state in its own transaction, with a NOTIFY when
 *		the request finished and, for a done request, the write-through of
 *		its number.
 */
static void
write_outcome(QueueSlot *slot, const char *state, bool finished, const Outcome *out)
{
	int64		id = slot->id;
	Oid			types[10] = {INT8OID, TEXTOID, INT4OID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, TEXTOID, INT8OID, BOOLOID};
	Datum		values[10];
	char		nulls[10];

	memset(nulls, ' ', sizeof(nulls));
	values[0] = Int64GetDatum(id);
	values[1] = CStringGetTextDatum(state);
	values[2] = Int32GetDatum((int32) out->http_status);
	nulls[2] = out->http_status > 0 ? ' ' : 'n';
#define SET_TEXT(i, s) \
	do { if (s) values[i] = CStringGetTextDatum(s); else nulls[i] = 'n'; } while (0)
	SET_TEXT(3, out->result_json);
	SET_TEXT(4, out->sqlstate);
	SET_TEXT(5, out->error);
	SET_TEXT(6, out->registry_code);
	SET_TEXT(7, out->registry_req_id);
#undef SET_TEXT
	values[8] = Int64GetDatum(finished ? -1 : out->delay_ms);
	values[9] = BoolGetDatum(finished);

	start_xact();
	if (SPI_execute_with_args("UPDATE toll_free.requests SET"
							  " state = $2,"
							  " http_status = coalesce($3, http_status),"
							  " result = coalesce($4::jsonb, result),"
							  " sqlstate = $5, error = $6, registry_code = $7,"
							  " registry_req_id = coalesce($8, registry_req_id),"
							  " checks = CASE WHEN $2 = 'queued' THEN 0 ELSE checks END,"
							  " next_attempt_at = CASE WHEN $9 >= 0 THEN"
							  "   pg_catalog.now() + $9 * interval '1 millisecond' END,"
							  " finished_at = CASE WHEN $10 THEN pg_catalog.clock_timestamp() END"
							  " WHERE id = $1",
							  10, types, values, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not record the outcome of request %lld", (long long) id);

	if (strcmp(state, "done") == 0 && out->through_body != NULL)
		write_through(slot, out);

	if (finished)
	{
		Oid			ntypes[1] = {TEXTOID};
		Datum		nvalues[1];

		nvalues[0] = CStringGetTextDatum(psprintf("%lld", (long long) id));
		if (SPI_execute_with_args("SELECT pg_catalog.pg_notify('" TF_QUEUE_NOTIFY_CHANNEL "', $1)",
								  1, ntypes, nvalues, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not notify the end of request %lld", (long long) id);
	}
	finish_xact();
}

/*
 * record_outcome
 *		Turn an outcome into the row's next state and write it.  A row whose
 *		outcome cannot be written is marked 'unknown' instead, so that it is
 *		checked and never resent blindly.  When even that fails, the row
 *		stays 'sending' until the next worker start reconciles it.
 */
static void
record_outcome(QueueSlot *slot, Outcome *out)
{
	const char *state;
	bool		finished = false;
	int			max_attempts = tf_queue_max_attempts;

	if (out->kind == OUTCOME_DONE && out->through_body == NULL)
		query_disconnected_number(slot, out);

	switch (out->kind)
	{
		case OUTCOME_DONE:
			state = "done";
			finished = true;
			break;
		case OUTCOME_REFUSED:
			state = "failed";
			finished = true;
			break;
		case OUTCOME_RETRY:
			if (slot->attempts >= max_attempts)
			{
				state = "failed";
				finished = true;
				out->error = psprintf("gave up after %d attempts: %s", slot->attempts,
									  out->error ? out->error : "transient failure");
			}
			else
			{
				state = "queued";
				if (out->delay_ms <= 0)
					out->delay_ms = backoff_ms(slot->attempts);
			}
			break;
		case OUTCOME_UNKNOWN:
			state = "unknown";
			if (out->delay_ms <= 0)
				out->delay_ms = 1000;
			break;
		case OUTCOME_UNDECIDABLE:
		default:
			state = "unknown";
			finished = true;
			break;
	}

	PG_TRY();
	{
		write_outcome(slot, state, finished, out);
	}
	PG_CATCH();
	{
		ErrorData  *edata = catch_error();
		Outcome		fallback;

		ereport(WARNING,
				(errmsg("could not record the outcome of queued request %lld: %s",
						(long long) slot->id, edata->message)));

		memset(&fallback, 0, sizeof(fallback));
		fallback.kind = OUTCOME_UNKNOWN;
		fallback.error = "the outcome could not be recorded; it is being checked";
		fallback.delay_ms = 1000;
		PG_TRY();
		{
			write_outcome(slot, "unknown", false, &fallback);
		}
		PG_CATCH();
		{
			edata = catch_error();
			ereport(WARNING,
					(errmsg("queued request %lld stays in state sending until the worker restarts: %s",
							(long long) slot->id, edata->message)));
		}
		PG_END_TRY();
	}
	PG_END_TRY();

	if (!finished)
	{
		TimestampTz due = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													  out->delay_ms);

		if (next_due_at == 0 || due < next_due_at)
			next_due_at = due;
	}
}

/* ---------------------------------------------------------------------
 * Interpreting responses and errors
 * ---------------------------------------------------------------------
 */

/*
 * http_status_from_detail
 *		The HTTP status the client quotes in a refusal's detail ("... with
 *		HTTP 503 ..."), or 0.
 */
static long
http_status_from_detail(const char *detail)
{
	const char *p = detail ? strstr(detail, "HTTP ") : NULL;

	return p ? strtol(p + 5, NULL, 10) : 0;
}

/*
 * outcome_from_error
 *		Classify an error raised while sending or finishing a request.
 *
 * Retry: the request never left (08001), or
 * the registry responded that it did nothing: a fault (5xx, TF009), the rate
 * limit (900800) or rejected credentials.  Unknown: the request left and
 * then the connection failed or timed out (other class 08), the call was
 * cancelled, the response was unreadable or too large, or the registry still
 * had it pending (TF008).  Anything else is the registry's final refusal.
 */
static void
outcome_from_error(ErrorData *edata, Outcome *out)
{
	int			code = edata->sqlerrcode;

	memset(out, 0, sizeof(*out));
	out->sqlstate = pstrdup(unpack_sql_state(code));
	out->error = edata->message ? pstrdup(edata->message) : "unknown error";
	out->registry_code = registry_code_from_detail(edata->detail);
	out->http_status = http_status_from_detail(edata->detail);

	if (code == ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION ||
		code == ERRCODE_TF_REGISTRY_FAULT ||
		code == ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION ||
		(out->registry_code != NULL && strcmp(out->registry_code, "900800") == 0))
		out->kind = OUTCOME_RETRY;
	else if (ERRCODE_TO_CATEGORY(code) == ERRCODE_CONNECTION_EXCEPTION ||
			 code == ERRCODE_QUERY_CANCELED ||
			 code == ERRCODE_INVALID_XML_DOCUMENT ||
			 code == ERRCODE_CHARACTER_NOT_IN_REPERTOIRE ||
			 code == ERRCODE_PROGRAM_LIMIT_EXCEEDED ||
			 code == ERRCODE_OUT_OF_MEMORY ||
			 code == ERRCODE_TF_PENDING)
		out->kind = OUTCOME_UNKNOWN;
	else
		out->kind = OUTCOME_REFUSED;
}

/*
 * outcome_from_response
 *		Classify a finished call's HTTP status and body.
 */
static void
outcome_from_response(QueueSlot *slot, long status, Outcome *out)
{
	TfQueueAnswer response;

	memset(out, 0, sizeof(*out));
	out->http_status = status;
	tf_queue_parse_answer(slot->body.data, slot->body.len, &response);

	if (status == 202)
	{
		/* Still pending after toll_free.pending_wait: check it later. */
		out->kind = OUTCOME_UNKNOWN;
		out->registry_req_id = response.req_id;
		out->error = "the registry is still processing the request";
		out->delay_ms = 1000;
		return;
	}

	if (!response.parsed)
	{
		out->kind = OUTCOME_UNKNOWN;
		out->error = "the registry's response could not be read";
		return;
	}

	out->result_json = response.json;
	if (response.err_code != NULL)
	{
		out->kind = OUTCOME_REFUSED;
		out->sqlstate = pstrdup(unpack_sql_state(tf_registry_sqlstate(response.err_code, status)));
		out->registry_code = response.err_code;
		out->error = response.err_msg ? response.err_msg : "refused by the registry";
		return;
	}

	out->kind = OUTCOME_DONE;

	/* Reserve, spare and change RespOrg return the number's numResult. */
	if (slot->op == TF_OP_RESERVE || slot->op == TF_OP_SPARE ||
		slot->op == TF_OP_CHANGE_RESPORG)
	{
		out->through_body = slot->body.data;
		out->through_len = slot->body.len;
		out->through_partial = true;
	}
}

/* ---------------------------------------------------------------------
 * Slots
 * ---------------------------------------------------------------------
 */

static void
release_slot(QueueSlot *slot)
{
	if (slot->call != NULL)
		tf_registry_release(slot->call);
	if (slot->cxt != NULL)
		MemoryContextDelete(slot->cxt);
	memset(slot, 0, sizeof(*slot));
}

static int
free_slot_count(int max_slots)
{
	int			n = 0;

	for (int i = 0; i < max_slots; i++)
	{
		if (!slots[i].used)
			n++;
	}
	return n;
}

static bool
any_slot_in_flight(int max_slots)
{
	for (int i = 0; i < max_slots; i++)
	{
		if (slots[i].used && slots[i].call != NULL)
			return true;
	}
	return false;
}

/* append_body: the transfer's body callback. */
static void
append_body(void *arg, const char *data, size_t len)
{
	QueueSlot  *slot = (QueueSlot *) arg;

	appendBinaryStringInfo(&slot->body, data, (int) len);
}

/*
 * fill_slot
 *		Copy a claimed row (id, operation, number, arguments, attempts,
 *		checks, registry_req_id) into a free slot.
 */
static QueueSlot *
fill_slot(HeapTuple tuple, TupleDesc desc, int max_slots)
{
	QueueSlot  *slot = NULL;
	MemoryContext old;
	bool		isnull;
	Datum		value;

	for (int i = 0; i < max_slots && slot == NULL; i++)
	{
		if (!slots[i].used)
			slot = &slots[i];
	}
	if (slot == NULL)
		elog(ERROR, "no free queue slot");

	memset(slot, 0, sizeof(*slot));
	slot->cxt = AllocSetContextCreate(queue_cxt, "toll_free queued request",
									  ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(slot->cxt);

	slot->used = true;
	slot->id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
	slot->operation = text_or_null(tuple, desc, 2);
	slot->op = slot->operation ? tf_queue_lookup_op(slot->operation) : -1;
	slot->number = text_or_null(tuple, desc, 3);
	value = SPI_getbinval(tuple, desc, 4, &isnull);
	slot->arguments = isnull ? NULL : DatumGetJsonbPCopy(value);
	slot->attempts = DatumGetInt32(SPI_getbinval(tuple, desc, 5, &isnull));
	slot->checks = DatumGetInt32(SPI_getbinval(tuple, desc, 6, &isnull));
	slot->req_id = text_or_null(tuple, desc, 7);
	initStringInfo(&slot->body);

	MemoryContextSwitchTo(old);
	return slot;
}

/* ---------------------------------------------------------------------
 * Claiming
 * ---------------------------------------------------------------------
 */

#define CLAIM_COLUMNS \
	" RETURNING r.id, r.operation, (r.numbers[1])::text, r.arguments," \
	" r.attempts, r.checks, r.registry_req_id"

/*
 * claim_rows
 *		Claim up to limit rows in one short transaction: queued rows that are
 *		due (state 'sending', attempts + 1) or unknown rows due for a check
 *		(checks + 1, next check pushed back).  Returns the slots filled.
 */
static int
claim_rows(bool for_check, int limit, int max_slots, QueueSlot **claimed)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1];
	int			n = 0;

	values[0] = Int32GetDatum(limit);
	start_xact();

	if (!for_check)
	{
		if (SPI_execute_with_args("UPDATE toll_free.requests r SET state = 'sending',"
								  "  attempts = r.attempts + 1, next_attempt_at = NULL,"
								  "  started_at = pg_catalog.clock_timestamp()"
								  " FROM (SELECT id FROM toll_free.requests"
								  "       WHERE state = 'queued' AND origin = 'queue'"
								  "         AND (next_attempt_at IS NULL OR next_attempt_at <= pg_catalog.now())"
								  "       ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) c"
								  " WHERE r.id = c.id" CLAIM_COLUMNS,
								  1, types, values, NULL, false, 0) != SPI_OK_UPDATE_RETURNING)
			elog(ERROR, "could not claim queued requests");
	}
	else
	{
		/*
		 * The next check is scheduled before this one runs, so a check that
		 * kills the worker is not repeated at once, and the checks counter
		 * ends a row that keeps failing.
		 */
		if (SPI_execute_with_args("UPDATE toll_free.requests r SET checks = r.checks + 1,"
								  "  next_attempt_at = pg_catalog.now() + LEAST(r.checks + 1, 60) * interval '1 second'"
								  " FROM (SELECT id FROM toll_free.requests"
								  "       WHERE state = 'unknown' AND origin = 'queue' AND finished_at IS NULL"
								  "         AND (next_attempt_at IS NULL OR next_attempt_at <= pg_catalog.now())"
								  "       ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) c"
								  " WHERE r.id = c.id" CLAIM_COLUMNS,
								  1, types, values, NULL, false, 0) != SPI_OK_UPDATE_RETURNING)
			elog(ERROR, "could not claim queued requests to check");
	}

	for (uint64 i = 0; i < SPI_processed; i++)
		claimed[n++] = fill_slot(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, max_slots);

	finish_xact();
	return n;
}

/* ---------------------------------------------------------------------
 * Sending
 * ---------------------------------------------------------------------
 */

/* refuse_slot: finish a row that cannot be sent at all (bad stored row). */
static void
refuse_slot(QueueSlot *slot, const char *sqlstate, const char *error)
{
	Outcome		out;

	memset(&out, 0, sizeof(out));
	out.kind = OUTCOME_REFUSED;
	out.sqlstate = sqlstate;
	out.error = error;
	record_outcome(slot, &out);
	release_slot(slot);
}

/*
 * start_send
 *		Check the row, build its document (querying the recVersionId first
 *		when needed) and put it on the wire.  A failure before the request
 *		left is recorded at once and the slot freed.
 */
static void
start_send(QueueSlot *slot)
{
	MemoryContext old = MemoryContextSwitchTo(slot->cxt);

	if (slot->op < 0 || slot->number == NULL || slot->arguments == NULL)
	{
		MemoryContextSwitchTo(old);
		refuse_slot(slot, "22023",
					psprintf("invalid queued request: operation \"%s\" or its number or arguments",
							 slot->operation ? slot->operation : "(null)"));
		return;
	}

	PG_TRY();
	{
		char	   *version = NULL;

		tf_queue_check_arguments((TfQueueOp) slot->op, slot->number, slot->arguments);
		if (tf_queue_needs_version((TfQueueOp) slot->op, slot->arguments))
			version = tf_queue_fetch_version(slot->number);

		MemoryContextSwitchTo(slot->cxt);
		tf_queue_build_request((TfQueueOp) slot->op, slot->number, slot->arguments,
							   version, &slot->doc);
		memset(&slot->req, 0, sizeof(slot->req));
		slot->req.method = slot->doc.method;
		slot->req.path = slot->doc.path;
		slot->req.body = slot->doc.body.data;
		slot->req.body_len = slot->doc.body.len;
		slot->req.changes_state = true;

		slot->call = tf_registry_open_ext(&slot->req, append_body, slot,
										  TF_CALL_NO_RAISE);
	}
	PG_CATCH();
	{
		ErrorData  *edata = catch_error();
		Outcome		out;

		/*
		 * Nothing state-changing left before tf_registry_open returned, so
		 * a failure that would otherwise leave the outcome open is retried.
		 */
		slot->call = NULL;
		outcome_from_error(edata, &out);
		if (out.kind == OUTCOME_UNKNOWN)
			out.kind = OUTCOME_RETRY;
		record_outcome(slot, &out);
		release_slot(slot);
	}
	PG_END_TRY();

	MemoryContextSwitchTo(old);
}

/*
 * outcome_from_call
 *		Classify a finished call opened with TF_CALL_NO_RAISE.
 *
 * The client tells whether a state-changing request may have acted before
 * a transport failure (outcome_unknown).  A registry error response is final
 * except for the statuses after which the registry did nothing: 401 (the
 * client already renewed the session once), 429 (after the client's own
 * waits for Retry-After) and 5xx.
 */
static void
outcome_from_call(QueueSlot *slot, Outcome *out)
{
	TfCallOutcome call_outcome;
	TfRegistryMessage *first;
	long		status;

	tf_registry_outcome(slot->call, &call_outcome);
	status = call_outcome.http_status;

	if (call_outcome.transport_failed)
	{
		memset(out, 0, sizeof(*out));
		out->kind = call_outcome.outcome_unknown ? OUTCOME_UNKNOWN : OUTCOME_RETRY;
		out->sqlstate = pstrdup(unpack_sql_state(call_outcome.failure.sqlstate));
		out->error = pstrdup(call_outcome.failure.message);
		return;
	}

	if (call_outcome.pending)
	{
		memset(out, 0, sizeof(*out));
		out->kind = OUTCOME_UNKNOWN;
		out->http_status = 202;
		out->registry_req_id = call_outcome.registry_req_id ?
			pstrdup(call_outcome.registry_req_id) : NULL;
		out->error = "the registry had not finished the request after toll_free.pending_wait";
		out->delay_ms = 1000;
		return;
	}

	if (status >= 200 && status < 300)
	{
		outcome_from_response(slot, status, out);
		return;
	}

	memset(out, 0, sizeof(*out));
	out->http_status = status;
	first = call_outcome.error_response ?
		tf_first_registry_error(call_outcome.error_response->errors) : NULL;
	out->registry_code = first && first->code ? pstrdup(first->code) : NULL;
	out->sqlstate = pstrdup(unpack_sql_state(tf_registry_sqlstate(out->registry_code, status)));
	out->error = first && first->message ? pstrdup(first->message) :
		psprintf("the registry responded with HTTP %ld", status);
	out->kind = (status == 401 || status == 429 || status >= 500) ?
		OUTCOME_RETRY : OUTCOME_REFUSED;
}

/*
 * pump_slot
 *		Drive a slot's call; when it ended, record the outcome and free the
 *		slot.  Errors raised here (session open, rate budget, cancel) leave
 *		the outcome open, because the request may have been on the wire.
 */
static void
pump_slot(QueueSlot *slot)
{
	Outcome		out;
	volatile bool ended = false;

	PG_TRY();
	{
		ended = !tf_registry_pump(slot->call);
	}
	PG_CATCH();
	{
		ErrorData  *edata = catch_error();

		outcome_from_error(edata, &out);
		record_outcome(slot, &out);
		release_slot(slot);
		return;
	}
	PG_END_TRY();

	if (!ended)
		return;

	MemoryContextSwitchTo(slot->cxt);
	outcome_from_call(slot, &out);
	MemoryContextSwitchTo(queue_cxt);
	record_outcome(slot, &out);
	release_slot(slot);
}

/* ---------------------------------------------------------------------
 * Checking unknown outcomes
 * ---------------------------------------------------------------------
 */

/*
 * check_slot
 *		Resolve one request whose outcome is unknown: ask request status when
 *		the registry gave a reqId, else look at the number.  Read-only calls
 *		only; the request is sent again only when the look shows it did not
 *		take effect.
 */
static void
check_slot(QueueSlot *slot)
{
	Outcome		out;
	MemoryContext old = MemoryContextSwitchTo(slot->cxt);
	int			max_checks = tf_queue_max_attempts * QUEUE_CHECKS_PER_ATTEMPT;

	memset(&out, 0, sizeof(out));

	if (slot->op < 0 || slot->number == NULL || slot->arguments == NULL)
	{
		MemoryContextSwitchTo(old);
		out.kind = OUTCOME_UNDECIDABLE;
		out.error = "invalid queued request; its outcome cannot be checked";
		record_outcome(slot, &out);
		release_slot(slot);
		return;
	}

	PG_TRY();
	{
		bool		resolved = false;

		if (slot->req_id != NULL)
		{
			TfHttpRequest req;
			long		status;

			memset(&req, 0, sizeof(req));
			req.method = "GET";
			req.path = psprintf("/sys/req/%s", slot->req_id);
			resetStringInfo(&slot->body);
			status = request_status(&req, &slot->body);
			if (status == 200 || status == 202)
			{
				outcome_from_response(slot, status, &out);
				resolved = true;
			}
			/* 404 (099060): expired or unknown id; look at the number. */
		}

		if (!resolved)
		{
			StringInfoData result;
			StringInfoData number_response;

			initStringInfo(&result);
			initStringInfo(&number_response);
			switch (tf_queue_check_effect((TfQueueOp) slot->op, slot->number,
										  slot->arguments, &result, &number_response))
			{
				case TF_EFFECT_PRESENT:
					out.kind = OUTCOME_DONE;
					out.result_json = result.len > 0 ? result.data : NULL;
					out.error = NULL;
					if (number_response.len > 0)
					{
						out.through_body = number_response.data;
						out.through_len = number_response.len;
						out.through_partial = false;
					}
					break;
				case TF_EFFECT_ABSENT:

					/*
					 * A registry that responds after our timeout may still be
					 * working on the request, so one look is not enough.
					 * Resend only after two looks, the second at least 2 s
					 * after the first.
					 *
					 * NOTE: a registry that keeps a request longer than
					 * that and then carries it out defeats this check.
					 */
					out.error = "the registry shows that the request did not take effect";
					if (slot->checks < 2)
					{
						out.kind = OUTCOME_UNKNOWN;
						out.delay_ms = 2000;
					}
					else
					{
						out.kind = OUTCOME_RETRY;
						out.delay_ms = 1;
					}
					break;
				case TF_EFFECT_UNDECIDABLE:
					out.kind = OUTCOME_UNDECIDABLE;
					out.error = "the outcome is unknown: the request may or may not have taken effect; check the number's customer records";
					break;
			}
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata = catch_error();

		out.kind = slot->checks >= max_checks ? OUTCOME_UNDECIDABLE : OUTCOME_UNKNOWN;
		out.sqlstate = pstrdup(unpack_sql_state(edata->sqlerrcode));
		out.error = psprintf("the outcome could not be checked yet: %s", edata->message);
		out.delay_ms = Min(1000L * slot->checks, QUEUE_MAX_BACKOFF_MS);
	}
	PG_END_TRY();

	MemoryContextSwitchTo(old);
	record_outcome(slot, &out);
	release_slot(slot);
}

/* ---------------------------------------------------------------------
 * Purge and timers
 * ---------------------------------------------------------------------
 */

/*
 * purge_finished: delete finished rows past retention, in bounded batches.
 * Rows whose outcome is unknown stay until a person resolves them.
 */
static void
purge_finished(void)
{
	Oid			types[2] = {INT4OID, INT4OID};
	Datum		values[2];
	uint64		deleted;
	uint64		total = 0;
	int			batches = 0;

	values[0] = Int32GetDatum(tf_queue_retention_s);
	values[1] = Int32GetDatum(QUEUE_PURGE_BATCH);

	do
	{
		start_xact();
		if (SPI_execute_with_args("DELETE FROM toll_free.requests WHERE id IN"
								  " (SELECT id FROM toll_free.requests"
								  "  WHERE origin = 'queue' AND state IN ('done', 'failed')"
								  "    AND finished_at IS NOT NULL"
								  "    AND finished_at < pg_catalog.now() - $1 * interval '1 second'"
								  "  ORDER BY finished_at LIMIT $2)",
								  2, types, values, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not purge finished queued requests");
		deleted = SPI_processed;
		total += deleted;
		finish_xact();
		CHECK_FOR_INTERRUPTS();
	} while (deleted == QUEUE_PURGE_BATCH && ++batches < 10);

	if (total > 0)
		ereport(LOG,
				(errmsg("toll_free worker deleted %llu finished queued requests",
						(unsigned long long) total),
				 errdetail("They finished more than toll_free.queue_retention (%d s) ago.",
						   tf_queue_retention_s)));
}

/* refresh_next_due: earliest deferred retry or check still waiting. */
static void
refresh_next_due(void)
{
	bool		isnull;
	Datum		value;

	start_xact();
	if (SPI_execute("SELECT pg_catalog.min(next_attempt_at) FROM toll_free.requests"
					" WHERE origin = 'queue' AND finished_at IS NULL"
					"   AND state IN ('queued', 'unknown')",
					true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the next due queued request");
	value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	next_due_at = isnull ? 0 : DatumGetTimestampTz(value);
	finish_xact();
}

/* ---------------------------------------------------------------------
 * Entry points
 * ---------------------------------------------------------------------
 */

bool
tf_queue_has_work(void)
{
	TimestampTz now;

	if (tf_queue_shared == NULL)
		return false;
	if (more_ready || pg_atomic_read_u32(&tf_queue_shared->work_committed) != 0)
		return true;

	now = GetCurrentTimestamp();
	return now >= next_poll_at || (next_due_at != 0 && now >= next_due_at);
}

long
tf_queue_next_wakeup_ms(void)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz next = next_poll_at;

	if (next_due_at != 0 && next_due_at < next)
		next = next_due_at;
	if (next <= now)
		return 0;
	return (long) ((next - now) / 1000);
}

void
tf_queue_process(void)
{
	int			max_slots = Min(Max(tf_queue_max_in_flight, 1), QUEUE_MAX_SLOTS);
	TimestampTz slice_end;
	int			sent = 0;
	bool		claiming = true;
	QueueSlot  *claimed[QUEUE_MAX_SLOTS];
	MemoryContext caller_cxt;

	if (tf_queue_shared == NULL)
		return;

	/* Clear the flag first: a commit after this point sets it again. */
	pg_atomic_write_u32(&tf_queue_shared->work_committed, 0);
	next_poll_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											   tf_queue_poll_interval_s * 1000L);
	more_ready = false;

	if (queue_cxt == NULL)
		queue_cxt = AllocSetContextCreate(TopMemoryContext, "toll_free queue",
										  ALLOCSET_DEFAULT_SIZES);
	caller_cxt = MemoryContextSwitchTo(queue_cxt);

	if (!queue_installed())
	{
		next_due_at = 0;
		MemoryContextSwitchTo(caller_cxt);
		return;
	}

	if (!reconciled)
		tf_queue_reconcile_at_start();

	slice_end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), QUEUE_SLICE_MS);

	/* Unknown outcomes first: they may decide whether something is resent. */
	{
		int			n = claim_rows(true, max_slots, max_slots, claimed);

		for (int i = 0; i < n; i++)
			check_slot(claimed[i]);
		if (n == max_slots)
			more_ready = true;
	}

	for (;;)
	{
		int			free_slots = free_slot_count(max_slots);

		if (claiming && free_slots > 0)
		{
			int			n = claim_rows(false, Min(free_slots, QUEUE_SLICE_REQUESTS - sent),
									   max_slots, claimed);

			for (int i = 0; i < n; i++)
				start_send(claimed[i]);
			sent += n;
			if (n < free_slots)
				claiming = false;	/* nothing more is ready */
			else if (sent >= QUEUE_SLICE_REQUESTS ||
					 GetCurrentTimestamp() >= slice_end)
			{
				claiming = false;
				more_ready = true;
			}
		}

		if (!any_slot_in_flight(max_slots))
			break;

		for (int i = 0; i < max_slots; i++)
		{
			if (slots[i].used && slots[i].call != NULL)
				pump_slot(&slots[i]);
		}
	}

	if (GetCurrentTimestamp() >= next_purge_at)
	{
		purge_finished();
		next_purge_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													QUEUE_PURGE_INTERVAL_MS);
	}

	refresh_next_due();
	MemoryContextSwitchTo(caller_cxt);
	MemoryContextReset(queue_cxt);
}

/*
 * tf_queue_reconcile_at_start
 *		Runs once per worker process; tf_queue_process calls it on its first
 *		run when the worker did not.
 */
void
tf_queue_reconcile_at_start(void)
{
	uint64		marked;
	MemoryContext caller_cxt;

	if (queue_cxt == NULL)
		queue_cxt = AllocSetContextCreate(TopMemoryContext, "toll_free queue",
										  ALLOCSET_DEFAULT_SIZES);
	if (reconciled)
		return;
	caller_cxt = MemoryContextSwitchTo(queue_cxt);
	if (!queue_installed())
	{
		MemoryContextSwitchTo(caller_cxt);
		return;
	}

	start_xact();
	if (SPI_execute("UPDATE toll_free.requests SET state = 'unknown',"
					"  next_attempt_at = pg_catalog.now(),"
					"  error = 'the worker stopped while the request was being sent; its outcome is being checked'"
					" WHERE origin = 'queue' AND state = 'sending'",
					false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not reconcile queued requests left in flight");
	marked = SPI_processed;
	finish_xact();
	reconciled = true;
	MemoryContextSwitchTo(caller_cxt);

	if (marked > 0)
		ereport(LOG,
				(errmsg("toll_free worker found %llu queued requests left in flight; checking their outcome before anything is resent",
						(unsigned long long) marked)));

	/* Look at the queue at once: work may have been committed while down. */
	next_poll_at = 0;
}
