/*-------------------------------------------------------------------------
 *
 * queue_internal.h
 *		Declarations shared by the files of the request queue.
 *
 * queue_enqueue.c   tf_enqueue, tf_wait, the commit callback, shared memory
 * queue_ops.c       the queueable operations: argument checks, request
 *                   documents, and how to tell whether one took effect
 * queue_xml.c       reading registry responses into JSON for the result column
 * queue_worker.c    claim, send, record, resolve, purge
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_QUEUE_INTERNAL_H
#define TOLL_FREE_QUEUE_INTERNAL_H

#include "lib/stringinfo.h"
#include "port/atomics.h"
#include "utils/jsonb.h"

/* Channel of the NOTIFY sent when a queued request finishes. */
#define TF_QUEUE_NOTIFY_CHANNEL "toll_free_requests"

/* Operations that can be queued, in the order of tf_queue_operations[]. */
typedef enum TfQueueOp
{
	TF_OP_RESERVE,
	TF_OP_SPARE,
	TF_OP_DISCONNECT,
	TF_OP_CHANGE_RESPORG,
	TF_OP_COPY_RECORD,
	TF_OP_UPDATE_RECORD,
	TF_OP_COUNT
} TfQueueOp;

/* Kinds of argument values accepted in tf_enqueue's arguments object. */
typedef enum TfQueueArgType
{
	TF_ARG_TEXT,				/* any string up to 255 characters */
	TF_ARG_PHONE,				/* 10 digits */
	TF_ARG_BOOL,				/* JSON true or false */
	TF_ARG_EFFECTIVE,			/* 'NOW' or a quarter-hour UTC timestamp */
	TF_ARG_DATE_OR_NOW,			/* 'NOW' or YYYY-MM-DD */
	TF_ARG_RESPORG,				/* 5 upper-case letters or digits */
	TF_ARG_VERSION,				/* a recVersionId: digits */
	TF_ARG_SOURCE,				/* a 10-digit number or a template name '*...' */
	TF_ARG_RECORD				/* a <custRec> document */
} TfQueueArgType;

typedef struct TfQueueArgSpec
{
	const char *name;
	TfQueueArgType type;
	bool		required;
} TfQueueArgSpec;

typedef struct TfQueueOpSpec
{
	const char *name;			/* tf_enqueue's operation value */
	const TfQueueArgSpec *args; /* terminated by a NULL name */
} TfQueueOpSpec;

extern const TfQueueOpSpec tf_queue_operations[TF_OP_COUNT];

/* Shared state of the queue (plain data only). */
typedef struct TfQueueShared
{
	/* Set when an enqueuing transaction commits; cleared by the worker. */
	pg_atomic_uint32 work_committed;
} TfQueueShared;

extern TfQueueShared *tf_queue_shared;

/* queue_ops.c */
extern int	tf_queue_lookup_op(const char *name);
extern void tf_queue_check_arguments(TfQueueOp op, const char *number,
									 Jsonb *arguments);
extern char *tf_queue_arg(Jsonb *arguments, const char *key);

/*
 * One request document ready to send: method, path relative to toll_free.url
 * and body.
 */
typedef struct TfQueueRequestDoc
{
	const char *method;
	char	   *path;
	StringInfoData body;
} TfQueueRequestDoc;

extern void tf_queue_build_request(TfQueueOp op, const char *number,
								   Jsonb *arguments, const char *rec_version_id,
								   TfQueueRequestDoc *doc);
extern bool tf_queue_needs_version(TfQueueOp op, Jsonb *arguments);
extern char *tf_queue_fetch_version(const char *number);

/* Whether an unfinished request took effect, from a read-only look at the registry. */
typedef enum TfQueueEffect
{
	TF_EFFECT_PRESENT,			/* the operation took effect */
	TF_EFFECT_ABSENT,			/* it did not: sending it again is safe */
	TF_EFFECT_UNDECIDABLE		/* the registry's state cannot tell */
} TfQueueEffect;

extern TfQueueEffect tf_queue_check_effect(TfQueueOp op, const char *number,
										   Jsonb *arguments,
										   StringInfo result_json,
										   StringInfo number_response);
extern void tf_queue_query_number(const char *number, StringInfo body);

/* queue_xml.c */

/* The parts of a registry response the queue needs. */
typedef struct TfQueueAnswer
{
	bool		parsed;			/* false: the body was not a usable document */
	char	   *root;			/* name of the document element */
	char	   *json;			/* result column value (a JSON object) */
	char	   *req_id;			/* pendingResponse reqId */
	char	   *err_code;		/* first ERROR-level errCode, if any */
	char	   *err_msg;		/* its errMsg */
	char	   *status;			/* numInfo/numResult status */
	char	   *resporg;		/* ctrlRespOrgId */
	char	   *rec_version_id; /* recVersionId */
} TfQueueAnswer;

extern void tf_queue_parse_answer(const char *body, size_t len,
								  TfQueueAnswer *response);
extern bool tf_queue_record_exists(const char *body, size_t len,
								   const char *eff_dt_tm);
extern bool tf_queue_record_document_ok(const char *text, const char *number);

#endif							/* TOLL_FREE_QUEUE_INTERNAL_H */
