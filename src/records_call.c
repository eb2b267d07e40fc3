/*-------------------------------------------------------------------------
 *
 * records_call.c
 *		Registry requests of the record functions.
 *
 * Every record request goes through the client's tf_registry_request, which
 * brings the shared session, the rate budget, 202 polling and the mapping of
 * registry refusals to the client's SQLSTATE family (registry code in the
 * detail).  A non-2xx answer therefore never returns here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "registry.h"
#include "records.h"

/*
 * tf_records_get
 *		GET path; the body of the 2xx answer goes to body.  Returns the status.
 */
long
tf_records_get(const char *path, StringInfo body)
{
	TfHttpRequest req;

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.path = path;
	req.changes_state = false;

	return tf_registry_request(&req, body);
}

/*
 * tf_records_send
 *		POST or PUT payload to path; such a request changes records at the
 *		registry, so the transport never resends it.  Returns the status.
 */
long
tf_records_send(const char *method, const char *path, const char *payload,
				size_t payload_len, StringInfo body)
{
	TfHttpRequest req;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.body = payload;
	req.body_len = payload_len;
	req.changes_state = true;

	return tf_registry_request(&req, body);
}
