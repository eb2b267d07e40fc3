/*-------------------------------------------------------------------------
 *
 * xml_response_fuzz.c
 *		libFuzzer target for the registry response decoder
 *		(src/xml_reader.c and src/xml_decode.c).
 *
 * The first input byte chooses how the rest is cut into pieces (1 to 64
 * bytes, or whole), as the body arrives from the network.  Besides crashes
 * and sanitizer reports, the target aborts when:
 *
 *	 - the decoder raises an ERROR other than 2200M (not well-formed, DTD,
 *	   too deep), 22021 (not UTF-8) or 54000 (too large);
 *	 - the outcome depends on where the body was cut: the same document fed
 *	   whole must be accepted or rejected alike and, when accepted, give the
 *	   same root and as many numbers.  A rejection may name another fault,
 *	   because one piece can show a fault before a later piece shows another;
 *	 - streaming the numbers to a callback changes the outcome.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_shim.h"

#include <stdint.h>

#include "dialect.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int allowed_codes[] = {
	ERRCODE_INVALID_XML_DOCUMENT,
	ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
	ERRCODE_PROGRAM_LIMIT_EXCEEDED,
	0
};

/* What one decoding produced, kept outside the run's memory. */
typedef struct Outcome
{
	char		root[64];
	int			numbers;
} Outcome;

static void
count_number(void *arg, TfNumInfo *info)
{
	((Outcome *) arg)->numbers++;
}

/* Decode body in pieces of piece bytes (0: whole); stream numbers or not. */
static void
decode(const char *body, size_t len, size_t piece, bool stream, Outcome *outcome)
{
	TfResponse	response;
	TfResponseDecoder *decoder;

	memset(&response, 0, sizeof(response));
	decoder = tf_decoder_create(&response, stream ? count_number : NULL, outcome);
	if (piece == 0)
		piece = len;
	for (size_t offset = 0; offset < len; offset += piece)
		tf_decoder_feed(decoder, body + offset, Min(piece, len - offset));
	tf_decoder_finish(decoder);

	if (!stream)
		outcome->numbers = list_length(response.numbers);
	strlcpy(outcome->root, response.root ? response.root : "", sizeof(outcome->root));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *) data + 1;
	size_t		len;
	size_t		piece;
	Outcome		cut,
				whole,
				streamed;
	int			cut_state,
				whole_state,
				streamed_state;

	if (size < 1)
		return 0;
	len = size - 1;
	piece = data[0] % 65;

	memset(&cut, 0, sizeof(cut));
	memset(&whole, 0, sizeof(whole));
	memset(&streamed, 0, sizeof(streamed));

	cut_state = SHIM_RUN(decode(body, len, piece, false, &cut));
	shim_require_sqlstate(cut_state, "tf_decoder_feed", allowed_codes);

	whole_state = SHIM_RUN(decode(body, len, 0, false, &whole));
	shim_require((cut_state == 0) == (whole_state == 0),
				 "acceptance does not depend on where the body was cut");
	if (cut_state == 0)
	{
		shim_require(strcmp(cut.root, whole.root) == 0, "the root does not depend on the cuts");
		shim_require(cut.numbers == whole.numbers, "the numbers do not depend on the cuts");
	}

	streamed_state = SHIM_RUN(decode(body, len, piece, true, &streamed));
	shim_require(streamed_state == cut_state, "streaming the numbers gives the same outcome");
	if (cut_state == 0)
		shim_require(streamed.numbers == cut.numbers, "streaming the numbers gives as many");

	return 0;
}
