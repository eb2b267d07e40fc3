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

#include "records.h"
#include "toll_free.h"

PG_FUNCTION_INFO_V1(tf_retrieve);
PG_FUNCTION_INFO_V1(tf_retrieve_template);

/*
 * retrieve_path
 *		path plus "?effDtTm=..." when the effective argument is not NULL; the
 *		time is checked here, before any request is sent.
 */
static char *
retrieve_path(const char *path, FunctionCallInfo fcinfo, int effective_arg)
{
	StringInfoData url;

	initStringInfo(&url);
	appendStringInfoString(&url, path);
	if (!PG_ARGISNULL(effective_arg))
	{
		TimestampTz effective = PG_GETARG_TIMESTAMPTZ(effective_arg);
		char		formatted[TF_EFFECTIVE_LEN];

		tf_effective_check(effective, TF_EFFECTIVE_LOOKUP, "effective");
		tf_effective_format(effective, formatted);
		appendStringInfo(&url, "?effDtTm=%s", formatted);
	}
	return url.data;
}

/*
 * retrieve_record
 *		GET the record at path and return its checked, parsed document.
 */
static xmlDocPtr
retrieve_record(const char *path)
{
	StringInfoData body;

	initStringInfo(&body);
	tf_records_get(path, &body);

	return tf_record_parse(body.data, body.len, true, "custRec");
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
	char		path[64];
	char	   *url;
	int64		request_id;
	xmlDocPtr	doc;
	xmlNodePtr	root;
	TfRecordSummary summary;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();

	tf_require_preload("registry calls");
	number = tf_arg_number(fcinfo, 0);

	snprintf(path, sizeof(path), "/cus/rec/tfnum/%s", number);
	url = retrieve_path(path, fcinfo, 1);

	request_id = tf_records_audit_begin("retrieve", number, NULL);
	doc = retrieve_record(url);
	root = xmlDocGetRootElement(doc);

	tf_record_read_summary(root, &summary);
	if (summary.number == NULL || strcmp(summary.number, number) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_CONTENT),
				 errmsg("registry returned a record of number %s for number %s",
						summary.number ? summary.number : "(none)", number)));

	tf_records_upsert(&summary);
	tf_records_audit_end(request_id, 200, NULL);

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
	char		path[64];
	char	   *url;
	char	   *arguments;
	int64		request_id;
	xmlDocPtr	doc;
	xmlNodePtr	root;
	char	   *returned;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();

	tf_require_preload("registry calls");
	name = tf_template_name_check(text_to_cstring(PG_GETARG_TEXT_PP(0)));

	/* The leading '*' is sent percent-encoded; the rest needs no escaping. */
	snprintf(path, sizeof(path), "/cus/tpl/tmplName/%%2A%s", name + 1);
	url = retrieve_path(path, fcinfo, 1);

	arguments = psprintf("{\"template\": \"%s\"}", name);
	request_id = tf_records_audit_begin("retrieve_template", NULL, arguments);
	doc = retrieve_record(url);
	root = xmlDocGetRootElement(doc);

	returned = tf_record_child_text(root, "tmplName");
	if (returned == NULL || strcmp(returned, name) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_CONTENT),
				 errmsg("registry returned template %s for template %s",
						returned ? returned : "(none)", name)));
	tf_effective_parse(tf_record_child_text(root, "effDtTm"), "registry response");
	tf_record_status_check(tf_record_child_text(root, "custRecStat"));

	tf_records_audit_end(request_id, 200, NULL);

	PG_RETURN_XML_P((xmltype *) tf_record_serialize(root, true));
}
