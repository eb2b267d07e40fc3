/*-------------------------------------------------------------------------
 *
 * tfn_parse_fuzz.c
 *		libFuzzer target for the tfn input parser (src/tfn_parse.c).
 *
 * Besides crashes and sanitizer reports, the target checks properties that
 * every result must have, and aborts when one fails:
 *
 *	 - an accepted number is ten digits with an area code and an exchange
 *	   code that start with 2 to 9, and a rejection points inside the input;
 *	 - parsing is deterministic, and ASCII input gives the same result
 *	   whether or not the server encoding is UTF-8;
 *	 - surrounding the input with spaces or changing the case of its letters
 *	   changes nothing but the error offset;
 *	 - the digits, dashed, parenthesized and E.164 forms of an accepted
 *	   number parse back to the same value.
 *
 * Every input runs in both encoding modes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tfn_parse.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Longest input for which the derived inputs below are built. */
#define DERIVED_MAX		512

/*
 * require
 *		Abort with a message when a property does not hold, so that libFuzzer
 *		saves the input as a crash.
 */
static void
require(bool condition, const char *property, const uint8_t *data, size_t size)
{
	if (condition)
		return;

	fprintf(stderr, "tfn_parse property failed: %s\ninput (%zu bytes): \"%.*s\"\n",
			property, size, (int) size, (const char *) data);
	abort();
}

/*
 * same_outcome
 *		True when two results agree on everything but the error offset.
 */
static bool
same_outcome(const TfnParseResult *a, const TfnParseResult *b)
{
	return a->status == b->status &&
		a->value == b->value &&
		a->npa == b->npa &&
		a->char_count == b->char_count &&
		a->has_country_code == b->has_country_code;
}

static bool
is_ascii(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < size; i++)
	{
		if (data[i] >= 0x80)
			return false;
	}
	return true;
}

/*
 * check_result
 *		Check the properties of a single result.
 */
static void
check_result(const TfnParseResult *r, const uint8_t *data, size_t size)
{
	require(r->status >= TFN_PARSE_OK && r->status <= TFN_PARSE_EXCHANGE,
			"status is a known value", data, size);

	if (r->status == TFN_PARSE_OK)
	{
		int64		value = r->value;

		require(value >= INT64CONST(2000000000) && value <= INT64CONST(9999999999),
				"accepted value has ten digits and an area code starting with 2-9",
				data, size);
		require(r->npa == (int) (value / 10000000), "npa matches the value", data, size);
		require((value / 1000000) % 10 >= 2,
				"exchange code starts with 2-9", data, size);
		require(r->error_offset == -1, "no error offset on success", data, size);
	}
	else if (r->status == TFN_PARSE_EMPTY || r->status == TFN_PARSE_TOO_LONG ||
			 r->status == TFN_PARSE_DIGIT_COUNT)
		require(r->error_offset == -1, "no error offset for a whole-input error",
				data, size);
	else
		require(r->error_offset >= 0 && (size_t) r->error_offset < size,
				"error offset lies inside the input", data, size);

	if (r->status == TFN_PARSE_DIGIT_COUNT)
		require(r->char_count >= 0 && r->char_count != 10,
				"a wrong count is not ten", data, size);

	if (r->status == TFN_PARSE_EXTENSION)
		require(r->error_length >= 2 &&
				(size_t) r->error_offset + r->error_length <= size,
				"the extension lies inside the input", data, size);
}

/*
 * check_formats
 *		Check that each written form of an accepted value parses back to it.
 */
static void
check_formats(int64 value, const uint8_t *data, size_t size)
{
	char		forms[4][32];
	int			npa = (int) (value / 10000000);
	int			exchange = (int) ((value / 10000) % 1000);
	int			line = (int) (value % 10000);

	snprintf(forms[0], sizeof(forms[0]), INT64_FORMAT, value);
	snprintf(forms[1], sizeof(forms[1]), "%03d-%03d-%04d", npa, exchange, line);
	snprintf(forms[2], sizeof(forms[2]), "(%03d) %03d-%04d", npa, exchange, line);
	snprintf(forms[3], sizeof(forms[3]), "+1" INT64_FORMAT, value);

	for (int i = 0; i < 4; i++)
	{
		TfnParseResult again;

		tfn_parse(forms[i], strlen(forms[i]), false, &again);
		require(again.status == TFN_PARSE_OK && again.value == value,
				"formatted value parses back to itself", data, size);
	}
}

/*
 * check_mode
 *		Parse in one encoding mode and check the properties that depend on
 *		derived inputs.
 */
static void
check_mode(const uint8_t *data, size_t size, bool utf8, TfnParseResult *result)
{
	TfnParseResult again;
	char		derived[DERIVED_MAX + 2];

	tfn_parse((const char *) data, size, utf8, result);
	check_result(result, data, size);

	tfn_parse((const char *) data, size, utf8, &again);
	require(same_outcome(result, &again) &&
			result->error_offset == again.error_offset,
			"parsing is deterministic", data, size);

	if (result->status == TFN_PARSE_OK)
		check_formats(result->value, data, size);

	if (size > DERIVED_MAX)
		return;

	/* Surrounding spaces are trimmed. */
	derived[0] = ' ';
	memcpy(derived + 1, data, size);
	derived[size + 1] = ' ';
	tfn_parse(derived, size + 2, utf8, &again);
	require(same_outcome(result, &again), "surrounding spaces change nothing",
			data, size);

	/* Letters are case-insensitive. */
	for (size_t i = 0; i < size; i++)
	{
		char		c = (char) data[i];

		if (c >= 'a' && c <= 'z')
			c = (char) (c - 'a' + 'A');
		else if (c >= 'A' && c <= 'Z')
			c = (char) (c - 'A' + 'a');
		derived[i] = c;
	}
	tfn_parse(derived, size, utf8, &again);
	require(same_outcome(result, &again) &&
			result->error_offset == again.error_offset,
			"letter case changes nothing", data, size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TfnParseResult utf8_result;
	TfnParseResult other_result;

	check_mode(data, size, true, &utf8_result);
	check_mode(data, size, false, &other_result);

	if (is_ascii(data, size))
		require(same_outcome(&utf8_result, &other_result) &&
				utf8_result.error_offset == other_result.error_offset,
				"ASCII input parses the same in every encoding", data, size);

	return 0;
}
