/*-------------------------------------------------------------------------
 *
 * http.h
 *		HTTP transport to the registry: libcurl's multi interface driven
 *		from PostgreSQL's wait machinery.
 *
 * One long-lived multi handle per process keeps connections alive between
 * calls.  Each request gets its own easy handle, with every option rebuilt
 * from the current settings.  Waiting happens in a WaitEventSet with the
 * process latch, postmaster death and curl's sockets, so a cancel, a
 * statement_timeout or pg_terminate_backend takes effect at once and
 * PostgreSQL raises its own error.  This layer knows nothing of XML or SQL.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_HTTP_H
#define TOLL_FREE_HTTP_H

#include "postgres.h"

typedef struct TfHttpRequest
{
	const char *method;			/* "GET", "POST" or "PUT" */
	const char *path;			/* relative to toll_free.url, starts with '/' */
	const char *body;			/* request body or NULL */
	size_t		body_len;
	bool		changes_state;	/* never resent: no retry, no reuse-retry */
	const char *bearer_token;	/* NULL for session open */
} TfHttpRequest;

/* Receives each piece of the response body as it arrives. */
typedef void (*TfHttpBodyCallback) (void *arg, const char *data, size_t len);

typedef struct TfHttpTransfer TfHttpTransfer;	/* opaque */

/* Start a transfer; returns at once. */
extern TfHttpTransfer *tf_http_start(const TfHttpRequest *req,
									 TfHttpBodyCallback on_body, void *arg);

/*
 * Wait (latch + sockets + postmaster death, CHECK_FOR_INTERRUPTS) until more
 * body arrived or the transfer ended; returns false once it has ended.
 * Transport failures raise class-08 errors (after releasing the transfer).
 */
extern bool tf_http_pump(TfHttpTransfer *xfer);
extern long tf_http_status(TfHttpTransfer *xfer);	/* 0 until headers arrived */
extern int	tf_http_retry_after(TfHttpTransfer *xfer);	/* seconds, -1 if none */

/* Release everything (curl handle, buffers) at once; safe at any point. */
extern void tf_http_release(TfHttpTransfer *xfer);

/*
 * Extras beyond the shared contract.
 */

/* What went wrong with a transfer, for callers that decide how to report it. */
typedef struct TfHttpFailure
{
	int			sqlstate;		/* ERRCODE_* value */
	char		message[128];	/* short primary message */
	char		detail[512];	/* libcurl's text; never headers or bodies */
	bool		request_sent;	/* the request may have reached the registry */
	bool		timed_out;		/* a time limit ended it: the registry may still act */
} TfHttpFailure;

/*
 * Like tf_http_pump, but on a transport failure fills *failure, releases
 * nothing and returns false instead of raising.  Interrupts still raise.
 */
extern bool tf_http_pump_noraise(TfHttpTransfer *xfer, TfHttpFailure *failure);

/* Raise the error a failure describes. */
extern void tf_http_raise(const TfHttpFailure *failure) pg_attribute_noreturn();

/* The response's Content-Type header, or "" when there was none. */
extern const char *tf_http_content_type(TfHttpTransfer *xfer);

/*
 * Sleep for the given time while keeping every open transfer moving;
 * interrupts are processed as in tf_http_pump.
 */
extern void tf_http_sleep(long milliseconds);

#endif							/* TOLL_FREE_HTTP_H */
