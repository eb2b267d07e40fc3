/*-------------------------------------------------------------------------
 *
 * xml_reader.c
 *		Hardened streaming XML reader over libxml2's SAX2 push parser.
 *
 * The SAX callbacks run inside libxml2, where an ereport would longjmp
 * over the parser's own state.  So they only queue events and set flags;
 * tf_xml_reader_feed hands the queued events to the caller, and raises any
 * error, after xmlParseChunk has returned.
 *
 * Hardening, in layers:
 * - The bytes are checked as UTF-8 here, before libxml2 parses them, and the
 *   document's encoding declaration is ignored (XML_PARSE_IGNORE_ENC).
 * - A DOCTYPE of any kind ends the parse (internalSubset/externalSubset
 *   callbacks), so no entity declaration is ever read: that stops
 *   external entities (file and http) and entity expansion bombs alike.
 * - The parser options never include XML_PARSE_NOENT, XML_PARSE_DTDLOAD or
 *   XML_PARSE_HUGE, and XML_PARSE_NONET forbids network access.
 * - Nesting depth and text length are limited here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/memutils.h"

#include "xml_reader.h"

typedef struct QueuedEvent
{
	TfXmlEvent	event;
	struct QueuedEvent *next;
} QueuedEvent;

struct TfXmlReader
{
	xmlParserCtxtPtr ctxt;		/* NULL once freed */
	MemoryContext mcxt;
	MemoryContextCallback reset_callback;

	TfXmlEventCallback callback;
	void	   *arg;

	/* Events queued by the SAX callbacks, in a context reset per feed. */
	MemoryContext event_cxt;
	QueuedEvent *first;
	QueuedEvent *last;

	int			depth;
	StringInfoData text;		/* text of the innermost open element */

	/* has_children[d]: the open element at depth d has had a child. */
	bool		has_children[TF_XML_MAX_DEPTH + 2];
	bool		text_too_long;

	/* Bytes of an incomplete UTF-8 sequence at the end of the last chunk. */
	unsigned char partial[4];
	int			partial_len;

	/* First problem found inside libxml2. */
	int			error_code;		/* ERRCODE_*, 0 when none */
	char		error_detail[256];
};

static void
reader_reset_callback(void *arg)
{
	TfXmlReader *reader = (TfXmlReader *) arg;

	if (reader->ctxt != NULL)
	{
		xmlFreeParserCtxt(reader->ctxt);
		reader->ctxt = NULL;
	}
}

/*
 * fail
 *		Remember the first error and stop the parser.  Called inside libxml2.
 */
static void
fail(TfXmlReader *reader, int code, const char *detail)
{
	if (reader->error_code == 0)
	{
		reader->error_code = code;
		strlcpy(reader->error_detail, detail, sizeof(reader->error_detail));
	}
	if (reader->ctxt != NULL)
		xmlStopParser(reader->ctxt);
}

/*
 * queue_event
 *		Copy an event into the event context.  Called inside libxml2, so
 *		allocation must not raise: it uses MCXT_ALLOC_NO_OOM.
 */
static void *
event_alloc(TfXmlReader *reader, size_t size)
{
	return MemoryContextAllocExtended(reader->event_cxt, size, MCXT_ALLOC_NO_OOM);
}

static char *
event_strdup(TfXmlReader *reader, const char *s, size_t len)
{
	char	   *copy = event_alloc(reader, len + 1);

	if (copy != NULL)
	{
		memcpy(copy, s, len);
		copy[len] = '\0';
	}
	return copy;
}

static void
queue_event(TfXmlReader *reader, bool is_end, const xmlChar *name,
			const xmlChar **attributes, int nattributes)
{
	QueuedEvent *queued = event_alloc(reader, sizeof(QueuedEvent));

	if (queued == NULL)
	{
		fail(reader, ERRCODE_OUT_OF_MEMORY, "out of memory while reading the registry response");
		return;
	}

	memset(queued, 0, sizeof(QueuedEvent));
	queued->event.is_end = is_end;
	queued->event.depth = reader->depth;
	queued->event.name = event_strdup(reader, (const char *) name, strlen((const char *) name));

	if (is_end)
	{
		queued->event.text = event_strdup(reader, reader->text.data, reader->text.len);
		queued->event.text_len = reader->text.len;
	}
	else
	{
		/* SAX2 gives attributes as (localname, prefix, URI, value, end). */
		const char **list = event_alloc(reader, sizeof(char *) * (2 * nattributes + 1));

		if (list != NULL)
		{
			for (int i = 0; i < nattributes; i++)
			{
				const xmlChar *value = attributes[i * 5 + 3];
				const xmlChar *end = attributes[i * 5 + 4];

				list[2 * i] = event_strdup(reader, (const char *) attributes[i * 5],
										   strlen((const char *) attributes[i * 5]));
				list[2 * i + 1] = event_strdup(reader, (const char *) value, end - value);
			}
			list[2 * nattributes] = NULL;
		}
		queued->event.attributes = list;
	}

	if (reader->last != NULL)
		reader->last->next = queued;
	else
		reader->first = queued;
	reader->last = queued;
}

static void
sax_start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
				  const xmlChar *URI, int nb_namespaces, const xmlChar **namespaces,
				  int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	TfXmlReader *reader = (TfXmlReader *) ((xmlParserCtxtPtr) ctx)->_private;

	if (reader->error_code != 0)
		return;

	reader->depth++;
	if (reader->depth > TF_XML_MAX_DEPTH)
	{
		fail(reader, ERRCODE_INVALID_XML_DOCUMENT,
			 "The document nests elements deeper than the limit.");
		return;
	}

	reader->has_children[reader->depth - 1] = true;
	reader->has_children[reader->depth] = false;
	reader->text.len = 0;
	reader->text.data[0] = '\0';
	queue_event(reader, false, localname, attributes, nb_attributes);
}

static void
sax_end_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
				const xmlChar *URI)
{
	TfXmlReader *reader = (TfXmlReader *) ((xmlParserCtxtPtr) ctx)->_private;

	if (reader->error_code != 0)
		return;

	queue_event(reader, true, localname, NULL, 0);
	reader->depth--;
	reader->text.len = 0;
	reader->text.data[0] = '\0';
}

/*
 * sax_characters
 *		Collect text; the buffer was sized for the limit up front, so this
 *		never allocates.
 */
static void
sax_characters(void *ctx, const xmlChar *ch, int len)
{
	TfXmlReader *reader = (TfXmlReader *) ((xmlParserCtxtPtr) ctx)->_private;

	if (reader->error_code != 0)
		return;

	/*
	 * Text between child elements (indentation, padding) is not part of the
	 * protocol's data, which lives in leaf elements only.
	 */
	if (reader->has_children[reader->depth])
		return;

	if (reader->text.len + len > TF_XML_MAX_TEXT)
	{
		fail(reader, ERRCODE_INVALID_XML_DOCUMENT,
			 "An element's text is longer than the limit.");
		return;
	}

	memcpy(reader->text.data + reader->text.len, ch, len);
	reader->text.len += len;
	reader->text.data[reader->text.len] = '\0';
}

static void
sax_doctype(void *ctx, const xmlChar *name, const xmlChar *ExternalID,
			const xmlChar *SystemID)
{
	TfXmlReader *reader = (TfXmlReader *) ((xmlParserCtxtPtr) ctx)->_private;

	fail(reader, ERRCODE_INVALID_XML_DOCUMENT,
		 "Document type declarations and entities are not allowed in registry responses.");
}

static void
sax_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *publicId,
				const xmlChar *systemId, xmlChar *content)
{
	TfXmlReader *reader = (TfXmlReader *) ((xmlParserCtxtPtr) ctx)->_private;

	fail(reader, ERRCODE_INVALID_XML_DOCUMENT,
		 "Document type declarations and entities are not allowed in registry responses.");
}

/*
 * Only the five predefined entities (&amp; and the like) resolve: a DTD
 * ends the parse, so no other entity is ever defined.
 */
static xmlEntityPtr
sax_get_entity(void *ctx, const xmlChar *name)
{
	return xmlGetPredefinedEntity(name);
}

/*
 * sax_structured_error
 *		libxml2's own error report.  Only the first message is kept, as
 *		detail.  For the malformed and hostile documents the tests send,
 *		libxml2's messages name tags, entities and lines, not text content.
 */
static void
sax_structured_error(void *user_data, xmlErrorPtr error)
{
	xmlParserCtxtPtr ctxt = (xmlParserCtxtPtr) user_data;
	TfXmlReader *reader;
	char		detail[256];
	size_t		len;

	if (ctxt == NULL || ctxt->_private == NULL || error == NULL)
		return;
	reader = (TfXmlReader *) ctxt->_private;

	if (error->level < XML_ERR_ERROR)
		return;

	snprintf(detail, sizeof(detail), "libxml2: %s", error->message ? error->message : "parse error");
	len = strlen(detail);
	while (len > 0 && (detail[len - 1] == '\n' || detail[len - 1] == ' '))
		detail[--len] = '\0';

	fail(reader, ERRCODE_INVALID_XML_DOCUMENT, detail);
}

/*
 * tf_xml_reader_create
 *		Create a reader whose libxml2 parser lives until the current memory
 *		context is reset.
 */
TfXmlReader *
tf_xml_reader_create(TfXmlEventCallback callback, void *arg)
{
	TfXmlReader *reader;
	xmlSAXHandler sax;

	xmlInitParser();

	reader = palloc0(sizeof(TfXmlReader));
	reader->mcxt = CurrentMemoryContext;
	reader->callback = callback;
	reader->arg = arg;
	reader->event_cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "toll_free XML events",
											  ALLOCSET_SMALL_SIZES);
	reader->text.data = palloc(TF_XML_MAX_TEXT + 1);
	reader->text.maxlen = TF_XML_MAX_TEXT + 1;
	reader->text.len = 0;
	reader->text.data[0] = '\0';

	reader->reset_callback.func = reader_reset_callback;
	reader->reset_callback.arg = reader;
	MemoryContextRegisterResetCallback(reader->mcxt, &reader->reset_callback);

	memset(&sax, 0, sizeof(sax));
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = sax_start_element;
	sax.endElementNs = sax_end_element;
	sax.characters = sax_characters;
	sax.cdataBlock = sax_characters;
	sax.internalSubset = sax_doctype;
	sax.externalSubset = sax_doctype;
	sax.entityDecl = sax_entity_decl;
	sax.getEntity = sax_get_entity;
	sax.serror = sax_structured_error;

	reader->ctxt = xmlCreatePushParserCtxt(&sax, NULL, NULL, 0, NULL);
	if (reader->ctxt == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not create an XML parser")));

	reader->ctxt->_private = reader;
	xmlCtxtUseOptions(reader->ctxt, XML_PARSE_NONET | XML_PARSE_IGNORE_ENC | XML_PARSE_NOWARNING);

	/* xmlCtxtUseOptions may reset the error callback's user data. */
	reader->ctxt->sax->serror = sax_structured_error;
	xmlSwitchEncoding(reader->ctxt, XML_CHAR_ENCODING_UTF8);

	return reader;
}

/*
 * check_utf8
 *		Raise 22021 unless the bytes seen so far are valid UTF-8 without NUL.
 *
 * A sequence cut at the end of a chunk is kept in reader->partial and
 * completed by the next chunk.  Validation is separate from parsing: every
 * byte still goes to libxml2, which buffers split sequences itself.
 */
static void
check_utf8(TfXmlReader *reader, const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *) data;
	size_t		i = 0;

	/* Complete a sequence held over from the last chunk. */
	while (reader->partial_len > 0 && i < len)
	{
		int			need = pg_utf_mblen(reader->partial);

		reader->partial[reader->partial_len++] = p[i++];
		if (reader->partial_len == need)
		{
			if (!pg_utf8_islegal(reader->partial, need))
				goto invalid;
			reader->partial_len = 0;
		}
	}

	while (i < len)
	{
		int			seq_len;

		if (p[i] == 0)
			goto invalid;
		if (p[i] < 0x80)
		{
			i++;
			continue;
		}

		seq_len = pg_utf_mblen(p + i);
		if (seq_len < 2 || seq_len > 4)
			goto invalid;
		if (i + seq_len > len)
		{
			reader->partial_len = len - i;
			memcpy(reader->partial, p + i, reader->partial_len);
			return;
		}
		if (!pg_utf8_islegal(p + i, seq_len))
			goto invalid;
		i += seq_len;
	}
	return;

invalid:
	ereport(ERROR,
			(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
			 errmsg("registry response is not valid UTF-8")));
}

/*
 * deliver_events
 *		Hand the queued events to the callback, then raise any parse error.
 */
static void
deliver_events(TfXmlReader *reader)
{
	if (reader->error_code != 0)
	{
		int			code = reader->error_code;

		ereport(ERROR,
				(errcode(code),
				 code == ERRCODE_OUT_OF_MEMORY ? errmsg("out of memory") :
				 errmsg("registry response is not acceptable XML"),
				 errdetail("%s", reader->error_detail)));
	}

	for (QueuedEvent *queued = reader->first; queued != NULL; queued = queued->next)
		reader->callback(reader->arg, &queued->event);

	reader->first = reader->last = NULL;
	MemoryContextReset(reader->event_cxt);
}

/*
 * tf_xml_reader_feed
 *		Parse the next piece of the document.
 */
void
tf_xml_reader_feed(TfXmlReader *reader, const char *data, size_t len)
{
	if (reader->ctxt == NULL)
		elog(ERROR, "XML reader used after it was freed");

	check_utf8(reader, data, len);

	while (len > 0 && reader->error_code == 0)
	{
		int			piece = (int) Min(len, (size_t) (1024 * 1024));

		xmlParseChunk(reader->ctxt, data, piece, 0);
		data += piece;
		len -= piece;
	}

	deliver_events(reader);
}

/*
 * tf_xml_reader_finish
 *		Tell the parser the input ended and deliver the last events.
 */
void
tf_xml_reader_finish(TfXmlReader *reader)
{
	if (reader->ctxt == NULL)
		elog(ERROR, "XML reader used after it was freed");

	if (reader->partial_len > 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("registry response is not valid UTF-8")));

	if (reader->error_code == 0)
		xmlParseChunk(reader->ctxt, NULL, 0, 1);

	if (reader->error_code == 0 && !reader->ctxt->wellFormed)
		fail(reader, ERRCODE_INVALID_XML_DOCUMENT, "The document is not well-formed.");

	deliver_events(reader);
}

/*
 * tf_xml_reader_free
 *		Free the libxml2 parser now rather than with the memory context.
 */
void
tf_xml_reader_free(TfXmlReader *reader)
{
	if (reader == NULL)
		return;
	reader_reset_callback(reader);
}
