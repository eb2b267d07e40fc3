/*-------------------------------------------------------------------------
 *
 * rck.h
 *		The RespOrg check: every number a RespOrg controls, page by page,
 *		parsed from the registry's XML while it streams in.
 *
 * Two layers:
 *
 * - TfRckParser is a hardened libxml2 push parser for one page
 *	 (<respOrgCheck> with its <numInfo> rows and <nextKey>).  It accepts the
 *	 body in pieces of any size and hands out each complete row.  Memory
 *	 stays bounded by the size of a piece, never by the size of the page.
 *
 * - TfRck runs the page loop: GET /num/rck/{respOrgId}, then again with
 *	 startKey = nextKey until a page has no nextKey.  tf_rck_step() moves the
 *	 transfer along and reports page ends, so the inventory sync can commit
 *	 per page; tf_resporg_check() calls it only when its row queue is empty.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_RCK_H
#define TOLL_FREE_RCK_H

#include "fmgr.h"
#include "utils/date.h"

/* Statuses in the order of the enum toll_free.number_status. */
#define TF_NUMBER_STATUS_COUNT	8
extern const char *const tf_number_status_labels[TF_NUMBER_STATUS_COUNT];

/* The length of a toll-free number written as digits. */
#define TF_NUMBER_DIGITS		10

/*
 * One <numInfo> row, checked and converted.  Strings are NULL when the
 * element was absent and point into the parser's memory: they are valid
 * only during the callback that receives the row.
 */
typedef struct TfRckRow
{
	char		number[TF_NUMBER_DIGITS + 1];
	const char *resporg;		/* ctrlRespOrgId, or the requested RespOrg */
	int			status;			/* index into tf_number_status_labels */
	bool		has_status_date;
	bool		has_reserved_until;
	bool		has_disconnect_until;
	bool		has_last_active;
	DateADT		status_date;	/* effDt */
	DateADT		reserved_until; /* resUntilDt */
	DateADT		disconnect_until;	/* discUntilDt */
	DateADT		last_active;	/* lastActDt */
	const char *contact_name;	/* conName */
	const char *contact_phone;	/* conTel */
	const char *notes;			/* shrtNotes */
	const char *rec_version_id; /* recVersionId */
	int			auctioned;		/* auctnInd: 1 Y, 0 N, -1 absent */
} TfRckRow;

typedef void (*TfRckRowCallback) (void *arg, const TfRckRow *row);

/* The streaming parser of one page. */
typedef struct TfRckParser TfRckParser;

extern TfRckParser *tf_rck_parser_create(const char *resporg,
										 TfRckRowCallback on_row, void *arg);
extern void tf_rck_parser_feed(TfRckParser *parser, const char *data, size_t len);
extern void tf_rck_parser_finish(TfRckParser *parser);
extern const char *tf_rck_parser_next_key(TfRckParser *parser);
extern void tf_rck_parser_set_after(TfRckParser *parser, const char *number);

/* What tf_rck_step() did. */
typedef enum TfRckStep
{
	TF_RCK_MORE,				/* received data (maybe no rows); call again */
	TF_RCK_PAGE_END,			/* a page ended and another follows */
	TF_RCK_END					/* the last page ended */
} TfRckStep;

/* The page loop. */
typedef struct TfRck TfRck;

extern TfRck *tf_rck_begin(const char *resporg, int32 page_size,
						   TfRckRowCallback on_row, void *arg);
extern TfRckStep tf_rck_step(TfRck *rck);
extern int32 tf_rck_pages(TfRck *rck);
extern int64 tf_rck_rows(TfRck *rck);
extern void tf_rck_end(TfRck *rck);
extern void tf_rck_abandon(TfRck *rck);

/* Checks of the arguments users pass, shared by the SQL functions. */
extern char *tf_resporg_argument(text *resporg_or_null);
extern int32 tf_page_size_argument(bool isnull, int32 page_size);

#endif							/* TOLL_FREE_RCK_H */
