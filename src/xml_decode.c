/*-------------------------------------------------------------------------
 *
 * xml_decode.c
 *		Decode registry XML responses into the structs of dialect.h.
 *
 * One decoder reads every response type of docs/protocol.md: the element
 * names do not collide, so each value is recognised by its name and its
 * parent.  The decoder sits on the hardened streaming reader
 * (xml_reader.c), so a RespOrg check with millions of numInfo elements is
 * decoded in constant memory when a callback takes the numbers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"

#include "dialect.h"
#include "xml_reader.h"

struct TfResponseDecoder
{
	TfXmlReader *reader;
	TfResponse *out;
	TfNumInfoCallback on_number;
	void	   *arg;

	/* Names of the open elements; [1] is the document element. */
	char		stack[TF_XML_MAX_DEPTH + 1][32];

	TfNumInfo  *current;		/* numInfo/numResult being read */
	TfRegistryMessage *message; /* err being read */
};

/*
 * server_text
 *		Copy UTF-8 text into the server encoding (validated by
 *		pg_any_to_server).
 */
static char *
server_text(const char *text, size_t len)
{
	char	   *converted = pg_any_to_server(text, (int) len, PG_UTF8);

	if (converted == text)
		converted = pnstrdup(text, len);
	return converted;
}

static const char *
parent_of(TfResponseDecoder *decoder, int depth)
{
	return depth >= 2 ? decoder->stack[depth - 1] : "";
}

/*
 * set_number_field
 *		Store a child element of numInfo or numResult.
 */
static void
set_number_field(TfNumInfo *info, const char *name, char *value)
{
	if (strcmp(name, "num") == 0)
		info->num = value;
	else if (strcmp(name, "status") == 0)
		info->status = value;
	else if (strcmp(name, "ctrlRespOrgId") == 0)
		info->resporg = value;
	else if (strcmp(name, "effDt") == 0)
		info->status_date = value;
	else if (strcmp(name, "resUntilDt") == 0)
		info->reserved_until = value;
	else if (strcmp(name, "discUntilDt") == 0)
		info->disconnect_until = value;
	else if (strcmp(name, "lastActDt") == 0)
		info->last_active = value;
	else if (strcmp(name, "conName") == 0)
		info->contact_name = value;
	else if (strcmp(name, "conTel") == 0)
		info->contact_phone = value;
	else if (strcmp(name, "shrtNotes") == 0)
		info->notes = value;
	else if (strcmp(name, "recVersionId") == 0)
		info->rec_version_id = value;
	else if (strcmp(name, "auctnInd") == 0)
		info->auction = value;
}

/*
 * set_top_field
 *		Store a child of the document element (session, pending and record
 *		responses).
 */
static void
set_top_field(TfResponse *out, const char *name, char *value)
{
	if (strcmp(name, "oauthToken") == 0)
		out->token = value;
	else if (strcmp(name, "expiresIn") == 0)
		out->expires_in = atoi(value);
	else if (strcmp(name, "respOrgId") == 0)
		out->resporg = value;
	else if (strcmp(name, "sessOverrideKey") == 0)
		out->override_key = value;
	else if (strcmp(name, "reqId") == 0)
		out->req_id = value;
	else if (strcmp(name, "statusMsg") == 0)
		out->status_msg = value;
	else if (strcmp(name, "num") == 0)
		out->rec_num = value;
	else if (strcmp(name, "effDtTm") == 0)
		out->eff_dt_tm = value;
	else if (strcmp(name, "custRecStat") == 0)
		out->cust_rec_stat = value;
	else if (strcmp(name, "recVersionId") == 0)
		out->rec_version_id = value;
}

static void
handle_start(TfResponseDecoder *decoder, const TfXmlEvent *event)
{
	const char *parent = parent_of(decoder, event->depth);

	strlcpy(decoder->stack[event->depth], event->name, sizeof(decoder->stack[0]));

	if (event->depth == 1)
		decoder->out->root = pstrdup(event->name);
	else if (strcmp(event->name, "numInfo") == 0 || strcmp(event->name, "numResult") == 0)
		decoder->current = palloc0(sizeof(TfNumInfo));
	else if (strcmp(event->name, "err") == 0 && strcmp(parent, "errList") == 0)
		decoder->message = palloc0(sizeof(TfRegistryMessage));
}

static void
handle_end(TfResponseDecoder *decoder, const TfXmlEvent *event)
{
	TfResponse *out = decoder->out;
	const char *name = event->name;
	const char *parent = parent_of(decoder, event->depth);
	const char *grandparent = event->depth >= 3 ? decoder->stack[event->depth - 2] : "";

	/* An errList entry, for the current number or the whole response. */
	if (decoder->message != NULL && strcmp(parent, "err") == 0)
	{
		char	   *value = server_text(event->text, event->text_len);

		if (strcmp(name, "errCode") == 0)
			decoder->message->code = value;
		else if (strcmp(name, "errMsg") == 0)
			decoder->message->message = value;
		else if (strcmp(name, "errLvl") == 0)
			decoder->message->level = value;
		return;
	}
	if (decoder->message != NULL && strcmp(name, "err") == 0)
	{
		if (decoder->current != NULL)
			decoder->current->errors = lappend(decoder->current->errors, decoder->message);
		else
			out->errors = lappend(out->errors, decoder->message);
		decoder->message = NULL;
		return;
	}

	/* A number's fields, and the number itself once complete. */
	if (decoder->current != NULL &&
		(strcmp(parent, "numInfo") == 0 || strcmp(parent, "numResult") == 0))
	{
		set_number_field(decoder->current, name, server_text(event->text, event->text_len));
		return;
	}
	if (decoder->current != NULL &&
		(strcmp(name, "numInfo") == 0 || strcmp(name, "numResult") == 0))
	{
		TfNumInfo  *info = decoder->current;

		decoder->current = NULL;
		if (decoder->on_number != NULL)
			decoder->on_number(decoder->arg, info);
		else
			out->numbers = lappend(out->numbers, info);
		return;
	}

	/* searchResponse numList, session updList. */
	if (strcmp(name, "num") == 0 && strcmp(parent, "numList") == 0 &&
		strcmp(grandparent, "searchResponse") == 0)
	{
		out->found = lappend(out->found, server_text(event->text, event->text_len));
		return;
	}
	if (strcmp(name, "respOrgId") == 0 && strcmp(parent, "updList") == 0)
	{
		out->upd_list = lappend(out->upd_list, server_text(event->text, event->text_len));
		return;
	}

	if (event->depth == 2)
		set_top_field(out, name, server_text(event->text, event->text_len));
}

static void
decoder_event(void *arg, const TfXmlEvent *event)
{
	TfResponseDecoder *decoder = (TfResponseDecoder *) arg;

	if (event->is_end)
		handle_end(decoder, event);
	else
		handle_start(decoder, event);
}

TfResponseDecoder *
tf_decoder_create(TfResponse *out, TfNumInfoCallback on_number, void *arg)
{
	TfResponseDecoder *decoder = palloc0(sizeof(TfResponseDecoder));

	memset(out, 0, sizeof(TfResponse));
	decoder->out = out;
	decoder->on_number = on_number;
	decoder->arg = arg;
	decoder->reader = tf_xml_reader_create(decoder_event, decoder);
	return decoder;
}

void
tf_decoder_feed(TfResponseDecoder *decoder, const char *data, size_t len)
{
	tf_xml_reader_feed(decoder->reader, data, len);
}

void
tf_decoder_finish(TfResponseDecoder *decoder)
{
	tf_xml_reader_finish(decoder->reader);
	tf_xml_reader_free(decoder->reader);
}

/*
 * tf_decode_response
 *		Decode a whole response held in memory.
 */
void
tf_decode_response(const char *data, size_t len, TfResponse *out)
{
	TfResponseDecoder *decoder = tf_decoder_create(out, NULL, NULL);

	tf_decoder_feed(decoder, data, len);
	tf_decoder_finish(decoder);
}
