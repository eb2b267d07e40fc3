/*-------------------------------------------------------------------------
 *
 * tfn.c
 *		Input, output, casts and formatting of the tfn data type.
 *
 * The written forms accepted on input are defined in tfn_parse.c.  On top
 * of the syntax, every way into the type (text input, binary receive, the
 * bigint cast) requires an area code listed in toll_free.open_npa and an
 * exchange code that starts with 2 to 9.  The functions that check the
 * area code read that table and are therefore STABLE, like enum_in.  Output
 * and formatting depend on the value alone and are IMMUTABLE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "tfn.h"
#include "tfn_parse.h"
#include "toll_free.h"

PG_FUNCTION_INFO_V1(tfn_in);
PG_FUNCTION_INFO_V1(tfn_out);
PG_FUNCTION_INFO_V1(tfn_recv);
PG_FUNCTION_INFO_V1(tfn_send);
PG_FUNCTION_INFO_V1(tfn_from_bigint);
PG_FUNCTION_INFO_V1(tfn_to_bigint);
PG_FUNCTION_INFO_V1(tfn_format);
PG_FUNCTION_INFO_V1(tfn_npa);
PG_FUNCTION_INFO_V1(tfn_is_valid);

/*
 * character_position
 *		1-based character position of byte "offset" in "str".
 */
static int
character_position(const char *str, int offset)
{
	return pg_mbstrlen_with_len(str, offset) + 1;
}

/*
 * describe_character
 *		Printable description of the character at byte "offset" of "str":
 *		the character in quotes, followed by its code point when it is not
 *		ASCII (it may be invisible, such as a zero-width space).  A control
 *		character is named by its code point alone.
 *
 * In a SQL_ASCII database a byte above 0x7F has no known character, so it
 * is named by its value: quoting it could send the client invalid text.
 */
static char *
describe_character(const char *str, int offset)
{
	const char *c = str + offset;
	int			length = pg_mblen_range(c, str + strlen(str));
	unsigned char lead = (unsigned char) *c;
	const char *utf8;

	if (lead < 0x20 || lead == 0x7F)
		return psprintf("U+%04X", lead);

	if (lead < 0x80)
		return psprintf("\"%c\"", lead);

	if (GetDatabaseEncoding() == PG_SQL_ASCII)
		return psprintf("with byte value 0x%02X", lead);

	utf8 = pg_server_to_any(pnstrdup(c, length), length, PG_UTF8);
	return psprintf("\"%.*s\" (U+%04X)", length, c,
					(unsigned int) utf8_to_unicode((const unsigned char *) utf8));
}

/*
 * errdetail_tfn_npa
 *		Attach the detail and hint for an area code that is not open.
 */
static int
errdetail_tfn_npa(int npa, TfnNpaState state)
{
	if (state == TFN_NPA_NOT_TOLL_FREE)
	{
		errdetail("Area code %03d is not a toll-free code.", npa);
		errhint("The open toll-free codes are listed in %s.open_npa.",
				TOLL_FREE_SCHEMA);
	}
	else
	{
		errdetail("Area code %d is not an open toll-free code.", npa);
		errhint("The open codes are listed in %s.open_npa, where an administrator can add a new one.",
				TOLL_FREE_SCHEMA);
	}
	return 0;
}

/*
 * errdetail_tfn_exchange
 *		Attach the detail for an exchange code that starts with 0 or 1.
 */
static int
errdetail_tfn_exchange(char first_digit)
{
	return errdetail("The exchange code (the three characters after the area code) cannot start with %c.",
					 first_digit);
}

/*
 * errdetail_tfn_parse
 *		Attach the detail and hint that explain a rejection by tfn_parse().
 */
static int
errdetail_tfn_parse(const char *str, const TfnParseResult *parsed)
{
	int			offset = parsed->error_offset;

	switch (parsed->status)
	{
		case TFN_PARSE_OK:
			break;
		case TFN_PARSE_EMPTY:
			errdetail("The input is empty.");
			break;
		case TFN_PARSE_TOO_LONG:
			errdetail("The input is longer than %d characters.", TFN_PARSE_MAX_CHARS);
			break;
		case TFN_PARSE_EXTENSION:
			errdetail("Extensions such as \"%.*s\" are not allowed in a toll-free number.",
					  parsed->error_length, str + offset);
			errhint("Store the extension in a separate column.");
			break;
		case TFN_PARSE_BAD_CHARACTER:
			errdetail("Character %s at position %d is not allowed.",
					  describe_character(str, offset),
					  character_position(str, offset));
			errhint("Write the number with the digits 0-9 and the letters A-Z, separated by spaces, dashes or dots.");
			break;
		case TFN_PARSE_COUNTRY_CODE:
			errdetail("Only the North American country code +1 is accepted.");
			break;
		case TFN_PARSE_LETTER_OUTSIDE:
			errdetail("Letter \"%c\" at position %d is outside the seven characters after the area code, the only places where vanity letters may appear.",
					  str[offset], character_position(str, offset));
			break;
		case TFN_PARSE_DIGIT_COUNT:
			if (parsed->has_country_code)
				errdetail("A toll-free number has 10 digits or vanity letters after the country code, but the input has %d.",
						  parsed->char_count);
			else
				errdetail("A toll-free number has 10 digits or vanity letters, but the input has %d.",
						  parsed->char_count);
			break;
		case TFN_PARSE_MISPLACED_PLUS:
			errdetail("The \"+\" at position %d is misplaced. A \"+\" may appear only at the start, directly before the country code 1.",
					  character_position(str, offset));
			break;
		case TFN_PARSE_MISPLACED_PAREN:
			errdetail("The parenthesis at position %d is unmatched or misplaced. Parentheses may enclose only the area code, as in \"(800) 555-1212\".",
					  character_position(str, offset));
			break;
		case TFN_PARSE_MISPLACED_SEPARATOR:
			errdetail("Separator %s at position %d is misplaced.",
					  describe_character(str, offset),
					  character_position(str, offset));
			errhint("Use one space, dash or dot after the country code, after the area code and after the exchange code, as in \"1-800-555-1212\". Vanity words may also be split next to a letter.");
			break;
		case TFN_PARSE_AREA_CODE:
			errdetail_tfn_npa(parsed->npa, TFN_NPA_NOT_TOLL_FREE);
			break;
		case TFN_PARSE_EXCHANGE:
			errdetail_tfn_exchange(str[offset]);
			break;
	}
	return 0;
}

/*
 * tfn_in
 *		Text input: parse a written number and check its area code.
 *
 * Errors are SQLSTATE 22P02 and name the type and the input.  On
 * PostgreSQL 16 and later they are reported softly through the error-save
 * context, so pg_input_is_valid() works.  On 15, ereturn() raises them.
 */
Datum
tfn_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	Node	   *escontext = fcinfo->context;
	TfnParseResult parsed;
	TfnNpaState npa_state;

	tfn_parse(str, strlen(str), GetDatabaseEncoding() == PG_UTF8, &parsed);
	if (parsed.status != TFN_PARSE_OK)
		ereturn(escontext, (Datum) 0,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s: \"%s\"", "tfn", str),
				 errdetail_tfn_parse(str, &parsed)));

	npa_state = tfn_npa_state(parsed.npa);
	if (npa_state != TFN_NPA_OPEN)
		ereturn(escontext, (Datum) 0,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s: \"%s\"", "tfn", str),
				 errdetail_tfn_npa(parsed.npa, npa_state)));

	PG_RETURN_TFN(parsed.value);
}

/*
 * tfn_is_valid
 *		True when the text casts to tfn: the checks of tfn_in, without an
 *		error.
 *
 * It lets a query pick out the rows of a load that would not cast, also on
 * PostgreSQL 15, which has no pg_input_is_valid().
 */
Datum
tfn_is_valid(PG_FUNCTION_ARGS)
{
	text	   *input = PG_GETARG_TEXT_PP(0);
	TfnParseResult parsed;

	tfn_parse(VARDATA_ANY(input), VARSIZE_ANY_EXHDR(input),
			  GetDatabaseEncoding() == PG_UTF8, &parsed);

	PG_RETURN_BOOL(parsed.status == TFN_PARSE_OK &&
				   tfn_npa_state(parsed.npa) == TFN_NPA_OPEN);
}

/*
 * tfn_out
 *		Text output: the ten digits.
 */
Datum
tfn_out(PG_FUNCTION_ARGS)
{
	Tfn			value = PG_GETARG_TFN(0);

	PG_RETURN_CSTRING(psprintf(INT64_FORMAT, value));
}

/* Why a value that arrived other than as text is not a valid tfn. */
typedef enum TfnValueProblem
{
	TFN_VALUE_OK,
	TFN_VALUE_RANGE,			/* not ten digits, or starts with 0 or 1 */
	TFN_VALUE_EXCHANGE,			/* exchange code starts with 0 or 1 */
	TFN_VALUE_NPA				/* area code not open; see *npa_state */
} TfnValueProblem;

/*
 * check_tfn_value
 *		Apply the checks of text input to a ten-digit value.
 */
static TfnValueProblem
check_tfn_value(int64 value, TfnNpaState *npa_state)
{
	if (value < TFN_MIN_VALUE || value > TFN_MAX_VALUE)
		return TFN_VALUE_RANGE;
	if (TfnGetExchange(value) < 200)
		return TFN_VALUE_EXCHANGE;

	*npa_state = tfn_npa_state(TfnGetNpa(value));
	if (*npa_state != TFN_NPA_OPEN)
		return TFN_VALUE_NPA;

	return TFN_VALUE_OK;
}

/*
 * errdetail_tfn_value
 *		Attach the detail for a value rejected by check_tfn_value().
 */
static int
errdetail_tfn_value(int64 value, TfnValueProblem problem, TfnNpaState npa_state)
{
	switch (problem)
	{
		case TFN_VALUE_OK:
			break;
		case TFN_VALUE_RANGE:
			errdetail("A tfn value has 10 digits, from " INT64_FORMAT " to " INT64_FORMAT ".",
					  TFN_MIN_VALUE, TFN_MAX_VALUE);
			break;
		case TFN_VALUE_EXCHANGE:
			errdetail_tfn_exchange((char) ('0' + TfnGetExchange(value) / 100));
			break;
		case TFN_VALUE_NPA:
			errdetail_tfn_npa(TfnGetNpa(value), npa_state);
			break;
	}
	return 0;
}

/*
 * tfn_recv
 *		Binary input: the ten digits as a big-endian int8, checked like text
 *		input.
 */
Datum
tfn_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int64		value = pq_getmsgint64(buf);
	TfnNpaState npa_state = TFN_NPA_OPEN;
	TfnValueProblem problem = check_tfn_value(value, &npa_state);

	if (problem != TFN_VALUE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary value for type %s: " INT64_FORMAT, "tfn", value),
				 errdetail_tfn_value(value, problem, npa_state)));

	PG_RETURN_TFN(value);
}

/*
 * tfn_send
 *		Binary output: the ten digits as a big-endian int8, the same bytes
 *		as the bigint value.
 */
Datum
tfn_send(PG_FUNCTION_ARGS)
{
	Tfn			value = PG_GETARG_TFN(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint64(&buf, value);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/*
 * tfn_from_bigint
 *		Cast bigint to tfn, with the checks of text input.
 */
Datum
tfn_from_bigint(PG_FUNCTION_ARGS)
{
	int64		value = PG_GETARG_INT64(0);
	TfnNpaState npa_state = TFN_NPA_OPEN;
	TfnValueProblem problem = check_tfn_value(value, &npa_state);

	if (problem == TFN_VALUE_RANGE)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value " INT64_FORMAT " is out of range for type %s", value, "tfn"),
				 errdetail_tfn_value(value, problem, npa_state)));
	if (problem != TFN_VALUE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("value " INT64_FORMAT " is not a valid toll-free number", value),
				 errdetail_tfn_value(value, problem, npa_state)));

	PG_RETURN_TFN(value);
}

/*
 * tfn_to_bigint
 *		Cast tfn to bigint: the ten digits as a number.
 */
Datum
tfn_to_bigint(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(PG_GETARG_TFN(0));
}

/*
 * tfn_format
 *		Format a number in one of the written styles.
 *
 * Styles (case-insensitive): "digits" 8005551212, "dashed" 800-555-1212,
 * "parenthesized" (800) 555-1212, "e164" +18005551212.
 */
Datum
tfn_format(PG_FUNCTION_ARGS)
{
	Tfn			value = PG_GETARG_TFN(0);
	char	   *style = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int			npa = TfnGetNpa(value);
	int			exchange = TfnGetExchange(value);
	int			line = (int) (value % 10000);
	char	   *result;

	if (pg_strcasecmp(style, "digits") == 0)
		result = psprintf(INT64_FORMAT, value);
	else if (pg_strcasecmp(style, "dashed") == 0)
		result = psprintf("%03d-%03d-%04d", npa, exchange, line);
	else if (pg_strcasecmp(style, "parenthesized") == 0)
		result = psprintf("(%03d) %03d-%04d", npa, exchange, line);
	else if (pg_strcasecmp(style, "e164") == 0)
		result = psprintf("+1" INT64_FORMAT, value);
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unrecognized tfn format style: \"%s\"", style),
				 errhint("Valid styles are \"digits\", \"dashed\", \"parenthesized\" and \"e164\".")));

	PG_RETURN_TEXT_P(cstring_to_text(result));
}

/*
 * tfn_npa
 *		The area code of a number, e.g. 800.
 */
Datum
tfn_npa(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT16((int16) TfnGetNpa(PG_GETARG_TFN(0)));
}
