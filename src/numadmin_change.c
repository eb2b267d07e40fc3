/*-------------------------------------------------------------------------
 *
 * numadmin_change.c
 *		Registry functions that change numbers: tf_reserve (one number, an
 *		array, a search pattern), tf_spare and tf_change_resporg.
 *
 * The registry acts at once and nothing here can undo it, so each request
 * gets a toll_free.requests row that survives a rollback of the caller
 * (audit.c), inserted before the request is sent.
 *
 * A request whose connection fails after it was sent may or may not have
 * acted.  It is never sent again; instead the numbers are queried and the
 * outcome read from their status ("resolved by a query").  The call ends
 * with the outcome unknown when that query fails too, or when the request
 * timed out and the change is not visible yet (the registry may still be
 * working on it).
 *
 * One-number functions raise the registry's refusal as an error; array
 * functions return a row per number, failures included.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "errors.h"
#include "numadmin.h"
#include "tfn.h"
#include "tfn_parse.h"
#include "toll_free.h"

PG_FUNCTION_INFO_V1(tf_reserve);
PG_FUNCTION_INFO_V1(tf_reserve_many);
PG_FUNCTION_INFO_V1(tf_reserve_search);
PG_FUNCTION_INFO_V1(tf_spare);
PG_FUNCTION_INFO_V1(tf_spare_many);
PG_FUNCTION_INFO_V1(tf_change_resporg);
PG_FUNCTION_INFO_V1(tf_change_resporg_many);

typedef enum ChangeKind
{
	CHANGE_RESERVE,
	CHANGE_SPARE,
	CHANGE_RESPORG
} ChangeKind;

/* What one change is about: the operation and its arguments. */
typedef struct Change
{
	ChangeKind	kind;
	const char *operation;		/* requests.operation */
	TfContact	contact;		/* reserve */
	const char *new_resporg;	/* change RespOrg */
	const char *arguments_json;
} Change;

/* The outcome of a change for one number. */
typedef struct NumberOutcome
{
	TfNumInfo  *info;			/* what the registry reported, never NULL */
	bool		ok;
	const char *code;			/* registry code of a refusal */
	const char *message;
	int			sqlstate;		/* for raising in one-number functions */
	int64		request_id;
} NumberOutcome;

/* Message of a number whose outcome a query decided. */
#define RESOLVED_DONE		"done: the connection was lost after sending; a query shows the change"
#define RESOLVED_NOT_DONE	"not done: the connection was lost after sending; a query shows no change"

static const char *
change_what(const Change *change)
{
	switch (change->kind)
	{
		case CHANGE_RESERVE:
			return "reserve";
		case CHANGE_SPARE:
			return "spare";
		case CHANGE_RESPORG:
			return "change RespOrg";
	}
	return "change";
}

/*
 * took_effect
 *		Whether a queried number shows the change.
 */
static bool
took_effect(const Change *change, const TfNumInfo *info)
{
	if (info == NULL || info->status == NULL)
		return false;

	switch (change->kind)
	{
		case CHANGE_RESERVE:
			return strcmp(info->status, "RESERVED") == 0 &&
				tf_registry_may_update(info->resporg);
		case CHANGE_SPARE:
			return strcmp(info->status, "SPARE") == 0;
		case CHANGE_RESPORG:
			return info->resporg != NULL && strcmp(info->resporg, change->new_resporg) == 0;
	}
	return false;
}

static TfNumInfo *
bare_info(const char *number)
{
	TfNumInfo  *info = palloc0(sizeof(TfNumInfo));

	info->num = pstrdup(number);
	return info;
}

/*
 * send_change
 *		Build and send the request for up to ten numbers; rec_versions are
 *		the current recVersionIds (spare and change RespOrg only).
 */
static void
send_change(const Change *change, const char *const *numbers, int nnumbers,
			const char *const *rec_versions, TfExchange *ex)
{
	size_t		len;
	char	   *document;

	if (change->kind == CHANGE_RESERVE)
	{
		document = tf_build_num_reserve(numbers, nnumbers, &change->contact, &len);
		tf_exchange("POST", "/num/tfn/reserve", document, len, true, 0, ex);
	}
	else
	{
		document = tf_build_num_update(numbers, rec_versions, nnumbers,
									   change->kind == CHANGE_SPARE ? "SPARE" : NULL,
									   change->kind == CHANGE_RESPORG ? change->new_resporg : NULL,
									   &len);
		tf_exchange("PUT", "/num/tfn/update", document, len, true, 0, ex);
	}
}

/*
 * current_versions
 *		Query the numbers for their recVersionIds, as the update requires.
 */
static const char **
current_versions(const char *const *numbers, int nnumbers)
{
	TfExchange	ex;
	const char **versions = palloc0(sizeof(char *) * nnumbers);

	tf_query_numbers(numbers, nnumbers, &ex);
	tf_record_read_only("query", tf_numbers_literal(numbers, nnumbers), NULL, &ex,
						tf_numbers_json(ex.response.numbers, NIL));

	for (int i = 0; i < nnumbers; i++)
	{
		TfNumInfo  *info = tf_find_number(ex.response.numbers, numbers[i]);

		versions[i] = info ? info->rec_version_id : NULL;
	}
	return versions;
}

/*
 * resolve_by_query
 *		After a lost connection, learn per number whether the change took
 *		effect.  Returns false when the query failed too.
 */
static bool
resolve_by_query(const Change *change, const char *const *numbers, int nnumbers,
				 int64 request_id, bool timed_out, NumberOutcome *outcomes)
{
	TfExchange	ex;

	tf_query_numbers(numbers, nnumbers, &ex);
	if (!ex.ok)
		return false;

	/*
	 * After a timeout the request may still be on its way through the
	 * registry, so a number that shows no change yet proves nothing: only a
	 * change that is already visible decides.
	 */
	if (timed_out)
	{
		for (int i = 0; i < nnumbers; i++)
		{
			if (!took_effect(change, tf_find_number(ex.response.numbers, numbers[i])))
				return false;
		}
	}

	for (int i = 0; i < nnumbers; i++)
	{
		TfNumInfo  *info = tf_find_number(ex.response.numbers, numbers[i]);

		outcomes[i].info = info ? info : bare_info(numbers[i]);
		outcomes[i].ok = took_effect(change, info);
		outcomes[i].message = outcomes[i].ok ? RESOLVED_DONE : RESOLVED_NOT_DONE;
		outcomes[i].request_id = request_id;
	}
	return true;
}

/*
 * outcomes_json
 *		The result column for a batch, from the per-number outcomes.
 */
static char *
outcomes_json(NumberOutcome *outcomes, int nnumbers, bool resolved, List *warnings)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"resolved_by_query\":%s,\"numbers\":[", resolved ? "true" : "false");
	for (int i = 0; i < nnumbers; i++)
	{
		appendStringInfo(&buf, "%s{\"num\":", i > 0 ? "," : "");
		tf_json_string(&buf, outcomes[i].info->num);
		appendStringInfo(&buf, ",\"ok\":%s,\"status\":", outcomes[i].ok ? "true" : "false");
		tf_json_string(&buf, outcomes[i].info->status);
		appendStringInfoString(&buf, ",\"code\":");
		tf_json_string(&buf, outcomes[i].code);
		appendStringInfoString(&buf, ",\"message\":");
		tf_json_string(&buf, outcomes[i].message);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoString(&buf, "]}");
	return buf.data;
}

/*
 * run_change_batch
 *		Carry out a change on up to ten numbers and fill one outcome per
 *		number.  Raises when the outcome cannot be known: a pending response
 *		that outlived toll_free.pending_wait, or a lost connection that a
 *		query could not resolve.  A refusal of the whole request fills every
 *		outcome with the registry's code.
 */
static void
run_change_batch(const Change *change, const char *const *numbers, int nnumbers,
				 NumberOutcome *outcomes)
{
	const char **versions = NULL;
	TfExchange	ex;
	TfAuditOutcome audit;
	int64		request_id;
	const char *literal = tf_numbers_literal(numbers, nnumbers);
	bool		any_ok = false;

	if (change->kind != CHANGE_RESERVE)
		versions = current_versions(numbers, nnumbers);

	request_id = tf_audit_begin(change->operation, literal, change->arguments_json);
	send_change(change, numbers, nnumbers, versions, &ex);

	/* Accepted: one numResult per number. */
	if (ex.ok)
	{
		for (int i = 0; i < nnumbers; i++)
		{
			TfNumInfo  *info = tf_find_number(ex.response.numbers, numbers[i]);
			TfRegistryMessage *error = info ? tf_number_error(info) : NULL;

			outcomes[i].info = info ? info : bare_info(numbers[i]);
			outcomes[i].request_id = request_id;
			if (info == NULL)
			{
				outcomes[i].ok = false;
				outcomes[i].message = "the registry's response did not mention this number";
				outcomes[i].sqlstate = ERRCODE_TF_REGISTRY_FAULT;
			}
			else if (error != NULL)
			{
				outcomes[i].ok = false;
				outcomes[i].code = error->code;
				outcomes[i].message = error->message;
				outcomes[i].sqlstate = tf_registry_sqlstate(error->code, 200);
			}
			else
			{
				/* A reserve's numResult leaves out our RespOrg and contact. */
				if (change->kind == CHANGE_RESERVE)
				{
					if (info->resporg == NULL)
						info->resporg = pstrdup(tf_registry_resporg());
					if (info->contact_name == NULL && change->contact.name != NULL)
						info->contact_name = pstrdup(change->contact.name);
					if (info->contact_phone == NULL && change->contact.phone != NULL)
						info->contact_phone = pstrdup(change->contact.phone);
					if (info->notes == NULL && change->contact.notes != NULL)
						info->notes = pstrdup(change->contact.notes);
				}
				outcomes[i].ok = true;
				any_ok = true;
			}
		}

		/* The row first: it must be right even if the write-through fails. */
		memset(&audit, 0, sizeof(audit));
		audit.state = any_ok ? "done" : "failed";
		audit.http_status = ex.outcome.http_status;
		audit.registry_req_id = ex.outcome.registry_req_id;
		audit.result_json = outcomes_json(outcomes, nnumbers, false, ex.response.errors);
		if (!any_ok)
		{
			audit.registry_code = outcomes[0].code;
			audit.error = outcomes[0].message;
			audit.sqlstate = outcomes[0].sqlstate;
		}
		tf_audit_finish(request_id, &audit);

		for (int i = 0; i < nnumbers; i++)
		{
			if (outcomes[i].ok)
				tf_write_through(outcomes[i].info, true, NULL, request_id);
		}
		tf_report_warnings(ex.response.errors);
		return;
	}

	tf_failed_outcome(&ex, &audit);

	/* Sent, then the connection failed: ask the registry what happened. */
	if (ex.outcome.transport_failed && ex.outcome.outcome_unknown)
	{
		if (resolve_by_query(change, numbers, nnumbers, request_id,
							 ex.outcome.failure.timed_out, outcomes))
		{
			audit.state = "done";
			audit.result_json = outcomes_json(outcomes, nnumbers, true, NIL);
			tf_audit_finish(request_id, &audit);
			for (int i = 0; i < nnumbers; i++)
			{
				if (outcomes[i].info->status != NULL)
					tf_write_through(outcomes[i].info, false, NULL, request_id);
			}
			ereport(WARNING,
					(errmsg("connection to the registry was lost during the %s request",
							change_what(change)),
					 errdetail("The request was not sent again; a query of the numbers decided the outcome.")));
			for (int i = 0; i < nnumbers; i++)
				outcomes[i].sqlstate = ex.outcome.failure.sqlstate;
			return;
		}

		tf_audit_finish(request_id, &audit);
		ereport(ERROR,
				(errcode(ex.outcome.failure.sqlstate),
				 errmsg("%s", ex.outcome.failure.message),
				 errdetail("The %s request was sent and its outcome is unknown; the request was not sent again. libcurl: %s",
						   change_what(change), ex.outcome.failure.detail),
				 errhint("Query the numbers with tf_query to learn the outcome (toll_free.requests id " INT64_FORMAT ").",
						 request_id)));
	}

	tf_audit_finish(request_id, &audit);

	/* A refusal of the whole request: every number gets the code. */
	if (!ex.outcome.transport_failed && !ex.outcome.pending && ex.outcome.http_status != 0)
	{
		for (int i = 0; i < nnumbers; i++)
		{
			outcomes[i].info = bare_info(numbers[i]);
			outcomes[i].ok = false;
			outcomes[i].code = audit.registry_code;
			outcomes[i].message = audit.error;
			outcomes[i].sqlstate = audit.sqlstate;
			outcomes[i].request_id = request_id;
		}
		return;
	}

	tf_raise_exchange(change->operation, &ex);
}

/*
 * run_one
 *		A change of one number: its outcome row, or the registry's refusal
 *		raised as an error.
 */
static Datum
run_one(FunctionCallInfo fcinfo, Change *change, const char *number)
{
	TupleDesc	tupdesc;
	NumberOutcome outcome;
	HeapTuple	tuple;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	memset(&outcome, 0, sizeof(outcome));
	run_change_batch(change, &number, 1, &outcome);

	if (!outcome.ok)
	{
		if (outcome.code == NULL && outcome.sqlstate != 0 &&
			ERRCODE_TO_CATEGORY(outcome.sqlstate) == ERRCODE_CONNECTION_EXCEPTION)
			ereport(ERROR,
					(errcode(outcome.sqlstate),
					 errmsg("connection to the registry was lost during the %s request",
							change_what(change)),
					 errdetail("A query shows that number %s did not change; the request was not sent again.",
							   number)));

		ereport(ERROR,
				(errcode(outcome.sqlstate != 0 ? outcome.sqlstate : ERRCODE_TF_REGISTRY_REFUSED),
				 errmsg("registry refused to %s number %s", change_what(change), number),
				 errdetail("The registry responded %s %s.",
						   outcome.code ? outcome.code : "(no code)",
						   outcome.message ? outcome.message : "")));
	}

	tuple = tf_number_result_tuple(TupleDescGetAttInMetadata(tupdesc), outcome.info, true,
								   NULL, outcome.message, outcome.request_id);
	return HeapTupleGetDatum(tuple);
}

/*
 * run_many
 *		A change of many numbers, in batches of ten; one row per number.
 */
static void
run_many(FunctionCallInfo fcinfo, Change *change, char **numbers, int nnumbers)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AttInMetadata *meta = TupleDescGetAttInMetadata(rsinfo->setDesc);

	for (int first = 0; first < nnumbers; first += TF_MAX_NUMBERS_PER_REQUEST)
	{
		int			count = Min(TF_MAX_NUMBERS_PER_REQUEST, nnumbers - first);
		NumberOutcome outcomes[TF_MAX_NUMBERS_PER_REQUEST];

		memset(outcomes, 0, sizeof(outcomes));
		run_change_batch(change, (const char *const *) numbers + first, count, outcomes);

		for (int i = 0; i < count; i++)
			tuplestore_puttuple(rsinfo->setResult,
								tf_number_result_tuple(meta, outcomes[i].info, outcomes[i].ok,
													   outcomes[i].code, outcomes[i].message,
													   outcomes[i].request_id));
	}
}

static const char *
optional_text(FunctionCallInfo fcinfo, int argno)
{
	return PG_ARGISNULL(argno) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/*
 * reserve_change
 *		The reserve Change from contact arguments at positions first..first+2.
 */
static void
reserve_change(FunctionCallInfo fcinfo, int first, Change *change)
{
	StringInfoData arguments;

	memset(change, 0, sizeof(Change));
	change->kind = CHANGE_RESERVE;
	change->operation = "reserve";
	change->contact.name = optional_text(fcinfo, first);
	change->contact.phone = optional_text(fcinfo, first + 1);
	change->contact.notes = optional_text(fcinfo, first + 2);

	/* Contact data goes to the registry, not into the log table. */
	initStringInfo(&arguments);
	appendStringInfo(&arguments, "{\"contact\":%s}",
					 change->contact.name || change->contact.phone || change->contact.notes ?
					 "true" : "false");
	change->arguments_json = arguments.data;
}

/*
 * check_resporg
 *		A RespOrg ID argument: five letters or digits, upper-cased.
 */
static const char *
check_resporg(const char *value)
{
	char	   *upper = pstrdup(value);

	for (char *p = upper; *p; p++)
		*p = pg_toupper((unsigned char) *p);
	if (strlen(upper) != 5 || strspn(upper, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != 5)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid RespOrg ID \"%s\"", value),
				 errdetail("A RespOrg ID has exactly five letters or digits, for example RUC01.")));
	return upper;
}

static void
resporg_change(const char *new_resporg, Change *change)
{
	StringInfoData arguments;

	memset(change, 0, sizeof(Change));
	change->kind = CHANGE_RESPORG;
	change->operation = "change_resporg";
	change->new_resporg = check_resporg(new_resporg);

	initStringInfo(&arguments);
	appendStringInfoString(&arguments, "{\"resporg\":");
	tf_json_string(&arguments, change->new_resporg);
	appendStringInfoChar(&arguments, '}');
	change->arguments_json = arguments.data;
}

static void
spare_change(Change *change)
{
	memset(change, 0, sizeof(Change));
	change->kind = CHANGE_SPARE;
	change->operation = "spare";
	change->arguments_json = "{}";
}

/*
 * tf_reserve(number, contact_name, contact_phone, notes) RETURNS number_result
 */
Datum
tf_reserve(PG_FUNCTION_ARGS)
{
	Change		change;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	tf_numadmin_enter();
	reserve_change(fcinfo, 1, &change);
	return run_one(fcinfo, &change, tf_number_arg(fcinfo, 0));
}

/*
 * tf_reserve_many(numbers tfn[], contact...) RETURNS SETOF number_result
 */
Datum
tf_reserve_many(PG_FUNCTION_ARGS)
{
	Change		change;
	char	  **numbers;
	int			nnumbers;

	tf_numadmin_enter();
	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	reserve_change(fcinfo, 1, &change);
	numbers = tf_numbers_from_array(PG_GETARG_DATUM(0), &nnumbers);
	run_many(fcinfo, &change, numbers, nnumbers);
	return (Datum) 0;
}

/*
 * tf_spare(number) RETURNS number_result
 */
Datum
tf_spare(PG_FUNCTION_ARGS)
{
	Change		change;

	tf_numadmin_enter();
	spare_change(&change);
	return run_one(fcinfo, &change, tf_number_arg(fcinfo, 0));
}

Datum
tf_spare_many(PG_FUNCTION_ARGS)
{
	Change		change;
	char	  **numbers;
	int			nnumbers;

	tf_numadmin_enter();
	InitMaterializedSRF(fcinfo, 0);
	spare_change(&change);
	numbers = tf_numbers_from_array(PG_GETARG_DATUM(0), &nnumbers);
	run_many(fcinfo, &change, numbers, nnumbers);
	return (Datum) 0;
}

/*
 * tf_change_resporg(number, new_resporg) RETURNS number_result
 */
Datum
tf_change_resporg(PG_FUNCTION_ARGS)
{
	Change		change;

	tf_numadmin_enter();
	resporg_change(text_to_cstring(PG_GETARG_TEXT_PP(1)), &change);
	return run_one(fcinfo, &change, tf_number_arg(fcinfo, 0));
}

Datum
tf_change_resporg_many(PG_FUNCTION_ARGS)
{
	Change		change;
	char	  **numbers;
	int			nnumbers;

	tf_numadmin_enter();
	InitMaterializedSRF(fcinfo, 0);
	resporg_change(text_to_cstring(PG_GETARG_TEXT_PP(1)), &change);
	numbers = tf_numbers_from_array(PG_GETARG_DATUM(0), &nnumbers);
	run_many(fcinfo, &change, numbers, nnumbers);
	return (Datum) 0;
}

/*
 * reserved_numbers_literal
 *		The numbers a search-and-reserve reserved, as an array literal for
 *		the requests row, which was begun before they were known; NULL when
 *		none was reserved.
 */
static char *
reserved_numbers_literal(List *numbers)
{
	StringInfoData literal;
	ListCell   *lc;

	initStringInfo(&literal);
	foreach(lc, numbers)
	{
		TfNumInfo  *info = (TfNumInfo *) lfirst(lc);
		TfnParseResult parsed;

		if (tf_number_error(info) != NULL || info->num == NULL)
			continue;

		/* The column is tfn[]: a number the type rejects is left out. */
		tfn_parse(info->num, strlen(info->num), false, &parsed);
		if (parsed.status != TFN_PARSE_OK || tfn_npa_state(parsed.npa) != TFN_NPA_OPEN)
			continue;

		appendStringInfoString(&literal, literal.len == 0 ? "{" : ",");
		appendStringInfo(&literal, INT64_FORMAT, parsed.value);
	}
	if (literal.len == 0)
		return NULL;

	appendStringInfoChar(&literal, '}');
	return literal.data;
}

/*
 * tf_reserve_search(pattern, quantity, contact..., npa, consecutive)
 *		RETURNS SETOF number_result
 *
 * Search and reserve in one request (srchres).  The numbers are not known
 * before the response, so a lost connection cannot be resolved by a query of
 * the numbers: the call then ends with the outcome unknown.
 */
Datum
tf_reserve_search(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AttInMetadata *meta;
	Change		change;
	TfSearchSpec spec;
	TfExchange	ex;
	TfAuditOutcome audit;
	size_t		len;
	char	   *document;
	int64		request_id;
	ListCell   *lc;
	StringInfoData arguments;

	tf_numadmin_enter();
	InitMaterializedSRF(fcinfo, 0);
	meta = TupleDescGetAttInMetadata(rsinfo->setDesc);

	memset(&spec, 0, sizeof(spec));
	spec.pattern = optional_text(fcinfo, 0);
	spec.quantity = PG_ARGISNULL(1) ? 1 : PG_GETARG_INT32(1);
	reserve_change(fcinfo, 2, &change);
	spec.npa = optional_text(fcinfo, 5);
	spec.consecutive = PG_ARGISNULL(6) ? false : PG_GETARG_BOOL(6);

	if (spec.quantity < 1 || spec.quantity > TF_MAX_NUMBERS_PER_REQUEST)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("quantity must be between 1 and %d", TF_MAX_NUMBERS_PER_REQUEST)));
	if (spec.pattern != NULL)
	{
		char	   *upper = pstrdup(spec.pattern);

		for (char *p = upper; *p; p++)
			*p = pg_toupper((unsigned char) *p);
		if (strlen(upper) != 10 ||
			strspn(upper, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*&") != 10)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid search pattern \"%s\"", spec.pattern),
					 errdetail("A pattern has exactly 10 characters: digits, letters, * (any digit) and & (a repeated digit).")));
		spec.pattern = upper;
	}
	if (spec.npa != NULL && (strlen(spec.npa) != 3 || strspn(spec.npa, "0123456789") != 3))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid NPA \"%s\"", spec.npa),
				 errdetail("An NPA is three digits, for example 888.")));

	initStringInfo(&arguments);
	appendStringInfoString(&arguments, "{\"pattern\":");
	tf_json_string(&arguments, spec.pattern);
	appendStringInfo(&arguments, ",\"quantity\":%d,\"npa\":", spec.quantity);
	tf_json_string(&arguments, spec.npa);
	appendStringInfo(&arguments, ",\"consecutive\":%s}", spec.consecutive ? "true" : "false");

	request_id = tf_audit_begin("reserve_search", NULL, arguments.data);
	document = tf_build_num_srchres(&spec, &change.contact, &len);
	tf_exchange("POST", "/num/tfn/srchres", document, len, true, 0, &ex);

	if (!ex.ok)
	{
		tf_failed_outcome(&ex, &audit);
		tf_audit_finish(request_id, &audit);
		if (ex.outcome.transport_failed && ex.outcome.outcome_unknown)
			ereport(ERROR,
					(errcode(ex.outcome.failure.sqlstate),
					 errmsg("%s", ex.outcome.failure.message),
					 errdetail("The search-and-reserve request was sent and its outcome is unknown; the request was not sent again. libcurl: %s",
							   ex.outcome.failure.detail),
					 errhint("Run tf_resporg_check or a sync to see which numbers are reserved (toll_free.requests id " INT64_FORMAT ").",
							 request_id)));
		tf_raise_exchange("search and reserve", &ex);
	}

	memset(&audit, 0, sizeof(audit));
	audit.state = "done";
	audit.http_status = ex.outcome.http_status;
	audit.registry_req_id = ex.outcome.registry_req_id;
	audit.result_json = tf_numbers_json(ex.response.numbers, ex.response.errors);
	audit.numbers = reserved_numbers_literal(ex.response.numbers);
	tf_audit_finish(request_id, &audit);

	foreach(lc, ex.response.numbers)
	{
		TfNumInfo  *info = (TfNumInfo *) lfirst(lc);
		TfRegistryMessage *error = tf_number_error(info);

		if (error == NULL && info->resporg == NULL)
			info->resporg = pstrdup(tf_registry_resporg());
		if (error == NULL)
			tf_write_through(info, true, NULL, request_id);
		tuplestore_puttuple(rsinfo->setResult,
							tf_number_result_tuple(meta, info, error == NULL,
												   error ? error->code : NULL,
												   error ? error->message : NULL,
												   request_id));
	}
	tf_report_warnings(ex.response.errors);

	return (Datum) 0;
}
