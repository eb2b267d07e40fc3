/*-------------------------------------------------------------------------
 *
 * errors.c
 *		Map registry error codes and HTTP statuses to SQLSTATEs and raise
 *		registry refusals.
 *
 * The table below is the single place where a registry code gets its
 * SQLSTATE; docs/sql-api.md ("Errors") lists the same mapping.  A code not
 * in the table falls back on the HTTP status.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "dialect.h"
#include "errors.h"

typedef struct CodeMapping
{
	const char *code;
	int			sqlstate;
} CodeMapping;

static const CodeMapping code_mappings[] = {
	/* the number is not available */
	{"801122", ERRCODE_TF_NOT_AVAILABLE},	/* no spare number matches */
	{"801124", ERRCODE_TF_NOT_AVAILABLE},	/* number is not spare */
	{"801125", ERRCODE_TF_NOT_AVAILABLE},	/* pre-reserved by another RespOrg */

	/* not permitted for this RespOrg */
	{"099038", ERRCODE_TF_NOT_PERMITTED},

	/* limits */
	{"801117", ERRCODE_TF_LIMIT_EXCEEDED},	/* entity reservation limit */
	{"802110", ERRCODE_TF_LIMIT_EXCEEDED},	/* gaining RespOrg at its limit */
	{"900800", ERRCODE_TF_LIMIT_EXCEEDED},	/* request rate */

	/* someone else was first */
	{"099003", ERRCODE_TF_STALE_VERSION},
	{"506016", ERRCODE_TF_STALE_VERSION},	/* record locked */

	/* not found */
	{"099060", ERRCODE_TF_NOT_FOUND},	/* request id */
	{"505001", ERRCODE_TF_NOT_FOUND},	/* customer record */
	{"506001", ERRCODE_TF_NOT_FOUND},	/* source record */
	{"512001", ERRCODE_TF_NOT_FOUND},	/* record to disconnect */
	{"802115", ERRCODE_TF_NOT_FOUND},	/* RespOrg */

	/* invalid request */
	{"099012", ERRCODE_TF_INVALID_REQUEST},
	{"099027", ERRCODE_TF_INVALID_REQUEST},
	{"099043", ERRCODE_TF_INVALID_REQUEST},
	{"099044", ERRCODE_TF_INVALID_REQUEST},
	{"099045", ERRCODE_TF_INVALID_REQUEST},
	{"099070", ERRCODE_TF_INVALID_REQUEST},
	{"502004", ERRCODE_TF_INVALID_REQUEST},
	{"502007", ERRCODE_TF_INVALID_REQUEST},
	{"506007", ERRCODE_TF_INVALID_REQUEST},
	{"512015", ERRCODE_TF_INVALID_REQUEST},
	{"512016", ERRCODE_TF_INVALID_REQUEST},
	{"599001", ERRCODE_TF_INVALID_REQUEST},
	{"801105", ERRCODE_TF_INVALID_REQUEST},
	{"801113", ERRCODE_TF_INVALID_REQUEST},
	{"801114", ERRCODE_TF_INVALID_REQUEST},
	{"801116", ERRCODE_TF_INVALID_REQUEST},
	{"801120", ERRCODE_TF_INVALID_REQUEST},
	{"801121", ERRCODE_TF_INVALID_REQUEST},
	{"801128", ERRCODE_TF_INVALID_REQUEST},

	/* the status does not allow it */
	{"502002", ERRCODE_TF_WRONG_STATUS},
	{"502005", ERRCODE_TF_WRONG_STATUS},
	{"506002", ERRCODE_TF_WRONG_STATUS},
	{"507003", ERRCODE_TF_WRONG_STATUS},
	{"511006", ERRCODE_TF_WRONG_STATUS},
	{"7763", ERRCODE_TF_WRONG_STATUS},
	{"801130", ERRCODE_TF_WRONG_STATUS},
	{"801131", ERRCODE_TF_WRONG_STATUS},
	{"801140", ERRCODE_TF_WRONG_STATUS},
	{"802112", ERRCODE_TF_WRONG_STATUS},

	/* session and credentials */
	{"701002", ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION},
	{"701003", ERRCODE_TF_NOT_PERMITTED},
	{"701004", ERRCODE_TF_NOT_PERMITTED},
	{"900901", ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION},
	{"900902", ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION},
	{"900903", ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION},
};

/*
 * tf_registry_sqlstate
 *		The SQLSTATE for a registry code, or for the HTTP status when the
 *		code is unknown or absent.
 */
int
tf_registry_sqlstate(const char *registry_code, long http_status)
{
	if (registry_code != NULL)
	{
		for (int i = 0; i < lengthof(code_mappings); i++)
		{
			if (strcmp(code_mappings[i].code, registry_code) == 0)
				return code_mappings[i].sqlstate;
		}
	}

	/* A per-number refusal inside a 2xx response, with a code not listed. */
	if (http_status >= 200 && http_status < 300)
		return ERRCODE_TF_REGISTRY_REFUSED;

	switch (http_status)
	{
		case 400:
			return ERRCODE_TF_INVALID_REQUEST;
		case 401:
			return ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
		case 403:
			return ERRCODE_TF_NOT_PERMITTED;
		case 404:
			return ERRCODE_TF_NOT_FOUND;
		case 409:
			return ERRCODE_TF_REGISTRY_REFUSED;
		case 429:
			return ERRCODE_TF_LIMIT_EXCEEDED;
		default:
			return ERRCODE_TF_REGISTRY_FAULT;
	}
}

TfRegistryMessage *
tf_first_registry_error(List *errors)
{
	ListCell   *lc;

	foreach(lc, errors)
	{
		TfRegistryMessage *m = (TfRegistryMessage *) lfirst(lc);

		if (m->level == NULL || strcmp(m->level, "ERROR") == 0)
			return m;
	}
	return errors != NIL ? (TfRegistryMessage *) linitial(errors) : NULL;
}

/*
 * primary_message
 *		The short primary message for a SQLSTATE of the family.
 */
static const char *
primary_message(int sqlstate)
{
	switch (sqlstate)
	{
		case ERRCODE_TF_NOT_AVAILABLE:
			return "number is not available";
		case ERRCODE_TF_NOT_PERMITTED:
			return "not permitted for this RespOrg";
		case ERRCODE_TF_LIMIT_EXCEEDED:
			return "registry limit exceeded";
		case ERRCODE_TF_STALE_VERSION:
			return "changed at the registry by someone else";
		case ERRCODE_TF_NOT_FOUND:
			return "not found at the registry";
		case ERRCODE_TF_INVALID_REQUEST:
			return "registry rejected the request as invalid";
		case ERRCODE_TF_WRONG_STATUS:
			return "status does not allow this operation";
		case ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION:
			return "registry rejected the credentials";
		case ERRCODE_TF_REGISTRY_FAULT:
			return "registry failed to process the request";
		default:
			return "registry refused the request";
	}
}

/*
 * tf_raise_registry_error
 *		Raise the mapped error; the detail lists every errList entry.
 */
void
tf_raise_registry_error(const char *what, long http_status, List *errors)
{
	TfRegistryMessage *first = tf_first_registry_error(errors);
	int			sqlstate = tf_registry_sqlstate(first ? first->code : NULL, http_status);
	StringInfoData detail;
	ListCell   *lc;

	initStringInfo(&detail);
	appendStringInfo(&detail, "The registry answered the %s request with HTTP %ld", what, http_status);
	foreach(lc, errors)
	{
		TfRegistryMessage *m = (TfRegistryMessage *) lfirst(lc);

		appendStringInfo(&detail, "%s %s %s",
						 foreach_current_index(lc) == 0 ? " with" : ";",
						 m->code ? m->code : "(no code)",
						 m->message ? m->message : "");
	}
	appendStringInfoChar(&detail, '.');

	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("%s", primary_message(sqlstate)),
			 errdetail_internal("%s", detail.data),
			 sqlstate == ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION ?
			 errhint("Check the user name and password in the file named by toll_free.credentials_file.") : 0));
}
