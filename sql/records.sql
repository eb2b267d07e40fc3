--
-- records: argument and document checks of the customer record functions
-- that reject a call before any registry request is sent, plus their
-- privileges and function properties.  The calls against the simulator are
-- in test/t/40*_records_*.pl.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS toll_free;
RESET client_min_messages;
SET search_path = toll_free, public;

-- Effective date/times of a lookup: quarter hours only, finite.
SELECT tf_retrieve('8005560001', '2030-01-01 10:07:00+00');
SELECT tf_retrieve('8005560001', '2030-01-01 10:00:30+00');
SELECT tf_retrieve('8005560001', 'infinity');
SELECT tf_retrieve_template('*RUSALES', '2030-01-01 10:00:00.5+00');

-- NULL numbers and names give NULL (nothing is sent).
SELECT tf_retrieve(NULL) IS NULL AS null_number;
SELECT tf_retrieve_template(NULL) IS NULL AS null_template;
SELECT count(*) AS no_rows FROM tf_query_records(NULL);

-- Template names: '*', a two-character entity and 1 to 12 more characters.
SELECT tf_retrieve_template('RUSALES');
SELECT tf_retrieve_template('*RU');
SELECT tf_retrieve_template('*RU/../x');
SELECT tf_retrieve_template('*RUABCDEFGHIJKLM');
SELECT tf_retrieve_template('*-USALES');

-- Copy: missing arguments.
SELECT tf_copy_record(NULL, '8005560014');
SELECT tf_copy_record('*RUSALES', NULL);
SELECT tf_copy_record('*RUSALES', '8005560014', parts => NULL);
SELECT tf_copy_record('*RUSALES', '8005560014', pointer => NULL);

-- Copy: a source that is neither a number nor a template name.  The tfn
-- type raises that error; its detail belongs to sql/tfn.sql.
\set VERBOSITY terse
SELECT tf_copy_record('not a number', '8005560014');
\set VERBOSITY default
SELECT tf_copy_record('*X', '8005560014');

-- Copy: parts.
SELECT tf_copy_record('*RUSALES', '8005560014', parts => 'CAD, XYZ');
SELECT tf_copy_record('*RUSALES', '8005560014', parts => 'CAD, cad');
SELECT tf_copy_record('*RUSALES', '8005560014', parts => ' , ');
SELECT tf_copy_record('*RUSALES', '8005560014', parts => '');

-- Copy: target times must be future quarter hours at most six months ahead;
-- the source time only a quarter hour.
SELECT tf_copy_record('*RUSALES', '8005560014',
	target_effective => '2001-01-01 00:00+00');
SELECT tf_copy_record('*RUSALES', '8005560014',
	target_effective => '2999-01-01 00:00+00');
SELECT tf_copy_record('*RUSALES', '8005560014',
	target_effective => '2999-01-01 00:05+00');
SELECT tf_copy_record('*RUSALES', '8005560014',
	source_effective => '2001-01-01 00:01+00');

-- Update: missing arguments.
SELECT tf_update_record('8005560015', NULL);
SELECT tf_update_record(NULL, '<custRec/>');
SELECT tf_update_record('8005560015', '<custRec/>', submit => NULL);

-- Update: the document must be a custRec of the same number with a valid
-- effective date/time.
SELECT tf_update_record('8005560015', '<recCopy/>');
SELECT tf_update_record('8005560015', '<custRec><effDtTm>NOW</effDtTm></custRec>');
SELECT tf_update_record('8005560015',
	'<custRec><tmplName>*RUSALES</tmplName><effDtTm>NOW</effDtTm></custRec>');
SELECT tf_update_record('8005560015',
	'<custRec><num>8005550001</num><effDtTm>NOW</effDtTm></custRec>');
SELECT tf_update_record('8005560015', '<custRec><num>800-556-0015</num></custRec>');
SELECT tf_update_record('8005560015',
	'<custRec><num>8005560015</num><effDtTm>2030-01-01T10:07:00Z</effDtTm></custRec>');
SELECT tf_update_record('8005560015',
	'<custRec><num>8005560015</num><effDtTm>2001-01-01T00:00:00Z</effDtTm></custRec>');
SELECT tf_update_record('8005560015',
	'<custRec><num>8005560015</num><effDtTm>2999-01-01T00:00:00Z</effDtTm></custRec>');
SELECT tf_update_record('8005560015',
	'<custRec><num>8005560015</num><effDtTm>tomorrow</effDtTm></custRec>');
SELECT tf_update_record('8005560015',
	'<custRec><num>8005560015</num><effDtTm>2030-02-30T00:00:00Z</effDtTm></custRec>');

-- Update: hostile or broken documents are rejected by the parser.  The xml
-- type itself accepts a DTD, so the record parser must reject it.
SELECT tf_update_record('8005560015',
	'<!DOCTYPE custRec [<!ENTITY x SYSTEM "file:///etc/passwd">]><custRec><num>&x;</num></custRec>');
SELECT tf_update_record('8005560015',
	('<custRec><num>8005560015</num><effDtTm>NOW</effDtTm>'
	 || repeat('<a>', 40) || repeat('</a>', 40) || '</custRec>')::xml);
SELECT tf_update_record('8005560015', 'plain text'::xml);

-- Privileges: readers query and retrieve, operators copy and update.
SELECT p.proname,
	has_function_privilege('toll_free_reader', p.oid, 'EXECUTE') AS reader,
	has_function_privilege('toll_free_operator', p.oid, 'EXECUTE') AS operator,
	has_function_privilege('public', p.oid, 'EXECUTE') AS public
FROM pg_proc p
WHERE p.pronamespace = 'toll_free'::regnamespace
	AND p.proname IN ('tf_query_records', 'tf_retrieve', 'tf_retrieve_template',
					  'tf_copy_record', 'tf_update_record')
ORDER BY p.proname;

SELECT has_table_privilege('toll_free_reader', 'toll_free.records', 'SELECT') AS reader_select,
	has_table_privilege('toll_free_reader', 'toll_free.records', 'INSERT') AS reader_insert,
	has_table_privilege('public', 'toll_free.records', 'SELECT') AS public_select;

-- Every record function is VOLATILE, PARALLEL UNSAFE and pins search_path.
SELECT p.proname, p.provolatile, p.proparallel, p.proconfig
FROM pg_proc p
WHERE p.pronamespace = 'toll_free'::regnamespace
	AND p.proname IN ('tf_query_records', 'tf_retrieve', 'tf_retrieve_template',
					  'tf_copy_record', 'tf_update_record')
ORDER BY p.proname;
