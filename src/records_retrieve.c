/*-------------------------------------------------------------------------
 *
 * records_retrieve.c
 *		tf_retrieve and tf_retrieve_template: one whole record as XML.
 *
 * The registry's <custRec> document is parsed with the hardened parser
 * (records_xml.c) and returned re-serialized as an xml value, so it can be
 * stored, compared and queried with xpath().  Its schema is the record
 * document of docs/protocol.md, and tf_update_record accepts it back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/xml.h"

#include "numadmin.h"
#include "records.h"

PG_FUNCTION_INFO_V1(tf_retrieve);
PG_FUNCTION_INFO_V1(tf_retrieve_template);

/*
 * retrieve_effective
 *		The effective argument in the registry's form, or NULL when it is
 *		NULL; the time is checked here, before any request is sent.
 */
static char *
retrieve_effective(FunctionCallInfo fcinfo, int effective_arg)
{
	TimestampTz effective;
	char	   *formatted;

	if (PG_ARGISNULL(effective_arg))
		return NULL;

	effective = PG_GETARG_TIMESTAMPTZ(effective_arg);
	tf_effective_check(effective, TF_EFFECTIVE_LOOKUP, "effective");
	formatted = palloc(TF_EFFECTIVE_LEN);
	tf_effective_format(effective, formatted);
	return formatted;
}

/*
 * tf_retrieve
 *		SQL: tf_retrieve(num tfn, effective timestamptz DEFAULT NULL) returns
 *		xml.  Without effective the registry chooses the record: the SENDING
 *		one, else ACTIVE or DISCONNECT, else FAILED, else the latest future one.
 */
Datum
tf_retrieve(PG_FUNCTION_ARGS)
{
	char	   *number;
	char	   *effective;
	StringInfoData path;
	StringInfoData arguments;
	StringInfoData body;
	TfExchange	ex;
	xmlDocPtr	doc;
	xmlNodePtr	root;
	TfRecordSummary summary;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();

	tf_numadmin_enter();
	number = tf_arg_number(fcinfo, 0);
	effective = retrieve_effective(fcinfo, 1);

	initStringInfo(&path);
	appendStringInfo(&path, "/cus/rec/tfnum/%s", number);
	initStringInfo(&arguments);
	appendStringInfoString(&arguments, "{\"effective\": ");
	tf_json_string(&arguments, effective);
	appendStringInfoChar(&arguments, '}');
	if (effective != NULL)
		appendStringInfo(&path, "?effDtTm=%s", effective);

	initStringInfo(&body);
	tf_records_fetch("retrieve", number, arguments.data, path.data, &body, &ex);
	doc = tf_record_parse(body.data, body.len, true, "custRec");
	root = xmlDocGetRootElement(doc);

	tf_record_read_summary(root, &summary);
	if (summary.number == NULL || strcmp(summary.number, number) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_CONTENT),
				 errmsg("registry returned a record of number %s for number %s",
						summary.number ? summary.number : "(none)", number)));

	tf_records_upsert(&summary);
	tf_records_fetched("retrieve", number, arguments.data, &ex,
					   tf_record_summary_json(&summary));

	PG_RETURN_XML_P((xmltype *) tf_record_serialize(root, true));
}

/*
 * tf_retrieve_template
 *		SQL: tf_retrieve_template(name text, effective timestamptz DEFAULT
 *		NULL) returns xml: a template record (root <custRec> with <tmplName>
 *		in place of <num>).
 */
Datum
tf_retrieve_template(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *effective;
	StringInfoData path;
	StringInfoData arguments;
	StringInfoData body;
	TfExchange	ex;
	xmlDocPtr	doc;
	xmlNodePtr	root;
	char	   *returned;
	TfRecordSummary summary;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();

	tf_numadmin_enter();
	name = tf_template_name_check(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	effective = retrieve_effective(fcinfo, 1);

	/* The leading '*' is sent percent-encoded; the rest needs no escaping. */
	initStringInfo(&path);
	appendStringInfo(&path, "/cus/tpl/tmplName/%%2A%s", name + 1);
	if (effective != NULL)
		appendStringInfo(&path, "?effDtTm=%s", effective);
	initStringInfo(&arguments);
	appendStringInfoString(&arguments, "{\"template\": ");
	tf_json_string(&arguments, name);
	appendStringInfoString(&arguments, ", \"effective\": ");
	tf_json_string(&arguments, effective);
	appendStringInfoChar(&arguments, '}');

	initStringInfo(&body);
	tf_records_fetch("retrieve_template", NULL, arguments.data, path.data,
					 &body, &ex);
	doc = tf_record_parse(body.data, body.len, true, "custRec");
	root = xmlDocGetRootElement(doc);

	returned = tf_record_child_text(root, "tmplName");
	if (returned == NULL || strcmp(returned, name) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_CONTENT),
				 errmsg("registry returned template %s for template %s",
						returned ? returned : "(none)", name)));
	tf_record_read_summary(root, &summary);

	tf_records_fetched("retrieve_template", NULL, arguments.data, &ex,
					   tf_record_summary_json(&summary));

	PG_RETURN_XML_P((xmltype *) tf_record_serialize(root, true));
}
