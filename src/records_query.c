/*-------------------------------------------------------------------------
 *
 * records_query.c
 *		tf_query_records: every record version of a number.
 *
 * The registry lists at most 10 record versions per response, in ascending
 * effective date/time, with more = Y when further versions exist.  The next
 * page is asked for with startEffDtTm set to the last effective date/time
 * seen (exclusive).  All pages are read before any row is returned, so the
 * caller never sees a partial list, and the number's rows in
 * toll_free.records are replaced with the complete list.  Each page is one
 * registry request and one row in toll_free.requests.
 *
 * The first page also carries the number's status and RespOrg, which are
 * written through to toll_free.numbers as the client's functions do.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "numadmin.h"
#include "records.h"

PG_FUNCTION_INFO_V1(tf_query_records);

/*
 * query_records_page
 *		Fetch and decode one page; append its summaries to *summaries.
 *		Returns true when the registry reports that more versions follow.
 *
 * The number's status and RespOrg from the page go to *info, and the id of
 * the page's requests row to *request_id.
 */
static bool
query_records_page(const char *number, const char *start, List **summaries,
				   TfNumInfo *info, int64 *request_id)
{
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext page_context;
	StringInfoData path;
	StringInfoData arguments;
	StringInfoData body;
	TfExchange	ex;
	xmlDocPtr	doc;
	xmlNodePtr	root;
	xmlNodePtr	list;
	xmlNodePtr	rec;
	char	   *more;
	bool		has_more;
	int			count = 0;

	page_context = AllocSetContextCreate(CurrentMemoryContext,
										 "toll_free record list page",
										 ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(page_context);

	initStringInfo(&path);
	appendStringInfo(&path, "/cus/rec/query/%s", number);
	initStringInfo(&arguments);
	appendStringInfoString(&arguments, "{\"start\": ");
	if (start != NULL)
	{
		appendStringInfo(&path, "?startEffDtTm=%s", start);
		appendStringInfo(&arguments, "\"%s\"}", start);
	}
	else
		appendStringInfoString(&arguments, "null}");

	initStringInfo(&body);
	tf_records_fetch("query_records", number, arguments.data, path.data,
					 &body, &ex);

	doc = tf_record_parse(body.data, body.len, true, "recQueryResponse");
	root = xmlDocGetRootElement(doc);

	list = tf_record_child(root, "lstEffDtTms");
	for (rec = list ? list->children : NULL; rec != NULL; rec = rec->next)
	{
		TfRecordSummary *summary;

		if (rec->type != XML_ELEMENT_NODE ||
			strcmp((const char *) rec->name, "rec") != 0)
			continue;

		MemoryContextSwitchTo(outer);
		summary = palloc(sizeof(TfRecordSummary));
		tf_record_read_summary(rec, summary);
		summary->number = pstrdup(number);
		*summaries = lappend(*summaries, summary);
		MemoryContextSwitchTo(page_context);
		count++;
	}

	more = tf_record_child_text(root, "more");
	has_more = (more != NULL && strcmp(more, "Y") == 0);

	MemoryContextSwitchTo(outer);
	info->status = tf_record_child_text(root, "numStatus");
	info->resporg = tf_record_child_text(root, "ctrlRespOrgId");
	*request_id = tf_records_fetched("query_records", number, arguments.data,
									 &ex,
									 psprintf("{\"records\": %d, \"more\": %s}",
											  count, has_more ? "true" : "false"));

	/* Deleting the page context also frees the parsed document. */
	MemoryContextDelete(page_context);

	return has_more;
}

/*
 * tf_query_records
 *		SQL: tf_query_records(num tfn) returns setof (number, effective,
 *		status, parts, approval, action, version).
 */
Datum
tf_query_records(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *number;
	List	   *summaries = NIL;
	char		start[TF_EFFECTIVE_LEN];
	bool		have_start = false;
	int			pages = 0;
	int64		first_request_id = 0;
	TfNumInfo	first_info;
	Oid			number_type;
	Oid			status_type;
	ListCell   *lc;

	tf_numadmin_enter();
	memset(&first_info, 0, sizeof(first_info));

	number = tf_arg_number(fcinfo, 0);
	InitMaterializedSRF(fcinfo, 0);
	number_type = TupleDescAttr(rsinfo->setDesc, 0)->atttypid;
	status_type = TupleDescAttr(rsinfo->setDesc, 2)->atttypid;

	for (;;)
	{
		int			before = list_length(summaries);
		TfNumInfo	info;
		int64		request_id;
		bool		more;

		memset(&info, 0, sizeof(info));
		more = query_records_page(number, have_start ? start : NULL,
								  &summaries, &info, &request_id);
		if (pages == 0)
		{
			first_info = info;
			first_request_id = request_id;
		}
		pages++;
		if (!more)
			break;

		/* The next page starts after the last version of this one. */
		if (list_length(summaries) == before)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_XML_CONTENT),
					 errmsg("registry response lists no records but says more follow"),
					 errdetail("Number %s, page %d.", number, pages)));
		tf_effective_format(((TfRecordSummary *) llast(summaries))->effective,
							start);
		have_start = true;

		if (pages >= TF_RECORD_MAX_PAGES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("number %s has more than %d pages of records",
							number, TF_RECORD_MAX_PAGES)));
	}

	/* The registry sorts ascending; a step back would mean a loop. */
	for (int i = 1; i < list_length(summaries); i++)
	{
		TfRecordSummary *prev = list_nth(summaries, i - 1);
		TfRecordSummary *cur = list_nth(summaries, i);

		if (cur->effective <= prev->effective)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_XML_CONTENT),
					 errmsg("registry response lists records out of order"),
					 errdetail("Number %s: effective date/times must ascend across pages.",
							   number)));
	}

	tf_records_replace(number, summaries);

	/* A first page without the number's status leaves toll_free.numbers alone. */
	if (first_info.status != NULL && first_info.resporg != NULL)
	{
		first_info.num = number;
		tf_write_through(&first_info, true, NULL, first_request_id);
	}

	foreach(lc, summaries)
	{
		TfRecordSummary *summary = lfirst(lc);
		Datum		values[7];
		bool		nulls[7];

		memset(nulls, 0, sizeof(nulls));
		values[0] = tf_text_datum(number_type, summary->number);
		values[1] = TimestampTzGetDatum(summary->effective);
		values[2] = tf_text_datum(status_type, summary->status);
		values[3] = summary->parts ? CStringGetTextDatum(summary->parts) : (Datum) 0;
		nulls[3] = (summary->parts == NULL);
		values[4] = summary->approval ? CStringGetTextDatum(summary->approval) : (Datum) 0;
		nulls[4] = (summary->approval == NULL);
		values[5] = summary->action ? CStringGetTextDatum(summary->action) : (Datum) 0;
		nulls[5] = (summary->action == NULL);
		values[6] = summary->version ? CStringGetTextDatum(summary->version) : (Datum) 0;
		nulls[6] = (summary->version == NULL);

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	return (Datum) 0;
}
