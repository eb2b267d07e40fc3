/*-------------------------------------------------------------------------
 *
 * xml_reader.h
 *		A hardened streaming XML reader for registry responses.
 *
 * Bytes are pushed in as they arrive.  The caller's callback receives one
 * event per element start and end, with the element's text on the end
 * event.  The reader never loads a DTD, never expands an entity, never
 * touches the network, rejects any document with a DOCTYPE, limits nesting
 * depth and text length, and checks that the bytes are valid UTF-8 before
 * libxml2 sees them.  Text handed to the callback is UTF-8; the callback
 * converts it to the server encoding.
 *
 * Errors: 2200M for a document that is not well-formed, has a DTD or is
 * too deep; 22021 for bytes that are not UTF-8.  Callbacks run outside
 * libxml2, so they may raise errors themselves.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TOLL_FREE_XML_READER_H
#define TOLL_FREE_XML_READER_H

#include "postgres.h"

/* Deepest element nesting accepted in a registry response. */
#define TF_XML_MAX_DEPTH		32

/* Maximum text length of one element, in bytes. */
#define TF_XML_MAX_TEXT			(64 * 1024)

typedef struct TfXmlEvent
{
	bool		is_end;			/* false: start tag; true: end tag */
	int			depth;			/* 1 for the document element */
	const char *name;			/* local name */
	const char *const *attributes;	/* start only: name, value, ..., NULL */
	const char *text;			/* end only: the element's own text */
	size_t		text_len;
} TfXmlEvent;

typedef void (*TfXmlEventCallback) (void *arg, const TfXmlEvent *event);

typedef struct TfXmlReader TfXmlReader;

/*
 * Create a reader in the current memory context; the libxml2 parser is
 * freed when that context is reset or deleted, or by tf_xml_reader_free.
 */
extern TfXmlReader *tf_xml_reader_create(TfXmlEventCallback callback, void *arg);
extern void tf_xml_reader_feed(TfXmlReader *reader, const char *data, size_t len);

/* End of input: raises unless a complete document was read. */
extern void tf_xml_reader_finish(TfXmlReader *reader);
extern void tf_xml_reader_free(TfXmlReader *reader);

#endif							/* TOLL_FREE_XML_READER_H */
