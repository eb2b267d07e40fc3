-- Part 1 of the tour: the tfn type.
--
-- Billing exports and CRMs write the same number many ways; tfn reads them
-- all into one 8-byte value that sorts, indexes and joins like an integer.
\echo '== 1. The tfn type: one value for every way a toll-free number is written'

SELECT written, written::toll_free.tfn AS tfn,
	   toll_free.tfn_format(written::toll_free.tfn, 'dashed') AS dashed,
	   toll_free.tfn_format(written::toll_free.tfn, 'e164') AS e164
FROM (VALUES ('18005551212'), ('+1 (800) 555-1212'), ('800.555.1212'),
			 ('1-800-FLOWERS'), ('1-888-4MY-HOME'), ('833 BURGERS')) AS t(written);

\echo 'Input that is not a toll-free number is rejected with SQLSTATE 22P02:'
\set ON_ERROR_STOP 0
SELECT '800-555-1212 ext. 22'::toll_free.tfn;
SELECT '+1 1 800 555 1212'::toll_free.tfn;
\set ON_ERROR_STOP 1
