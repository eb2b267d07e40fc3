/*-------------------------------------------------------------------------
 *
 * dialect.h
 *		The registry's XML dialect behind a narrow interface: request
 *		builders and response decoders into C structs.
 *
 * SQL functions build requests and read responses only through these
 * declarations, so a second dialect (the registry's REST JSON, say) can be
 * added by implementing them again, without touching the SQL functions.
 * Element names are those of docs/protocol.md.
 *
 * Every string in the structs below is in the server encoding (converted
 * from UTF-8 by the decoder); a field that was absent is NULL.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_DIALECT_H
#define TOLL_FREE_DIALECT_H

#include "postgres.h"

#include "nodes/pg_list.h"

/* One errList entry: errCode, errMsg, errLvl (ERROR, WARN or INFO). */
typedef struct TfRegistryMessage
{
	char	   *code;
	char	   *message;
	char	   *level;
} TfRegistryMessage;

/*
 * A numInfo element (query, RespOrg check) or a numResult element (reserve,
 * update); numResult fills only num, status, resporg, reserved_until,
 * rec_version_id and errors.
 */
typedef struct TfNumInfo
{
	char	   *num;
	char	   *status;
	char	   *resporg;		/* ctrlRespOrgId */
	char	   *status_date;	/* effDt */
	char	   *reserved_until; /* resUntilDt */
	char	   *disconnect_until;	/* discUntilDt */
	char	   *last_active;	/* lastActDt */
	char	   *contact_name;	/* conName */
	char	   *contact_phone;	/* conTel */
	char	   *notes;			/* shrtNotes */
	char	   *rec_version_id;
	char	   *auction;		/* auctnInd */
	List	   *errors;			/* TfRegistryMessage, numResult only */
} TfNumInfo;

/* Everything a registry response can carry, decoded. */
typedef struct TfResponse
{
	char	   *root;			/* name of the document element */
	List	   *errors;			/* TfRegistryMessage of the top-level errList */
	List	   *numbers;		/* TfNumInfo, unless streamed to a callback */
	List	   *found;			/* char *, searchResponse numList */

	/* session */
	char	   *token;
	int			expires_in;
	char	   *resporg;
	List	   *upd_list;		/* char * */
	char	   *override_key;	/* sessOverrideKey of a 701003 response */

	/* pendingResponse */
	char	   *req_id;
	char	   *status_msg;

	/* recResponse */
	char	   *rec_num;
	char	   *eff_dt_tm;
	char	   *cust_rec_stat;
	char	   *rec_version_id;
} TfResponse;

/* Called with each numInfo/numResult once complete, when streaming. */
typedef void (*TfNumInfoCallback) (void *arg, TfNumInfo *info);

typedef struct TfResponseDecoder TfResponseDecoder;

/*
 * Decode a response pushed in pieces.  With on_number set, each numInfo or
 * numResult goes to it and is not kept in out->numbers (constant memory for
 * a RespOrg check).  Raises 2200M/22021 for a bad document.
 */
extern TfResponseDecoder *tf_decoder_create(TfResponse *out,
											TfNumInfoCallback on_number, void *arg);
extern void tf_decoder_feed(TfResponseDecoder *decoder, const char *data, size_t len);
extern void tf_decoder_finish(TfResponseDecoder *decoder);

/* Decode a whole response held in memory. */
extern void tf_decode_response(const char *data, size_t len, TfResponse *out);

/* Search criteria of numSearch and numSrchRes. */
typedef struct TfSearchSpec
{
	int			quantity;		/* 1..10 */
	const char *npa;			/* NULL or three digits */
	bool		consecutive;
	const char *pattern;		/* wildCardNum or NULL */
	const char *const *numbers; /* specific numbers, or NULL */
	int			nnumbers;
} TfSearchSpec;

/* Contact data of reserve, search-and-reserve and update. */
typedef struct TfContact
{
	const char *name;			/* conName or NULL */
	const char *phone;			/* conTel or NULL */
	const char *notes;			/* shrtNotes or NULL */
} TfContact;

/*
 * Request builders.  Each returns a palloc'd UTF-8 document and its length
 * in *len.  String arguments are in the server encoding.
 */
extern char *tf_build_session_open(const char *user, const char *password,
								   const char *override_key, size_t *len);
extern char *tf_build_num_query(const char *const *numbers, int nnumbers, size_t *len);
extern char *tf_build_num_search(const TfSearchSpec *spec, size_t *len);
extern char *tf_build_num_reserve(const char *const *numbers, int nnumbers,
								  const TfContact *contact, size_t *len);
extern char *tf_build_num_srchres(const TfSearchSpec *spec, const TfContact *contact,
								  size_t *len);

/* numUpdate: spare (status "SPARE") and change RespOrg (new_resporg). */
extern char *tf_build_num_update(const char *const *numbers,
								 const char *const *rec_version_ids, int nnumbers,
								 const char *status, const char *new_resporg,
								 size_t *len);

/* recDisconnect; effective and end_intercept are "NOW" or registry forms. */
extern char *tf_build_rec_disconnect(const char *number, const char *effective,
									 const char *end_intercept, bool referral,
									 size_t *len);

#endif							/* TOLL_FREE_DIALECT_H */
