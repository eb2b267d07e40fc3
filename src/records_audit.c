/*-------------------------------------------------------------------------
 *
 * records_audit.c
 *		toll_free.requests rows of the record functions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "records.h"

/*
 * tf_records_audit_begin
 *		Record the start of a registry operation; returns the request id.
 *
 * TODO: write the row through the client's audit helper (src/audit.h) once
 * it exists; until then no row is written.
 */
int64
tf_records_audit_begin(const char *operation, const char *number,
					   const char *arguments_json)
{
	return 0;
}

/*
 * tf_records_audit_end
 *		Record the outcome of the operation started by tf_records_audit_begin.
 */
void
tf_records_audit_end(int64 request_id, long http_status, const char *result_json)
{
}
