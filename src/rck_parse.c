/*-------------------------------------------------------------------------
 *
 * rck_parse.c
 *		Streaming parser of one RespOrg check page: a libxml2 push parser
 *		with SAX callbacks, hardened for a response that cannot be trusted.
 *
 * The page looks like
 *
 *		<respOrgCheck>
 *		  <respOrgId>RUC01</respOrgId>
 *		  <numInfo><num>8005550100</num><status>WORKING</status>...</numInfo>
 *		  ...
 *		  <nextKey>8005551999</nextKey>
 *		</respOrgCheck>
 *
 * Hardening: a DOCTYPE stops the parser at once, before any entity
 * declaration is read, so no DTD is loaded and no entity is expanded.
 * XML_PARSE_NONET forbids network access.  Nesting deeper than
 * RCK_MAX_DEPTH, a field longer than RCK_MAX_FIELD_LEN and a page larger
 * than toll_free.max_response_size are errors.  libxml2's default limits
 * (no XML_PARSE_HUGE) stay in force as well.
 *
 * The SAX callbacks never raise a PostgreSQL error, since a longjmp through
 * libxml2 would leave it inconsistent: they record the first problem and
 * stop the parser, and tf_rck_parser_feed() raises it after xmlParseChunk()
 * returns.  Completed rows are collected the same way and handed to the
 * caller's callback only after libxml2 has returned.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "mb/pg_wchar.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/datetime.h"
#include "utils/memutils.h"

#include "rck.h"
#include "settings.h"
#include "toll_free.h"

/* Deepest element nesting accepted; the page itself needs three levels. */
#define RCK_MAX_DEPTH		8

/* Maximum length of a field value, in bytes. */
#define RCK_MAX_FIELD_LEN	1024

/* Maximum length of a piece handed to xmlParseChunk() at once, in bytes. */
#define RCK_MAX_CHUNK		65536

const char *const tf_number_status_labels[TF_NUMBER_STATUS_COUNT] = {
	"SPARE", "RESERVED", "ASSIGNED", "WORKING",
	"DISCONNECT", "TRANSITIONAL", "UNAVAILABLE", "SUSPEND"
};

/* The <numInfo> children the parser keeps; others are skipped. */
typedef enum RckField
{
	FIELD_NUM,
	FIELD_STATUS,
	FIELD_RESPORG,
	FIELD_EFF_DT,
	FIELD_RES_UNTIL_DT,
	FIELD_DISC_UNTIL_DT,
	FIELD_LAST_ACT_DT,
	FIELD_CON_NAME,
	FIELD_CON_TEL,
	FIELD_SHRT_NOTES,
	FIELD_REC_VERSION_ID,
	FIELD_AUCTN_IND,
	FIELD_COUNT
} RckField;

static const char *const field_names[FIELD_COUNT] = {
	"num", "status", "ctrlRespOrgId", "effDt", "resUntilDt", "discUntilDt",
	"lastActDt", "conName", "conTel", "shrtNotes", "recVersionId", "auctnInd"
};

/* What the text being read belongs to. */
typedef enum RckCapture
{
	CAPTURE_NONE,
	CAPTURE_FIELD,				/* a <numInfo> child */
	CAPTURE_RESPORG_ID,			/* the page's <respOrgId> */
	CAPTURE_NEXT_KEY			/* the page's <nextKey> */
} RckCapture;

/* A complete <numInfo> as text, before conversion. */
typedef struct RawRow
{
	char	   *values[FIELD_COUNT];
} RawRow;

struct TfRckParser
{
	xmlParserCtxtPtr xml;		/* malloc'd by libxml2; freed by reset_callback */
	MemoryContextCallback reset_callback;

	char		resporg[6];		/* the RespOrg whose check this is */
	char		last_number[TF_NUMBER_DIGITS + 1];	/* "" before the first */
	TfRckRowCallback on_row;
	void	   *on_row_arg;

	/* Parse state, changed only by the SAX callbacks. */
	int			depth;
	bool		saw_root;
	bool		root_closed;
	bool		in_row;
	RckCapture	capture;
	int			capture_depth;
	RckField	capture_field;
	StringInfoData text;
	RawRow		row;			/* the <numInfo> being read */
	MemoryContext row_cxt;		/* its values; reset at each <numInfo> */
	List	   *rows;			/* complete RawRows not yet delivered */
	MemoryContext rows_cxt;		/* those rows; reset after each delivery */
	MemoryContext page_cxt;		/* the parser itself, next_key, page_resporg */
	char	   *next_key;
	char	   *page_resporg;
	size_t		bytes;

	/* The first problem found by a callback; raised after libxml2 returns. */
	int			error_code;		/* ERRCODE_*, 0 while there is none */
	char		error[256];
};

/*
 * parser_fail
 *		Record the first problem and stop the parser.  Safe inside libxml2.
 */
static void
parser_fail(TfRckParser *parser, int errcode, const char *fmt,...)
{
	va_list		args;

	if (parser->error_code != 0)
		return;

	parser->error_code = errcode;
	va_start(args, fmt);
	vsnprintf(parser->error, sizeof(parser->error), fmt, args);
	va_end(args);

	xmlStopParser(parser->xml);
}

static void
sax_start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
				  const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
				  int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	TfRckParser *parser = (TfRckParser *) ctx;
	const char *name = (const char *) localname;

	parser->depth++;
	if (parser->depth > RCK_MAX_DEPTH)
	{
		parser_fail(parser, ERRCODE_INVALID_XML_DOCUMENT,
					"Elements are nested more than %d levels deep.", RCK_MAX_DEPTH);
		return;
	}

	if (parser->depth == 1)
	{
		if (strcmp(name, "respOrgCheck") != 0)
			parser_fail(parser, ERRCODE_INVALID_XML_DOCUMENT,
						"The document element is <%.64s>, expected <respOrgCheck>.", name);
		parser->saw_root = true;
		return;
	}

	if (parser->depth == 2)
	{
		if (strcmp(name, "numInfo") == 0)
		{
			parser->in_row = true;
			memset(&parser->row, 0, sizeof(RawRow));
			MemoryContextReset(parser->row_cxt);
		}
		else if (strcmp(name, "nextKey") == 0)
			parser->capture = CAPTURE_NEXT_KEY;
		else if (strcmp(name, "respOrgId") == 0)
			parser->capture = CAPTURE_RESPORG_ID;
	}
	else if (parser->depth == 3 && parser->in_row)
	{
		for (int i = 0; i < FIELD_COUNT; i++)
		{
			if (strcmp(name, field_names[i]) != 0)
				continue;
			if (parser->row.values[i] != NULL)
			{
				parser_fail(parser, ERRCODE_INVALID_XML_DOCUMENT,
							"A <numInfo> has more than one <%s>.", field_names[i]);
				return;
			}
			parser->capture = CAPTURE_FIELD;
			parser->capture_field = (RckField) i;
			break;
		}
	}

	if (parser->capture != CAPTURE_NONE && parser->capture_depth == 0)
	{
		parser->capture_depth = parser->depth;
		resetStringInfo(&parser->text);
	}
}

static void
sax_end_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
				const xmlChar *uri)
{
	TfRckParser *parser = (TfRckParser *) ctx;

	if (parser->capture != CAPTURE_NONE && parser->depth == parser->capture_depth)
	{
		const char *text = parser->text.data;

		switch (parser->capture)
		{
			case CAPTURE_FIELD:
				parser->row.values[parser->capture_field] =
					MemoryContextStrdup(parser->row_cxt, text);
				break;
			case CAPTURE_NEXT_KEY:
				parser->next_key = MemoryContextStrdup(parser->page_cxt, text);
				break;
			case CAPTURE_RESPORG_ID:
				parser->page_resporg = MemoryContextStrdup(parser->page_cxt, text);
				break;
			case CAPTURE_NONE:
				break;
		}
		parser->capture = CAPTURE_NONE;
		parser->capture_depth = 0;
	}

	if (parser->depth == 2 && parser->in_row)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(parser->rows_cxt);
		RawRow	   *complete = palloc0(sizeof(RawRow));

		for (int i = 0; i < FIELD_COUNT; i++)
		{
			if (parser->row.values[i] != NULL)
				complete->values[i] = pstrdup(parser->row.values[i]);
		}
		parser->rows = lappend(parser->rows, complete);
		MemoryContextSwitchTo(oldcxt);
		parser->in_row = false;
	}
	else if (parser->depth == 1)
		parser->root_closed = true;

	parser->depth--;
}

static void
sax_characters(void *ctx, const xmlChar *ch, int len)
{
	TfRckParser *parser = (TfRckParser *) ctx;

	/* Text of nested elements inside a field counts as the field's text. */
	if (parser->capture == CAPTURE_NONE)
		return;

	if (parser->text.len + len > RCK_MAX_FIELD_LEN)
	{
		parser_fail(parser, ERRCODE_INVALID_XML_DOCUMENT,
					"A field value is longer than %d bytes.", RCK_MAX_FIELD_LEN);
		return;
	}

	appendBinaryStringInfo(&parser->text, (const char *) ch, len);
}

static void
sax_internal_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
					const xmlChar *system_id)
{
	parser_fail((TfRckParser *) ctx, ERRCODE_INVALID_XML_DOCUMENT,
				"The response contains a document type declaration (DTD), which is not allowed.");
}

static void
sax_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
				const xmlChar *system_id, xmlChar *content)
{
	parser_fail((TfRckParser *) ctx, ERRCODE_INVALID_XML_DOCUMENT,
				"The response declares an entity, which is not allowed.");
}

/*
 * sax_structured_error
 *		Keep libxml2's first error; warnings are ignored.
 */
static void
sax_structured_error(void *ctx, xmlErrorPtr error)
{
	TfRckParser *parser = (TfRckParser *) ctx;
	char		message[200];
	size_t		len;
	int			errcode = ERRCODE_INVALID_XML_DOCUMENT;

	if (error == NULL || error->level < XML_ERR_ERROR || parser->error_code != 0)
		return;

	/* The first line only: libxml2 appends the offending bytes on a second. */
	strlcpy(message, error->message ? error->message : "unknown error", sizeof(message));
	message[strcspn(message, "\n")] = '\0';
	len = strlen(message);
	while (len > 0 && (message[len - 1] == '\n' || message[len - 1] == ' '))
		message[--len] = '\0';

	if (error->code == XML_ERR_INVALID_CHAR || error->code == XML_ERR_INVALID_ENCODING)
		errcode = ERRCODE_CHARACTER_NOT_IN_REPERTOIRE;

	parser->error_code = errcode;
	snprintf(parser->error, sizeof(parser->error), "libxml2 reported at line %d: %s",
			 error->line, message);
}

/*
 * free_xml_context
 *		Memory-context reset callback: free libxml2's parser context.
 *
 * Registered on the context that contains the parser, so that an error, an
 * early stop or a normal end all free it exactly once.
 */
static void
free_xml_context(void *arg)
{
	TfRckParser *parser = (TfRckParser *) arg;

	if (parser->xml != NULL)
	{
		xmlFreeParserCtxt(parser->xml);
		parser->xml = NULL;
	}
}

/*
 * tf_rck_parser_create
 *		A parser for one page of "resporg"'s check, in CurrentMemoryContext.
 *
 * Deleting or resetting that context frees the parser, libxml2's part
 * included.  Rows are passed to on_row(arg, row).
 */
TfRckParser *
tf_rck_parser_create(const char *resporg, TfRckRowCallback on_row, void *arg)
{
	TfRckParser *parser = palloc0(sizeof(TfRckParser));
	xmlSAXHandler sax;

	strlcpy(parser->resporg, resporg, sizeof(parser->resporg));
	parser->on_row = on_row;
	parser->on_row_arg = arg;
	initStringInfo(&parser->text);
	parser->page_cxt = CurrentMemoryContext;
	parser->row_cxt = AllocSetContextCreate(CurrentMemoryContext,
											"RespOrg check row",
											ALLOCSET_SMALL_SIZES);
	parser->rows_cxt = AllocSetContextCreate(CurrentMemoryContext,
											 "RespOrg check rows",
											 ALLOCSET_DEFAULT_SIZES);

	memset(&sax, 0, sizeof(sax));
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = sax_start_element;
	sax.endElementNs = sax_end_element;
	sax.characters = sax_characters;
	sax.cdataBlock = sax_characters;
	sax.internalSubset = sax_internal_subset;
	sax.externalSubset = sax_internal_subset;
	sax.entityDecl = sax_entity_decl;
	sax.serror = sax_structured_error;

	/* Register the clean-up first, so that no failure below can leak. */
	parser->reset_callback.func = free_xml_context;
	parser->reset_callback.arg = parser;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &parser->reset_callback);

	xmlInitParser();
	parser->xml = xmlCreatePushParserCtxt(&sax, parser, NULL, 0, NULL);
	if (parser->xml == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not create an XML parser for the RespOrg check")));

	xmlCtxtUseOptions(parser->xml, XML_PARSE_NONET);
	parser->xml->replaceEntities = 0;
	parser->xml->loadsubset = 0;
	parser->xml->validate = 0;

	return parser;
}

/*
 * raise_parser_error
 *		Raise the problem a callback or libxml2 recorded.
 */
static void
raise_parser_error(TfRckParser *parser)
{
	ereport(ERROR,
			(errcode(parser->error_code),
			 errmsg("invalid RespOrg check response from the registry"),
			 errdetail("%s", parser->error),
			 errcontext("RespOrg check of %s", parser->resporg)));
}

/*
 * parse_date
 *		Convert a YYYY-MM-DD field; raises on anything else.
 */
static DateADT
parse_date(TfRckParser *parser, RckField field, const char *value)
{
	int			year,
				month,
				day;
	char		tail;

	if (strlen(value) != 10 || value[4] != '-' || value[7] != '-' ||
		sscanf(value, "%4d-%2d-%2d%c", &year, &month, &day, &tail) != 3 ||
		year < 1900 || month < 1 || month > 12 || day < 1 ||
		day > day_tab[isleap(year)][month - 1])
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_CONTENT),
				 errmsg("invalid RespOrg check response from the registry"),
				 errdetail("<%s> of number %s is \"%s\", not a date written YYYY-MM-DD.",
						   field_names[field], parser->last_number, value)));

	return date2j(year, month, day) - POSTGRES_EPOCH_JDATE;
}

/*
 * convert_text
 *		A UTF-8 field value in the database encoding; raises when it is not
 *		valid UTF-8 or cannot be represented.
 */
static const char *
convert_text(const char *value)
{
	if (value == NULL)
		return NULL;

	return pg_any_to_server(value, strlen(value), PG_UTF8);
}

/*
 * deliver_row
 *		Check one raw row, convert it and pass it to the caller's callback.
 */
static void
deliver_row(TfRckParser *parser, RawRow *raw)
{
	TfRckRow	row;
	const char *num = raw->values[FIELD_NUM];
	const char *status = raw->values[FIELD_STATUS];
	const char *resporg = raw->values[FIELD_RESPORG];
	const char *auctioned = raw->values[FIELD_AUCTN_IND];

	memset(&row, 0, sizeof(row));

	if (num == NULL || strlen(num) != TF_NUMBER_DIGITS ||
		strspn(num, "0123456789") != TF_NUMBER_DIGITS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_CONTENT),
				 errmsg("invalid RespOrg check response from the registry"),
				 errdetail("A <numInfo> has no <num> of 10 digits (after number %s).",
						   parser->last_number[0] ? parser->last_number : "none")));

	/* Ascending order is what makes paging by startKey safe. */
	if (strcmp(num, parser->last_number) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_CONTENT),
				 errmsg("invalid RespOrg check response from the registry"),
				 errdetail("Number %s follows number %s; the check must list numbers in ascending order.",
						   num, parser->last_number)));
	strlcpy(parser->last_number, num, sizeof(parser->last_number));
	strlcpy(row.number, num, sizeof(row.number));

	row.status = -1;
	for (int i = 0; status != NULL && i < TF_NUMBER_STATUS_COUNT; i++)
	{
		if (strcmp(status, tf_number_status_labels[i]) == 0)
			row.status = i;
	}
	if (row.status < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_CONTENT),
				 errmsg("invalid RespOrg check response from the registry"),
				 errdetail("Number %s has the unknown status \"%s\".", num,
						   status ? status : "")));

	if (resporg != NULL && strcmp(resporg, parser->resporg) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_CONTENT),
				 errmsg("invalid RespOrg check response from the registry"),
				 errdetail("Number %s is listed under RespOrg \"%s\" in the check of %s.",
						   num, resporg, parser->resporg)));
	row.resporg = parser->resporg;

	if (raw->values[FIELD_EFF_DT] != NULL)
	{
		row.has_status_date = true;
		row.status_date = parse_date(parser, FIELD_EFF_DT, raw->values[FIELD_EFF_DT]);
	}
	if (raw->values[FIELD_RES_UNTIL_DT] != NULL)
	{
		row.has_reserved_until = true;
		row.reserved_until = parse_date(parser, FIELD_RES_UNTIL_DT,
										raw->values[FIELD_RES_UNTIL_DT]);
	}
	if (raw->values[FIELD_DISC_UNTIL_DT] != NULL)
	{
		row.has_disconnect_until = true;
		row.disconnect_until = parse_date(parser, FIELD_DISC_UNTIL_DT,
										  raw->values[FIELD_DISC_UNTIL_DT]);
	}
	if (raw->values[FIELD_LAST_ACT_DT] != NULL)
	{
		row.has_last_active = true;
		row.last_active = parse_date(parser, FIELD_LAST_ACT_DT,
									 raw->values[FIELD_LAST_ACT_DT]);
	}

	row.contact_name = convert_text(raw->values[FIELD_CON_NAME]);
	row.contact_phone = convert_text(raw->values[FIELD_CON_TEL]);
	row.notes = convert_text(raw->values[FIELD_SHRT_NOTES]);
	row.rec_version_id = convert_text(raw->values[FIELD_REC_VERSION_ID]);

	if (auctioned == NULL)
		row.auctioned = -1;
	else if (strcmp(auctioned, "Y") == 0)
		row.auctioned = 1;
	else if (strcmp(auctioned, "N") == 0)
		row.auctioned = 0;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_CONTENT),
				 errmsg("invalid RespOrg check response from the registry"),
				 errdetail("<auctnInd> of number %s is \"%s\", not Y or N.", num, auctioned)));

	parser->on_row(parser->on_row_arg, &row);
}

/*
 * deliver_rows
 *		Hand every completed row to the caller, then free them.
 */
static void
deliver_rows(TfRckParser *parser)
{
	MemoryContext oldcxt;
	ListCell   *lc;

	if (parser->rows == NIL)
		return;

	/* Converted strings live in rows_cxt too, until the reset below. */
	oldcxt = MemoryContextSwitchTo(parser->rows_cxt);
	foreach(lc, parser->rows)
		deliver_row(parser, (RawRow *) lfirst(lc));
	MemoryContextSwitchTo(oldcxt);

	parser->rows = NIL;
	MemoryContextReset(parser->rows_cxt);
}

/*
 * parse_piece
 *		Run libxml2 over one piece of the body (terminate: the body ended).
 */
static void
parse_piece(TfRckParser *parser, const char *data, size_t len, bool terminate)
{
	int			rc;

	rc = xmlParseChunk(parser->xml, data, (int) len, terminate ? 1 : 0);

	if (parser->error_code != 0)
		raise_parser_error(parser);
	if (rc != 0)
	{
		parser->error_code = ERRCODE_INVALID_XML_DOCUMENT;
		snprintf(parser->error, sizeof(parser->error),
				 "libxml2 stopped with error %d.", rc);
		raise_parser_error(parser);
	}

	deliver_rows(parser);
}

/*
 * tf_rck_parser_feed
 *		Parse the next piece of the body, delivering every row it completes.
 */
void
tf_rck_parser_feed(TfRckParser *parser, const char *data, size_t len)
{
	size_t		limit = (size_t) tf_max_response_size_kb * 1024;

	parser->bytes += len;
	if (parser->bytes > limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("RespOrg check page is larger than toll_free.max_response_size"),
				 errdetail("The page of %s exceeds %d kB.", parser->resporg,
						   tf_max_response_size_kb),
				 errhint("Raise toll_free.max_response_size or request smaller pages.")));

	while (len > 0)
	{
		size_t		piece = Min(len, RCK_MAX_CHUNK);

		parse_piece(parser, data, piece, false);
		data += piece;
		len -= piece;
	}
}

/*
 * tf_rck_parser_finish
 *		The body is complete: check that the document is.
 */
void
tf_rck_parser_finish(TfRckParser *parser)
{
	parse_piece(parser, NULL, 0, true);

	if (!parser->saw_root || !parser->root_closed)
	{
		parser->error_code = ERRCODE_INVALID_XML_DOCUMENT;
		snprintf(parser->error, sizeof(parser->error),
				 "The response ended before </respOrgCheck>.");
		raise_parser_error(parser);
	}

	if (parser->page_resporg != NULL && strcmp(parser->page_resporg, parser->resporg) != 0)
	{
		parser->error_code = ERRCODE_INVALID_XML_CONTENT;
		snprintf(parser->error, sizeof(parser->error),
				 "The response is the check of RespOrg \"%.16s\", not %s.",
				 parser->page_resporg, parser->resporg);
		raise_parser_error(parser);
	}

	if (parser->next_key != NULL &&
		(strlen(parser->next_key) != TF_NUMBER_DIGITS ||
		 strspn(parser->next_key, "0123456789") != TF_NUMBER_DIGITS))
	{
		parser->error_code = ERRCODE_INVALID_XML_CONTENT;
		snprintf(parser->error, sizeof(parser->error),
				 "<nextKey> is \"%.32s\", not a number of 10 digits.", parser->next_key);
		raise_parser_error(parser);
	}

	/* The next page starts after nextKey: one below this page's rows would list them again. */
	if (parser->next_key != NULL && strcmp(parser->next_key, parser->last_number) < 0)
	{
		parser->error_code = ERRCODE_INVALID_XML_CONTENT;
		snprintf(parser->error, sizeof(parser->error),
				 "<nextKey> %s is below the page's last number %s.",
				 parser->next_key, parser->last_number);
		raise_parser_error(parser);
	}
}

/*
 * tf_rck_parser_next_key
 *		The page's <nextKey>, or NULL on the last page.  Valid after
 *		tf_rck_parser_finish().
 */
const char *
tf_rck_parser_next_key(TfRckParser *parser)
{
	return parser->next_key;
}

/*
 * tf_rck_parser_set_after
 *		Rows of this page must follow "number" (the page's startKey).
 */
void
tf_rck_parser_set_after(TfRckParser *parser, const char *number)
{
	strlcpy(parser->last_number, number, sizeof(parser->last_number));
}
