/*-------------------------------------------------------------------------
 *
 * numadmin_status.c
 *		tf_request_status: the outcome of a registry request that responded
 *		202 (pending), by its registry request id or toll_free.requests id.
 *
 * The registry keeps outcomes for 24 hours.  Asking once (no polling), this
 * function reports pending, done or failed, and records a final outcome in
 * the toll_free.requests rows that carry the registry request id and were
 * still unknown.  What the final response reports about numbers is written
 * through to toll_free.numbers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "errors.h"
#include "numadmin.h"
#include "toll_free.h"

PG_FUNCTION_INFO_V1(tf_request_status);

/* What the caller may see of the local row: read under its privileges. */
typedef struct LocalRequest
{
	bool		found;
	char	   *id;
	char	   *operation;
	char	   *numbers;
	char	   *registry_req_id;
	char	   *state;
	char	   *http_status;
	char	   *registry_code;
	char	   *error;
} LocalRequest;

/*
 * find_local
 *		The newest requests row with this id (by_id) or registry request id.
 *		Row-level security applies: callers see their own rows.
 */
static void
find_local(const char *key, bool by_id, LocalRequest *local)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	const char *sql = by_id ?
		"SELECT id::pg_catalog.text, operation, numbers::pg_catalog.text, registry_req_id, state, "
		"http_status::pg_catalog.text, registry_code, error FROM toll_free.requests "
		"WHERE id OPERATOR(pg_catalog.=) $1::pg_catalog.int8" :
		"SELECT id::pg_catalog.text, operation, numbers::pg_catalog.text, registry_req_id, state, "
		"http_status::pg_catalog.text, registry_code, error FROM toll_free.requests "
		"WHERE registry_req_id OPERATOR(pg_catalog.=) $1 ORDER BY id DESC LIMIT 1";

	MemoryContext outer = CurrentMemoryContext;

	memset(local, 0, sizeof(LocalRequest));
	values[0] = CStringGetTextDatum(key);

	SPI_connect();
	if (SPI_execute_with_args(sql, 1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read toll_free.requests");
	if (SPI_processed == 1)
	{
		HeapTuple	tuple = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;

		local->found = true;
		local->id = SPI_getvalue(tuple, desc, 1);
		local->operation = SPI_getvalue(tuple, desc, 2);
		local->numbers = SPI_getvalue(tuple, desc, 3);
		local->registry_req_id = SPI_getvalue(tuple, desc, 4);
		local->state = SPI_getvalue(tuple, desc, 5);
		local->http_status = SPI_getvalue(tuple, desc, 6);
		local->registry_code = SPI_getvalue(tuple, desc, 7);
		local->error = SPI_getvalue(tuple, desc, 8);

		/* SPI_getvalue copies into SPI's context: move to ours. */
		for (char **field = &local->id; field <= &local->error; field++)
		{
			if (*field != NULL)
				*field = MemoryContextStrdup(outer, *field);
		}
	}
	SPI_finish();
}

/*
 * settle_local_rows
 *		Record a final outcome in the rows of this registry request that
 *		were waiting for it.  Written as the table's owner.
 */
static void
settle_local_rows(const char *registry_req_id, const TfAuditOutcome *outcome)
{
	Oid			argtypes[7] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	char		status[16];
	Oid			save_userid;
	int			save_sec_context;
	Oid			owner = tf_table_owner("requests");

	snprintf(status, sizeof(status), "%ld", outcome->http_status);
	values[0] = CStringGetTextDatum(registry_req_id);
	values[1] = CStringGetTextDatum(outcome->state);
	values[2] = CStringGetTextDatum(status);
	if (outcome->result_json)
		values[3] = CStringGetTextDatum(outcome->result_json);
	else
		nulls[3] = 'n';
	if (outcome->sqlstate != 0)
		values[4] = CStringGetTextDatum(unpack_sql_state(outcome->sqlstate));
	else
		nulls[4] = 'n';
	if (outcome->error)
		values[5] = CStringGetTextDatum(outcome->error);
	else
		nulls[5] = 'n';
	if (outcome->registry_code)
		values[6] = CStringGetTextDatum(outcome->registry_code);
	else
		nulls[6] = 'n';

	SPI_connect();
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	if (SPI_execute_with_args("UPDATE toll_free.requests SET state = $2, "
							  "http_status = $3::pg_catalog.int4, "
							  "result = COALESCE($4::pg_catalog.jsonb, result), "
							  "sqlstate = $5, error = $6, registry_code = $7, "
							  "finished_at = pg_catalog.clock_timestamp() "
							  "WHERE registry_req_id OPERATOR(pg_catalog.=) $1 "
							  "AND state OPERATOR(pg_catalog.=) ANY ('{unknown,sending}'::pg_catalog.text[])",
							  7, argtypes, values, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update toll_free.requests");
	SetUserIdAndSecContext(save_userid, save_sec_context);

	SPI_finish();
}

/*
 * numbers_of
 *		Array literal of the numbers a final response mentions, or NULL.
 */
static char *
numbers_of(const TfResponse *response)
{
	StringInfoData buf;
	ListCell   *lc;
	int			n = 0;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	foreach(lc, response->numbers)
	{
		TfNumInfo  *info = (TfNumInfo *) lfirst(lc);

		if (info->num == NULL)
			continue;
		appendStringInfo(&buf, "%s%s", n++ > 0 ? "," : "", info->num);
	}
	foreach(lc, response->found)
		appendStringInfo(&buf, "%s%s", n++ > 0 ? "," : "", (char *) lfirst(lc));
	if (response->rec_num != NULL)
		appendStringInfo(&buf, "%s%s", n++ > 0 ? "," : "", response->rec_num);
	appendStringInfoChar(&buf, '}');
	return n > 0 ? buf.data : NULL;
}

static void
check_request_id(const char *id)
{
	size_t		len = strlen(id);

	if (len == 0 || len > 64 ||
		strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid request id \"%s\"", id),
				 errdetail("Give a registry request id such as R0000000042, or a toll_free.requests id.")));
}

/*
 * tf_request_status(request_id text) RETURNS request_outcome
 */
Datum
tf_request_status(PG_FUNCTION_ARGS)
{
	char	   *key = text_to_cstring(PG_GETARG_TEXT_PP(0));
	TupleDesc	tupdesc;
	LocalRequest local;
	char	   *registry_req_id;
	char	   *path;
	TfExchange	ex;
	TfAuditOutcome outcome;
	char	   *values[9];
	char		status_text[16];
	bool		by_id;

	tf_numadmin_enter();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	check_request_id(key);
	by_id = strspn(key, "0123456789") == strlen(key);
	find_local(key, by_id, &local);

	if (by_id && !local.found)
		ereport(ERROR,
				(errcode(ERRCODE_TF_NOT_FOUND),
				 errmsg("request %s not found in toll_free.requests", key)));

	memset(values, 0, sizeof(values));
	values[3] = local.operation;
	values[4] = local.numbers;
	values[7] = local.id;
	values[8] = DatumGetCString(DirectFunctionCall1(timestamptz_out,
													TimestampTzGetDatum(GetCurrentTimestamp())));

	/* A local row without a registry request id: report it as it stands. */
	registry_req_id = by_id ? local.registry_req_id : key;
	if (registry_req_id == NULL)
	{
		values[1] = local.state;
		values[2] = local.http_status;
		values[5] = local.registry_code;
		values[6] = local.error;
		PG_RETURN_DATUM(HeapTupleGetDatum(BuildTupleFromCStrings(TupleDescGetAttInMetadata(tupdesc),
																 values)));
	}

	path = psprintf("/sys/req/%s", registry_req_id);
	tf_exchange("GET", path, NULL, 0, false, TF_CALL_NO_POLL, &ex);
	values[0] = registry_req_id;

	if (ex.outcome.pending)
	{
		TfExchange	as_done = ex;

		values[1] = "pending";
		values[2] = "202";

		/* The status request itself worked; its row says so. */
		as_done.ok = true;
		tf_record_read_only("request_status", NULL, NULL, &as_done, NULL);
	}
	else if (ex.ok)
	{
		ListCell   *lc;

		memset(&outcome, 0, sizeof(outcome));
		outcome.state = "done";
		outcome.http_status = ex.outcome.http_status;
		outcome.result_json = tf_numbers_json(ex.response.numbers, ex.response.errors);
		settle_local_rows(registry_req_id, &outcome);
		tf_record_read_only("request_status", NULL, NULL, &ex, outcome.result_json);

		foreach(lc, ex.response.numbers)
		{
			TfNumInfo  *info = (TfNumInfo *) lfirst(lc);

			if (tf_number_error(info) == NULL)
				tf_write_through(info, true, NULL, local.found ? atol(local.id) : 0);
		}

		values[1] = "done";
		snprintf(status_text, sizeof(status_text), "%ld", ex.outcome.http_status);
		values[2] = status_text;
		if (numbers_of(&ex.response) != NULL)
			values[4] = numbers_of(&ex.response);
	}
	else if (!ex.outcome.transport_failed && ex.outcome.error_response != NULL &&
			 ex.outcome.http_status != 404 && ex.outcome.http_status < 500)
	{
		/*
		 * The original request's final response was a refusal.  A 5xx is the
		 * status request's own failure and raises below, like a 404.
		 */
		tf_failed_outcome(&ex, &outcome);
		settle_local_rows(registry_req_id, &outcome);
		values[1] = "failed";
		snprintf(status_text, sizeof(status_text), "%ld", ex.outcome.http_status);
		values[2] = status_text;
		values[5] = (char *) outcome.registry_code;
		values[6] = (char *) outcome.error;
		{
			TfExchange	as_done = ex;

			/* The status request itself worked; its row says so. */
			as_done.ok = true;
			tf_record_read_only("request_status", NULL, NULL, &as_done, NULL);
		}
	}
	else
		tf_record_read_only("request_status", NULL, NULL, &ex, NULL);	/* raises */

	PG_RETURN_DATUM(HeapTupleGetDatum(BuildTupleFromCStrings(TupleDescGetAttInMetadata(tupdesc),
															 values)));
}
