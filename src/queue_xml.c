/*-------------------------------------------------------------------------
 *
 * queue_xml.c
 *		Read the registry's responses to queued requests.
 *
 * Queued operations get small responses (one numResult, a recResponse, a
 * pendingResponse or an errorResponse), so the whole body is parsed as one
 * document.  The parser never touches the network, loads no DTD and
 * substitutes no entities; a document carrying a DTD is treated as unusable,
 * as docs/protocol.md requires.  Everything needed is copied into palloc'd
 * memory and the libxml2 document is freed before returning, also on error.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "lib/stringinfo.h"
#include "utils/json.h"

#include "queue_internal.h"

/* Elements whose leaf children make up the result column. */
static const char *const result_elements[] = {
	"numResult", "numInfo", "recResponse", "pendingResponse", NULL
};

/*
 * parse_document
 *		Parse a registry body, or return NULL when it is not a plain XML
 *		document (malformed, or carrying a DTD).
 */
static xmlDocPtr
parse_document(const char *body, size_t len)
{
	xmlDocPtr	doc;

	if (body == NULL || len == 0 || len > INT_MAX)
		return NULL;

	doc = xmlReadMemory(body, (int) len, NULL, NULL,
						XML_PARSE_NONET | XML_PARSE_NOERROR |
						XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS);
	if (doc == NULL)
		return NULL;

	if (doc->intSubset != NULL || doc->extSubset != NULL ||
		xmlDocGetRootElement(doc) == NULL)
	{
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

/* node_is: true for an element named name. */
static bool
node_is(xmlNodePtr node, const char *name)
{
	return node->type == XML_ELEMENT_NODE &&
		strcmp((const char *) node->name, name) == 0;
}

/* node_text: the element's text content, palloc'd (never NULL). */
static char *
node_text(xmlNodePtr node)
{
	xmlChar    *content = xmlNodeGetContent(node);
	char	   *text;

	text = pstrdup(content ? (const char *) content : "");
	if (content)
		xmlFree(content);
	return text;
}

/* is_leaf: an element with no element children. */
static bool
is_leaf(xmlNodePtr node)
{
	xmlNodePtr	child;

	for (child = node->children; child; child = child->next)
	{
		if (child->type == XML_ELEMENT_NODE)
			return false;
	}
	return true;
}

/*
 * find_element
 *		Depth-first search for the first element named name.
 */
static xmlNodePtr
find_element(xmlNodePtr node, const char *name)
{
	for (; node; node = node->next)
	{
		xmlNodePtr	found;

		if (node_is(node, name))
			return node;
		if (node->type != XML_ELEMENT_NODE)
			continue;
		found = find_element(node->children, name);
		if (found)
			return found;
	}
	return NULL;
}

/*
 * append_errors
 *		Append "errors": [...] for an errList and remember the first
 *		ERROR-level entry in response.
 */
static void
append_errors(StringInfo json, xmlNodePtr err_list, TfQueueAnswer *response)
{
	xmlNodePtr	err;
	bool		first = true;

	appendStringInfoString(json, "\"errors\": [");
	for (err = err_list->children; err; err = err->next)
	{
		char	   *code = NULL;
		char	   *msg = NULL;
		char	   *level = NULL;
		xmlNodePtr	field;

		if (!node_is(err, "err"))
			continue;

		for (field = err->children; field; field = field->next)
		{
			if (node_is(field, "errCode"))
				code = node_text(field);
			else if (node_is(field, "errMsg"))
				msg = node_text(field);
			else if (node_is(field, "errLvl"))
				level = node_text(field);
		}

		if (!first)
			appendStringInfoString(json, ", ");
		first = false;
		appendStringInfoString(json, "{\"code\": ");
		escape_json(json, code ? code : "");
		appendStringInfoString(json, ", \"message\": ");
		escape_json(json, msg ? msg : "");
		appendStringInfoString(json, ", \"level\": ");
		escape_json(json, level ? level : "");
		appendStringInfoChar(json, '}');

		if (response->err_code == NULL && code != NULL &&
			(level == NULL || strcmp(level, "ERROR") == 0))
		{
			response->err_code = code;
			response->err_msg = msg;
		}
	}
	appendStringInfoChar(json, ']');
}

/*
 * describe_element
 *		Build the JSON object of a response element: its leaf children as
 *		strings and its errList as "errors".  Fills the response's fields.
 */
static void
describe_element(xmlNodePtr element, StringInfo json, TfQueueAnswer *response)
{
	xmlNodePtr	child;
	bool		first = true;

	appendStringInfoChar(json, '{');
	for (child = element->children; child; child = child->next)
	{
		if (child->type != XML_ELEMENT_NODE)
			continue;

		/* Nested structures (e.g. record content) are not kept. */
		if (!node_is(child, "errList") && !is_leaf(child))
			continue;

		if (!first)
			appendStringInfoString(json, ", ");
		first = false;

		if (node_is(child, "errList"))
		{
			append_errors(json, child, response);
			continue;
		}

		escape_json(json, (const char *) child->name);
		appendStringInfoString(json, ": ");
		escape_json(json, node_text(child));

		if (node_is(child, "status") || node_is(child, "custRecStat"))
			response->status = node_text(child);
		else if (node_is(child, "ctrlRespOrgId"))
			response->resporg = node_text(child);
		else if (node_is(child, "recVersionId"))
			response->rec_version_id = node_text(child);
		else if (node_is(child, "reqId"))
			response->req_id = node_text(child);
	}
	appendStringInfoChar(json, '}');
}

/*
 * tf_queue_parse_answer
 *		Read a registry response into response.  response->parsed is false when the
 *		body is not a usable XML document.
 */
void
tf_queue_parse_answer(const char *body, size_t len, TfQueueAnswer *response)
{
	xmlDocPtr	doc;

	memset(response, 0, sizeof(*response));

	doc = parse_document(body, len);
	if (doc == NULL)
		return;

	PG_TRY();
	{
		xmlNodePtr	root = xmlDocGetRootElement(doc);
		xmlNodePtr	element = NULL;
		StringInfoData json;
		int			i;

		initStringInfo(&json);
		response->root = pstrdup((const char *) root->name);

		for (i = 0; result_elements[i] != NULL && element == NULL; i++)
			element = find_element(root, result_elements[i]);

		if (element != NULL)
			describe_element(element, &json, response);
		else
		{
			/* errorResponse or another document: keep its errors, if any. */
			xmlNodePtr	err_list = find_element(root, "errList");

			appendStringInfoChar(&json, '{');
			if (err_list)
				append_errors(&json, err_list, response);
			appendStringInfoChar(&json, '}');
		}

		response->json = json.data;
		response->parsed = true;
	}
	PG_FINALLY();
	{
		xmlFreeDoc(doc);
	}
	PG_END_TRY();
}

/*
 * tf_queue_record_exists
 *		True when a recQueryResponse lists a record at effective time
 *		eff_dt_tm (compared as the registry writes it).
 */
bool
tf_queue_record_exists(const char *body, size_t len, const char *eff_dt_tm)
{
	xmlDocPtr	doc;
	volatile bool found = false;

	doc = parse_document(body, len);
	if (doc == NULL)
		return false;

	PG_TRY();
	{
		xmlNodePtr	list = find_element(xmlDocGetRootElement(doc), "lstEffDtTms");
		xmlNodePtr	rec;

		for (rec = list ? list->children : NULL; rec && !found; rec = rec->next)
		{
			xmlNodePtr	field;

			if (!node_is(rec, "rec"))
				continue;
			for (field = rec->children; field; field = field->next)
			{
				if (node_is(field, "effDtTm") &&
					strcmp(node_text(field), eff_dt_tm) == 0)
					found = true;
			}
		}
	}
	PG_FINALLY();
	{
		xmlFreeDoc(doc);
	}
	PG_END_TRY();

	return found;
}

/*
 * tf_queue_record_document_ok
 *		True when text is a plain XML document whose element is <custRec> and
 *		whose <num> is number (an update must not touch another number).
 */
bool
tf_queue_record_document_ok(const char *text, const char *number)
{
	xmlDocPtr	doc;
	volatile bool ok = false;

	doc = parse_document(text, strlen(text));
	if (doc == NULL)
		return false;

	PG_TRY();
	{
		xmlNodePtr	root = xmlDocGetRootElement(doc);
		xmlNodePtr	child;

		if (node_is(root, "custRec"))
		{
			for (child = root->children; child; child = child->next)
			{
				if (node_is(child, "num"))
					ok = strcmp(node_text(child), number) == 0;
			}
		}
	}
	PG_FINALLY();
	{
		xmlFreeDoc(doc);
	}
	PG_END_TRY();

	return ok;
}
