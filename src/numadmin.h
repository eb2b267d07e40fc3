/*-------------------------------------------------------------------------
 *
 * numadmin.h
 *		Helpers shared by the number administration functions (tf_query,
 *		tf_search, tf_reserve, tf_spare, tf_disconnect, tf_change_resporg,
 *		tf_request_status).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_NUMADMIN_H
#define TOLL_FREE_NUMADMIN_H

#include "postgres.h"

#include "access/htup.h"
#include "funcapi.h"
#include "lib/stringinfo.h"

#include "audit.h"
#include "dialect.h"
#include "registry.h"

/* Numbers per number-administration request (protocol limit). */
#define TF_MAX_NUMBERS_PER_REQUEST	10

/* One registry request run to the end, with its body decoded. */
typedef struct TfExchange
{
	TfCallOutcome outcome;
	TfResponse	response;		/* decoded 2xx body (zeroed otherwise) */
	bool		ok;				/* 2xx response */
	TimestampTz started_at;
} TfExchange;

/* Entry checks of every registry function: preload, pending audit rows. */
extern void tf_numadmin_enter(void);

/*
 * The ten digits of argument argno, which is a tfn or a text (the text
 * overloads let an untyped literal such as '8005550100' pick the
 * one-number function over the tfn[] one).
 */
extern char *tf_number_arg(FunctionCallInfo fcinfo, int argno);

/* The ten digits of a tfn value, palloc'd. */
extern char *tf_number_text(Datum tfn);

/* Array literal of ten-digit numbers, e.g. {8005550100,8005550101}. */
extern char *tf_numbers_literal(const char *const *numbers, int nnumbers);

/* The elements of a tfn[] argument as ten-digit strings; NULL elements raise. */
extern char **tf_numbers_from_array(Datum array, int *nnumbers);

/* Prepare a call (not sent yet) that never raises for the registry's response. */
extern TfRegistryCall *tf_exchange_open(const char *method, const char *path,
										const char *body, size_t body_len,
										bool changes_state, int flags,
										StringInfo response_body);

/* Run a prepared call to the end and fill ex->outcome and ex->ok; the body stays undecoded. */
extern void tf_exchange_run(TfRegistryCall *call, TfExchange *ex);

/* Run a prepared call to the end and decode its 2xx body into ex. */
extern void tf_exchange_finish(TfRegistryCall *call, StringInfo response_body,
							   TfExchange *ex);

/* tf_exchange_open + tf_exchange_finish. */
extern void tf_exchange(const char *method, const char *path, const char *body,
						size_t body_len, bool changes_state, int flags, TfExchange *ex);

/* Audit outcome columns for an unsuccessful exchange. */
extern void tf_failed_outcome(const TfExchange *ex, TfAuditOutcome *audit);

/*
 * Write the requests row of a read-only exchange and return its id; an
 * unsuccessful exchange gets a row that survives the rollback, and raises.
 */
extern int64 tf_record_read_only(const char *operation, const char *numbers,
								 const char *arguments, const TfExchange *ex,
								 const char *result_json);

/* Raise the error of an unsuccessful exchange. */
extern void tf_raise_exchange(const char *what, const TfExchange *ex) pg_attribute_noreturn();

/* JSON of a list of TfNumInfo, e.g. {"numbers":[{"num":"8005550100",...}]}. */
extern char *tf_numbers_json(List *numbers, List *warnings);

/* Append a JSON string or null. */
extern void tf_json_string(StringInfo buf, const char *value);

/* The first ERROR entry of a number's errList, or NULL. */
extern TfRegistryMessage *tf_number_error(const TfNumInfo *info);

/* Raise WARNINGs for the WARN entries of a response's errList. */
extern void tf_report_warnings(List *errors);

/* BuildTupleFromCStrings for registry values; a rejected value raises TF009. */
extern HeapTuple tf_registry_tuple(AttInMetadata *meta, char **values);

/* A number_info row (toll_free.number_info) for one numInfo. */
extern HeapTuple tf_number_info_tuple(AttInMetadata *meta, const TfNumInfo *info);

/* A number_result row for one numResult or a reconciled number. */
extern HeapTuple tf_number_result_tuple(AttInMetadata *meta, const TfNumInfo *info,
										bool ok, const char *code, const char *message,
										int64 request_id);

/*
 * Write what a call learned about a number through to toll_free.numbers
 * and number_history.  partial: the response carried only some fields (a
 * numResult), so absent ones keep their stored values.  default_resporg
 * stands in for an absent ctrlRespOrgId.
 */
extern void tf_write_through(const TfNumInfo *info, bool partial,
							 const char *default_resporg, int64 request_id);

/* Query up to ten numbers (PUT /num/tfn/query) to reconcile or for versions. */
extern void tf_query_numbers(const char *const *numbers, int nnumbers, TfExchange *ex);

/* The TfNumInfo for number in a list, or NULL. */
extern TfNumInfo *tf_find_number(List *numbers, const char *number);

#endif							/* TOLL_FREE_NUMADMIN_H */
