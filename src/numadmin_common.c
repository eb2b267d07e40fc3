/*-------------------------------------------------------------------------
 *
 * numadmin_common.c
 *		Helpers of the number administration functions: arguments, one
 *		registry exchange, JSON for toll_free.requests and result rows.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/timestamp.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "catalog/namespace.h"

#include "errors.h"
#include "numadmin.h"
#include "tfn.h"
#include "toll_free.h"

/*
 * tf_numadmin_enter
 *		Checks at the start of every registry function.
 */
void
tf_numadmin_enter(void)
{
	tf_require_preload("registry calls");

	/* Rows of rolled-back calls wait in shared memory; store them now. */
	if (tf_audit_pending())
		tf_audit_drain();
}

char *
tf_number_arg(FunctionCallInfo fcinfo, int argno)
{
	Datum		value = PG_GETARG_DATUM(argno);

	if (get_fn_expr_argtype(fcinfo->flinfo, argno) == TEXTOID)
	{
		Oid			namespace_oid = get_namespace_oid(TOLL_FREE_SCHEMA, false);
		Oid			tfn_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
											   CStringGetDatum("tfn"),
											   ObjectIdGetDatum(namespace_oid));
		Oid			tfn_input;
		Oid			tfn_ioparam;

		if (!OidIsValid(tfn_type))
			elog(ERROR, "type %s.tfn does not exist", TOLL_FREE_SCHEMA);
		getTypeInputInfo(tfn_type, &tfn_input, &tfn_ioparam);
		value = OidInputFunctionCall(tfn_input, TextDatumGetCString(value), tfn_ioparam, -1);
	}
	return tf_number_text(value);
}

char *
tf_number_text(Datum tfn)
{
	return psprintf("%010lld", (long long) DatumGetTfn(tfn));
}

char *
tf_numbers_literal(const char *const *numbers, int nnumbers)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int i = 0; i < nnumbers; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfoString(&buf, numbers[i]);
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/*
 * tf_numbers_from_array
 *		Ten-digit strings of a one-dimensional tfn[] argument.
 */
char **
tf_numbers_from_array(Datum array_datum, int *nnumbers)
{
	ArrayType  *array = DatumGetArrayTypeP(array_datum);
	Datum	   *elements;
	bool	   *nulls;
	int			n;
	char	  **numbers;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("array of numbers must be one-dimensional")));

	deconstruct_array(array, ARR_ELEMTYPE(array), 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elements, &nulls, &n);

	numbers = palloc(sizeof(char *) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("array of numbers must not contain nulls")));
		numbers[i] = tf_number_text(elements[i]);
	}
	*nnumbers = n;
	return numbers;
}

/* Body callback that keeps the whole body. */
static void
append_body(void *arg, const char *data, size_t len)
{
	appendBinaryStringInfo((StringInfo) arg, data, len);
}

TfRegistryCall *
tf_exchange_open(const char *method, const char *path, const char *body, size_t body_len,
				 bool changes_state, int flags, StringInfo response_body)
{
	TfHttpRequest req;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.body = body;
	req.body_len = body_len;
	req.changes_state = changes_state;

	return tf_registry_open_ext(&req, append_body, response_body, flags | TF_CALL_NO_RAISE);
}

/*
 * tf_exchange_run
 *		Run the call to its end and fill ex->outcome and ex->ok, leaving the
 *		2xx body undecoded in the call's body buffer.  Releases the call.
 */
void
tf_exchange_run(TfRegistryCall *call, TfExchange *ex)
{
	while (tf_registry_pump(call))
		;
	tf_registry_finish(call);
	tf_registry_outcome(call, &ex->outcome);

	memset(&ex->response, 0, sizeof(TfResponse));
	ex->ok = !ex->outcome.transport_failed && !ex->outcome.pending &&
		ex->outcome.http_status >= 200 && ex->outcome.http_status < 300;

	/*
	 * The outcome points into the call's memory, which the release below
	 * frees; the decoded error list was allocated in the caller's context.
	 */
	if (ex->outcome.registry_req_id != NULL)
		ex->outcome.registry_req_id = pstrdup(ex->outcome.registry_req_id);
	if (ex->outcome.error_response != NULL)
	{
		TfResponse *copy = palloc(sizeof(TfResponse));

		*copy = *ex->outcome.error_response;
		ex->outcome.error_response = copy;
	}
	tf_registry_release(call);
}

/*
 * tf_exchange_finish
 *		Run the call to its end; a 2xx body is decoded into ex->response.
 */
void
tf_exchange_finish(TfRegistryCall *call, StringInfo response_body, TfExchange *ex)
{
	tf_exchange_run(call, ex);
	if (ex->ok)
		tf_decode_response(response_body->data, response_body->len, &ex->response);
}

void
tf_exchange(const char *method, const char *path, const char *body, size_t body_len,
			bool changes_state, int flags, TfExchange *ex)
{
	StringInfoData response_body;
	TfRegistryCall *call;

	initStringInfo(&response_body);
	ex->started_at = GetCurrentTimestamp();
	call = tf_exchange_open(method, path, body, body_len, changes_state, flags, &response_body);
	tf_exchange_finish(call, &response_body, ex);
	pfree(response_body.data);
}

/*
 * tf_failed_outcome
 *		The requests columns for an exchange that did not succeed.
 */
void
tf_failed_outcome(const TfExchange *ex, TfAuditOutcome *audit)
{
	memset(audit, 0, sizeof(TfAuditOutcome));
	audit->http_status = ex->outcome.http_status;
	audit->registry_req_id = ex->outcome.registry_req_id;

	if (ex->outcome.transport_failed)
	{
		audit->state = ex->outcome.outcome_unknown ? "unknown" : "failed";
		audit->sqlstate = ex->outcome.failure.sqlstate;
		audit->error = ex->outcome.failure.message;
	}
	else if (ex->outcome.pending)
	{
		audit->state = "unknown";
		audit->sqlstate = ERRCODE_TF_PENDING;
		audit->error = "registry request still pending after toll_free.pending_wait";
	}
	else
	{
		TfRegistryMessage *first = ex->outcome.error_response ?
			tf_first_registry_error(ex->outcome.error_response->errors) : NULL;

		audit->state = "failed";
		audit->registry_code = first ? first->code : NULL;
		audit->error = first ? first->message : "registry responded without an error list";
		audit->sqlstate = tf_registry_sqlstate(audit->registry_code, ex->outcome.http_status);
	}
}

void
tf_raise_exchange(const char *what, const TfExchange *ex)
{
	tf_registry_raise_outcome(what, &ex->outcome);
}

void
tf_json_string(StringInfo buf, const char *value)
{
	if (value == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, value);
}

static void
json_field(StringInfo buf, const char *name, const char *value, bool *first)
{
	if (value == NULL)
		return;
	if (!*first)
		appendStringInfoChar(buf, ',');
	*first = false;
	escape_json(buf, name);
	appendStringInfoChar(buf, ':');
	escape_json(buf, value);
}

static void
json_messages(StringInfo buf, List *messages)
{
	ListCell   *lc;

	appendStringInfoChar(buf, '[');
	foreach(lc, messages)
	{
		TfRegistryMessage *m = (TfRegistryMessage *) lfirst(lc);
		bool		first = true;

		if (foreach_current_index(lc) > 0)
			appendStringInfoChar(buf, ',');
		appendStringInfoChar(buf, '{');
		json_field(buf, "code", m->code, &first);
		json_field(buf, "message", m->message, &first);
		json_field(buf, "level", m->level, &first);
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoChar(buf, ']');
}

/*
 * tf_numbers_json
 *		The result column of a requests row: what the registry reported,
 *		without contact data (the registry keeps that).
 */
char *
tf_numbers_json(List *numbers, List *warnings)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"numbers\":[");
	foreach(lc, numbers)
	{
		TfNumInfo  *info = (TfNumInfo *) lfirst(lc);
		bool		first = true;

		if (foreach_current_index(lc) > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfoChar(&buf, '{');
		json_field(&buf, "num", info->num, &first);
		json_field(&buf, "status", info->status, &first);
		json_field(&buf, "resporg", info->resporg, &first);
		json_field(&buf, "reserved_until", info->reserved_until, &first);
		json_field(&buf, "rec_version_id", info->rec_version_id, &first);
		if (info->errors != NIL)
		{
			appendStringInfoString(&buf, first ? "\"errors\":" : ",\"errors\":");
			json_messages(&buf, info->errors);
		}
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoChar(&buf, ']');
	if (warnings != NIL)
	{
		appendStringInfoString(&buf, ",\"warnings\":");
		json_messages(&buf, warnings);
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

TfRegistryMessage *
tf_number_error(const TfNumInfo *info)
{
	ListCell   *lc;

	foreach(lc, info->errors)
	{
		TfRegistryMessage *m = (TfRegistryMessage *) lfirst(lc);

		if (m->level == NULL || strcmp(m->level, "ERROR") == 0)
			return m;
	}
	return NULL;
}

void
tf_report_warnings(List *errors)
{
	ListCell   *lc;

	foreach(lc, errors)
	{
		TfRegistryMessage *m = (TfRegistryMessage *) lfirst(lc);

		if (m->level != NULL && strcmp(m->level, "WARN") == 0)
			ereport(WARNING,
					(errmsg("registry warning %s: %s", m->code ? m->code : "(no code)",
							m->message ? m->message : "")));
	}
}

/* The registry's Y/N as a boolean literal, or NULL. */
static char *
yes_no(const char *value)
{
	if (value == NULL)
		return NULL;
	return (value[0] == 'Y' || value[0] == 'y') ? "t" : "f";
}

/*
 * tf_registry_tuple
 *		BuildTupleFromCStrings for values that came from the registry: a
 *		value the column type rejects (a number the tfn type finds invalid,
 *		an unknown status) is the registry's fault, not the caller's, so
 *		its 22P02 becomes TF009 with the original message as detail.
 */
HeapTuple
tf_registry_tuple(AttInMetadata *meta, char **values)
{
	MemoryContext context = CurrentMemoryContext;
	HeapTuple	tuple = NULL;

	PG_TRY();
	{
		tuple = BuildTupleFromCStrings(meta, values);
	}
	PG_CATCH();
	{
		ErrorData  *error;

		MemoryContextSwitchTo(context);
		error = CopyErrorData();
		if (error->sqlerrcode != ERRCODE_INVALID_TEXT_REPRESENTATION &&
			error->sqlerrcode != ERRCODE_INVALID_DATETIME_FORMAT &&
			error->sqlerrcode != ERRCODE_DATETIME_VALUE_OUT_OF_RANGE)
			PG_RE_THROW();

		/* Raised at once, so nothing runs in the failed state. */
		FlushErrorState();
		ereport(ERROR,
				(errcode(ERRCODE_TF_REGISTRY_FAULT),
				 errmsg("registry responded with a value outside the protocol"),
				 errdetail("%s", error->message)));
	}
	PG_END_TRY();

	return tuple;
}

HeapTuple
tf_number_info_tuple(AttInMetadata *meta, const TfNumInfo *info)
{
	char	   *values[12];

	values[0] = info->num;
	values[1] = info->status;
	values[2] = info->resporg;
	values[3] = info->status_date;
	values[4] = info->reserved_until;
	values[5] = info->disconnect_until;
	values[6] = info->last_active;
	values[7] = info->contact_name;
	values[8] = info->contact_phone;
	values[9] = info->notes;
	values[10] = info->rec_version_id;
	values[11] = yes_no(info->auction);

	return tf_registry_tuple(meta, values);
}

HeapTuple
tf_number_result_tuple(AttInMetadata *meta, const TfNumInfo *info, bool ok,
					   const char *code, const char *message, int64 request_id)
{
	char	   *values[9];

	values[0] = info->num;
	values[1] = ok ? "t" : "f";
	values[2] = info->status;
	values[3] = info->resporg;
	values[4] = info->reserved_until;
	values[5] = info->rec_version_id;
	values[6] = (char *) code;
	values[7] = (char *) message;
	values[8] = request_id > 0 ? psprintf(INT64_FORMAT, request_id) : NULL;

	return tf_registry_tuple(meta, values);
}

TfNumInfo *
tf_find_number(List *numbers, const char *number)
{
	ListCell   *lc;

	foreach(lc, numbers)
	{
		TfNumInfo  *info = (TfNumInfo *) lfirst(lc);

		if (info->num != NULL && strcmp(info->num, number) == 0)
			return info;
	}
	return NULL;
}

/*
 * tf_query_numbers
 *		PUT /num/tfn/query for up to ten numbers.
 */
void
tf_query_numbers(const char *const *numbers, int nnumbers, TfExchange *ex)
{
	size_t		len;
	char	   *document = tf_build_num_query(numbers, nnumbers, &len);

	tf_exchange("PUT", "/num/tfn/query", document, len, false, 0, ex);
}

/*
 * tf_record_read_only
 *		Write the requests row of a read-only exchange and return its id; on
 *		failure, raise the exchange's error after writing a row that
 *		survives the rollback.
 */
int64
tf_record_read_only(const char *operation, const char *numbers, const char *arguments,
					const TfExchange *ex, const char *result_json)
{
	TfAuditOutcome audit;

	if (ex->ok)
	{
		memset(&audit, 0, sizeof(audit));
		audit.state = "done";
		audit.http_status = ex->outcome.http_status;
		audit.result_json = result_json;
		audit.registry_req_id = ex->outcome.registry_req_id;
		return tf_audit_record(operation, numbers, arguments, &audit, ex->started_at, false);
	}

	tf_failed_outcome(ex, &audit);
	tf_audit_record(operation, numbers, arguments, &audit, ex->started_at, true);
	tf_raise_exchange(operation, ex);
}
