/*-------------------------------------------------------------------------
 *
 * registry.h
 *		One registry request with everything around it: the shared session,
 *		the cluster-wide rate budget, 202/401/429 handling and error mapping.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_REGISTRY_H
#define TOLL_FREE_REGISTRY_H

#include "postgres.h"

#include "lib/stringinfo.h"

#include "http.h"

/*
 * One registry request with everything around it: the shared session token
 * (opened on first use, renewed once on 401), the cluster-wide rate budget,
 * 429 back-off honouring Retry-After (only when nothing happened at the
 * registry), and 202 pending answers polled through GET /sys/req/{reqId} up to
 * toll_free.pending_wait.  Streams the final 200 body to on_body.
 */
typedef struct TfRegistryCall TfRegistryCall;	/* opaque */
extern TfRegistryCall *tf_registry_open(const TfHttpRequest *req,
										TfHttpBodyCallback on_body, void *arg);
extern bool tf_registry_pump(TfRegistryCall *call); /* false once finished */

/*
 * Finished: returns the HTTP status; for a non-2xx answer, raises the mapped
 * error (registry code in errdetail) unless the caller asked for the body.
 */
extern long tf_registry_finish(TfRegistryCall *call);
extern void tf_registry_release(TfRegistryCall *call);

/* Convenience: whole body in memory (for small answers). */
extern long tf_registry_request(const TfHttpRequest *req, StringInfo body);

/* Session's RespOrg and the RespOrgs it may update (from session open). */
extern const char *tf_registry_resporg(void);
extern bool tf_registry_may_update(const char *resporg);

/* Take one request from the cluster-wide budget, waiting (interruptibly) if needed. */
extern void tf_rate_acquire(void);

#endif							/* TOLL_FREE_REGISTRY_H */
