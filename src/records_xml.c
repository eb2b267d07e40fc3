/*-------------------------------------------------------------------------
 *
 * records_xml.c
 *		Hardened parsing and serialization of customer record documents.
 *
 * Record documents arrive from the registry (retrieve, query, copy and update
 * responses) and from SQL callers (tf_update_record).  Both are parsed the
 * same way: UTF-8 checked first, any DTD or entity declaration rejected before
 * libxml2 parses the text, then a libxml2 parse with network access off, no DTD
 * loading, no entity substitution and libxml2's default size limits (no
 * XML_PARSE_HUGE), and finally a walk that rejects nesting deeper than
 * TF_RECORD_MAX_DEPTH.  A custRec document is four levels deep, so the limit
 * leaves room without letting a hostile response build deep trees.
 *
 * A parsed document is freed by a callback on the memory context that was
 * current at parse time, so an error anywhere later (including a cancel)
 * cannot leak it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/string.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include <libxml/parser.h>
#include <libxml/xmlsave.h>

#include "records.h"
#include "settings.h"

/* Record statuses the protocol defines, in the registry's spelling. */
static const char *const record_statuses[] = {
	"SAVED", "PENDING", "SENDING", "ACTIVE", "OLD", "INVALID",
	"DISCONNECT", "MUST CHECK", "FAILED", "HOLD", NULL
};

typedef struct RecordDocHolder
{
	MemoryContextCallback callback;
	xmlDocPtr	doc;
} RecordDocHolder;

/* Frees the document when its memory context goes away. */
static void
record_doc_release(void *arg)
{
	RecordDocHolder *holder = (RecordDocHolder *) arg;

	if (holder->doc != NULL)
		xmlFreeDoc(holder->doc);
	holder->doc = NULL;
}

/* True when needle occurs in the first len bytes of data. */
static bool
bytes_contain(const char *data, size_t len, const char *needle)
{
	size_t		needle_len = strlen(needle);
	size_t		i;

	for (i = 0; i + needle_len <= len; i++)
	{
		if (data[i] == needle[0] && memcmp(data + i, needle, needle_len) == 0)
			return true;
	}
	return false;
}

/* Swallows libxml2's structured errors; the parser context keeps the last. */
static void
record_xml_quiet(void *arg, xmlErrorPtr error)
{
}

/*
 * record_tree_check
 *		Raise 2200M when the element tree under node nests deeper than
 *		TF_RECORD_MAX_DEPTH or holds an entity reference (none can be defined
 *		without a DTD, so one means the document is not a record document).
 */
static void
record_tree_check(xmlNodePtr node, int depth, const char *source)
{
	xmlNodePtr	child;

	if (depth > TF_RECORD_MAX_DEPTH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_DOCUMENT),
				 errmsg("%s is nested too deeply", source),
				 errdetail("Record documents may nest at most %d levels.",
						   TF_RECORD_MAX_DEPTH)));

	for (child = node->children; child != NULL; child = child->next)
	{
		if (child->type == XML_ENTITY_REF_NODE ||
			child->type == XML_ENTITY_NODE ||
			child->type == XML_DTD_NODE)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_XML_DOCUMENT),
					 errmsg("%s contains an entity reference", source),
					 errdetail("Record documents may not contain DTDs or entity references.")));
		if (child->type == XML_ELEMENT_NODE)
			record_tree_check(child, depth + 1, source);
	}
}

/*
 * tf_record_parse
 *		Parse a record document safely and check its root element.
 *
 * data is UTF-8 from the registry (from_registry) or text in the server
 * encoding from an SQL caller.  Errors: 22021 for invalid UTF-8, 2200M for a
 * DTD, malformed XML or excessive nesting, 2200N for the wrong root element.
 */
xmlDocPtr
tf_record_parse(const char *data, size_t len, bool from_registry,
				const char *root)
{
	const char *source = from_registry ? "registry response" : "record document";
	const char *utf8 = data;
	size_t		limit = (size_t) tf_max_response_size_kb * 1024;
	xmlParserCtxtPtr ctxt;
	xmlDocPtr	doc;
	xmlNodePtr	top;
	RecordDocHolder *holder;

	if (len > limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s is too large: %zu bytes", source, len),
				 errdetail("The limit is toll_free.max_response_size (%d kB).",
						   tf_max_response_size_kb)));

	if (!from_registry)
	{
		utf8 = pg_server_to_any(data, (int) len, PG_UTF8);
		if (utf8 != data)
			len = strlen(utf8);
	}
	else if (!pg_verify_mbstr(PG_UTF8, data, (int) len, true))
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("registry response is not valid UTF-8")));

	/*
	 * A DTD is the only way to declare entities, so refusing it here keeps
	 * libxml2 away from entity expansion (billion laughs) and external
	 * entities (local files, network) entirely.
	 */
	if (bytes_contain(utf8, len, "<!DOCTYPE") ||
		bytes_contain(utf8, len, "<!ENTITY"))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_DOCUMENT),
				 errmsg("%s contains a DTD", source),
				 errdetail("DTDs and entity declarations are not allowed in record documents.")));

	/* The holder is allocated before the parse, so its registration cannot fail later. */
	holder = palloc0(sizeof(RecordDocHolder));
	holder->callback.func = record_doc_release;
	holder->callback.arg = holder;

	ctxt = xmlNewParserCtxt();
	if (ctxt == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory while parsing the %s", source)));
	ctxt->sax->serror = record_xml_quiet;

	doc = xmlCtxtReadMemory(ctxt, utf8, (int) len, NULL, "UTF-8",
							XML_PARSE_NONET | XML_PARSE_NOERROR |
							XML_PARSE_NOWARNING);
	if (doc != NULL)
	{
		holder->doc = doc;
		MemoryContextRegisterResetCallback(CurrentMemoryContext,
										   &holder->callback);
	}
	else
	{
		xmlErrorPtr error = xmlCtxtGetLastError(ctxt);
		char	   *message = pstrdup(error && error->message ?
									  error->message : "unknown error");
		int			line = error ? error->line : 0;

		pg_strip_crlf(message);
		xmlFreeParserCtxt(ctxt);

		/* libxml2's own text suggests XML_PARSE_HUGE, which is not an option here. */
		if (strstr(message, "Excessive depth") != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_XML_DOCUMENT),
					 errmsg("%s is nested too deeply", source),
					 errdetail("The parser stopped at line %d because elements nest more than 256 levels deep.",
							   line)));

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_DOCUMENT),
				 errmsg("malformed XML in %s", source),
				 errdetail("The parser stopped at line %d: %s", line,
						   message)));
	}
	xmlFreeParserCtxt(ctxt);

	top = xmlDocGetRootElement(doc);
	if (doc->intSubset != NULL || doc->extSubset != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_DOCUMENT),
				 errmsg("%s contains a DTD", source),
				 errdetail("DTDs and entity declarations are not allowed in record documents.")));
	if (top == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_DOCUMENT),
				 errmsg("%s has no root element", source)));
	record_tree_check(top, 1, source);

	if (root != NULL && strcmp((const char *) top->name, root) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_CONTENT),
				 errmsg("%s has root element <%s>, expected <%s>",
						source, (const char *) top->name, root)));

	return doc;
}

/*
 * tf_record_child
 *		First child element of parent with the given name, or NULL.
 */
xmlNodePtr
tf_record_child(xmlNodePtr parent, const char *name)
{
	xmlNodePtr	child;

	for (child = parent->children; child != NULL; child = child->next)
	{
		if (child->type == XML_ELEMENT_NODE &&
			strcmp((const char *) child->name, name) == 0)
			return child;
	}
	return NULL;
}

/*
 * tf_record_child_text
 *		Text of the first child element named name, palloc'd, or NULL.
 */
char *
tf_record_child_text(xmlNodePtr parent, const char *name)
{
	xmlNodePtr	child = tf_record_child(parent, name);
	xmlChar    *content;
	char	   *result;

	if (child == NULL)
		return NULL;

	content = xmlNodeGetContent(child);
	if (content == NULL)
		return pstrdup("");
	result = pstrdup((const char *) content);
	xmlFree(content);
	return result;
}

/*
 * tf_record_serialize
 *		The element node as XML text without a declaration, as a text datum.
 *
 * libxml2 writes UTF-8; with to_server_encoding the result is converted to
 * the database encoding, as the xml type requires.
 */
text *
tf_record_serialize(xmlNodePtr node, bool to_server_encoding)
{
	xmlBufferPtr buffer = xmlBufferCreate();
	xmlSaveCtxtPtr save;
	char	   *utf8;
	char	   *converted;
	text	   *result;

	if (buffer == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory while writing a record document")));

	save = xmlSaveToBuffer(buffer, "UTF-8", XML_SAVE_NO_DECL);
	if (save == NULL || xmlSaveTree(save, node) < 0)
	{
		if (save != NULL)
			xmlSaveClose(save);
		xmlBufferFree(buffer);
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not write a record document")));
	}
	xmlSaveClose(save);

	utf8 = pnstrdup((const char *) xmlBufferContent(buffer),
					xmlBufferLength(buffer));
	xmlBufferFree(buffer);

	if (!to_server_encoding)
		return cstring_to_text(utf8);

	converted = pg_any_to_server(utf8, strlen(utf8), PG_UTF8);
	result = cstring_to_text(converted);
	return result;
}

/*
 * tf_record_status_check
 *		Return status unchanged if the protocol defines it; raise 2200N if not.
 */
const char *
tf_record_status_check(const char *status)
{
	int			i;

	if (status == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_CONTENT),
				 errmsg("registry response lacks a record status (custRecStat)")));

	for (i = 0; record_statuses[i] != NULL; i++)
	{
		if (strcmp(status, record_statuses[i]) == 0)
			return status;
	}

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_XML_CONTENT),
			 errmsg("registry response has an unknown record status \"%s\"", status)));
	return NULL;				/* keep the compiler quiet */
}

/*
 * tf_record_read_summary
 *		Fill summary from a <rec>, <custRec> or <recResponse> element.
 *
 * Effective date/time and status are required; the other fields stay NULL
 * when absent.
 */
void
tf_record_read_summary(xmlNodePtr node, TfRecordSummary *summary)
{
	char	   *effective;

	memset(summary, 0, sizeof(*summary));

	summary->number = tf_record_child_text(node, "num");

	effective = tf_record_child_text(node, "effDtTm");
	summary->effective = tf_effective_parse(effective, "registry response");

	summary->status = tf_record_child_text(node, "custRecStat");
	tf_record_status_check(summary->status);

	summary->parts = tf_record_child_text(node, "custRecCompPart");
	summary->approval = tf_record_child_text(node, "apprStat");
	summary->action = tf_record_child_text(node, "actionCode");
	summary->version = tf_record_child_text(node, "recVersionId");
}
