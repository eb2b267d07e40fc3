/*-------------------------------------------------------------------------
 *
 * numadmin_query.c
 *		Read-only registry functions: tf_query (one number or an array),
 *		tf_search and tf_request_status.
 *
 * Their toll_free.requests rows follow the caller's transaction when the
 * call succeeds (nothing changed at the registry); the row of a failed call
 * survives a rollback, so failures stay visible.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "errors.h"
#include "numadmin.h"
#include "settings.h"
#include "toll_free.h"

PG_FUNCTION_INFO_V1(tf_query);
PG_FUNCTION_INFO_V1(tf_query_many);
PG_FUNCTION_INFO_V1(tf_search);

/*
 * tf_query(number tfn) RETURNS toll_free.number_info
 *		What the registry reports about one number.
 *
 * TODO: each call also inserts its requests row and writes the number
 * through to toll_free.numbers.  Together they make a call cost about five
 * times a bare libcurl request on the same connection (bench/b3_per_call.sh),
 * and a setting to skip the audit row of read-only calls would remove most
 * of that.
 */
Datum
tf_query(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	char	   *number;
	char	   *path;
	TfExchange	ex;
	TfNumInfo  *info;
	int64		request_id;
	HeapTuple	tuple;
	MemoryContext work;
	MemoryContext old;

	tf_numadmin_enter();

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	work = AllocSetContextCreate(CurrentMemoryContext, "tf_query", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(work);

	number = tf_number_arg(fcinfo, 0);
	path = psprintf("/num/tfn/query/tfn/%s", number);
	tf_exchange("GET", path, NULL, 0, false, 0, &ex);

	info = ex.ok && ex.response.numbers != NIL ?
		(TfNumInfo *) linitial(ex.response.numbers) : NULL;
	request_id = tf_record_read_only("query", psprintf("{%s}", number), NULL, &ex,
								  ex.ok ? tf_numbers_json(ex.response.numbers, NIL) : NULL);
	if (info == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_TF_REGISTRY_FAULT),
				 errmsg("registry responded a query without number information"),
				 errdetail("Number %s, document element \"%s\".", number,
						   ex.response.root ? ex.response.root : "(none)")));

	tf_write_through(info, false, NULL, request_id);

	MemoryContextSwitchTo(old);
	tuple = tf_number_info_tuple(TupleDescGetAttInMetadata(tupdesc), info);
	MemoryContextDelete(work);

	PG_RETURN_DATUM(HeapTupleGetDatum(tuple));
}

/*
 * tf_query_many(numbers tfn[]) RETURNS SETOF toll_free.number_info
 *		Query many numbers: requests of at most ten numbers, up to
 *		toll_free.max_connections of them at once.  Rows come back in the
 *		order of the array.
 */
Datum
tf_query_many(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AttInMetadata *meta;
	char	  **numbers;
	int			nnumbers;
	int			nbatches;
	TfRegistryCall **calls;
	StringInfoData *bodies;
	char	  **documents;
	size_t	   *lengths;
	TimestampTz *started;
	MemoryContext work;
	MemoryContext old;
	int			next_to_start = 0;

	tf_numadmin_enter();
	InitMaterializedSRF(fcinfo, 0);
	meta = TupleDescGetAttInMetadata(rsinfo->setDesc);

	work = AllocSetContextCreate(CurrentMemoryContext, "tf_query", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(work);

	numbers = tf_numbers_from_array(PG_GETARG_DATUM(0), &nnumbers);
	nbatches = (nnumbers + TF_MAX_NUMBERS_PER_REQUEST - 1) / TF_MAX_NUMBERS_PER_REQUEST;
	calls = palloc0(sizeof(TfRegistryCall *) * Max(nbatches, 1));
	bodies = palloc0(sizeof(StringInfoData) * Max(nbatches, 1));
	documents = palloc0(sizeof(char *) * Max(nbatches, 1));
	lengths = palloc0(sizeof(size_t) * Max(nbatches, 1));
	started = palloc0(sizeof(TimestampTz) * Max(nbatches, 1));

	for (int b = 0; b < nbatches; b++)
	{
		int			first = b * TF_MAX_NUMBERS_PER_REQUEST;
		int			count = Min(TF_MAX_NUMBERS_PER_REQUEST, nnumbers - first);

		documents[b] = tf_build_num_query((const char *const *) numbers + first, count,
										  &lengths[b]);
		initStringInfo(&bodies[b]);
	}

	for (int b = 0; b < nbatches; b++)
	{
		int			first = b * TF_MAX_NUMBERS_PER_REQUEST;
		int			count = Min(TF_MAX_NUMBERS_PER_REQUEST, nnumbers - first);
		TfExchange	ex;
		int64		request_id;
		ListCell   *lc;

		/* Keep up to max_connections requests in flight. */
		while (next_to_start < nbatches && next_to_start < b + tf_max_connections)
		{
			calls[next_to_start] = tf_exchange_open("PUT", "/num/tfn/query",
													documents[next_to_start],
													lengths[next_to_start], false, 0,
													&bodies[next_to_start]);
			started[next_to_start] = GetCurrentTimestamp();
			tf_registry_start(calls[next_to_start]);
			next_to_start++;
		}

		ex.started_at = started[b];
		tf_exchange_finish(calls[b], &bodies[b], &ex);
		calls[b] = NULL;

		request_id = tf_record_read_only("query",
									  tf_numbers_literal((const char *const *) numbers + first, count),
									  NULL, &ex, tf_numbers_json(ex.response.numbers, NIL));

		foreach(lc, ex.response.numbers)
		{
			TfNumInfo  *info = (TfNumInfo *) lfirst(lc);
			HeapTuple	tuple;

			tf_write_through(info, false, NULL, request_id);
			MemoryContextSwitchTo(old);
			tuple = tf_number_info_tuple(meta, info);
			tuplestore_puttuple(rsinfo->setResult, tuple);
			MemoryContextSwitchTo(work);
		}
	}

	MemoryContextSwitchTo(old);
	MemoryContextDelete(work);
	return (Datum) 0;
}

/*
 * check_search_arguments
 *		Fill spec from the SQL arguments, raising 22023 for bad values.
 */
static void
check_search_arguments(FunctionCallInfo fcinfo, TfSearchSpec *spec)
{
	memset(spec, 0, sizeof(TfSearchSpec));
	spec->quantity = PG_ARGISNULL(0) ? 1 : PG_GETARG_INT32(0);
	spec->npa = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	spec->pattern = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	spec->consecutive = PG_ARGISNULL(3) ? false : PG_GETARG_BOOL(3);

	if (spec->quantity < 1 || spec->quantity > TF_MAX_NUMBERS_PER_REQUEST)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("quantity must be between 1 and %d", TF_MAX_NUMBERS_PER_REQUEST),
				 errdetail("The registry returns at most %d numbers per search.",
						   TF_MAX_NUMBERS_PER_REQUEST)));

	if (spec->npa != NULL &&
		(strlen(spec->npa) != 3 || strspn(spec->npa, "0123456789") != 3))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid NPA \"%s\"", spec->npa),
				 errdetail("An NPA is three digits, for example 888.")));

	if (spec->pattern != NULL)
	{
		char	   *upper = pstrdup(spec->pattern);

		for (char *p = upper; *p; p++)
			*p = pg_toupper((unsigned char) *p);
		if (strlen(upper) != 10 ||
			strspn(upper, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*&") != 10)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid search pattern \"%s\"", spec->pattern),
					 errdetail("A pattern has exactly 10 characters: digits, letters, * (any digit) and & (a repeated digit).")));
		spec->pattern = upper;
	}
}

/*
 * tf_search(quantity, npa, pattern, consecutive, numbers) RETURNS SETOF tfn
 *		Spare numbers: specific (numbers given), by pattern, or random.
 *		Each number found is pre-reserved for the session's RespOrg for a
 *		short time (60 seconds at the registry).
 */
Datum
tf_search(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AttInMetadata *meta;
	TfSearchSpec spec;
	char	  **numbers = NULL;
	int			nnumbers = 0;
	int			nbatches;
	MemoryContext work;
	MemoryContext old;

	tf_numadmin_enter();
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	meta = TupleDescGetAttInMetadata(rsinfo->setDesc);

	work = AllocSetContextCreate(CurrentMemoryContext, "tf_search", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(work);

	check_search_arguments(fcinfo, &spec);
	if (!PG_ARGISNULL(4))
		numbers = tf_numbers_from_array(PG_GETARG_DATUM(4), &nnumbers);
	nbatches = numbers != NULL ?
		(nnumbers + TF_MAX_NUMBERS_PER_REQUEST - 1) / TF_MAX_NUMBERS_PER_REQUEST : 1;

	for (int b = 0; b < nbatches; b++)
	{
		TfExchange	ex;
		size_t		len;
		char	   *document;
		StringInfoData arguments;
		ListCell   *lc;

		if (numbers != NULL)
		{
			spec.numbers = (const char *const *) numbers + b * TF_MAX_NUMBERS_PER_REQUEST;
			spec.nnumbers = Min(TF_MAX_NUMBERS_PER_REQUEST,
								nnumbers - b * TF_MAX_NUMBERS_PER_REQUEST);
			spec.quantity = spec.nnumbers;
		}

		initStringInfo(&arguments);
		appendStringInfo(&arguments, "{\"quantity\":%d,\"npa\":", spec.quantity);
		tf_json_string(&arguments, spec.npa);
		appendStringInfoString(&arguments, ",\"pattern\":");
		tf_json_string(&arguments, spec.pattern);
		appendStringInfo(&arguments, ",\"consecutive\":%s}", spec.consecutive ? "true" : "false");

		document = tf_build_num_search(&spec, &len);
		tf_exchange("PUT", "/num/tfn/search", document, len, false, 0, &ex);

		tf_record_read_only("search",
						 numbers ? tf_numbers_literal(spec.numbers, spec.nnumbers) : NULL,
						 arguments.data, &ex, NULL);
		tf_report_warnings(ex.response.errors);

		foreach(lc, ex.response.found)
		{
			char	   *value = (char *) lfirst(lc);

			tuplestore_puttuple(rsinfo->setResult, tf_registry_tuple(meta, &value));
		}
	}

	MemoryContextSwitchTo(old);
	MemoryContextDelete(work);
	return (Datum) 0;
}
