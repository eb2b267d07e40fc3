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
 * registry), and 202 pending responses polled through GET /sys/req/{reqId}
 * up to toll_free.pending_wait.  Streams the final 200 body to on_body.
 */
typedef struct TfRegistryCall TfRegistryCall;	/* opaque */
extern TfRegistryCall *tf_registry_open(const TfHttpRequest *req,
										TfHttpBodyCallback on_body, void *arg);
extern bool tf_registry_pump(TfRegistryCall *call); /* false once finished */

/*
 * Finished: returns the HTTP status.  For a non-2xx response it raises the
 * mapped error (registry code in errdetail), unless the call was opened
 * with TF_CALL_NO_RAISE.
 */
extern long tf_registry_finish(TfRegistryCall *call);
extern void tf_registry_release(TfRegistryCall *call);

/* Convenience: whole body in memory (for small responses). */
extern long tf_registry_request(const TfHttpRequest *req, StringInfo body);

/* Session's RespOrg and the RespOrgs it may update (from session open). */
extern const char *tf_registry_resporg(void);
extern bool tf_registry_may_update(const char *resporg);

/* Take one request from the cluster-wide budget, waiting (interruptibly) if needed. */
extern void tf_rate_acquire(void);

/*
 * Extras beyond the shared contract: calls that report their outcome
 * instead of raising it, for callers that record or reconcile first.
 */

/*
 * With this flag, a transport failure, a refusal or a pending response is
 * reported in TfCallOutcome instead of raised.  A response that cannot be
 * read (bad XML, an HTML page, an oversized error body) still raises.
 */
#define TF_CALL_NO_RAISE		0x01
/* With this flag a 202 response ends the call at once (outcome.pending). */
#define TF_CALL_NO_POLL			0x02

struct TfResponse;

typedef struct TfCallOutcome
{
	long		http_status;	/* final status; 0 after a transport failure */
	bool		transport_failed;
	TfHttpFailure failure;		/* when transport_failed */
	bool		pending;		/* still 202 when toll_free.pending_wait ran out */
	char	   *registry_req_id;	/* reqId of a 202 response, or NULL */
	struct TfResponse *error_response;	/* decoded non-2xx response body */
	bool		outcome_unknown;	/* a state-changing request was sent, then the
									 * transport failed: it may have acted */
} TfCallOutcome;

extern TfRegistryCall *tf_registry_open_ext(const TfHttpRequest *req,
											TfHttpBodyCallback on_body, void *arg,
											int flags);
/* Send the request now without waiting, so several calls run at once. */
extern void tf_registry_start(TfRegistryCall *call);
extern void tf_registry_outcome(TfRegistryCall *call, TfCallOutcome *outcome);

/* Raise the error an unsuccessful outcome describes; what names the operation. */
extern void tf_registry_raise_outcome(const char *what,
									  const TfCallOutcome *outcome) pg_attribute_noreturn();

#endif							/* TOLL_FREE_REGISTRY_H */
