/*-------------------------------------------------------------------------
 *
 * numadmin_disconnect.c
 *		tf_disconnect: create a disconnect record for a WORKING number.
 *
 * When the record takes effect the number goes WORKING -> DISCONNECT, and
 * at the end-intercept date DISCONNECT -> TRANSITIONAL.  The registry takes
 * one number per request.  As for the other changes, a request whose
 * connection failed after sending is not sent again; a query decides the
 * outcome when the disconnect was effective NOW (the status shows it).  A
 * future-dated disconnect does not show in the number's status yet, so
 * its outcome then stays unknown.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "errors.h"
#include "numadmin.h"
#include "toll_free.h"

PG_FUNCTION_INFO_V1(tf_disconnect);
PG_FUNCTION_INFO_V1(tf_disconnect_many);

/* Arguments of a disconnect, in the registry's forms. */
typedef struct DisconnectSpec
{
	const char *effective;		/* "NOW" or YYYY-MM-DDThh:mm:ssZ */
	const char *end_intercept;	/* "NOW", YYYY-MM-DD, or NULL for the default */
	bool		referral;
	char	   *arguments_json;
} DisconnectSpec;

/* The outcome of one disconnect. */
typedef struct DisconnectOutcome
{
	const char *number;
	bool		ok;
	const char *effective_at;
	const char *record_status;
	const char *rec_version_id;
	const char *code;
	const char *message;
	int			sqlstate;
	int64		request_id;
	TfNumInfo  *queried;		/* the number as a query showed it, or NULL */
} DisconnectOutcome;

/*
 * effective_text
 *		A timestamptz as the registry's UTC form; it must fall on a quarter
 *		hour (minutes 00, 15, 30 or 45, seconds 00).
 */
static char *
effective_text(TimestampTz ts)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (TIMESTAMP_NOT_FINITE(ts) || timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("effective time must be a finite timestamp")));

	if (tm.tm_min % 15 != 0 || tm.tm_sec != 0 || fsec != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("effective time must fall on a quarter hour"),
				 errdetail("The registry accepts minutes 00, 15, 30 and 45 with zero seconds."),
				 errhint("Use date_trunc('hour', t) plus a multiple of 15 minutes, or NULL for now.")));

	return psprintf("%04d-%02d-%02dT%02d:%02d:00Z",
					tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min);
}

static char *
date_text(DateADT date)
{
	int			year,
				month,
				day;

	if (DATE_NOT_FINITE(date))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("end of intercept must be a finite date")));
	j2date(date + POSTGRES_EPOCH_JDATE, &year, &month, &day);
	return psprintf("%04d-%02d-%02d", year, month, day);
}

/*
 * read_spec
 *		Arguments 1..4: effective, end_intercept, referral, end_intercept_now.
 */
static void
read_spec(FunctionCallInfo fcinfo, DisconnectSpec *spec)
{
	StringInfoData arguments;
	bool		intercept_now = !PG_ARGISNULL(4) && PG_GETARG_BOOL(4);

	spec->effective = PG_ARGISNULL(1) ? "NOW" : effective_text(PG_GETARG_TIMESTAMPTZ(1));
	spec->end_intercept = PG_ARGISNULL(2) ? NULL : date_text(PG_GETARG_DATEADT(2));
	spec->referral = !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);

	if (intercept_now)
	{
		if (spec->end_intercept != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("end_intercept and end_intercept_now cannot both be given")));
		spec->end_intercept = "NOW";
	}

	initStringInfo(&arguments);
	appendStringInfoString(&arguments, "{\"effective\":");
	tf_json_string(&arguments, spec->effective);
	appendStringInfoString(&arguments, ",\"end_intercept\":");
	tf_json_string(&arguments, spec->end_intercept);
	appendStringInfo(&arguments, ",\"referral\":%s}", spec->referral ? "true" : "false");
	spec->arguments_json = arguments.data;
}

static char *
outcome_json(const DisconnectOutcome *o, bool resolved)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"resolved_by_query\":%s,\"num\":", resolved ? "true" : "false");
	tf_json_string(&buf, o->number);
	appendStringInfo(&buf, ",\"ok\":%s,\"effective\":", o->ok ? "true" : "false");
	tf_json_string(&buf, o->effective_at);
	appendStringInfoString(&buf, ",\"record_status\":");
	tf_json_string(&buf, o->record_status);
	appendStringInfoString(&buf, ",\"rec_version_id\":");
	tf_json_string(&buf, o->rec_version_id);
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/*
 * resolve_by_query
 *		After a lost connection: a NOW disconnect shows as status DISCONNECT
 *		or TRANSITIONAL.  Returns false when the query cannot decide.
 */
static bool
resolve_by_query(const DisconnectSpec *spec, bool timed_out, DisconnectOutcome *o)
{
	TfExchange	ex;
	TfNumInfo  *info;

	if (strcmp(spec->effective, "NOW") != 0)
		return false;

	tf_query_numbers(&o->number, 1, &ex);
	if (!ex.ok)
		return false;

	info = tf_find_number(ex.response.numbers, o->number);
	if (info == NULL || info->status == NULL)
		return false;

	o->ok = strcmp(info->status, "DISCONNECT") == 0 || strcmp(info->status, "TRANSITIONAL") == 0;

	/* After a timeout the registry may still act: only a visible change decides. */
	if (timed_out && !o->ok)
		return false;

	o->message = o->ok ?
		"done: the connection was lost after sending; a query shows the number disconnected" :
		"not done: the connection was lost after sending; a query shows no disconnect";
	o->queried = info;
	tf_write_through(info, false, NULL, o->request_id);
	return true;
}

/*
 * write_through_current_status
 *		Query the number once and write its status to toll_free.numbers,
 *		because the disconnect response describes the new record, not the
 *		number.  A failed query changes nothing, since the disconnect itself
 *		succeeded and the next sync or call brings the inventory up to date.
 */
static void
write_through_current_status(DisconnectOutcome *o)
{
	TfExchange	ex;
	TfNumInfo  *info;

	tf_query_numbers(&o->number, 1, &ex);
	if (!ex.ok)
		return;

	info = tf_find_number(ex.response.numbers, o->number);
	if (info != NULL && info->status != NULL)
		tf_write_through(info, false, NULL, o->request_id);
}

/*
 * run_disconnect
 *		Disconnect one number and fill its outcome.  Raises when the outcome
 *		cannot be known; a refusal fills the outcome with the registry's
 *		code.
 */
static void
run_disconnect(const DisconnectSpec *spec, const char *number, DisconnectOutcome *o)
{
	TfExchange	ex;
	TfAuditOutcome audit;
	size_t		len;
	char	   *document;

	memset(o, 0, sizeof(DisconnectOutcome));
	o->number = number;
	o->request_id = tf_audit_begin("disconnect", psprintf("{%s}", number), spec->arguments_json);

	document = tf_build_rec_disconnect(number, spec->effective, spec->end_intercept,
									   spec->referral, &len);
	tf_exchange("POST", "/cus/rec/disconnect", document, len, true, 0, &ex);

	if (ex.ok)
	{
		o->ok = true;
		o->effective_at = ex.response.eff_dt_tm;
		o->record_status = ex.response.cust_rec_stat;
		o->rec_version_id = ex.response.rec_version_id;

		memset(&audit, 0, sizeof(audit));
		audit.state = "done";
		audit.http_status = ex.outcome.http_status;
		audit.registry_req_id = ex.outcome.registry_req_id;
		audit.result_json = outcome_json(o, false);
		tf_audit_finish(o->request_id, &audit);
		write_through_current_status(o);
		return;
	}

	tf_failed_outcome(&ex, &audit);

	if (ex.outcome.transport_failed && ex.outcome.outcome_unknown)
	{
		if (resolve_by_query(spec, ex.outcome.failure.timed_out, o))
		{
			audit.state = "done";
			audit.result_json = outcome_json(o, true);
			tf_audit_finish(o->request_id, &audit);
			o->sqlstate = ex.outcome.failure.sqlstate;
			ereport(WARNING,
					(errmsg("connection to the registry was lost during the disconnect request"),
					 errdetail("The request was not sent again; a query of the number decided the outcome.")));
			return;
		}

		tf_audit_finish(o->request_id, &audit);
		ereport(ERROR,
				(errcode(ex.outcome.failure.sqlstate),
				 errmsg("%s", ex.outcome.failure.message),
				 errdetail("The disconnect request was sent and its outcome is unknown; the request was not sent again. libcurl: %s",
						   ex.outcome.failure.detail),
				 errhint("Check the number's records with tf_query_records (toll_free.requests id " INT64_FORMAT ").",
						 o->request_id)));
	}

	tf_audit_finish(o->request_id, &audit);

	if (!ex.outcome.transport_failed && !ex.outcome.pending && ex.outcome.http_status != 0)
	{
		o->ok = false;
		o->code = audit.registry_code;
		o->message = audit.error;
		o->sqlstate = audit.sqlstate;
		return;
	}

	tf_raise_exchange("disconnect", &ex);
}

static HeapTuple
outcome_tuple(AttInMetadata *meta, const DisconnectOutcome *o)
{
	char	   *values[8];

	values[0] = (char *) o->number;
	values[1] = o->ok ? "t" : "f";
	values[2] = (char *) o->effective_at;
	values[3] = (char *) o->record_status;
	values[4] = (char *) o->rec_version_id;
	values[5] = (char *) o->code;
	values[6] = (char *) o->message;
	values[7] = psprintf(INT64_FORMAT, o->request_id);
	return tf_registry_tuple(meta, values);
}

/*
 * tf_disconnect(number, effective, end_intercept, referral, end_intercept_now)
 *		RETURNS disconnect_result; a refusal raises.
 */
Datum
tf_disconnect(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	DisconnectSpec spec;
	DisconnectOutcome o;
	const char *number;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	tf_numadmin_enter();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	number = tf_number_arg(fcinfo, 0);
	read_spec(fcinfo, &spec);
	run_disconnect(&spec, number, &o);

	if (!o.ok)
	{
		if (o.code == NULL && o.sqlstate != 0 &&
			ERRCODE_TO_CATEGORY(o.sqlstate) == ERRCODE_CONNECTION_EXCEPTION)
			ereport(ERROR,
					(errcode(o.sqlstate),
					 errmsg("connection to the registry was lost during the disconnect request"),
					 errdetail("A query shows that number %s was not disconnected; the request was not sent again.",
							   number)));
		ereport(ERROR,
				(errcode(o.sqlstate != 0 ? o.sqlstate : ERRCODE_TF_REGISTRY_REFUSED),
				 errmsg("registry refused to disconnect number %s", number),
				 errdetail("The registry responded %s %s.", o.code ? o.code : "(no code)",
						   o.message ? o.message : "")));
	}

	PG_RETURN_DATUM(HeapTupleGetDatum(outcome_tuple(TupleDescGetAttInMetadata(tupdesc), &o)));
}

/*
 * tf_disconnect_many(numbers tfn[], ...) RETURNS SETOF disconnect_result
 *		One request per number, in order; refusals are rows.
 */
Datum
tf_disconnect_many(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AttInMetadata *meta;
	DisconnectSpec spec;
	char	  **numbers;
	int			nnumbers;

	tf_numadmin_enter();
	InitMaterializedSRF(fcinfo, 0);
	meta = TupleDescGetAttInMetadata(rsinfo->setDesc);
	if (PG_ARGISNULL(0))
		return (Datum) 0;

	numbers = tf_numbers_from_array(PG_GETARG_DATUM(0), &nnumbers);
	read_spec(fcinfo, &spec);

	for (int i = 0; i < nnumbers; i++)
	{
		DisconnectOutcome o;

		run_disconnect(&spec, numbers[i], &o);
		tuplestore_puttuple(rsinfo->setResult, outcome_tuple(meta, &o));
	}
	return (Datum) 0;
}
