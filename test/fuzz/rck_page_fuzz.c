/*-------------------------------------------------------------------------
 *
 * rck_page_fuzz.c
 *		libFuzzer target for the RespOrg check page parser
 *		(src/rck_parse.c).
 *
 * The first input byte chooses how the page is cut into pieces (1 to 64
 * bytes, or whole).  Besides crashes and sanitizer reports, the target
 * aborts when:
 *
 *	 - the parser raises an ERROR other than 2200M, 2200N, 22021 or 54000;
 *	 - a delivered row has a number that is not 10 digits, a status outside
 *	   number_status, or a number not above the previous row's;
 *	 - where the page was cut changes whether it is accepted, or, for an
 *	   accepted page, its rows or its nextKey.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_shim.h"

#include <stdint.h>

#include "rck.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int allowed_codes[] = {
	ERRCODE_INVALID_XML_DOCUMENT,
	ERRCODE_INVALID_XML_CONTENT,
	ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
	ERRCODE_PROGRAM_LIMIT_EXCEEDED,
	0
};

/* What one parse produced, kept outside the run's memory. */
typedef struct Page
{
	int			rows;
	uint64_t	digest;			/* of the row numbers and statuses */
	char		last[TF_NUMBER_DIGITS + 1];
	char		next_key[TF_NUMBER_DIGITS + 1];
	bool		has_next_key;
} Page;

static void
check_row(void *arg, const TfRckRow *row)
{
	Page	   *page = (Page *) arg;

	shim_require(strlen(row->number) == TF_NUMBER_DIGITS &&
				 strspn(row->number, "0123456789") == TF_NUMBER_DIGITS,
				 "a row number is 10 digits");
	shim_require(row->status >= 0 && row->status < TF_NUMBER_STATUS_COUNT,
				 "a row status is a number_status");
	shim_require(strcmp(row->number, page->last) > 0, "rows ascend by number");

	strlcpy(page->last, row->number, sizeof(page->last));
	page->rows++;
	for (const char *c = row->number; *c; c++)
		page->digest = page->digest * 31 + (unsigned char) *c;
	page->digest = page->digest * 31 + row->status;
}

static void
parse_page(const char *body, size_t len, size_t piece, Page *page)
{
	TfRckParser *parser = tf_rck_parser_create("RUC01", check_row, page);
	const char *next_key;

	if (piece == 0)
		piece = len;
	for (size_t offset = 0; offset < len; offset += piece)
		tf_rck_parser_feed(parser, body + offset, Min(piece, len - offset));
	tf_rck_parser_finish(parser);

	next_key = tf_rck_parser_next_key(parser);
	page->has_next_key = (next_key != NULL);
	if (next_key)
		strlcpy(page->next_key, next_key, sizeof(page->next_key));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *) data + 1;
	Page		cut,
				whole;
	int			cut_state,
				whole_state;

	if (size < 1)
		return 0;

	memset(&cut, 0, sizeof(cut));
	memset(&whole, 0, sizeof(whole));
	cut_state = SHIM_RUN(parse_page(body, size - 1, data[0] % 65, &cut));
	shim_require_sqlstate(cut_state, "tf_rck_parser_feed", allowed_codes);
	whole_state = SHIM_RUN(parse_page(body, size - 1, 0, &whole));

	shim_require((cut_state == 0) == (whole_state == 0),
				 "acceptance does not depend on where the page was cut");
	if (cut_state == 0)
	{
		shim_require(cut.rows == whole.rows && cut.digest == whole.digest,
					 "the rows do not depend on where the page was cut");
		shim_require(cut.has_next_key == whole.has_next_key &&
					 strcmp(cut.next_key, whole.next_key) == 0,
					 "the nextKey does not depend on where the page was cut");
	}
	return 0;
}
