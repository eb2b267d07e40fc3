/*-------------------------------------------------------------------------
 *
 * errors.h
 *		SQLSTATEs of registry refusals and the mapping from registry error
 *		codes and HTTP statuses to them.
 *
 * Registry refusals form one SQLSTATE class, "TF", documented in
 * docs/sql-api.md ("Errors").  Transport failures use class 08 (http.c),
 * unusable XML 2200M, invalid UTF-8 22021, bad arguments 22023/22P02, and
 * cancel or statement_timeout 57014 (raised by PostgreSQL itself).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_ERRORS_H
#define TOLL_FREE_ERRORS_H

#include "postgres.h"

#include "nodes/pg_list.h"

/* The registry refused the request for a reason not listed below. */
#define ERRCODE_TF_REGISTRY_REFUSED		MAKE_SQLSTATE('T','F','0','0','0')
/* The number is not available: not spare, pre-reserved, no match. */
#define ERRCODE_TF_NOT_AVAILABLE		MAKE_SQLSTATE('T','F','0','0','1')
/* The session's RespOrg may not act on this number or RespOrg. */
#define ERRCODE_TF_NOT_PERMITTED		MAKE_SQLSTATE('T','F','0','0','2')
/* A reservation limit or the registry's request rate was exceeded. */
#define ERRCODE_TF_LIMIT_EXCEEDED		MAKE_SQLSTATE('T','F','0','0','3')
/* Someone else changed the number or record first (stale recVersionId). */
#define ERRCODE_TF_STALE_VERSION		MAKE_SQLSTATE('T','F','0','0','4')
/* Unknown number record, template, RespOrg or request id. */
#define ERRCODE_TF_NOT_FOUND			MAKE_SQLSTATE('T','F','0','0','5')
/* The registry found the request invalid (format, value, quantity). */
#define ERRCODE_TF_INVALID_REQUEST		MAKE_SQLSTATE('T','F','0','0','6')
/* The number's or record's status does not allow the operation. */
#define ERRCODE_TF_WRONG_STATUS			MAKE_SQLSTATE('T','F','0','0','7')
/* The registry accepted the request but had not finished it in time. */
#define ERRCODE_TF_PENDING				MAKE_SQLSTATE('T','F','0','0','8')
/* The registry failed (5xx) or responded outside the protocol. */
#define ERRCODE_TF_REGISTRY_FAULT		MAKE_SQLSTATE('T','F','0','0','9')

/* The SQLSTATE for a registry error code (e.g. "801124"), given the HTTP status. */
extern int	tf_registry_sqlstate(const char *registry_code, long http_status);

/*
 * Raise the error for a refused request: errors is the List of
 * TfRegistryMessage from the errorResponse (may be NIL).  The first ERROR
 * entry sets the SQLSTATE; every entry's code and text go to the detail.
 * what names the operation, e.g. "reserve".
 */
extern void tf_raise_registry_error(const char *what, long http_status,
									List *errors) pg_attribute_noreturn();

/* The first entry of errors whose level is ERROR (or the first at all), or NULL. */
struct TfRegistryMessage;
extern struct TfRegistryMessage *tf_first_registry_error(List *errors);

#endif							/* TOLL_FREE_ERRORS_H */
