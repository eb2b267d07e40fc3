/*-------------------------------------------------------------------------
 *
 * rck_paging_fuzz.c
 *		libFuzzer target for RespOrg check paging: pages parsed by
 *		src/rck_parse.c and chained as the page loop in src/rck.c chains
 *		them.
 *
 * The input is a sequence of pages separated by the bytes "\n==\n".  Each
 * page gets a fresh parser whose rows must follow the startKey, which is
 * the previous page's nextKey (tf_rck_parser_set_after).  The loop stops at
 * the first page without a nextKey or at an error.  As in rck.c, a nextKey
 * that does not follow its startKey is an error.  The target aborts when:
 *
 *	 - an ERROR other than 2200M, 2200N, 22021 or 54000 is raised;
 *	 - the rows delivered over all pages do not strictly ascend, which is
 *	   what a caller would see as a number listed twice or out of order;
 *	 - the loop would run without progress (a nextKey not above startKey
 *	   that the loop accepted).
 *
 * NOTE: the chaining rule is restated here from rck.c (tf_rck_step), which
 * cannot run without a registry; keep the two in step.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE				/* memmem */
#include "pg_shim.h"

#include <stdint.h>

#include "rck.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAGE_SEPARATOR "\n==\n"
#define MAX_PAGES 16

static const int allowed_codes[] = {
	ERRCODE_INVALID_XML_DOCUMENT,
	ERRCODE_INVALID_XML_CONTENT,
	ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
	ERRCODE_PROGRAM_LIMIT_EXCEEDED,
	0
};

typedef struct Walk
{
	char		last_row[TF_NUMBER_DIGITS + 1];
	int			rows;
	int			pages;
} Walk;

static void
check_row(void *arg, const TfRckRow *row)
{
	Walk	   *walk = (Walk *) arg;

	shim_require(strcmp(row->number, walk->last_row) > 0,
				 "rows ascend over all pages (no number twice)");
	strlcpy(walk->last_row, row->number, sizeof(walk->last_row));
	walk->rows++;
}

static void
walk_pages(const char *data, size_t size, Walk *walk)
{
	char		start_key[TF_NUMBER_DIGITS + 1] = "";
	const char *end = data + size;
	const char *page = data;

	while (page <= end && walk->pages < MAX_PAGES)
	{
		const char *separator = memmem(page, end - page, PAGE_SEPARATOR, strlen(PAGE_SEPARATOR));
		const char *page_end = separator ? separator : end;
		TfRckParser *parser = tf_rck_parser_create("RUC01", check_row, walk);
		const char *next_key;

		if (start_key[0] != '\0')
			tf_rck_parser_set_after(parser, start_key);
		tf_rck_parser_feed(parser, page, page_end - page);
		tf_rck_parser_finish(parser);
		walk->pages++;

		next_key = tf_rck_parser_next_key(parser);
		if (next_key == NULL)
			return;

		/* rck.c raises 2200N for a nextKey that does not follow startKey. */
		if (strcmp(next_key, start_key) <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_XML_CONTENT),
					 errmsg("nextKey does not follow startKey")));
		strlcpy(start_key, next_key, sizeof(start_key));

		if (separator == NULL)
			return;
		page = separator + strlen(PAGE_SEPARATOR);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Walk		walk;
	int			state;

	memset(&walk, 0, sizeof(walk));
	state = SHIM_RUN(walk_pages((const char *) data, size, &walk));
	shim_require_sqlstate(state, "RespOrg check paging", allowed_codes);
	return 0;
}
