/*-------------------------------------------------------------------------
 *
 * records_xml_fuzz.c
 *		libFuzzer target for the customer record parser
 *		(src/records_xml.c).
 *
 * The first input byte chooses whether the document comes from the
 * registry (UTF-8) or from an SQL caller (server encoding, here UTF-8 too).
 * An accepted document is summarized and serialized again, as
 * tf_retrieve and tf_update_record do.  Besides crashes and sanitizer
 * reports, the target aborts when:
 *
 *	 - an ERROR other than 2200M, 2200N, 22021 or 54000 is raised;
 *	 - an accepted document serializes to text that does not parse again.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_shim.h"

#include <stdint.h>

#include "records.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int allowed_codes[] = {
	ERRCODE_INVALID_XML_DOCUMENT,
	ERRCODE_INVALID_XML_CONTENT,
	ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
	ERRCODE_PROGRAM_LIMIT_EXCEEDED,
	0
};

static void
parse_record(const char *body, size_t len, bool from_registry, bool *reparsed)
{
	xmlDocPtr	doc = tf_record_parse(body, len, from_registry, "custRec");
	xmlNodePtr	root = xmlDocGetRootElement(doc);
	TfRecordSummary summary;
	text	   *serialized;

	memset(&summary, 0, sizeof(summary));
	tf_record_read_summary(root, &summary);
	serialized = tf_record_serialize(root, false);

	/* What tf_retrieve returns must be accepted by tf_update_record. */
	*reparsed = false;
	(void) tf_record_parse(VARDATA(serialized), VARSIZE(serialized) - VARHDRSZ, false, "custRec");
	*reparsed = true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool		reparsed = false;
	int			state;

	if (size < 1)
		return 0;
	state = SHIM_RUN(parse_record((const char *) data + 1, size - 1, data[0] & 1, &reparsed));
	shim_require_sqlstate(state, "tf_record_parse", allowed_codes);
	if (state == 0)
		shim_require(reparsed, "a serialized record parses again");
	return 0;
}
