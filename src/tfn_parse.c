/*-------------------------------------------------------------------------
 *
 * tfn_parse.c
 *		Parse the written forms of a US toll-free number into its ten digits.
 *
 * A toll-free number is a three-digit area code (NPA) followed by seven
 * subscriber characters: the exchange code (NXX) and the line number.  The
 * parser accepts the forms people and registries write, and rejects every
 * input that could stand for more than one number or for none:
 *
 *	 - An optional country code: "+1", or a leading "1" (the NANP trunk
 *	   prefix).  A leading 1 is never part of the area code, because no NANP
 *	   area code starts with 0 or 1.  "+" followed by any other code is
 *	   rejected.
 *	 - Exactly ten digits or letters after the country code.  Letters may
 *	   appear only in the seven subscriber places and map to the modern
 *	   telephone keypad, case-insensitively (ABC=2 DEF=3 GHI=4 JKL=5 MNO=6
 *	   PQRS=7 TUV=8 WXYZ=9).
 *	 - Vanity overflow: when the seventh subscriber character is a letter,
 *	   further letters of the same word may follow and are dropped, as the
 *	   telephone network ignores them ("1-800-THE-CRAVE" is 800-843-2728).
 *	   Letters of the same word are joined directly or by a single dash or
 *	   dot, never by a space.
 *	 - Separators: a run of spaces with at most one dash or dot among them.
 *	   One may appear after the country code, after the area code, after the
 *	   exchange code, and next to any letter of a vanity word
 *	   ("888-GIBILL-1").  Parentheses may enclose the area code.  Other
 *	   placements, such as "800-55-51212" or "800--555-1212", are rejected.
 *	 - Leading and trailing whitespace is ignored.
 *	 - In UTF-8 input, no-break, thin and narrow no-break spaces count as
 *	   spaces, and the Unicode hyphens, en and em dashes and the minus sign
 *	   count as dashes, because text copied from web pages and word
 *	   processors contains them.  Every other non-ASCII character is rejected,
 *	   fullwidth and other non-ASCII digits included.  With any other server
 *	   encoding, every non-ASCII character is rejected.
 *	 - Extensions ("x22", "ext. 22", ";ext=22", "#22", ",22") are rejected
 *	   with their own status.  The registry has no extensions, and gluing the
 *	   digits onto the number would name a different number.
 *	 - Neither the area code nor the exchange code may start with 0 or 1, as
 *	   in every NANP number.  Other exchange codes, N11 and 555 included, are
 *	   accepted, because whether such a number exists is for the registry to
 *	   say.  Whether the area code is an open toll-free code is for the
 *	   caller to check.
 *
 * The file uses c.h types and no backend function, so that the fuzz target
 * in test/fuzz can link it without a backend.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRONTEND
#include "postgres.h"
#else
#include "postgres_fe.h"
#endif

#include "tfn_parse.h"

/* Lexical classes of the characters in a written number. */
typedef enum TokenKind
{
	TOK_DIGIT,
	TOK_LETTER,
	TOK_SPACE,					/* space, or a Unicode space in UTF-8 */
	TOK_DASH,					/* "-", or a Unicode dash in UTF-8 */
	TOK_DOT,
	TOK_LPAREN,
	TOK_RPAREN,
	TOK_PLUS,
	TOK_EXT_MARK,				/* "#", "," or ";": valid only before an
								 * extension */
	TOK_EXT_FILL,				/* ":" or "=": valid only inside an extension */
	TOK_OTHER					/* anything else, including a tab inside */
} TokenKind;

typedef struct Token
{
	TokenKind	kind;
	char		ch;				/* DIGIT: '0'-'9'; LETTER: lower case 'a'-'z' */
	int			offset;			/* byte offset in the input */
} Token;

/* Keypad digit of each letter 'a' to 'z' (Q on 7 and Z on 9). */
static const char keypad_digits[26] = "22233344455566677778889999";

/*
 * is_ascii_whitespace
 *		True for the characters that may surround a number.
 */
static bool
is_ascii_whitespace(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\v' || c == '\f';
}

/*
 * utf8_char_length
 *		Byte length of the UTF-8 character at "s", of which "avail" bytes
 *		remain.  A malformed sequence counts as one byte.
 */
static size_t
utf8_char_length(const unsigned char *s, size_t avail)
{
	size_t		length = 1;

	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		length = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		length = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		length = 4;

	if (length > avail)
		return 1;
	for (size_t i = 1; i < length; i++)
	{
		if ((s[i] & 0xC0) != 0x80)
			return 1;
	}
	return length;
}

/*
 * classify_utf8_separator
 *		Map a UTF-8 space or dash character to TOK_SPACE or TOK_DASH.
 *
 * Returns TOK_OTHER for every other character.
 */
static TokenKind
classify_utf8_separator(const unsigned char *s, size_t length)
{
	/* U+00A0 no-break space */
	if (length == 2 && s[0] == 0xC2 && s[1] == 0xA0)
		return TOK_SPACE;

	if (length != 3)
		return TOK_OTHER;

	if (s[0] == 0xE2 && s[1] == 0x80)
	{
		/* U+2009 thin space, U+202F narrow no-break space */
		if (s[2] == 0x89 || s[2] == 0xAF)
			return TOK_SPACE;
		/* U+2010 hyphen through U+2014 em dash */
		if (s[2] >= 0x90 && s[2] <= 0x94)
			return TOK_DASH;
	}

	/* U+2212 minus sign */
	if (s[0] == 0xE2 && s[1] == 0x88 && s[2] == 0x92)
		return TOK_DASH;

	return TOK_OTHER;
}

/*
 * utf8_space_length_at
 *		Return the byte length of the Unicode space at input[pos], where the
 *		input ends at "end", or 0 when none starts there.
 */
static size_t
utf8_space_length_at(const char *input, size_t pos, size_t end)
{
	const unsigned char *s = (const unsigned char *) input + pos;
	size_t		length = utf8_char_length(s, end - pos);

	return classify_utf8_separator(s, length) == TOK_SPACE ? length : 0;
}

/*
 * utf8_space_length_before
 *		Return the byte length of the Unicode space that ends just before
 *		input[end] and starts at or after "start", or 0 when there is none.
 *		The Unicode spaces taken as separators are two or three bytes long.
 */
static size_t
utf8_space_length_before(const char *input, size_t start, size_t end)
{
	for (size_t length = 2; length <= 3; length++)
	{
		if (end - start >= length &&
			utf8_space_length_at(input, end - length, end) == length)
			return length;
	}
	return 0;
}

/*
 * trim_whitespace
 *		Move *start and *end past the whitespace at both ends of the input.
 *		ASCII whitespace and, in UTF-8, the Unicode spaces count, in any mix.
 */
static void
trim_whitespace(const char *input, bool utf8, size_t *start, size_t *end)
{
	for (;;)
	{
		size_t		length;

		if (*start < *end && is_ascii_whitespace((unsigned char) input[*start]))
			(*start)++;
		else if (utf8 && *start < *end &&
				 (length = utf8_space_length_at(input, *start, *end)) > 0)
			*start += length;
		else
			break;
	}

	for (;;)
	{
		size_t		length;

		if (*end > *start && is_ascii_whitespace((unsigned char) input[*end - 1]))
			(*end)--;
		else if (utf8 && (length = utf8_space_length_before(input, *start, *end)) > 0)
			*end -= length;
		else
			break;
	}
}

/*
 * tokenize
 *		Split input[start, end) into one token per character.
 *
 * Returns false when there are more than TFN_PARSE_MAX_CHARS characters.
 */
static bool
tokenize(const char *input, size_t start, size_t end, bool utf8,
		 Token *tokens, int *ntokens)
{
	size_t		pos = start;
	int			n = 0;

	while (pos < end)
	{
		unsigned char c = (unsigned char) input[pos];
		Token	   *token;
		size_t		length = 1;

		if (n == TFN_PARSE_MAX_CHARS)
			return false;

		token = &tokens[n++];
		token->offset = (int) pos;
		token->ch = '\0';

		if (c >= '0' && c <= '9')
		{
			token->kind = TOK_DIGIT;
			token->ch = (char) c;
		}
		else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		{
			token->kind = TOK_LETTER;
			token->ch = (char) (c | 0x20);
		}
		else if (c == ' ')
			token->kind = TOK_SPACE;
		else if (c == '-')
			token->kind = TOK_DASH;
		else if (c == '.')
			token->kind = TOK_DOT;
		else if (c == '(')
			token->kind = TOK_LPAREN;
		else if (c == ')')
			token->kind = TOK_RPAREN;
		else if (c == '+')
			token->kind = TOK_PLUS;
		else if (c == '#' || c == ',' || c == ';')
			token->kind = TOK_EXT_MARK;
		else if (c == ':' || c == '=')
			token->kind = TOK_EXT_FILL;
		else if (c >= 0x80 && utf8)
		{
			const unsigned char *s = (const unsigned char *) input + pos;

			length = utf8_char_length(s, end - pos);
			token->kind = classify_utf8_separator(s, length);
		}
		else
			token->kind = TOK_OTHER;

		pos += length;
	}

	*ntokens = n;
	return true;
}

static bool
is_significant(const Token *token)
{
	return token->kind == TOK_DIGIT || token->kind == TOK_LETTER;
}

/*
 * is_extension_word
 *		True when tokens[first, last] spell "x", "ext", "extn" or "extension".
 */
static bool
is_extension_word(const Token *tokens, int first, int last)
{
	static const char *const words[] = {"x", "ext", "extn", "extension"};
	int			length = last - first + 1;

	for (int w = 0; w < (int) lengthof(words); w++)
	{
		const char *word = words[w];
		int			i;

		if ((int) strlen(word) != length)
			continue;
		for (i = 0; i < length; i++)
		{
			if (tokens[first + i].ch != word[i])
				break;
		}
		if (i == length)
			return true;
	}
	return false;
}

/*
 * extension_starts_at
 *		When an extension starts at tokens[i] (a marker, optional filler,
 *		then digits), return the index of its last digit; else -1.
 *
 * The markers are "x", "ext", "extn", "extension", "#", "," and ";", alone
 * or combined as in ";ext=".  A marker word must be a whole word.  Spaces,
 * dots, colons or equals signs may separate marker and digits.
 */
static int
extension_starts_at(const Token *tokens, int ntokens, int i)
{
	int			j = i;

	if (tokens[j].kind == TOK_EXT_MARK)
	{
		j++;
		while (j < ntokens && tokens[j].kind == TOK_SPACE)
			j++;
	}
	else if (tokens[j].kind != TOK_LETTER ||
			 (j > 0 && tokens[j - 1].kind == TOK_LETTER))
		return -1;

	/* The marker word: required after no mark, optional after one. */
	if (j < ntokens && tokens[j].kind == TOK_LETTER)
	{
		int			word_start = j;

		while (j < ntokens && tokens[j].kind == TOK_LETTER)
			j++;
		if (!is_extension_word(tokens, word_start, j - 1))
			return -1;
	}

	while (j < ntokens && (tokens[j].kind == TOK_SPACE || tokens[j].kind == TOK_DOT ||
						   tokens[j].kind == TOK_EXT_FILL))
		j++;
	if (j == ntokens || tokens[j].kind != TOK_DIGIT)
		return -1;

	while (j + 1 < ntokens && tokens[j + 1].kind == TOK_DIGIT)
		j++;
	return j;
}

/*
 * find_extension
 *		Find the first extension written after the number.
 *
 * An extension counts only when at least ten digits and letters precede
 * it, so "800-555-12 x12" is judged as a number instead.  Words after the
 * extension do not hide it ("800-555-1212 x22 Sales").  Returns the index
 * of the marker's first token, or -1, and sets *last to the index of its
 * last digit.
 */
static int
find_extension(const Token *tokens, int ntokens, int *last)
{
	int			head_chars = 0;

	for (int i = 0; i < ntokens; i++)
	{
		if (head_chars >= 10 && (*last = extension_starts_at(tokens, ntokens, i)) >= 0)
			return i;
		if (is_significant(&tokens[i]))
			head_chars++;
	}
	return -1;
}

/*
 * reject
 *		Record a rejection caused by one token.
 */
static void
reject(TfnParseResult *result, TfnParseStatus status, const Token *token)
{
	result->status = status;
	result->error_offset = token->offset;
}

/*
 * reject_misplaced
 *		Record a rejection for a plus sign, parenthesis or separator in a
 *		place where it is not allowed.
 */
static void
reject_misplaced(TfnParseResult *result, const Token *token)
{
	TfnParseStatus status;

	if (token->kind == TOK_PLUS)
		status = TFN_PARSE_MISPLACED_PLUS;
	else if (token->kind == TOK_LPAREN || token->kind == TOK_RPAREN)
		status = TFN_PARSE_MISPLACED_PAREN;
	else
		status = TFN_PARSE_MISPLACED_SEPARATOR;

	reject(result, status, token);
}

/*
 * first_bad_separator
 *		Check that tokens[start, end) form an optional separator: spaces with
 *		at most one dash or dot among them.
 *
 * Returns the index of the first token that breaks the rule, or -1.
 */
static int
first_bad_separator(const Token *tokens, int start, int end)
{
	bool		seen_mark = false;

	for (int i = start; i < end; i++)
	{
		if (tokens[i].kind == TOK_SPACE)
			continue;
		if ((tokens[i].kind == TOK_DASH || tokens[i].kind == TOK_DOT) && !seen_mark)
		{
			seen_mark = true;
			continue;
		}
		return i;
	}
	return -1;
}

/*
 * check_separator
 *		Reject the input unless tokens[start, end) form an optional separator.
 */
static bool
check_separator(const Token *tokens, int start, int end, TfnParseResult *result)
{
	int			bad = first_bad_separator(tokens, start, end);

	if (bad < 0)
		return true;
	reject_misplaced(result, &tokens[bad]);
	return false;
}

/*
 * check_empty_gap
 *		Reject the input unless tokens[start, end) is empty.
 */
static bool
check_empty_gap(const Token *tokens, int start, int end, TfnParseResult *result)
{
	if (start >= end)
		return true;
	reject_misplaced(result, &tokens[start]);
	return false;
}

/*
 * first_invalid_overflow
 *		Check the characters after the tenth for a vanity overflow.
 *
 * "sig" lists the token indexes of the digits and letters, and "last" is the
 * index in "sig" of the tenth character after the country code.  The
 * overflow is valid when the tenth character and everything after it are
 * letters joined directly or by a single dash or dot.  Returns the index in
 * "sig" of the first character that breaks the rule, or -1.
 */
static int
first_invalid_overflow(const Token *tokens, const int *sig, int nsig, int last)
{
	if (tokens[sig[last]].kind != TOK_LETTER)
		return last + 1;

	for (int k = last + 1; k < nsig; k++)
	{
		int			gap = sig[k] - sig[k - 1] - 1;

		if (tokens[sig[k]].kind != TOK_LETTER || gap > 1)
			return k;
		if (gap == 1 && tokens[sig[k] - 1].kind != TOK_DASH &&
			tokens[sig[k] - 1].kind != TOK_DOT)
			return k;
	}
	return -1;
}

/*
 * check_gaps
 *		Check the plus sign, parentheses and separators between the digits
 *		and letters of a number whose character count is already correct.
 *
 * "first" is the index in "sig" of the area code's first digit (0, or 1
 * after a country code), and "plus" is true when the country code was
 * written "+1".  Gaps after the tenth character were checked with the
 * vanity overflow.
 */
static bool
check_gaps(const Token *tokens, int ntokens, const int *sig, int nsig,
		   int first, bool plus, TfnParseResult *result)
{
	bool		paren_open = false;
	int			start;
	int			end;

	/* Before the first digit: "+", "(" or nothing. */
	end = sig[0];
	if (plus)
		start = 1;
	else if (first == 0 && end == 1 && tokens[0].kind == TOK_LPAREN)
	{
		paren_open = true;
		start = 1;
	}
	else
		start = 0;
	if (!check_empty_gap(tokens, start, end, result))
		return false;

	/* Between the country code and the area code: a separator, then "(". */
	if (first == 1)
	{
		start = sig[0] + 1;
		end = sig[1];
		if (end > start && tokens[end - 1].kind == TOK_LPAREN)
		{
			paren_open = true;
			end--;
		}
		if (!check_separator(tokens, start, end, result))
			return false;
	}

	/* Inside the area code: nothing. */
	for (int k = first + 1; k < first + 3; k++)
	{
		if (!check_empty_gap(tokens, sig[k - 1] + 1, sig[k], result))
			return false;
	}

	/* After the area code: ")" if "(" was open, then a separator. */
	start = sig[first + 2] + 1;
	end = sig[first + 3];
	if (paren_open)
	{
		if (start == end || tokens[start].kind != TOK_RPAREN)
		{
			/* Point at the "(" that was never closed. */
			int			open = first == 0 ? 0 : sig[first] - 1;

			reject(result, TFN_PARSE_MISPLACED_PAREN, &tokens[open]);
			return false;
		}
		start++;
	}
	if (!check_separator(tokens, start, end, result))
		return false;

	/*
	 * Inside the subscriber part: a separator after the exchange code, or
	 * next to a letter.
	 */
	for (int j = 1; j < 7; j++)
	{
		int			k = first + 3 + j;
		bool		allowed;

		start = sig[k - 1] + 1;
		end = sig[k];
		allowed = j == 3 ||
			tokens[sig[k - 1]].kind == TOK_LETTER ||
			tokens[sig[k]].kind == TOK_LETTER;

		if (allowed ? !check_separator(tokens, start, end, result) :
			!check_empty_gap(tokens, start, end, result))
			return false;
	}

	/* After the last character: nothing (whitespace was trimmed). */
	return check_empty_gap(tokens, sig[nsig - 1] + 1, ntokens, result);
}

/*
 * tfn_parse
 *		Parse input[0, len) as a toll-free number.
 *
 * "utf8" is true when the input is UTF-8, so that Unicode spaces and dashes
 * count as separators.  The input need not be NUL-terminated, and a NUL byte
 * inside it is an invalid character.  The checks run in a fixed order and
 * the first failure is reported, so one input always gets the same status.
 */
void
tfn_parse(const char *input, size_t len, bool utf8, TfnParseResult *result)
{
	Token		tokens[TFN_PARSE_MAX_CHARS];
	int			sig[TFN_PARSE_MAX_CHARS];
	int			ntokens = 0;
	int			nsig = 0;
	int			first = 0;
	bool		plus = false;
	bool		count_ok;
	int			chars;
	int			extension;
	int			extension_end;
	size_t		start = 0;
	size_t		end = len;
	int64		value = 0;

	memset(result, 0, sizeof(*result));
	result->status = TFN_PARSE_OK;
	result->error_offset = -1;

	/* The length limit counts the characters left after the trim. */
	trim_whitespace(input, utf8, &start, &end);
	if (!tokenize(input, start, end, utf8, tokens, &ntokens))
	{
		result->status = TFN_PARSE_TOO_LONG;
		return;
	}

	if (ntokens == 0)
	{
		result->status = TFN_PARSE_EMPTY;
		return;
	}

	/* An extension is reported before anything else about the input. */
	extension = find_extension(tokens, ntokens, &extension_end);
	if (extension >= 0)
	{
		reject(result, TFN_PARSE_EXTENSION, &tokens[extension]);
		result->error_length = tokens[extension_end].offset + 1 - tokens[extension].offset;
		return;
	}

	/* Characters that never belong in a number. */
	for (int i = 0; i < ntokens; i++)
	{
		if (tokens[i].kind == TOK_OTHER || tokens[i].kind == TOK_EXT_MARK ||
			tokens[i].kind == TOK_EXT_FILL)
		{
			reject(result, TFN_PARSE_BAD_CHARACTER, &tokens[i]);
			return;
		}
		if (is_significant(&tokens[i]))
			sig[nsig++] = i;
	}

	/* The country code: "+1", or a leading 1 before more characters. */
	if (tokens[0].kind == TOK_PLUS)
	{
		if (ntokens < 2 || tokens[1].kind != TOK_DIGIT)
		{
			reject(result, TFN_PARSE_MISPLACED_PLUS, &tokens[0]);
			return;
		}
		if (tokens[1].ch != '1')
		{
			reject(result, TFN_PARSE_COUNTRY_CODE, &tokens[0]);
			return;
		}
		plus = true;
		first = 1;
	}
	else if (nsig > 1 && tokens[sig[0]].ch == '1')
		first = 1;

	/* Letters before or inside the area code. */
	for (int k = 0; k < nsig && k < first + 3; k++)
	{
		if (tokens[sig[k]].kind == TOK_LETTER)
		{
			reject(result, TFN_PARSE_LETTER_OUTSIDE, &tokens[sig[k]]);
			return;
		}
	}

	/*
	 * Ten characters after the country code, plus any vanity overflow.  A
	 * letter that cannot belong to the overflow is reported as a letter out
	 * of place, anything else as a wrong count.
	 */
	chars = nsig - first;
	if (chars > 10)
	{
		int			bad = first_invalid_overflow(tokens, sig, nsig, first + 9);

		/*
		 * Two letters of the overflow joined by more than one dash or dot
		 * ("1-800-FLOWERS..COM"): the separator is at fault, not a letter.
		 */
		if (bad > first + 9 && bad < nsig &&
			tokens[sig[bad - 1]].kind == TOK_LETTER &&
			tokens[sig[bad]].kind == TOK_LETTER)
		{
			int			mark = first_bad_separator(tokens, sig[bad - 1] + 1, sig[bad]);

			if (mark >= 0 && (tokens[mark].kind == TOK_DASH || tokens[mark].kind == TOK_DOT))
			{
				reject_misplaced(result, &tokens[mark]);
				return;
			}
		}

		for (int k = bad; bad >= 0 && k < nsig; k++)
		{
			if (tokens[sig[k]].kind == TOK_LETTER)
			{
				reject(result, TFN_PARSE_LETTER_OUTSIDE, &tokens[sig[k]]);
				return;
			}
		}
		count_ok = bad < 0;
	}
	else
		count_ok = chars == 10;
	if (!count_ok)
	{
		result->status = TFN_PARSE_DIGIT_COUNT;
		result->char_count = chars;
		result->has_country_code = first == 1;
		return;
	}

	if (!check_gaps(tokens, ntokens, sig, nsig, first, plus, result))
		return;

	/* The area code starts with 2 to 9. */
	if (tokens[sig[first]].ch == '0' || tokens[sig[first]].ch == '1')
	{
		reject(result, TFN_PARSE_AREA_CODE, &tokens[sig[first]]);
		result->npa = (tokens[sig[first]].ch - '0') * 100 +
			(tokens[sig[first + 1]].ch - '0') * 10 +
			(tokens[sig[first + 2]].ch - '0');
		return;
	}

	/* The exchange code starts with 2 to 9; letters always map there. */
	if (tokens[sig[first + 3]].ch == '0' || tokens[sig[first + 3]].ch == '1')
	{
		reject(result, TFN_PARSE_EXCHANGE, &tokens[sig[first + 3]]);
		return;
	}

	for (int k = first; k < first + 10; k++)
	{
		const Token *token = &tokens[sig[k]];
		char		digit;

		digit = token->kind == TOK_LETTER ?
			keypad_digits[token->ch - 'a'] : token->ch;
		value = value * 10 + (digit - '0');
	}

	result->value = value;
	result->npa = (int) (value / 10000000);
}
