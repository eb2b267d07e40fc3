/*-------------------------------------------------------------------------
 *
 * queue_ops.c
 *		The operations tf_enqueue accepts: their arguments, the request
 *		document each one sends, and the read-only look at the registry that
 *		shows whether an operation with an unknown outcome took effect.
 *
 * Arguments are checked when the request is enqueued, so that a caller
 * learns about a typo at once (SQLSTATE 22023) and not minutes later from a
 * failed row.  The registry still checks everything again.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/xml.h"

#include "errors.h"
#include "queue_internal.h"
#include "registry.h"

static const TfQueueArgSpec reserve_args[] = {
	{"contact_name", TF_ARG_TEXT, true},
	{"contact_phone", TF_ARG_PHONE, true},
	{"notes", TF_ARG_TEXT, false},
	{NULL}
};

static const TfQueueArgSpec spare_args[] = {
	{"rec_version_id", TF_ARG_VERSION, false},
	{NULL}
};

static const TfQueueArgSpec disconnect_args[] = {
	{"effective", TF_ARG_EFFECTIVE, false},
	{"end_intercept", TF_ARG_DATE_OR_NOW, false},
	{"referral", TF_ARG_BOOL, false},
	{NULL}
};

static const TfQueueArgSpec change_resporg_args[] = {
	{"resporg", TF_ARG_RESPORG, true},
	{"rec_version_id", TF_ARG_VERSION, false},
	{NULL}
};

static const TfQueueArgSpec copy_record_args[] = {
	{"source", TF_ARG_SOURCE, true},
	{"source_effective", TF_ARG_EFFECTIVE, false},
	{"effective", TF_ARG_EFFECTIVE, false},
	{"parts", TF_ARG_TEXT, false},
	{"pointer", TF_ARG_BOOL, false},
	{NULL}
};

static const TfQueueArgSpec update_record_args[] = {
	{"record", TF_ARG_RECORD, true},
	{NULL}
};

const TfQueueOpSpec tf_queue_operations[TF_OP_COUNT] = {
	[TF_OP_RESERVE] = {"reserve", reserve_args},
	[TF_OP_SPARE] = {"spare", spare_args},
	[TF_OP_DISCONNECT] = {"disconnect", disconnect_args},
	[TF_OP_CHANGE_RESPORG] = {"change_resporg", change_resporg_args},
	[TF_OP_COPY_RECORD] = {"copy_record", copy_record_args},
	[TF_OP_UPDATE_RECORD] = {"update_record", update_record_args},
};

/*
 * tf_queue_lookup_op
 *		The TfQueueOp of an operation name, or -1 when there is none.
 */
int
tf_queue_lookup_op(const char *name)
{
	int			i;

	for (i = 0; i < TF_OP_COUNT; i++)
	{
		if (strcmp(tf_queue_operations[i].name, name) == 0)
			return i;
	}
	return -1;
}

/* all_digits: true when s is exactly len digits (len 0: any length >= 1). */
static bool
all_digits(const char *s, size_t len)
{
	size_t		n = strlen(s);

	if (n == 0 || (len > 0 && n != len))
		return false;
	for (; *s; s++)
	{
		if (!isdigit((unsigned char) *s))
			return false;
	}
	return true;
}

/*
 * is_effective
 *		'NOW' or YYYY-MM-DDThh:mm:00Z on a quarter hour, the form the registry
 *		requires for effective date/times.
 */
static bool
is_effective(const char *s)
{
	if (strcmp(s, "NOW") == 0)
		return true;
	if (strlen(s) != 20)
		return false;
	for (int i = 0; i < 20; i++)
	{
		char		c = s[i];

		switch (i)
		{
			case 4:
			case 7:
				if (c != '-')
					return false;
				break;
			case 10:
				if (c != 'T')
					return false;
				break;
			case 13:
			case 16:
				if (c != ':')
					return false;
				break;
			case 19:
				if (c != 'Z')
					return false;
				break;
			default:
				if (!isdigit((unsigned char) c))
					return false;
		}
	}
	return (strncmp(s + 14, "00", 2) == 0 || strncmp(s + 14, "15", 2) == 0 ||
			strncmp(s + 14, "30", 2) == 0 || strncmp(s + 14, "45", 2) == 0) &&
		strncmp(s + 17, "00", 2) == 0;
}

/* is_date_or_now: 'NOW' or YYYY-MM-DD. */
static bool
is_date_or_now(const char *s)
{
	if (strcmp(s, "NOW") == 0)
		return true;
	return strlen(s) == 10 && s[4] == '-' && s[7] == '-' &&
		isdigit((unsigned char) s[0]) && isdigit((unsigned char) s[1]) &&
		isdigit((unsigned char) s[2]) && isdigit((unsigned char) s[3]) &&
		isdigit((unsigned char) s[5]) && isdigit((unsigned char) s[6]) &&
		isdigit((unsigned char) s[8]) && isdigit((unsigned char) s[9]);
}

/* is_resporg: 5 upper-case letters or digits. */
static bool
is_resporg(const char *s)
{
	if (strlen(s) != 5)
		return false;
	for (; *s; s++)
	{
		if (!isupper((unsigned char) *s) && !isdigit((unsigned char) *s))
			return false;
	}
	return true;
}

/*
 * check_value
 *		Raise 22023 unless value (a string, or "true"/"false" for booleans)
 *		fits the argument's type.
 */
static void
check_value(const char *op_name, const TfQueueArgSpec *spec,
			enum jbvType jtype, const char *value, const char *number)
{
	const char *expected = NULL;

	if (spec->type == TF_ARG_BOOL)
	{
		if (jtype != jbvBool)
			expected = "true or false";
	}
	else if (jtype != jbvString)
		expected = "a string";
	else
	{
		switch (spec->type)
		{
			case TF_ARG_TEXT:
				if (strlen(value) == 0 || strlen(value) > 255)
					expected = "a non-empty string of at most 255 characters";
				break;
			case TF_ARG_PHONE:
				if (!all_digits(value, 10))
					expected = "10 digits";
				break;
			case TF_ARG_EFFECTIVE:
				if (!is_effective(value))
					expected = "NOW or a UTC timestamp on a quarter hour, as 2027-01-15T14:30:00Z";
				break;
			case TF_ARG_DATE_OR_NOW:
				if (!is_date_or_now(value))
					expected = "NOW or a date, as 2027-01-31";
				break;
			case TF_ARG_RESPORG:
				if (!is_resporg(value))
					expected = "a RespOrg ID of 5 upper-case letters or digits";
				break;
			case TF_ARG_VERSION:
				if (!all_digits(value, 0) || strlen(value) > 20)
					expected = "a recVersionId (digits)";
				break;
			case TF_ARG_SOURCE:
				if (!all_digits(value, 10) &&
					!(value[0] == '*' && strlen(value) >= 2 && strlen(value) <= 20))
					expected = "a 10-digit number or a template name starting with *";
				break;
			case TF_ARG_RECORD:
				if (!tf_queue_record_document_ok(value, number))
					expected = "a <custRec> document for the same number, without a DTD";
				break;
			case TF_ARG_BOOL:
				break;
		}
	}

	if (expected != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for argument \"%s\" of queued operation \"%s\"",
						spec->name, op_name),
				 errdetail("The value must be %s.", expected)));
}

/* argument_names: the allowed argument names, for a hint. */
static char *
argument_names(const TfQueueArgSpec *args)
{
	StringInfoData names;

	initStringInfo(&names);
	for (; args->name; args++)
		appendStringInfo(&names, "%s%s", names.len > 0 ? ", " : "", args->name);
	return names.len > 0 ? names.data : pstrdup("none");
}

/*
 * tf_queue_check_arguments
 *		Raise 22023 unless arguments is a JSON object whose keys are the
 *		operation's arguments, with values of the right form, and every
 *		required argument is present.
 */
void
tf_queue_check_arguments(TfQueueOp op, const char *number, Jsonb *arguments)
{
	const TfQueueOpSpec *spec = &tf_queue_operations[op];
	const TfQueueArgSpec *arg;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken token;

	if (!JB_ROOT_IS_OBJECT(arguments) || JB_ROOT_IS_SCALAR(arguments))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("arguments of a queued operation must be a JSON object"),
				 errhint("Pass for example '{\"contact_name\": \"Jane Roe\"}'::jsonb, or '{}'.")));

	it = JsonbIteratorInit(&arguments->root);
	while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *key;
		char	   *value = NULL;

		if (token != WJB_KEY)
			continue;

		key = pnstrdup(v.val.string.val, v.val.string.len);
		token = JsonbIteratorNext(&it, &v, true);
		Assert(token == WJB_VALUE);

		for (arg = spec->args; arg->name; arg++)
		{
			if (strcmp(arg->name, key) == 0)
				break;
		}
		if (arg->name == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown argument \"%s\" for queued operation \"%s\"",
							key, spec->name),
					 errhint("The arguments of \"%s\" are: %s.",
							 spec->name, argument_names(spec->args))));

		if (v.type == jbvString)
			value = pnstrdup(v.val.string.val, v.val.string.len);
		check_value(spec->name, arg, v.type, value, number);
	}

	for (arg = spec->args; arg->name; arg++)
	{
		if (arg->required && tf_queue_arg(arguments, arg->name) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("queued operation \"%s\" requires argument \"%s\"",
							spec->name, arg->name)));
	}
}

/*
 * tf_queue_arg
 *		The value of a top-level key as text ("true"/"false" for booleans),
 *		or NULL when absent or JSON null.
 */
char *
tf_queue_arg(Jsonb *arguments, const char *key)
{
	JsonbValue	v;

	if (!JB_ROOT_IS_OBJECT(arguments))
		return NULL;
	if (getKeyJsonValueFromContainer(&arguments->root, key, strlen(key), &v) == NULL)
		return NULL;

	switch (v.type)
	{
		case jbvString:
			return pnstrdup(v.val.string.val, v.val.string.len);
		case jbvBool:
			return pstrdup(v.val.boolean ? "true" : "false");
		default:
			return NULL;
	}
}

/* append_element: <name>escaped value</name> when value is not NULL. */
static void
append_element(StringInfo body, const char *name, const char *value)
{
	if (value == NULL)
		return;
	appendStringInfo(body, "<%s>%s</%s>", name, escape_xml(value), name);
}

/* yes_no: the registry's Y/N for a boolean argument (default N). */
static const char *
yes_no(const char *value)
{
	return (value && strcmp(value, "true") == 0) ? "Y" : "N";
}

/*
 * tf_queue_needs_version
 *		True when the operation must send the number's current recVersionId
 *		and the caller gave none, so the worker queries the number first.
 */
bool
tf_queue_needs_version(TfQueueOp op, Jsonb *arguments)
{
	if (op != TF_OP_SPARE && op != TF_OP_CHANGE_RESPORG)
		return false;
	return tf_queue_arg(arguments, "rec_version_id") == NULL;
}

/*
 * tf_queue_build_request
 *		Fill doc with the request document of a queued operation, following
 *		docs/protocol.md.  rec_version_id overrides the argument of that name
 *		(the worker passes what a query just returned).
 */
void
tf_queue_build_request(TfQueueOp op, const char *number, Jsonb *arguments,
					   const char *rec_version_id, TfQueueRequestDoc *doc)
{
	StringInfo	body = &doc->body;
	const char *version = rec_version_id ? rec_version_id :
		tf_queue_arg(arguments, "rec_version_id");
	const char *effective = tf_queue_arg(arguments, "effective");

	initStringInfo(body);
	if (effective == NULL)
		effective = "NOW";

	switch (op)
	{
		case TF_OP_RESERVE:
			doc->method = "POST";
			doc->path = pstrdup("/num/tfn/reserve");
			appendStringInfoString(body, "<numReserve><numList>");
			append_element(body, "num", number);
			appendStringInfoString(body, "</numList>");
			append_element(body, "conName", tf_queue_arg(arguments, "contact_name"));
			append_element(body, "conTel", tf_queue_arg(arguments, "contact_phone"));
			append_element(body, "shrtNotes", tf_queue_arg(arguments, "notes"));
			appendStringInfoString(body, "</numReserve>");
			break;

		case TF_OP_SPARE:
		case TF_OP_CHANGE_RESPORG:
			doc->method = "PUT";
			doc->path = pstrdup("/num/tfn/update");
			appendStringInfoString(body, "<numUpdate><tfNumList><tfNum>");
			append_element(body, "num", number);
			append_element(body, "recVersionId", version);
			appendStringInfoString(body, "</tfNum></tfNumList>");
			if (op == TF_OP_SPARE)
				append_element(body, "status", "SPARE");
			else
				append_element(body, "ctrlRespOrgId", tf_queue_arg(arguments, "resporg"));
			appendStringInfoString(body, "</numUpdate>");
			break;

		case TF_OP_DISCONNECT:
			doc->method = "POST";
			doc->path = pstrdup("/cus/rec/disconnect");
			appendStringInfoString(body, "<recDisconnect>");
			append_element(body, "num", number);
			append_element(body, "tgtEffDtTm", effective);
			append_element(body, "endInterceptDt", tf_queue_arg(arguments, "end_intercept"));
			append_element(body, "referral", yes_no(tf_queue_arg(arguments, "referral")));
			appendStringInfoString(body, "</recDisconnect>");
			break;

		case TF_OP_COPY_RECORD:
			{
				const char *source = tf_queue_arg(arguments, "source");

				doc->method = "POST";
				doc->path = pstrdup("/cus/rec/copy");
				appendStringInfoString(body, "<recCopy>");
				append_element(body, source[0] == '*' ? "srcTmplName" : "srcNum", source);
				append_element(body, "srcEffDtTm", tf_queue_arg(arguments, "source_effective"));
				append_element(body, "tgtNum", number);
				append_element(body, "tgtEffDtTm", effective);
				append_element(body, "custRecCompPart", tf_queue_arg(arguments, "parts"));
				append_element(body, "pointer", yes_no(tf_queue_arg(arguments, "pointer")));
				appendStringInfoString(body, "</recCopy>");
				break;
			}

		case TF_OP_UPDATE_RECORD:
			doc->method = "PUT";
			doc->path = pstrdup("/cus/rec");
			appendStringInfoString(body, tf_queue_arg(arguments, "record"));
			break;

		case TF_OP_COUNT:
			elog(ERROR, "invalid queued operation %d", (int) op);
	}
}

/* query_registry: GET path into body; raises on a failed call. */
static void
query_registry(const char *path, StringInfo body)
{
	TfHttpRequest req;

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.path = path;
	req.changes_state = false;

	resetStringInfo(body);
	(void) tf_registry_request(&req, body);
}

/*
 * tf_queue_check_effect
 *		Look at the registry, read-only, to learn whether a request whose
 *		outcome is unknown took effect.  What the look returned goes to
 *		result_json.  When the look was a query of the number, its raw
 *		response (a numInfo document) also goes to number_response, which
 *		is left empty otherwise.  Raises when the registry cannot be asked.
 *
 * Reserve, spare and change RespOrg are visible in the number's status and
 * controlling RespOrg.  A disconnect effective NOW shows in the status.  A
 * disconnect with a future effective time, and a copy, show as a customer
 * record at that effective time.  An update of an existing record, or a copy effective
 * NOW, leaves nothing the queue can tell apart from the state before, so
 * those stay undecidable.
 */
TfQueueEffect
tf_queue_check_effect(TfQueueOp op, const char *number, Jsonb *arguments,
					  StringInfo result_json, StringInfo number_response)
{
	StringInfoData body;
	TfQueueAnswer response;
	const char *effective = tf_queue_arg(arguments, "effective");
	char	   *path;
	bool		by_record;

	initStringInfo(&body);
	resetStringInfo(result_json);
	resetStringInfo(number_response);

	by_record = (op == TF_OP_COPY_RECORD ||
				 (op == TF_OP_DISCONNECT && effective && strcmp(effective, "NOW") != 0));

	if (op == TF_OP_UPDATE_RECORD ||
		(op == TF_OP_COPY_RECORD && (effective == NULL || strcmp(effective, "NOW") == 0)))
		return TF_EFFECT_UNDECIDABLE;

	if (by_record)
	{
		/*
		 * NOTE: only the first page of the record list (10 records) is
		 * read; a number with more future records may be misjudged ABSENT.
		 */
		path = psprintf("/cus/rec/query/%s", number);
		query_registry(path, &body);
		appendStringInfoString(result_json, "{}");
		return tf_queue_record_exists(body.data, body.len, effective) ?
			TF_EFFECT_PRESENT : TF_EFFECT_ABSENT;
	}

	path = psprintf("/num/tfn/query/tfn/%s", number);
	query_registry(path, number_response);
	tf_queue_parse_answer(number_response->data, number_response->len, &response);
	if (!response.parsed || response.status == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_DOCUMENT),
				 errmsg("registry returned an unusable document for a number query"),
				 errdetail("Number %s, document element \"%s\".", number,
						   response.root ? response.root : "(none)")));
	appendStringInfoString(result_json, response.json);

	switch (op)
	{
		case TF_OP_RESERVE:

			/*
			 * A queued reserve is always for the session's RespOrg.
			 *
			 * NOTE: a number that this RespOrg had reserved before the
			 * request was sent looks the same, although the registry
			 * refused the request (801124).
			 */
			return (strcmp(response.status, "RESERVED") == 0 && response.resporg &&
					strcmp(response.resporg, tf_registry_resporg()) == 0) ?
				TF_EFFECT_PRESENT : TF_EFFECT_ABSENT;

		case TF_OP_SPARE:
			return strcmp(response.status, "SPARE") == 0 ?
				TF_EFFECT_PRESENT : TF_EFFECT_ABSENT;

		case TF_OP_CHANGE_RESPORG:
			return (response.resporg &&
					strcmp(response.resporg, tf_queue_arg(arguments, "resporg")) == 0) ?
				TF_EFFECT_PRESENT : TF_EFFECT_ABSENT;

		case TF_OP_DISCONNECT:
			return (strcmp(response.status, "DISCONNECT") == 0 ||
					strcmp(response.status, "TRANSITIONAL") == 0) ?
				TF_EFFECT_PRESENT : TF_EFFECT_ABSENT;

		default:
			return TF_EFFECT_UNDECIDABLE;
	}
}

/*
 * tf_queue_fetch_version
 *		The number's current recVersionId, from a query; raises when the
 *		registry cannot be asked or the response carries none.
 *
 * A SPARE number has no recVersionId and nothing to update: that is a final
 * refusal (TF007, as the registry's 801130 would be), not a fault to retry.
 */
char *
tf_queue_fetch_version(const char *number)
{
	StringInfoData body;
	TfQueueAnswer response;

	initStringInfo(&body);
	query_registry(psprintf("/num/tfn/query/tfn/%s", number), &body);
	tf_queue_parse_answer(body.data, body.len, &response);
	if (response.parsed && response.status != NULL &&
		strcmp(response.status, "SPARE") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_TF_WRONG_STATUS),
				 errmsg("number %s is spare", number),
				 errdetail("The registry shows the number as SPARE, so there is nothing to update.")));
	if (!response.parsed || response.rec_version_id == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_DOCUMENT),
				 errmsg("registry returned no recVersionId for a number query"),
				 errdetail("Number %s.", number)));
	return response.rec_version_id;
}

/*
 * tf_queue_query_number
 *		Query one number (GET /num/tfn/query/tfn/{num}) and return the raw
 *		numInfo response in body; raises when the registry cannot be asked.
 */
void
tf_queue_query_number(const char *number, StringInfo body)
{
	query_registry(psprintf("/num/tfn/query/tfn/%s", number), body);
}
