/*-------------------------------------------------------------------------
 *
 * xmlin.c
 *	  Parsing of request documents with libxml2.
 *
 * Requests are parsed with XML_PARSE_NONET and without XML_PARSE_NOENT or
 * XML_PARSE_DTDLOAD, so no entity is substituted and nothing is loaded.  A
 * document that carries a DTD at all is rejected, as the protocol forbids
 * them both ways.
 *
 *-------------------------------------------------------------------------
 */
#include "tfsim.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

/*
 * Parse a request body whose root element must be root.  On failure fills
 * res with 400 / 099070 (or 099027 for an empty body) and returns NULL.
 */
xmlDocPtr
xml_parse_request(const char *body, size_t len, const char *root,
				  ApiResult *res)
{
	xmlDocPtr	doc;
	xmlNodePtr	top;

	if (body == NULL || len == 0)
	{
		api_error(res, 400, "099027", "missing request document");
		return NULL;
	}
	doc = xmlReadMemory(body, (int) len, NULL, NULL,
						XML_PARSE_NONET | XML_PARSE_NOERROR |
						XML_PARSE_NOWARNING);
	if (doc == NULL)
	{
		api_error(res, 400, "099070", "request document is not well-formed XML");
		return NULL;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL)
	{
		xmlFreeDoc(doc);
		api_error(res, 400, "099070", "request document must not contain a DTD");
		return NULL;
	}
	top = xmlDocGetRootElement(doc);
	if (top == NULL || strcmp((const char *) top->name, root) != 0)
	{
		char		msg[128];

		snprintf(msg, sizeof(msg), "request document root must be <%s>", root);
		xmlFreeDoc(doc);
		api_error(res, 400, "099070", msg);
		return NULL;
	}
	return doc;
}

/* First child element of parent named name, or NULL. */
xmlNodePtr
xml_child(xmlNodePtr parent, const char *name)
{
	if (parent == NULL)
		return NULL;
	for (xmlNodePtr n = parent->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *) n->name, name) == 0)
			return n;
	return NULL;
}

/* Text content of node without surrounding white space, malloc'd. */
char *
xml_node_text(xmlNodePtr node)
{
	xmlChar    *raw;
	char	   *start,
			   *end,
			   *out;

	if (node == NULL)
		return NULL;
	raw = xmlNodeGetContent(node);
	if (raw == NULL)
		return xstrdup("");
	start = (char *) raw;
	while (*start == ' ' || *start == '\t' || *start == '\n' || *start == '\r')
		start++;
	end = start + strlen(start);
	while (end > start && (end[-1] == ' ' || end[-1] == '\t' ||
						   end[-1] == '\n' || end[-1] == '\r'))
		end--;
	out = xmalloc((size_t) (end - start) + 1);
	memcpy(out, start, (size_t) (end - start));
	out[end - start] = '\0';
	xmlFree(raw);
	return out;
}

/* Text of the child element name, malloc'd; NULL when absent. */
char *
xml_child_text(xmlNodePtr parent, const char *name)
{
	return xml_node_text(xml_child(parent, name));
}

static bool
name_in(const char *name, const char *const *list)
{
	for (; list && *list; list++)
		if (strcmp(name, *list) == 0)
			return true;
	return false;
}

/*
 * Serialize the element children of parent, in document order, that are in
 * only (when given) and not in skip.  Returns a malloc'd string, "" when
 * nothing matched.
 */
char *
xml_dump_children(xmlNodePtr parent, const char *const *only,
				  const char *const *skip)
{
	xmlBufferPtr buf = xmlBufferCreate();
	char	   *out;

	for (xmlNodePtr n = parent->children; n; n = n->next)
	{
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (only && !name_in((const char *) n->name, only))
			continue;
		if (skip && name_in((const char *) n->name, skip))
			continue;
		xmlNodeDump(buf, n->doc, n, 0, 0);
	}
	out = xstrdup((const char *) xmlBufferContent(buf));
	xmlBufferFree(buf);
	return out;
}
