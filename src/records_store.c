/*-------------------------------------------------------------------------
 *
 * records_store.c
 *		Write-through of record summaries to toll_free.records.
 *
 * Readers may call tf_query_records and tf_retrieve but hold only SELECT on
 * toll_free.records, so the rows are written with the rights of the table's
 * owner (the extension owner), under a restricted security context, as
 * PostgreSQL does for REFRESH MATERIALIZED VIEW.  The SQL is fixed and
 * schema-qualified, and only the values come from the registry.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "audit.h"
#include "records.h"
#include "toll_free.h"

#define RECORD_UPSERT_SQL \
	"INSERT INTO toll_free.records AS r" \
	" (number, effective, status, parts, approval, action, version, seen_at)" \
	" VALUES ($1::pg_catalog.text::toll_free.tfn, $2," \
	" $3::pg_catalog.text::toll_free.record_status, $4, $5, $6, $7," \
	" pg_catalog.now())" \
	" ON CONFLICT (number, effective) DO UPDATE SET" \
	" status = excluded.status," \
	" parts = COALESCE(excluded.parts, r.parts)," \
	" approval = COALESCE(excluded.approval, r.approval)," \
	" action = COALESCE(excluded.action, r.action)," \
	" version = COALESCE(excluded.version, r.version)," \
	" seen_at = excluded.seen_at"

#define RECORD_DELETE_SQL \
	"DELETE FROM toll_free.records" \
	" WHERE number OPERATOR(toll_free.=) $1::pg_catalog.text::toll_free.tfn"

/* Upsert one summary; SPI must be connected. */
static void
records_upsert_one(const TfRecordSummary *summary)
{
	Oid			types[7] = {TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, TEXTOID};
	Datum		values[7];
	char		nulls[7];
	const char *texts[7];
	int			i;
	int			rc;

	texts[0] = summary->number;
	texts[1] = NULL;
	texts[2] = summary->status;
	texts[3] = summary->parts;
	texts[4] = summary->approval;
	texts[5] = summary->action;
	texts[6] = summary->version;

	for (i = 0; i < 7; i++)
	{
		nulls[i] = (texts[i] == NULL) ? 'n' : ' ';
		values[i] = texts[i] ? CStringGetTextDatum(texts[i]) : (Datum) 0;
	}
	nulls[1] = ' ';
	values[1] = TimestampTzGetDatum(summary->effective);

	rc = SPI_execute_with_args(RECORD_UPSERT_SQL, 7, types, values, nulls,
							   false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "could not write toll_free.records: %s",
			 SPI_result_code_string(rc));
}

/*
 * records_write
 *		Run the write-through as the table owner: delete the number's rows
 *		first when replace_number is set, then upsert each summary.
 */
static void
records_write(const char *replace_number, List *summaries)
{
	Oid			save_userid;
	int			save_sec_context;
	ListCell   *lc;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(tf_table_owner("records"),
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);

	/* An error below aborts the transaction, which restores the user. */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (replace_number != NULL)
	{
		Oid			types[1] = {TEXTOID};
		Datum		values[1] = {CStringGetTextDatum(replace_number)};
		int			rc;

		rc = SPI_execute_with_args(RECORD_DELETE_SQL, 1, types, values, NULL,
								   false, 0);
		if (rc != SPI_OK_DELETE)
			elog(ERROR, "could not write toll_free.records: %s",
				 SPI_result_code_string(rc));
	}

	foreach(lc, summaries)
		records_upsert_one((const TfRecordSummary *) lfirst(lc));

	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
}

/*
 * tf_records_replace
 *		Make the number's rows in toll_free.records exactly the summaries of
 *		a complete record list.
 */
void
tf_records_replace(const char *number, List *summaries)
{
	records_write(number, summaries);
}

/*
 * tf_records_upsert
 *		Insert or refresh one record version's row.  Fields the summary lacks
 *		keep their stored values.
 */
void
tf_records_upsert(const TfRecordSummary *summary)
{
	TfRecordSummary copy = *summary;

	records_write(NULL, list_make1(&copy));
}

/* Append "name": value to buf, value as a JSON string or null. */
static void
json_member(StringInfo buf, const char *name, const char *value)
{
	if (buf->len > 1)
		appendStringInfoString(buf, ", ");
	escape_json(buf, name);
	appendStringInfoString(buf, ": ");
	if (value == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, value);
}

/*
 * tf_record_summary_json
 *		A summary as a JSON object, for the result column of
 *		toll_free.requests.
 */
char *
tf_record_summary_json(const TfRecordSummary *summary)
{
	StringInfoData buf;
	char		effective[TF_EFFECTIVE_LEN];

	tf_effective_format(summary->effective, effective);

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	json_member(&buf, "num", summary->number);
	json_member(&buf, "effective", effective);
	json_member(&buf, "status", summary->status);
	json_member(&buf, "parts", summary->parts);
	json_member(&buf, "approval", summary->approval);
	json_member(&buf, "action", summary->action);
	json_member(&buf, "version", summary->version);
	appendStringInfoChar(&buf, '}');
	return buf.data;
}
