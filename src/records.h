/*-------------------------------------------------------------------------
 *
 * records.h
 *		Customer records (CR): query, retrieve, copy and update.
 *
 * The SQL functions live in records_query.c, records_retrieve.c and
 * records_change.c.  This header declares the helpers they share: effective
 * date/time checks (records_time.c), the hardened parser and the custRec
 * document helpers (records_xml.c), the write-through to toll_free.records
 * (records_store.c) and the registry requests with their rows in
 * toll_free.requests (records_call.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_RECORDS_H
#define TOLL_FREE_RECORDS_H

#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/timestamp.h"

#include <libxml/tree.h>

/* Maximum length of an effective date/time text, "YYYY-MM-DDThh:mm:ssZ", plus NUL. */
#define TF_EFFECTIVE_LEN	21

/* Deepest element nesting accepted in a record document. */
#define TF_RECORD_MAX_DEPTH 32

/* Most pages of a record list read in one call (10 records a page). */
#define TF_RECORD_MAX_PAGES 1000

/*
 * Summary of one record version: a row of a record list, or what a retrieve,
 * copy or update returned.  Strings are palloc'd; NULL when absent.
 */
typedef struct TfRecordSummary
{
	char	   *number;			/* 10 digits */
	TimestampTz effective;
	char	   *status;			/* custRecStat */
	char	   *parts;			/* custRecCompPart */
	char	   *approval;		/* apprStat */
	char	   *action;			/* actionCode */
	char	   *version;		/* recVersionId */
} TfRecordSummary;

/* records_time.c */
typedef enum TfEffectiveUse
{
	TF_EFFECTIVE_TARGET,		/* a new record's time: future, 6 months */
	TF_EFFECTIVE_LOOKUP			/* an existing record's time: any quarter hour */
} TfEffectiveUse;

extern void tf_effective_check(TimestampTz ts, TfEffectiveUse use,
							   const char *argname);
extern void tf_effective_format(TimestampTz ts, char *buf);
extern TimestampTz tf_effective_parse(const char *text, const char *what);

/* records_xml.c */
extern xmlDocPtr tf_record_parse(const char *data, size_t len,
								 bool from_registry, const char *root);
extern char *tf_record_child_text(xmlNodePtr parent, const char *name);
extern xmlNodePtr tf_record_child(xmlNodePtr parent, const char *name);
extern text *tf_record_serialize(xmlNodePtr node, bool to_server_encoding);
extern void tf_record_read_summary(xmlNodePtr node, TfRecordSummary *summary);
extern const char *tf_record_status_check(const char *status);

/* records_args.c */
extern char *tf_arg_number(FunctionCallInfo fcinfo, int argno);
extern Datum tf_text_datum(Oid typid, const char *text);
extern char *tf_template_name_check(const char *name);
extern char *tf_record_parts_check(const char *parts);

/* records_store.c */
extern void tf_records_replace(const char *number, List *summaries);
extern void tf_records_upsert(const TfRecordSummary *summary);
extern char *tf_record_summary_json(const TfRecordSummary *summary);

/* records_call.c */
struct TfExchange;
extern void tf_records_fetch(const char *operation, const char *number,
							 const char *arguments_json, const char *path,
							 StringInfo body, struct TfExchange *ex);
extern int64 tf_records_fetched(const char *operation, const char *number,
								const char *arguments_json,
								const struct TfExchange *ex,
								const char *result_json);
extern int64 tf_records_change(const char *operation, const char *number,
							   const char *arguments_json, const char *method,
							   const char *path, const char *payload,
							   size_t payload_len, StringInfo body);
extern void tf_records_changed(int64 request_id, long http_status,
							   const char *result_json);

#endif							/* TOLL_FREE_RECORDS_H */
