--
-- tfn_index: indexes, join plans, aggregation and COPY with tfn columns
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS toll_free;
RESET client_min_messages;
SET search_path = toll_free, public;

-- 20,000 numbers in 800 and 20,000 in 888; billing refers to every third.
CREATE TABLE tfn_inventory (number tfn PRIMARY KEY, resporg text NOT NULL);
INSERT INTO tfn_inventory
	SELECT (npa * 10000000::bigint + 2000000 + i)::tfn, 'RUC01'
	FROM generate_series(0, 19999) i, (VALUES (800), (888)) v(npa);
CREATE TABLE tfn_billing (number tfn NOT NULL, minutes integer NOT NULL);
INSERT INTO tfn_billing
	SELECT number, 1 FROM tfn_inventory WHERE number::bigint % 3 = 0;
VACUUM ANALYZE tfn_inventory, tfn_billing;

-- The default operator classes are the tfn ones.
SELECT am.amname, opc.opcname, opc.opcdefault
FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod
WHERE opc.opcintype = 'tfn'::regtype
ORDER BY 1;

-- B-tree: equality and range scans use the primary key.
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT * FROM tfn_inventory WHERE number = '1-800-200-0042';
SELECT * FROM tfn_inventory WHERE number = '1-800-200-0042';
EXPLAIN (COSTS OFF)
SELECT count(*) FROM tfn_inventory WHERE number BETWEEN '8882000000' AND '8882000099';
SELECT count(*) FROM tfn_inventory WHERE number BETWEEN '8882000000' AND '8882000099';
EXPLAIN (COSTS OFF)
SELECT min(number), max(number) FROM tfn_inventory;
SELECT min(number), max(number) FROM tfn_inventory;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- The B-tree index deduplicates equal keys (btequalimage).
SELECT opf.opfname, p.amproc::regproc
FROM pg_amproc p JOIN pg_opfamily opf ON opf.oid = p.amprocfamily
WHERE opf.opfmethod = (SELECT oid FROM pg_am WHERE amname = 'btree')
  AND p.amproclefttype = 'tfn'::regtype AND p.amprocnum = 4;

-- The 64-bit hash with seed 0 has the 32-bit hash in its low half, as the
-- hash operator class requires.
SELECT count(*) AS numbers,
	count(*) FILTER (WHERE tfn_hash(number)::bigint & 4294967295
					 <> tfn_hash_extended(number, 0) & 4294967295) AS mismatches,
	count(DISTINCT tfn_hash_extended(number, 42)) = count(*) AS seed_42_distinct
FROM tfn_inventory;

-- Hash index.
CREATE INDEX tfn_billing_number_hash ON tfn_billing USING hash (number);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT * FROM tfn_billing WHERE number = '8882000001';
SELECT * FROM tfn_billing WHERE number = '8882000001';
RESET enable_seqscan;
RESET enable_bitmapscan;

-- Hash join.
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM tfn_billing b JOIN tfn_inventory i USING (number);
SELECT count(*) FROM tfn_billing b JOIN tfn_inventory i USING (number);
RESET enable_mergejoin;
RESET enable_nestloop;

-- Merge join.
SET enable_hashjoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM tfn_billing b JOIN tfn_inventory i USING (number);
SELECT count(*) FROM tfn_billing b JOIN tfn_inventory i USING (number);
RESET enable_hashjoin;
RESET enable_nestloop;

-- DISTINCT and GROUP BY, hashed and sorted.
SET enable_hashagg = on;
EXPLAIN (COSTS OFF)
SELECT tfn_npa(number), count(DISTINCT number) FROM tfn_inventory GROUP BY 1;
EXPLAIN (COSTS OFF)
SELECT number, count(*) FROM (SELECT number FROM tfn_billing UNION ALL SELECT number FROM tfn_billing) u
GROUP BY number;
SELECT count(*) AS groups, min(c), max(c) FROM (
	SELECT number, count(*) AS c
	FROM (SELECT number FROM tfn_billing UNION ALL SELECT number FROM tfn_billing) u
	GROUP BY number) g;
SET enable_hashagg = off;
EXPLAIN (COSTS OFF)
SELECT number, count(*) FROM (SELECT number FROM tfn_billing UNION ALL SELECT number FROM tfn_billing) u
GROUP BY number;
SELECT count(*) AS groups, min(c), max(c) FROM (
	SELECT number, count(*) AS c
	FROM (SELECT number FROM tfn_billing UNION ALL SELECT number FROM tfn_billing) u
	GROUP BY number) g;
RESET enable_hashagg;
SELECT count(DISTINCT number) FROM (SELECT number FROM tfn_billing UNION ALL SELECT number FROM tfn_billing) u;

-- A unique index rejects the same number written another way.
INSERT INTO tfn_inventory VALUES ('1-800-200-0042', 'RUC02');

-- COPY in text format: every written form on input, ten digits on output.
CREATE TABLE tfn_copy (number tfn, note text);
COPY tfn_copy FROM stdin;
1-800-FLOWERS	vanity
(888) 200-0000	parenthesized
+18332000001	e164
\.
COPY tfn_copy TO stdout;
COPY tfn_copy FROM stdin;
800-555-1212 x22	extension
\.
COPY tfn_copy FROM stdin;
8225551212	not open
\.

-- COPY in binary format: a round trip through a file that psql writes and
-- the server reads.
\getenv abs_builddir PG_ABS_BUILDDIR
\set copy_file :abs_builddir '/tfn_copy.bin'
COPY tfn_copy TO STDOUT WITH (FORMAT binary) \g :copy_file
CREATE TABLE tfn_copy_back (LIKE tfn_copy);
COPY tfn_copy_back FROM :'copy_file' WITH (FORMAT binary);
(SELECT * FROM tfn_copy EXCEPT SELECT * FROM tfn_copy_back)
UNION ALL
(SELECT * FROM tfn_copy_back EXCEPT SELECT * FROM tfn_copy);
SELECT count(*) AS copied_back FROM tfn_copy_back;

-- Binary input is checked like text input.  A tfn has the binary form of a
-- bigint, so bigint files stand in for damaged or hostile input.
\set bad_file :abs_builddir '/tfn_bad.bin'
COPY (SELECT 1234::bigint, 'short'::text) TO STDOUT WITH (FORMAT binary) \g :bad_file
COPY tfn_copy_back FROM :'bad_file' WITH (FORMAT binary);
COPY (SELECT 8225551212::bigint, 'not open'::text) TO STDOUT WITH (FORMAT binary) \g :bad_file
COPY tfn_copy_back FROM :'bad_file' WITH (FORMAT binary);
COPY (SELECT 8000551212::bigint, 'exchange 055'::text) TO STDOUT WITH (FORMAT binary) \g :bad_file
COPY tfn_copy_back FROM :'bad_file' WITH (FORMAT binary);
COPY (SELECT 8885551212::bigint, 'valid'::text) TO STDOUT WITH (FORMAT binary) \g :bad_file
COPY tfn_copy_back FROM :'bad_file' WITH (FORMAT binary);
SELECT * FROM tfn_copy_back WHERE note = 'valid';

DROP TABLE tfn_inventory, tfn_billing, tfn_copy, tfn_copy_back;
