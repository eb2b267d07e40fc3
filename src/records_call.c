/*-------------------------------------------------------------------------
 *
 * records_call.c
 *		Registry requests of the record functions and their rows in
 *		toll_free.requests.
 *
 * Every record request goes through the client's registry call (shared
 * session, rate budget, 202 polling), opened so that it reports its outcome
 * instead of raising.  That lets each request leave its row in
 * toll_free.requests first: a read writes one finished row, and a change
 * writes a row in state 'sending' before it is sent, which survives a
 * rollback of the caller's transaction.  Then a refusal is raised through
 * the client's error mapping, with the registry code in the detail.
 *
 * The 2xx body is kept as text and is not run through the client's
 * response decoder, because the record functions parse it themselves with
 * the record parser (records_xml.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/timestamp.h"

#include "numadmin.h"
#include "records.h"

/*
 * run_exchange
 *		Send one request and run it to its end.  The 2xx body goes to body;
 *		the outcome (status, refusal, transport failure, pending reqId) goes
 *		to ex.  Interrupts raise; the registry's response and transport
 *		failures do not.
 */
static void
run_exchange(const char *method, const char *path, const char *payload,
			 size_t payload_len, bool changes_state, StringInfo body,
			 TfExchange *ex)
{
	TfRegistryCall *call;

	memset(ex, 0, sizeof(TfExchange));
	ex->started_at = GetCurrentTimestamp();

	call = tf_exchange_open(method, path, payload, payload_len, changes_state,
							0, body);
	tf_exchange_run(call, ex);
}

/*
 * tf_records_fetch
 *		GET path for a read-only record function.
 *
 * On success the body is in body and ex describes the exchange; the caller
 * parses the body, then writes the requests row with tf_records_fetched.
 * On failure this writes a failed requests row that survives the rollback
 * and raises the registry's error.
 */
void
tf_records_fetch(const char *operation, const char *number,
				 const char *arguments_json, const char *path,
				 StringInfo body, TfExchange *ex)
{
	run_exchange("GET", path, NULL, 0, false, body, ex);

	if (!ex->ok)
		tf_record_read_only(operation, number ? psprintf("{%s}", number) : NULL,
							arguments_json, ex, NULL);
}

/*
 * tf_records_fetched
 *		Write the finished requests row of a successful tf_records_fetch;
 *		returns its id.
 *
 * NOTE: a 2xx response that fails to parse raises before this runs, so it
 * leaves no row.  The client's read-only functions behave the same way.
 */
int64
tf_records_fetched(const char *operation, const char *number,
				   const char *arguments_json, const TfExchange *ex,
				   const char *result_json)
{
	return tf_record_read_only(operation,
							   number ? psprintf("{%s}", number) : NULL,
							   arguments_json, ex, result_json);
}

/*
 * tf_records_change
 *		POST or PUT payload to path, a request that changes records at the
 *		registry; returns the id of its requests row.
 *
 * The row is written in state 'sending' before the request goes out and
 * survives a rollback.  The transport never resends the request.  On
 * success the row becomes 'done' and the caller may add the result with
 * tf_records_changed.  A refusal marks the row 'failed' and raises the
 * registry's error.  A request that was still pending, or that may have
 * reached the registry before the connection failed, leaves the row
 * 'unknown' and raises too.
 */
int64
tf_records_change(const char *operation, const char *number,
				  const char *arguments_json, const char *method,
				  const char *path, const char *payload, size_t payload_len,
				  StringInfo body)
{
	int64		request_id;
	TfExchange	ex;
	TfAuditOutcome audit;

	request_id = tf_audit_begin(operation, psprintf("{%s}", number),
								arguments_json);

	run_exchange(method, path, payload, payload_len, true, body, &ex);

	if (ex.ok)
	{
		memset(&audit, 0, sizeof(audit));
		audit.state = "done";
		audit.http_status = ex.outcome.http_status;
		audit.registry_req_id = ex.outcome.registry_req_id;
		tf_audit_finish(request_id, &audit);
		return request_id;
	}

	tf_failed_outcome(&ex, &audit);
	tf_audit_finish(request_id, &audit);

	if (ex.outcome.transport_failed && ex.outcome.outcome_unknown)
		ereport(ERROR,
				(errcode(ex.outcome.failure.sqlstate),
				 errmsg("%s", ex.outcome.failure.message),
				 errdetail("The %s request for number %s was sent and its outcome is unknown; it was not sent again.  libcurl: %s",
						   operation, number, ex.outcome.failure.detail),
				 errhint("Check the number's records with tf_query_records (toll_free.requests id " INT64_FORMAT ").",
						 request_id)));

	tf_raise_exchange(operation, &ex);
}

/*
 * tf_records_changed
 *		Add the decoded result to the requests row of a successful
 *		tf_records_change.
 */
void
tf_records_changed(int64 request_id, long http_status, const char *result_json)
{
	TfAuditOutcome audit;

	memset(&audit, 0, sizeof(audit));
	audit.state = "done";
	audit.http_status = http_status;
	audit.result_json = result_json;
	tf_audit_finish(request_id, &audit);
}
