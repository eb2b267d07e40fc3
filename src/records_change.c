/*-------------------------------------------------------------------------
 *
 * records_change.c
 *		tf_copy_record and tf_update_record: new and changed record versions.
 *
 * Both functions check every argument before any request is sent (effective
 * date/times, parts, template names, the record document), then make one
 * state-changing request, which the transport never resends.  The registry's
 * own refusals (no source record, target not reserved, stale recVersionId,
 * record locked, CPR or LAD copied into a pointer record, ...) come back
 * through the client's error mapping with the registry code in the detail.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/xml.h"

#include "numadmin.h"
#include "records.h"

PG_FUNCTION_INFO_V1(tf_copy_record);
PG_FUNCTION_INFO_V1(tf_update_record);

/* Raise 22004 when argument argno is NULL. */
static void
require_argument(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
}

/*
 * normalize_number
 *		The 10-digit form of text written as a toll-free number, through the
 *		tfn type's input and output functions (typid is tfn's OID).
 */
static char *
normalize_number(Oid typid, const char *text)
{
	Oid			output;
	bool		varlena;
	Datum		value = tf_text_datum(typid, text);

	getTypeOutputInfo(typid, &output, &varlena);
	return OidOutputFunctionCall(output, value);
}

/*
 * change_result
 *		Decode a <recResponse>, write it through to toll_free.records and the
 *		requests row request_id, and build the result row (number,
 *		effective, status, version).  parts is what the new version holds,
 *		when known.
 */
static Datum
change_result(FunctionCallInfo fcinfo, StringInfo body, const char *number,
			  const char *parts, int64 request_id)
{
	TupleDesc	tupdesc;
	xmlDocPtr	doc;
	TfRecordSummary summary;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	doc = tf_record_parse(body->data, body->len, true, "recResponse");
	tf_record_read_summary(xmlDocGetRootElement(doc), &summary);
	if (summary.number == NULL || strcmp(summary.number, number) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_CONTENT),
				 errmsg("registry answered for number %s instead of %s",
						summary.number ? summary.number : "(none)", number)));
	if (summary.parts == NULL && parts != NULL)
		summary.parts = pstrdup(parts);

	tf_records_upsert(&summary);
	tf_records_changed(request_id, 200, tf_record_summary_json(&summary));

	values[0] = tf_text_datum(TupleDescAttr(tupdesc, 0)->atttypid, summary.number);
	values[1] = TimestampTzGetDatum(summary.effective);
	values[2] = tf_text_datum(TupleDescAttr(tupdesc, 2)->atttypid, summary.status);
	if (summary.version != NULL)
		values[3] = CStringGetTextDatum(summary.version);
	else
		nulls[3] = true;

	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/*
 * tf_copy_record
 *		SQL: tf_copy_record(source text, target tfn, source_effective
 *		timestamptz, target_effective timestamptz, parts text, pointer
 *		boolean) returns (number, effective, status, version).
 *
 * source is a number in any form the tfn type accepts, or a template name
 * ('*' first).  A NULL target_effective means NOW; a NULL source_effective
 * lets the registry pick the source version.
 */
Datum
tf_copy_record(PG_FUNCTION_ARGS)
{
	Oid			tfn_type = get_fn_expr_argtype(fcinfo->flinfo, 1);
	char	   *source;
	char	   *target;
	char	   *parts;
	bool		pointer;
	char		source_time[TF_EFFECTIVE_LEN] = "";
	char		target_time[TF_EFFECTIVE_LEN] = "NOW";
	bool		from_template;
	StringInfoData payload;
	StringInfoData arguments;
	StringInfoData body;
	int64		request_id;
	Datum		result;

	require_argument(fcinfo, 0, "source");
	require_argument(fcinfo, 1, "target");
	require_argument(fcinfo, 4, "parts");
	require_argument(fcinfo, 5, "pointer");
	tf_numadmin_enter();

	/* Check everything before the request. */
	source = text_to_cstring(PG_GETARG_TEXT_PP(0));
	from_template = (source[0] == '*');
	if (from_template)
		source = tf_template_name_check(source);
	else
		source = normalize_number(tfn_type, source);

	target = tf_arg_number(fcinfo, 1);

	if (!PG_ARGISNULL(2))
	{
		tf_effective_check(PG_GETARG_TIMESTAMPTZ(2), TF_EFFECTIVE_LOOKUP,
						   "source_effective");
		tf_effective_format(PG_GETARG_TIMESTAMPTZ(2), source_time);
	}
	if (!PG_ARGISNULL(3))
	{
		tf_effective_check(PG_GETARG_TIMESTAMPTZ(3), TF_EFFECTIVE_TARGET,
						   "target_effective");
		tf_effective_format(PG_GETARG_TIMESTAMPTZ(3), target_time);
	}

	parts = tf_record_parts_check(text_to_cstring(PG_GETARG_TEXT_PP(4)));
	pointer = PG_GETARG_BOOL(5);

	/*
	 * Every value was checked above to consist of digits, upper-case
	 * letters, '*', '-', ':', ',' and spaces, so none needs XML escaping.
	 */
	initStringInfo(&payload);
	appendStringInfoString(&payload, "<recCopy>");
	appendStringInfo(&payload, from_template ?
					 "<srcTmplName>%s</srcTmplName>" : "<srcNum>%s</srcNum>",
					 source);
	if (source_time[0] != '\0')
		appendStringInfo(&payload, "<srcEffDtTm>%s</srcEffDtTm>", source_time);
	appendStringInfo(&payload, "<tgtNum>%s</tgtNum>", target);
	appendStringInfo(&payload, "<tgtEffDtTm>%s</tgtEffDtTm>", target_time);
	appendStringInfo(&payload, "<custRecCompPart>%s</custRecCompPart>", parts);
	appendStringInfo(&payload, "<pointer>%s</pointer>", pointer ? "Y" : "N");
	appendStringInfoString(&payload, "</recCopy>");

	initStringInfo(&arguments);
	appendStringInfoString(&arguments, "{\"source\": ");
	tf_json_string(&arguments, source);
	appendStringInfoString(&arguments, ", \"source_effective\": ");
	tf_json_string(&arguments, source_time[0] ? source_time : NULL);
	appendStringInfoString(&arguments, ", \"target_effective\": ");
	tf_json_string(&arguments, target_time);
	appendStringInfoString(&arguments, ", \"parts\": ");
	tf_json_string(&arguments, parts);
	appendStringInfo(&arguments, ", \"pointer\": %s}", pointer ? "true" : "false");

	initStringInfo(&body);
	request_id = tf_records_change("copy_record", target, arguments.data,
								   "POST", "/cus/rec/copy",
								   payload.data, payload.len, &body);

	result = change_result(fcinfo, &body, target, pointer ? NULL : parts,
						   request_id);

	PG_RETURN_DATUM(result);
}

/*
 * update_document_check
 *		Check a caller's custRec document for number and return whether it
 *		names an existing version (has a recVersionId).
 *
 * The document must be a number's record (<num>, not a template's
 * <tmplName>) for the same number, with an effective date/time that is NOW
 * or a valid target time.  <num> is rewritten in the 10-digit form.
 */
static bool
update_document_check(xmlNodePtr root, Oid tfn_type, const char *number)
{
	char	   *doc_number = tf_record_child_text(root, "num");
	char	   *effective = tf_record_child_text(root, "effDtTm");
	char	   *version = tf_record_child_text(root, "recVersionId");

	if (doc_number == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("record document has no <num> element"),
				 errhint("tf_update_record changes a number's records; templates are changed at the registry.")));

	if (strcmp(normalize_number(tfn_type, doc_number), number) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("record document is for number %s, not %s",
						doc_number, number)));

	/* The registry takes only the 10-digit form. */
	xmlNodeSetContent(tf_record_child(root, "num"), BAD_CAST number);

	if (effective == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("record document has no <effDtTm> element"),
				 errhint("Give the effective date/time as YYYY-MM-DDThh:mm:ssZ or NOW.")));

	if (strcmp(effective, "NOW") != 0)
		tf_effective_check(tf_effective_parse(effective, "record document"),
						   TF_EFFECTIVE_TARGET, "<effDtTm>");

	return (version != NULL && version[0] != '\0');
}

/*
 * tf_update_record
 *		SQL: tf_update_record(num tfn, record xml, submit boolean DEFAULT
 *		true) returns (number, effective, status, version).
 *
 * A document with a recVersionId changes that future version (PUT); one
 * without creates a new version (POST).  submit = false saves the record
 * without submitting it (cmd S, status SAVED).
 */
Datum
tf_update_record(PG_FUNCTION_ARGS)
{
	Oid			tfn_type = get_fn_expr_argtype(fcinfo->flinfo, 0);
	char	   *number;
	text	   *record;
	bool		submit;
	xmlDocPtr	doc;
	xmlNodePtr	root;
	bool		existing;
	text	   *payload;
	char	   *parts;
	char		arguments[96];
	StringInfoData body;
	int64		request_id;
	Datum		result;

	require_argument(fcinfo, 0, "num");
	require_argument(fcinfo, 1, "record");
	require_argument(fcinfo, 2, "submit");
	tf_numadmin_enter();

	number = tf_arg_number(fcinfo, 0);
	record = PG_GETARG_TEXT_PP(1);
	submit = PG_GETARG_BOOL(2);

	doc = tf_record_parse(VARDATA_ANY(record), VARSIZE_ANY_EXHDR(record),
						  false, "custRec");
	root = xmlDocGetRootElement(doc);
	existing = update_document_check(root, tfn_type, number);

	parts = tf_record_child_text(root, "custRecCompPart");

	/* cmd U submits (validate and process), S only saves. */
	xmlSetProp(root, BAD_CAST "cmd", BAD_CAST(submit ? "U" : "S"));
	payload = tf_record_serialize(root, false);

	snprintf(arguments, sizeof(arguments),
			 "{\"submit\": %s, \"method\": \"%s\"}",
			 submit ? "true" : "false", existing ? "PUT" : "POST");

	initStringInfo(&body);
	request_id = tf_records_change("update_record", number, arguments,
								   existing ? "PUT" : "POST", "/cus/rec",
								   VARDATA_ANY(payload),
								   VARSIZE_ANY_EXHDR(payload), &body);

	result = change_result(fcinfo, &body, number, parts, request_id);

	PG_RETURN_DATUM(result);
}
