--
-- tfn: text input, output, formatting and casts of the toll-free number type
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS toll_free;
RESET client_min_messages;
SET search_path = toll_free, public;

-- try_tfn: the value an input gives, or the error it raises.  The message is
-- checked against the expected form (type name and input) so that the table
-- below can show the detail, which explains why the input was rejected.
CREATE FUNCTION pg_temp.try_tfn(input text,
	OUT result text, OUT err_code text, OUT message_ok boolean, OUT err_detail text)
LANGUAGE plpgsql AS $$
DECLARE
	message text;
BEGIN
	result := input::toll_free.tfn::text;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE,
		message = MESSAGE_TEXT, err_detail = PG_EXCEPTION_DETAIL;
	message_ok := message = format('invalid input syntax for type tfn: "%s"', input);
END
$$;

-- Accepted written forms, each with the ten digits it gives.
SELECT c.input, r.result, r.err_code, r.err_detail
FROM (VALUES
	(1, '8005551212'),
	(2, '800-555-1212'),
	(3, '800.555.1212'),
	(4, '800 555 1212'),
	(5, '800555-1212'),
	(6, '800 - 555 - 1212'),
	(7, '(800) 555-1212'),
	(8, '(800)555-1212'),
	(9, '(800)-555-1212'),
	(10, '(800) 555 - 1212'),
	(11, '1-800-555-1212'),
	(12, '18005551212'),
	(13, '1 800 555 1212'),
	(14, '1 (800) 555-1212'),
	(15, '1(800)555-1212'),
	(16, '+18005551212'),
	(17, '+1 800 555 1212'),
	(18, '+1-800-555-1212'),
	(19, '+1.800.555.1212'),
	(20, '+1 (800) 555-1212'),
	(21, '  800-555-1212  '),
	(22, E'\t800-555-1212\r\n'),
	(23, '800-411-1212'),
	(24, '800-555-0100'),
	(25, '888-999-9999')
) AS c(n, input), LATERAL pg_temp.try_tfn(c.input) r
ORDER BY c.n;

-- Vanity numbers: letters on the modern keypad, case-insensitive.  Letters
-- after the tenth character of a word are dropped.
SELECT c.input, r.result, r.err_code, r.err_detail
FROM (VALUES
	(1, '1-800-FLOWERS'),
	(2, '1-800-flowers'),
	(3, '1-800-FloWeRs'),
	(4, '1-800-THE-CRAVE'),
	(5, '1-800-QUIZZES'),
	(6, '1-800-4MY-HOME'),
	(7, '888-GIBILL-1'),
	(8, '833-BURGERS'),
	(9, '1-800-CONTACTS'),
	(10, '1-800-MATTRESS'),
	(11, '800-FLOWERS.COM'),
	(12, '800-CALL-ATT-NOW'),
	(13, '800 ABC DEFG'),
	(14, '800 GHI JKLM'),
	(15, '800 NOP QRST'),
	(16, '800 TUV WXYZ'),
	(17, '+1 (800) GO-FEDEX'),
	(18, '800-55-MY-HOME'),
	(19, '800-555-121A')
) AS c(n, input), LATERAL pg_temp.try_tfn(c.input) r
ORDER BY c.n;

-- Non-ASCII separators: Unicode spaces and dashes are accepted (the database
-- is UTF-8).  Every other non-ASCII character is rejected.
SELECT c.label, r.result, r.err_code, r.err_detail
FROM (VALUES
	(1, 'no-break spaces', U&'800\00A0555\00A01212'),
	(2, 'thin spaces', U&'800\2009555\20091212'),
	(3, 'narrow no-break spaces', U&'800\202F555\202F1212'),
	(4, 'hyphens', U&'800\2010555\20101212'),
	(5, 'non-breaking hyphens', U&'800\2011555\20111212'),
	(6, 'figure dashes', U&'800\2012555\20121212'),
	(7, 'en dashes', U&'800\2013555\20131212'),
	(8, 'em dashes', U&'800\2014555\20141212'),
	(9, 'minus signs', U&'800\2212555\22121212'),
	(10, 'trailing no-break space', U&'800-555-1212\00A0'),
	(11, 'fullwidth digits', U&'\FF18\FF10\FF105551212'),
	(12, 'Arabic-Indic digits', U&'\0668\0660\06605551212'),
	(13, 'zero-width space', U&'800\200B5551212'),
	(14, 'ideographic space', U&'800\3000555\30001212'),
	(15, 'two en dashes', U&'800\2013\2013555-1212')
) AS c(n, label, input), LATERAL pg_temp.try_tfn(c.input) r
ORDER BY c.n;

-- Rejected inputs.  message_ok is true when the message names the type and
-- repeats the input.
SELECT c.input, r.result, r.err_code, r.message_ok, r.err_detail
FROM (VALUES
	-- empty
	(1, ''),
	(2, '   '),
	(3, 'hello'),
	-- extensions, in every usual notation
	(10, '1 (800) 5551212x22'),
	(11, '800-555-1212 x22'),
	(12, '800-555-1212 x 22'),
	(13, '8005551212X22'),
	(14, '800-555-1212 ext. 22'),
	(15, '800-555-1212 ext22'),
	(16, '800-555-1212 Ext: 22'),
	(17, '800-555-1212 extn 22'),
	(18, '800-555-1212 extension 22'),
	(19, '+18005551212;ext=22'),
	(20, '800-555-1212 #22'),
	(21, '800-555-1212,22'),
	(22, '800-555-1212, ext 22'),
	(23, '1-800-FLOWERS x22'),
	(24, '800-555-1212 x22 Sales'),
	(25, '800-555-1212 x22 x33'),
	(26, '800-555-1212 #22 ext 33'),
	-- digit count, with and without a country code
	(30, '+1 1 800 555 1212'),
	(31, '11-800-555-1212'),
	(32, '118005551212'),
	(33, '800555121'),
	(34, '80055512123'),
	(35, '1800555121'),
	(36, '800-555-1212 22'),
	(37, '1'),
	(38, '+1'),
	(39, '001 800 555 1212'),
	(40, '1-800-FLOWERS2'),
	-- country codes other than +1
	(50, '+800 1234 5678'),
	(51, '+44 20 7946 0000'),
	(52, '+2 800 555 1212'),
	-- letters outside the seven subscriber places
	(60, 'a800a555a1212a'),
	(61, '800-555-1212 Sales'),
	(62, '8OO-555-1212'),
	(63, 'ABC-555-1212'),
	(64, '1-800-FLOWERS Sales'),
	(65, '8005551212FLOWERS'),
	(66, '888-GIBILL-1X'),
	(67, '1-800-THE-CRAVE X'),
	-- separators, parentheses and "+" out of place
	(70, '800--555-1212'),
	(71, '800-55-51212'),
	(72, '80-0555-1212'),
	(73, '800-555-12-12'),
	(74, '-800-555-1212'),
	(75, '800-555-1212-'),
	(76, '1--800-555-1212'),
	(77, '800.-555-1212'),
	(78, '(800 555-1212'),
	(79, '800) 555-1212'),
	(80, '(1) 800 555 1212'),
	(81, '((800)) 555-1212'),
	(82, '(800) (555) 1212'),
	(83, '800+555-1212'),
	(84, '+ 1 800 555 1212'),
	(85, '+(800) 555-1212'),
	(86, '1-800-MATTRES--S'),
	(87, '1-800-FLOWERS..COM'),
	(88, '1-800-FLOWERS.-COM'),
	-- characters that never appear in a number
	(90, '800/555/1212'),
	(91, '800_555_1212'),
	(92, E'800\t555\t1212'),
	(93, '800*555*1212'),
	(94, 'tel:+1-800-555-1212'),
	(95, '800-555-1212#'),
	-- area codes that are not open toll-free codes
	(100, '2125551212'),
	(101, '9005551212'),
	(102, '8225551212'),
	(103, '8995551212'),
	(104, '8115551212'),
	(105, '0005551212'),
	(106, '+1 180 555 1212'),
	-- exchange codes no NANP number has
	(110, '800-055-1212'),
	(111, '800-155-1212'),
	(112, '1-800-000-0000')
) AS c(n, input), LATERAL pg_temp.try_tfn(c.input) r
ORDER BY c.n;

-- Too long: more than 100 characters after whitespace is trimmed.
SELECT r.err_code, r.message_ok, r.err_detail
FROM pg_temp.try_tfn(repeat('8', 101)) r;
SELECT r.result FROM pg_temp.try_tfn('  800-555-1212' || repeat(' ', 200)) r;
-- Unicode spaces around the number are trimmed before the count too, in any
-- mix with ASCII whitespace.
SELECT r.result FROM pg_temp.try_tfn(repeat(U&'\00A0', 95) || '800-555-1212') r;
SELECT r.result FROM pg_temp.try_tfn('800-555-1212' || repeat(U&' \202F' || E'\t' || U&'\2009', 40)) r;
SELECT r.result FROM pg_temp.try_tfn(U&'\00A0' || E'\t ' || U&'1-800-FLOWERS \202F') r;

-- Eleven digits with a country code (written three ways) are rejected, and
-- the four forms of the same number give the same value.
SELECT '+1 1 800 555 1212'::tfn;
SELECT '11-800-555-1212'::tfn;
SELECT '118005551212'::tfn;
SELECT count(DISTINCT x::tfn) AS distinct_values, min(x::tfn::text) AS value
FROM unnest(ARRAY['18005551212', '+18005551212', '1-800-555-1212', '8005551212']) x;

-- Extensions: one message for every notation, never a longer number.
SELECT '1 (800) 5551212x22'::tfn;
SELECT '800-555-1212 ext. 22'::tfn;
SELECT '+18005551212;ext=22'::tfn;
SELECT '800-555-1212 #22'::tfn;

-- Bad input is 22P02 with the type name and the text, not an internal error.
\set VERBOSITY sqlstate
SELECT 'hello'::tfn;
SELECT '8225551212'::tfn;
\set VERBOSITY default
SELECT 'hello'::tfn;
SELECT '800-555-1212 Sales'::tfn;
SELECT U&'800\200B5551212'::tfn;

-- Output is the ten digits, and tfn_format gives the other written forms.
SELECT n, n::text AS text, tfn_npa(n) AS npa,
	tfn_format(n, 'digits') AS digits,
	tfn_format(n, 'dashed') AS dashed,
	tfn_format(n, 'parenthesized') AS parenthesized,
	tfn_format(n, 'e164') AS e164
FROM (VALUES ('8005551212'::tfn), ('1-888-GIBILL-1'::tfn), ('(833) 200-0000'::tfn)) v(n);
SELECT tfn_format('8005551212', 'E164') AS upper_case_style;
SELECT tfn_format('8005551212', 'national');
SELECT tfn_format(NULL, 'dashed') IS NULL AS null_in_null_out;
SELECT pg_typeof(tfn_npa('8005551212')) AS npa_type;

-- Casts to and from text, varchar and bigint.
SELECT '800-555-1212'::text::tfn AS from_text,
	'800-555-1212'::varchar::tfn AS from_varchar,
	'8005551212'::tfn::text AS to_text,
	'8005551212'::tfn::bigint AS to_bigint,
	8005551212::bigint::tfn AS from_bigint,
	pg_typeof('8005551212'::tfn::bigint) AS bigint_type;
CREATE TEMP TABLE text_sink (t text);
INSERT INTO text_sink VALUES ('8005551212'::tfn);	-- tfn to text is an assignment cast
SELECT t FROM text_sink;
SELECT 123::bigint::tfn;
SELECT (-8005551212)::bigint::tfn;
SELECT 18005551212::bigint::tfn;
SELECT 8225551212::bigint::tfn;
SELECT 2125551212::bigint::tfn;
SELECT 8000551212::bigint::tfn;
SELECT 8001551212::bigint::tfn;
SELECT tfn(8885551212) AS function_form;

-- Binary output is the big-endian int8.
SELECT tfn_send('8005551212') AS send, int8send(8005551212) AS int8;

-- Comparison operators.
SELECT a, b, a = b AS eq, a <> b AS ne, a < b AS lt, a <= b AS le,
	a > b AS gt, a >= b AS ge, tfn_cmp(a, b) AS cmp
FROM (VALUES
	('8005551212'::tfn, '8005551212'::tfn),
	('8005551212', '8005551213'),
	('8885551212', '8005551212'),
	('8002000000', '8009999999')
) v(a, b);
SELECT '8005551212'::tfn = NULL AS null_compare;

-- Different written forms of one number collapse in DISTINCT and GROUP BY.
CREATE TEMP TABLE written (form text);
INSERT INTO written VALUES
	('1-800-FLOWERS'), ('800-356-9377'), ('+18003569377'), ('(800) FLOWERS'),
	('800-555-1212'), ('1 800 555 1212'), ('833-BURGERS');
SELECT DISTINCT form::tfn AS number FROM written ORDER BY 1;
SELECT form::tfn AS number, count(*) FROM written GROUP BY 1 ORDER BY 1;
SELECT min(form::tfn), max(form::tfn) FROM written;
SELECT tfn_npa(form::tfn) AS npa, count(*) FROM written GROUP BY 1 ORDER BY 1;

-- Sorting uses the numeric order of the ten digits.
SELECT form::tfn AS number FROM written ORDER BY 1 DESC;
