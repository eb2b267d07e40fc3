/*-------------------------------------------------------------------------
 *
 * tfn_parse.h
 *		Parser for the written forms of a US toll-free number.
 *
 * The parser uses c.h types and no backend function, so that the fuzz
 * target in test/fuzz can link it without a backend.  It checks the syntax,
 * the area code's first digit and the exchange code.  Whether the area code
 * is an open toll-free code is data (toll_free.open_npa), which the caller
 * checks.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFN_PARSE_H
#define TFN_PARSE_H

/*
 * Inputs longer than this many characters, after leading and trailing
 * whitespace is removed, are rejected without further analysis.  The longest
 * ordinary form, "+1 (800) 555 - 1212", has 19.
 */
#define TFN_PARSE_MAX_CHARS		100

/* Outcome of tfn_parse(); every value but TFN_PARSE_OK rejects the input. */
typedef enum TfnParseStatus
{
	TFN_PARSE_OK,
	TFN_PARSE_EMPTY,			/* nothing but whitespace */
	TFN_PARSE_TOO_LONG,			/* more than TFN_PARSE_MAX_CHARS characters */
	TFN_PARSE_EXTENSION,		/* an extension such as "x22" or ";ext=22" */
	TFN_PARSE_BAD_CHARACTER,	/* a character that never appears in a number */
	TFN_PARSE_COUNTRY_CODE,		/* "+" followed by a code other than 1 */
	TFN_PARSE_LETTER_OUTSIDE,	/* a letter outside the seven subscriber places */
	TFN_PARSE_DIGIT_COUNT,		/* not 10 digits and letters after the country
								 * code */
	TFN_PARSE_MISPLACED_PLUS,	/* "+" anywhere but before the country code */
	TFN_PARSE_MISPLACED_PAREN,	/* parentheses not around the area code */
	TFN_PARSE_MISPLACED_SEPARATOR,	/* space, dash or dot in the wrong place */
	TFN_PARSE_AREA_CODE,		/* area code (NPA) starts with 0 or 1 */
	TFN_PARSE_EXCHANGE			/* exchange code (NXX) starts with 0 or 1 */
} TfnParseStatus;

typedef struct TfnParseResult
{
	TfnParseStatus status;

	/* The number as ten digits, e.g. 8005551212; set when status is OK. */
	int64		value;

	/* The area code (NPA), e.g. 800; set when status is OK or AREA_CODE. */
	int			npa;

	/*
	 * Byte offset into the input of the character that caused the rejection,
	 * or -1 when no single character did (EMPTY, TOO_LONG, DIGIT_COUNT).
	 */
	int			error_offset;

	/* EXTENSION: byte length of the extension, from its marker to its digits. */
	int			error_length;

	/* DIGIT_COUNT: digits and letters found after any country code. */
	int			char_count;

	/* DIGIT_COUNT: whether the input started with a country code 1 or +1. */
	bool		has_country_code;
} TfnParseResult;

extern void tfn_parse(const char *input, size_t len, bool utf8,
					  TfnParseResult *result);

#endif							/* TFN_PARSE_H */
