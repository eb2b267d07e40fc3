/*-------------------------------------------------------------------------
 *
 * pg_shim.c
 *		Backend services for the parser fuzz targets (see pg_shim.h).
 *
 * Only what the response parsers call is here, written for this harness:
 * memory contexts that track every chunk (so AddressSanitizer sees each
 * allocation on its own and a reset frees it), ereport that formats its
 * messages (a bad format argument shows up) and jumps back on ERROR, lists,
 * and the encoding checks of a UTF-8 database.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_shim.h"

#include <stdio.h>
#include <stdlib.h>

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

/* A memory context: its chunks, its children and its reset callbacks. */
typedef struct ShimContext ShimContext;
typedef struct ShimChunk ShimChunk;

struct ShimChunk
{
	ShimContext *context;
	ShimChunk  *prev;
	ShimChunk  *next;
	size_t		size;
	/* keep the payload aligned for any type */
	char		padding[16 - (3 * sizeof(void *) + sizeof(size_t)) % 16];
};

struct ShimContext
{
	const char *name;
	ShimContext *parent;
	ShimContext *first_child;
	ShimContext *next_sibling;
	ShimChunk  *chunks;
	MemoryContextCallback *callbacks;
};

MemoryContext CurrentMemoryContext = NULL;
sigjmp_buf *PG_exception_stack = NULL;
ErrorContextCallback *error_context_stack = NULL;
char		shim_error_message[512];

/* Settings the parsers read. */
int			tf_max_response_size_kb = 262144;

static ShimContext *top_context = NULL;
static long live_chunks = 0;

/* The ereport in progress. */
static int	error_level;
static int	error_code;

static void context_reset(ShimContext *context);

static ShimContext *
context_create(ShimContext *parent, const char *name)
{
	ShimContext *context = calloc(1, sizeof(ShimContext));

	if (context == NULL)
		abort();
	context->name = name;
	context->parent = parent;
	if (parent != NULL)
	{
		context->next_sibling = parent->first_child;
		parent->first_child = context;
	}
	return context;
}

static void
context_delete(ShimContext *context)
{
	context_reset(context);
	if (context->parent != NULL)
	{
		ShimContext **link = &context->parent->first_child;

		while (*link != context)
			link = &(*link)->next_sibling;
		*link = context->next_sibling;
	}
	if ((MemoryContext) context == CurrentMemoryContext)
		CurrentMemoryContext = (MemoryContext) context->parent;
	free(context);
}

/*
 * context_reset
 *		As MemoryContextReset: run the reset callbacks (newest first), delete
 *		the children and free every chunk.
 */
static void
context_reset(ShimContext *context)
{
	while (context->callbacks != NULL)
	{
		MemoryContextCallback *callback = context->callbacks;

		context->callbacks = callback->next;
		callback->func(callback->arg);
	}
	while (context->first_child != NULL)
		context_delete(context->first_child);
	while (context->chunks != NULL)
	{
		ShimChunk  *chunk = context->chunks;

		context->chunks = chunk->next;
		free(chunk);
		live_chunks--;
	}
}

static void *
chunk_alloc(ShimContext *context, Size size, int flags)
{
	ShimChunk  *chunk;

	if (size > MaxAllocSize && (flags & MCXT_ALLOC_HUGE) == 0)
		elog(ERROR, "invalid memory alloc request size %zu", size);

	chunk = malloc(sizeof(ShimChunk) + size);
	if (chunk == NULL)
	{
		if (flags & MCXT_ALLOC_NO_OOM)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	}
	chunk->context = context;
	chunk->size = size;
	chunk->prev = NULL;
	chunk->next = context->chunks;
	if (context->chunks != NULL)
		context->chunks->prev = chunk;
	context->chunks = chunk;
	live_chunks++;

	if (flags & MCXT_ALLOC_ZERO)
		memset(chunk + 1, 0, size);
	return chunk + 1;
}

void
shim_begin(void)
{
	top_context = context_create(NULL, "fuzz run");
	CurrentMemoryContext = (MemoryContext) top_context;
	error_level = 0;
	error_code = 0;
	shim_error_message[0] = '\0';
}

void
shim_end(void)
{
	context_delete(top_context);
	top_context = NULL;
	CurrentMemoryContext = NULL;
	shim_require(live_chunks == 0, "every chunk belongs to a context that was deleted");
}

void
shim_require(bool condition, const char *what)
{
	if (!condition)
	{
		fprintf(stderr, "property failed: %s\n", what);
		abort();
	}
}

void
shim_require_sqlstate(int sqlstate, const char *target, const int *allowed)
{
	if (sqlstate == 0)
		return;
	for (const int *code = allowed; *code != 0; code++)
		if (*code == sqlstate)
			return;
	fprintf(stderr, "%s raised unexpected SQLSTATE %c%c%c%c%c: %s\n", target,
			PGUNSIXBIT(sqlstate), PGUNSIXBIT(sqlstate >> 6), PGUNSIXBIT(sqlstate >> 12),
			PGUNSIXBIT(sqlstate >> 18), PGUNSIXBIT(sqlstate >> 24), shim_error_message);
	abort();
}

/* Memory context API */

MemoryContext
AllocSetContextCreateInternal(MemoryContext parent, const char *name,
							  Size minContextSize, Size initBlockSize,
							  Size maxBlockSize)
{
	return (MemoryContext) context_create((ShimContext *) parent, name);
}

void
MemoryContextReset(MemoryContext context)
{
	context_reset((ShimContext *) context);
}

void
MemoryContextDelete(MemoryContext context)
{
	context_delete((ShimContext *) context);
}

void
MemoryContextRegisterResetCallback(MemoryContext context, MemoryContextCallback *cb)
{
	ShimContext *shim = (ShimContext *) context;

	cb->next = shim->callbacks;
	shim->callbacks = cb;
}

void *
MemoryContextAllocExtended(MemoryContext context, Size size, int flags)
{
	return chunk_alloc((ShimContext *) context, size, flags);
}

void *
MemoryContextAlloc(MemoryContext context, Size size)
{
	return chunk_alloc((ShimContext *) context, size, 0);
}

void *
MemoryContextAllocZero(MemoryContext context, Size size)
{
	return chunk_alloc((ShimContext *) context, size, MCXT_ALLOC_ZERO);
}

void *
MemoryContextAllocHuge(MemoryContext context, Size size)
{
	return chunk_alloc((ShimContext *) context, size, MCXT_ALLOC_HUGE);
}

void *
palloc(Size size)
{
	return chunk_alloc((ShimContext *) CurrentMemoryContext, size, 0);
}

void *
palloc0(Size size)
{
	return chunk_alloc((ShimContext *) CurrentMemoryContext, size, MCXT_ALLOC_ZERO);
}

void *
palloc_extended(Size size, int flags)
{
	return chunk_alloc((ShimContext *) CurrentMemoryContext, size, flags);
}

void
pfree(void *pointer)
{
	ShimChunk  *chunk = ((ShimChunk *) pointer) - 1;
	ShimContext *context = chunk->context;

	if (chunk->prev != NULL)
		chunk->prev->next = chunk->next;
	else
		context->chunks = chunk->next;
	if (chunk->next != NULL)
		chunk->next->prev = chunk->prev;
	free(chunk);
	live_chunks--;
}

void *
repalloc(void *pointer, Size size)
{
	ShimChunk  *chunk = ((ShimChunk *) pointer) - 1;
	void	   *copy = chunk_alloc(chunk->context, size, 0);

	memcpy(copy, pointer, Min(size, chunk->size));
	pfree(pointer);
	return copy;
}

void *
repalloc_huge(void *pointer, Size size)
{
	return repalloc(pointer, size);
}

char *
MemoryContextStrdup(MemoryContext context, const char *string)
{
	size_t		len = strlen(string) + 1;
	char	   *copy = MemoryContextAlloc(context, len);

	memcpy(copy, string, len);
	return copy;
}

char *
pstrdup(const char *in)
{
	return MemoryContextStrdup(CurrentMemoryContext, in);
}

char *
pnstrdup(const char *in, Size len)
{
	char	   *out;

	len = strnlen(in, len);
	out = palloc(len + 1);
	memcpy(out, in, len);
	out[len] = '\0';
	return out;
}

/* Error reporting */

bool
errstart(int elevel, const char *domain)
{
	if (elevel < ERROR)
		return false;
	error_level = elevel;
	error_code = ERRCODE_INTERNAL_ERROR;
	shim_error_message[0] = '\0';
	return true;
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

/* An ERROR jumps to the innermost PG_TRY, or to SHIM_RUN's. */
void
errfinish(const char *filename, int lineno, const char *funcname)
{
	if (error_level >= ERROR && PG_exception_stack != NULL)
		siglongjmp(*PG_exception_stack, 1);
	fprintf(stderr, "ERROR outside a run at %s:%d: %s\n", filename, lineno, shim_error_message);
	abort();
}

void
pg_re_throw(void)
{
	if (PG_exception_stack == NULL)
		abort();
	siglongjmp(*PG_exception_stack, 1);
}

int
geterrcode(void)
{
	return error_code;
}

int
errcode(int sqlerrcode)
{
	error_code = sqlerrcode;
	return 0;
}

/* Format a message part fully, so that a bad argument is caught here. */
#define FORMAT_PART(fmt, target) \
	do { \
		va_list		args; \
		va_start(args, fmt); \
		vsnprintf(target, sizeof(target), fmt, args); \
		va_end(args); \
	} while (0)

int
errmsg(const char *fmt,...)
{
	FORMAT_PART(fmt, shim_error_message);
	return 0;
}

int
errmsg_internal(const char *fmt,...)
{
	FORMAT_PART(fmt, shim_error_message);
	return 0;
}

int
errdetail(const char *fmt,...)
{
	char		part[512];

	FORMAT_PART(fmt, part);
	return 0;
}

int
errdetail_internal(const char *fmt,...)
{
	char		part[512];

	FORMAT_PART(fmt, part);
	return 0;
}

int
errhint(const char *fmt,...)
{
	char		part[512];

	FORMAT_PART(fmt, part);
	return 0;
}

int
errcontext_msg(const char *fmt,...)
{
	char		part[512];

	FORMAT_PART(fmt, part);
	return 0;
}

int
set_errcontext_domain(const char *domain)
{
	return 0;
}

/* StringInfo, lists, text */

void
initStringInfo(StringInfo str)
{
	str->maxlen = 1024;
	str->data = palloc(str->maxlen);
	resetStringInfo(str);
}

void
resetStringInfo(StringInfo str)
{
	str->data[0] = '\0';
	str->len = 0;
	str->cursor = 0;
}

void
enlargeStringInfo(StringInfo str, int needed)
{
	int			newlen;

	if (needed < 0 || (size_t) needed >= MaxAllocSize - (size_t) str->len)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("out of memory")));
	needed += str->len + 1;
	if (needed <= str->maxlen)
		return;
	newlen = 2 * str->maxlen;
	while (needed > newlen)
		newlen = 2 * newlen;
	str->data = repalloc(str->data, newlen);
	str->maxlen = newlen;
}

void
appendBinaryStringInfo(StringInfo str, const char *data, int datalen)
{
	enlargeStringInfo(str, datalen);
	memcpy(str->data + str->len, data, datalen);
	str->len += datalen;
	str->data[str->len] = '\0';
}

void
appendStringInfoString(StringInfo str, const char *s)
{
	appendBinaryStringInfo(str, s, strlen(s));
}

void
appendStringInfoChar(StringInfo str, char ch)
{
	appendBinaryStringInfo(str, &ch, 1);
}

List *
lappend(List *list, void *datum)
{
	if (list == NIL)
	{
		list = palloc(offsetof(List, initial_elements) + 8 * sizeof(ListCell));
		list->type = T_List;
		list->length = 0;
		list->max_length = 8;
		list->elements = list->initial_elements;
	}
	else if (list->length == list->max_length)
	{
		ListCell   *elements = palloc(2 * list->max_length * sizeof(ListCell));

		memcpy(elements, list->elements, list->length * sizeof(ListCell));
		if (list->elements != list->initial_elements)
			pfree(list->elements);
		list->elements = elements;
		list->max_length *= 2;
	}
	list->elements[list->length++].ptr_value = datum;
	return list;
}

text *
cstring_to_text(const char *s)
{
	size_t		len = strlen(s);
	text	   *result = palloc(len + VARHDRSZ);

	SET_VARSIZE(result, len + VARHDRSZ);
	memcpy(VARDATA(result), s, len);
	return result;
}

/* Encoding: the database encoding is UTF-8, so conversions are no-ops. */

char *
pg_any_to_server(const char *s, int len, int encoding)
{
	pg_verify_mbstr(PG_UTF8, s, len, false);
	return unconstify(char *, s);
}

char *
pg_server_to_any(const char *s, int len, int encoding)
{
	return unconstify(char *, s);
}

bool
pg_verify_mbstr(int encoding, const char *mbstr, int len, bool noError)
{
	while (len > 0)
	{
		int			l = pg_utf_mblen((const unsigned char *) mbstr);

		if (*mbstr == '\0' || l > len || !pg_utf8_islegal((const unsigned char *) mbstr, l))
		{
			if (noError)
				return false;
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("invalid byte sequence for encoding \"UTF8\"")));
		}
		mbstr += l;
		len -= l;
	}
	return true;
}

void
escape_json(StringInfo buf, const char *str)
{
	appendStringInfoChar(buf, '"');
	for (const char *p = str; *p; p++)
	{
		if (*p == '"' || *p == '\\')
			appendStringInfoChar(buf, '\\');
		if ((unsigned char) *p < 0x20)
		{
			char		escaped[8];

			snprintf(escaped, sizeof(escaped), "\\u%04x", (unsigned char) *p);
			appendStringInfoString(buf, escaped);
		}
		else
			appendStringInfoChar(buf, *p);
	}
	appendStringInfoChar(buf, '"');
}

int
pg_strip_crlf(char *str)
{
	int			len = strlen(str);

	while (len > 0 && (str[len - 1] == '\n' || str[len - 1] == '\r'))
		str[--len] = '\0';
	return len;
}

int
GetDatabaseEncoding(void)
{
	return PG_UTF8;
}

/* Dates: days per month, and the Julian day number of a Gregorian date. */

const int	day_tab[2][13] = {
	{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0},
	{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0}
};

int
date2j(int year, int month, int day)
{
	/* Count from March so that the leap day ends a year. */
	int			a = (14 - month) / 12;
	int			y = year + 4800 - a;
	int			m = month + 12 * a - 3;

	return day + (153 * m + 2) / 5 + 365 * y + y / 4 - y / 100 + y / 400 - 32045;
}

/*
 * tf_effective_parse
 *		Stand-in for records_time.c, which needs the backend's timestamp
 *		code: accepts YYYY-MM-DDThh:mm:ssZ and, like the original, raises
 *		2200N for anything else, a missing value included.
 */
TimestampTz
tf_effective_parse(const char *text, const char *what)
{
	int			year,
				month,
				day,
				hour,
				minute,
				second;
	char		zone;

	if (text == NULL ||
		sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%c", &year, &month, &day, &hour,
			   &minute, &second, &zone) != 7 || zone != 'Z' ||
		month < 1 || month > 12 || day < 1 || day > 31)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_CONTENT),
				 errmsg("invalid effective date/time in %s", what)));

	return ((TimestampTz) (date2j(year, month, day) - POSTGRES_EPOCH_JDATE) * SECS_PER_DAY +
			hour * 3600 + minute * 60 + second) * USECS_PER_SEC;
}
