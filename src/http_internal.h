/*-------------------------------------------------------------------------
 *
 * http_internal.h
 *		Declarations shared by the two halves of the transport: http.c
 *		(one transfer) and http_multi.c (the process's multi handle and the
 *		wait loop that drives it).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_HTTP_INTERNAL_H
#define TOLL_FREE_HTTP_INTERNAL_H

#include <curl/curl.h>

#include "http.h"

/* The process's multi handle, created (with curl_global_init) on first use. */
extern CURLM *tf_http_multi(void);

/*
 * Wait at most max_wait_ms for curl's sockets, curl's timer, the latch or
 * postmaster death, let curl act on what happened, hand finished transfers
 * to tf_http_transfer_done, then process interrupts.
 */
extern void tf_http_drive(long max_wait_ms);

/* Called by the driver for each transfer libcurl reports as finished. */
extern void tf_http_transfer_done(TfHttpTransfer *xfer, CURLcode result);

#endif							/* TOLL_FREE_HTTP_INTERNAL_H */
