/*-------------------------------------------------------------------------
 *
 * queue_answer_fuzz.c
 *		libFuzzer target for the parser of answers to queued requests
 *		(src/queue_xml.c).
 *
 * Besides crashes and sanitizer reports, the target aborts when parsing
 * raises an ERROR other than 2200M or 22021 (an unusable body is reported
 * through answer.parsed, not raised), or when a parsed answer's result
 * column is not a JSON object.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_shim.h"

#include <stdint.h>

#include "queue_internal.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int allowed_codes[] = {
	ERRCODE_INVALID_XML_DOCUMENT,
	ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
	0
};

static void
parse_answer(const char *body, size_t len, bool *json_ok)
{
	TfQueueAnswer answer;

	memset(&answer, 0, sizeof(answer));
	tf_queue_parse_answer(body, len, &answer);
	*json_ok = !answer.parsed ||
		(answer.json != NULL && answer.json[0] == '{' &&
		 answer.json[strlen(answer.json) - 1] == '}');
	(void) tf_queue_record_exists(body, len, "2026-01-01T00:00:00Z");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool		json_ok = true;
	int			state;

	state = SHIM_RUN(parse_answer((const char *) data, size, &json_ok));
	shim_require_sqlstate(state, "tf_queue_parse_answer", allowed_codes);
	shim_require(json_ok, "a parsed answer has a JSON object as its result");
	return 0;
}
