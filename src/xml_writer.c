/*-------------------------------------------------------------------------
 *
 * xml_writer.c
 *		Build registry XML requests with libxml2's xmlTextWriter.
 *
 * The writer escapes text, so a contact name with "<" or "&" cannot change
 * the document's structure.  Values arrive in the server encoding and are
 * converted to UTF-8, the protocol's only encoding.  The writer and its
 * buffer are malloc'd by libxml2; a writer struct registered with a
 * memory-context reset callback frees them if an error interrupts a build.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <libxml/xmlwriter.h>

#include "mb/pg_wchar.h"
#include "utils/memutils.h"

#include "dialect.h"

typedef struct RequestWriter
{
	xmlBufferPtr buffer;
	xmlTextWriterPtr writer;
	MemoryContextCallback reset_callback;
} RequestWriter;

static void
free_writer(void *arg)
{
	RequestWriter *w = (RequestWriter *) arg;

	if (w->writer != NULL)
	{
		xmlFreeTextWriter(w->writer);
		w->writer = NULL;
	}
	if (w->buffer != NULL)
	{
		/* The buffer may hold the registry password. */
		if (w->buffer->content != NULL)
			explicit_bzero(w->buffer->content, w->buffer->size);
		xmlBufferFree(w->buffer);
		w->buffer = NULL;
	}
}

static void
check(int rc)
{
	if (rc < 0)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not build the registry request")));
}

/*
 * begin_document
 *		Start a document whose root element is root.
 */
static RequestWriter *
begin_document(const char *root)
{
	RequestWriter *w = palloc0(sizeof(RequestWriter));

	w->reset_callback.func = free_writer;
	w->reset_callback.arg = w;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &w->reset_callback);

	w->buffer = xmlBufferCreate();
	if (w->buffer == NULL)
		check(-1);
	w->writer = xmlNewTextWriterMemory(w->buffer, 0);
	if (w->writer == NULL)
		check(-1);

	check(xmlTextWriterStartDocument(w->writer, NULL, "UTF-8", NULL));
	check(xmlTextWriterStartElement(w->writer, BAD_CAST root));
	return w;
}

/*
 * element
 *		Write <name>value</name>, converting value to UTF-8; NULL writes
 *		nothing.
 */
static void
element(RequestWriter *w, const char *name, const char *value)
{
	char	   *utf8;

	if (value == NULL)
		return;

	utf8 = pg_server_to_any(value, strlen(value), PG_UTF8);
	check(xmlTextWriterWriteElement(w->writer, BAD_CAST name, BAD_CAST utf8));
	if (utf8 != value)
		pfree(utf8);
}

static void
start(RequestWriter *w, const char *name)
{
	check(xmlTextWriterStartElement(w->writer, BAD_CAST name));
}

static void
end(RequestWriter *w)
{
	check(xmlTextWriterEndElement(w->writer));
}

/*
 * finish_document
 *		Close every element and return a palloc'd copy of the document.
 */
static char *
finish_document(RequestWriter *w, size_t *len)
{
	char	   *document;

	check(xmlTextWriterEndDocument(w->writer));
	check(xmlTextWriterFlush(w->writer));

	*len = xmlBufferLength(w->buffer);
	document = palloc(*len + 1);
	memcpy(document, xmlBufferContent(w->buffer), *len);
	document[*len] = '\0';

	free_writer(w);
	return document;
}

static void
num_list(RequestWriter *w, const char *const *numbers, int nnumbers)
{
	start(w, "numList");
	for (int i = 0; i < nnumbers; i++)
		element(w, "num", numbers[i]);
	end(w);
}

static void
contact(RequestWriter *w, const TfContact *c)
{
	if (c == NULL)
		return;
	element(w, "conName", c->name);
	element(w, "conTel", c->phone);
	element(w, "shrtNotes", c->notes);
}

static void
search_elements(RequestWriter *w, const TfSearchSpec *spec)
{
	char		qty[16];

	snprintf(qty, sizeof(qty), "%d", spec->quantity);
	element(w, "qty", qty);
	element(w, "npa", spec->npa);
	element(w, "cons", spec->consecutive ? "Y" : "N");
	element(w, "wildCardNum", spec->pattern);
	if (spec->numbers != NULL && spec->nnumbers > 0)
		num_list(w, spec->numbers, spec->nnumbers);
}

char *
tf_build_session_open(const char *user, const char *password,
					  const char *override_key, size_t *len)
{
	RequestWriter *w = begin_document("sessionOpen");

	element(w, "usrName", user);
	element(w, "password", password);
	element(w, "sessOverrideKey", override_key);
	return finish_document(w, len);
}

char *
tf_build_num_query(const char *const *numbers, int nnumbers, size_t *len)
{
	RequestWriter *w = begin_document("numQuery");

	num_list(w, numbers, nnumbers);
	return finish_document(w, len);
}

char *
tf_build_num_search(const TfSearchSpec *spec, size_t *len)
{
	RequestWriter *w = begin_document("numSearch");

	search_elements(w, spec);
	return finish_document(w, len);
}

char *
tf_build_num_reserve(const char *const *numbers, int nnumbers,
					 const TfContact *c, size_t *len)
{
	RequestWriter *w = begin_document("numReserve");

	num_list(w, numbers, nnumbers);
	contact(w, c);
	return finish_document(w, len);
}

char *
tf_build_num_srchres(const TfSearchSpec *spec, const TfContact *c, size_t *len)
{
	RequestWriter *w = begin_document("numSrchRes");

	search_elements(w, spec);
	contact(w, c);
	return finish_document(w, len);
}

char *
tf_build_num_update(const char *const *numbers, const char *const *rec_version_ids,
					int nnumbers, const char *status, const char *new_resporg,
					size_t *len)
{
	RequestWriter *w = begin_document("numUpdate");

	start(w, "tfNumList");
	for (int i = 0; i < nnumbers; i++)
	{
		start(w, "tfNum");
		element(w, "num", numbers[i]);
		element(w, "recVersionId", rec_version_ids[i]);
		end(w);
	}
	end(w);
	element(w, "status", status);
	element(w, "ctrlRespOrgId", new_resporg);
	return finish_document(w, len);
}

char *
tf_build_rec_disconnect(const char *number, const char *effective,
						const char *end_intercept, bool referral, size_t *len)
{
	RequestWriter *w = begin_document("recDisconnect");

	element(w, "num", number);
	element(w, "tgtEffDtTm", effective);
	element(w, "endInterceptDt", end_intercept);
	element(w, "referral", referral ? "Y" : "N");
	return finish_document(w, len);
}
