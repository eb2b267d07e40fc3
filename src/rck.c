/*-------------------------------------------------------------------------
 *
 * rck.c
 *		The RespOrg check page loop: GET /num/rck/{respOrgId} page after
 *		page, each page streamed through the parser as it arrives.
 *
 * Memory: a TfRck lives in its own context.  Each page gets a child context
 * with the registry call and the parser, which is deleted when the page
 * ends, so nothing of a page outlives it.  Body pieces are parsed as the
 * transport hands them over.  The transport calls the body callback from
 * tf_http_pump(), outside libcurl, so a parse error raised there is safe.
 *
 * Releasing: tf_rck_end() is for the normal paths (the last page ended, or
 * the caller stopped early) and releases the transfer at once.  After an
 * error, the caller uses tf_rck_abandon(), which only frees memory: the
 * registry layer has already released its transfer during the abort, and
 * releasing it again would touch freed memory.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/memutils.h"

#include "rck.h"
#include "settings.h"
#include "registry.h"
#include "toll_free.h"
#include "worker_schedule.h"

/* The largest page size the protocol allows. */
#define RCK_MAX_PAGE_SIZE	100000

struct TfRck
{
	MemoryContext cxt;			/* this struct and everything below */
	char		resporg[TF_RESPORG_LEN + 1];
	int32		page_size;		/* 0: the registry's default */
	TfRckRowCallback on_row;
	void	   *on_row_arg;

	/* The page being received; all NULL between pages. */
	MemoryContext page_cxt;
	TfRegistryCall *call;
	TfRckParser *parser;

	char		start_key[TF_NUMBER_DIGITS + 1];	/* "" on the first page */
	bool		finished;
	int32		pages;
	int64		rows;
};

/*
 * rck_on_body
 *		Transport callback: parse the piece, delivering the rows it ends.
 */
static void
rck_on_body(void *arg, const char *data, size_t len)
{
	TfRck	   *rck = (TfRck *) arg;

	tf_rck_parser_feed(rck->parser, data, len);
}

/*
 * rck_on_row
 *		Count a row and pass it on.
 */
static void
rck_on_row(void *arg, const TfRckRow *row)
{
	TfRck	   *rck = (TfRck *) arg;

	rck->rows++;
	rck->on_row(rck->on_row_arg, row);
}

/*
 * tf_rck_begin
 *		Start the RespOrg check of "resporg" (a valid RespOrg ID).
 *
 * The first request goes out on the first tf_rck_step().  page_size 0 uses
 * the registry's default page size.
 */
TfRck *
tf_rck_begin(const char *resporg, int32 page_size, TfRckRowCallback on_row, void *arg)
{
	MemoryContext cxt;
	TfRck	   *rck;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "RespOrg check",
								ALLOCSET_SMALL_SIZES);
	rck = MemoryContextAllocZero(cxt, sizeof(TfRck));
	rck->cxt = cxt;
	strlcpy(rck->resporg, resporg, sizeof(rck->resporg));
	rck->page_size = page_size;
	rck->on_row = on_row;
	rck->on_row_arg = arg;

	return rck;
}

/*
 * rck_open_page
 *		Send the request for the next page.
 */
static void
rck_open_page(TfRck *rck)
{
	MemoryContext oldcxt;
	StringInfoData path;
	TfHttpRequest request;
	char		separator = '?';

	rck->page_cxt = AllocSetContextCreate(rck->cxt, "RespOrg check page",
										  ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(rck->page_cxt);

	initStringInfo(&path);
	appendStringInfo(&path, "/num/rck/%s", rck->resporg);
	if (rck->start_key[0] != '\0')
	{
		appendStringInfo(&path, "%cstartKey=%s", separator, rck->start_key);
		separator = '&';
	}
	if (rck->page_size > 0)
		appendStringInfo(&path, "%cpageSize=%d", separator, rck->page_size);

	rck->parser = tf_rck_parser_create(rck->resporg, rck_on_row, rck);
	if (rck->start_key[0] != '\0')
		tf_rck_parser_set_after(rck->parser, rck->start_key);

	memset(&request, 0, sizeof(request));
	request.method = "GET";
	request.path = path.data;
	request.changes_state = false;

	rck->call = tf_registry_open(&request, rck_on_body, rck);

	MemoryContextSwitchTo(oldcxt);
}

/*
 * rck_close_page
 *		The page's transfer ended: check the page and move to the next one.
 */
static TfRckStep
rck_close_page(TfRck *rck)
{
	long		status;
	const char *next_key;

	status = tf_registry_finish(rck->call);

	if (status != 200)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("unexpected HTTP status %ld from the registry's RespOrg check", status),
				 errdetail("The RespOrg check of %s answers 200 with a page of numbers.",
						   rck->resporg)));

	tf_rck_parser_finish(rck->parser);
	next_key = tf_rck_parser_next_key(rck->parser);

	/* Each page must move forward, or paging would never end. */
	if (next_key != NULL && strcmp(next_key, rck->start_key) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_CONTENT),
				 errmsg("invalid RespOrg check response from the registry"),
				 errdetail("Page %d of %s has nextKey %s, which does not follow its startKey %s.",
						   rck->pages + 1, rck->resporg, next_key, rck->start_key)));

	if (next_key != NULL)
		strlcpy(rck->start_key, next_key, sizeof(rck->start_key));
	else
		rck->finished = true;

	tf_registry_release(rck->call);
	rck->call = NULL;
	rck->parser = NULL;
	MemoryContextDelete(rck->page_cxt);
	rck->page_cxt = NULL;
	rck->pages++;

	return rck->finished ? TF_RCK_END : TF_RCK_PAGE_END;
}

/*
 * tf_rck_step
 *		Move the check along: send the next page's request if none is under
 *		way, wait for more of the body and deliver the rows it completes.
 *
 * Returns TF_RCK_MORE while a page is still arriving, TF_RCK_PAGE_END when
 * a page ended and another follows, and TF_RCK_END once the last page
 * ended (and on every call after that).  Registry errors, transport
 * failures (class 08, including a body cut short) and invalid pages raise
 * an error; the caller then calls tf_rck_abandon().
 */
TfRckStep
tf_rck_step(TfRck *rck)
{
	bool		more;

	if (rck->call == NULL)
	{
		if (rck->finished)
			return TF_RCK_END;
		rck_open_page(rck);
	}

	more = tf_registry_pump(rck->call);

	if (more)
		return TF_RCK_MORE;

	return rck_close_page(rck);
}

int32
tf_rck_pages(TfRck *rck)
{
	return rck->pages;
}

int64
tf_rck_rows(TfRck *rck)
{
	return rck->rows;
}

/*
 * tf_rck_end
 *		Stop the check (finished or not) and free everything at once.
 */
void
tf_rck_end(TfRck *rck)
{
	if (rck->call != NULL)
		tf_registry_release(rck->call);
	rck->call = NULL;
	MemoryContextDelete(rck->cxt);
}

/*
 * tf_rck_abandon
 *		Free the check's memory after an error (see the file header).
 */
void
tf_rck_abandon(TfRck *rck)
{
	MemoryContextDelete(rck->cxt);
}

/*
 * tf_resporg_argument
 *		The RespOrg a function was called for: its argument, or
 *		toll_free.resporg when the argument is NULL; folded to upper case.
 */
char *
tf_resporg_argument(text *resporg_or_null)
{
	char	   *resporg;

	if (resporg_or_null != NULL)
		resporg = text_to_cstring(resporg_or_null);
	else
		resporg = pstrdup(tf_default_resporg ? tf_default_resporg : "");

	if (resporg[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no RespOrg given"),
				 errhint("Pass a RespOrg ID or set toll_free.resporg.")));

	for (char *p = resporg; *p; p++)
		*p = pg_toupper((unsigned char) *p);

	if (!tf_resporg_id_is_valid(resporg))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid RespOrg ID \"%s\"", resporg),
				 errdetail("A RespOrg ID has exactly five letters or digits, for example RUC01.")));

	return resporg;
}

/*
 * tf_page_size_argument
 *		A page size argument: 0 (the registry's default) when NULL, else
 *		1 to RCK_MAX_PAGE_SIZE.
 */
int32
tf_page_size_argument(bool isnull, int32 page_size)
{
	if (isnull)
		return 0;

	if (page_size < 1 || page_size > RCK_MAX_PAGE_SIZE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("page size %d is out of range", page_size),
				 errdetail("A RespOrg check page holds 1 to %d numbers.", RCK_MAX_PAGE_SIZE)));

	return page_size;
}
