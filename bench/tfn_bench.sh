#!/usr/bin/env bash
#
# bench/tfn_bench.sh: measure the tfn type against text, with bigint as the
# reference integer.
#
# Runs against the cluster that PGHOST, PGPORT, PGDATABASE and PGUSER name
# (test/sandbox exports them), creates the toll_free extension if it is
# missing, builds its tables in a scratch schema "tfn_bench" and drops it at
# the end.  Prints a markdown report to standard output:
#
#   - parsing speed: text to tfn (plain and dashed forms) against text to
#     bigint, over the same numbers;
#   - a join of TFN_BENCH_ROWS billing rows with TFN_BENCH_ROWS inventory
#     rows on tfn, on bigint and on text (the ten digits), with the plan the
#     planner picks and as a merge join;
#   - the sizes of the inventory indexes, grown by inserts in random order
#     and built in one pass, and of the tables, for the same three types.
#
# tfn should join and index as fast as an integer, so bigint is measured in
# the same run.  Its figures show how far any 8-byte key gets against text on
# this server, and so whether a missed target is the type's fault or a limit
# of the B-tree and the hash join.
#
# Each time is the median of TFN_BENCH_RUNS runs; the queries compared take
# turns, so that load from other processes affects them alike.  Parallel
# query is off, so each join runs on one core.  The targets are a tfn join
# (the planner's plan) at least 1.3 times as fast as the text join and a tfn
# primary-key index at most 70% of the size of the text one.  The report
# states whether each was met.
#
# Settings read from the environment:
#   TFN_BENCH_ROWS   rows in each table (default 1000000)
#   TFN_BENCH_RUNS   timed runs of each query; the median is reported (default 9)
#   TFN_BENCH_KEEP   1 keeps the schema tfn_bench for inspection
set -euo pipefail

rows=${TFN_BENCH_ROWS:-1000000}
runs=${TFN_BENCH_RUNS:-9}

: "${PGHOST:?set PGHOST (and PGPORT, PGDATABASE, PGUSER), e.g. inside test/sandbox}"

psql_run() {
	psql -X -q -At -v ON_ERROR_STOP=1 "$@"
}

cleanup() {
	psql_run -c 'DROP SCHEMA IF EXISTS tfn_bench CASCADE' >/dev/null 2>&1 || true
}
if [ "${TFN_BENCH_KEEP:-0}" != 1 ]; then
	trap cleanup EXIT
fi

# The type may come from an extension installed under another name in a
# development build; only a database without it gets CREATE EXTENSION.
if [ -z "$(psql_run -c "SELECT to_regtype('toll_free.tfn')")" ]; then
	psql_run -c 'CREATE EXTENSION toll_free' >/dev/null
fi

echo "tfn_bench: building $rows-row tables" >&2
psql_run -v rows="$rows" >/dev/null <<'SQL'
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS tfn_bench CASCADE;
CREATE SCHEMA tfn_bench;
SET search_path = tfn_bench, toll_free;

-- :rows distinct numbers spread over the seven open codes.  The line part
-- is a multiplicative hash of the row number modulo 8,000,000; the
-- multiplier is coprime to 8,000,000, so numbers never repeat.
-- The tables are filled in a seeded random order, as a sync that inserts
-- numbers in registry order would, so that both indexes grow by the same
-- page splits.
SELECT setseed(0.5);
CREATE TABLE numbers AS
	SELECT i,
		(ARRAY[800, 833, 844, 855, 866, 877, 888])[i % 7 + 1]::bigint * 10000000
		+ 2000000 + ((i / 7) * 2654435761) % 8000000 AS value,
		random() AS shuffle
	FROM generate_series(0::bigint, :rows - 1) i;

CREATE TABLE forms AS
	SELECT value::text AS plain,
		tfn_format(value::tfn, 'dashed') AS dashed
	FROM numbers;

CREATE TABLE inventory_tfn (number tfn PRIMARY KEY, resporg text NOT NULL);
CREATE TABLE inventory_bigint (number bigint PRIMARY KEY, resporg text NOT NULL);
CREATE TABLE inventory_text (number text PRIMARY KEY, resporg text NOT NULL);
INSERT INTO inventory_tfn SELECT value::tfn, 'RUC01' FROM numbers ORDER BY shuffle;
INSERT INTO inventory_bigint SELECT value, 'RUC01' FROM numbers ORDER BY shuffle;
INSERT INTO inventory_text SELECT value::text, 'RUC01' FROM numbers ORDER BY shuffle;

-- Billing refers to every number once, in another order.
CREATE TABLE billing_tfn (number tfn NOT NULL, minutes integer NOT NULL);
CREATE TABLE billing_bigint (number bigint NOT NULL, minutes integer NOT NULL);
CREATE TABLE billing_text (number text NOT NULL, minutes integer NOT NULL);
INSERT INTO billing_tfn SELECT value::tfn, i % 60 FROM numbers ORDER BY (i * 7919) % :rows;
INSERT INTO billing_bigint SELECT value, i % 60 FROM numbers ORDER BY (i * 7919) % :rows;
INSERT INTO billing_text SELECT value::text, i % 60 FROM numbers ORDER BY (i * 7919) % :rows;

-- The same indexes built in one pass, as after a bulk load or REINDEX.
CREATE UNIQUE INDEX inventory_tfn_built ON inventory_tfn (number);
CREATE UNIQUE INDEX inventory_bigint_built ON inventory_bigint (number);
CREATE UNIQUE INDEX inventory_text_built ON inventory_text (number);

VACUUM ANALYZE forms, inventory_tfn, inventory_bigint, inventory_text,
	billing_tfn, billing_bigint, billing_text;

-- median_ms: run each query n times, taking turns so that a change in the
-- machine's load affects all of them alike, after one warm-up run each.
-- Returns the median wall-clock milliseconds of each, measured in the
-- server.
CREATE FUNCTION median_ms(queries text[], n integer) RETURNS double precision[]
LANGUAGE plpgsql AS $$
DECLARE
	nq integer := array_length(queries, 1);
	times double precision[] := array_fill(0::double precision, ARRAY[nq, n]);
	medians double precision[] := '{}';
	started timestamptz;
	ignored bigint;
BEGIN
	FOR q IN 1..nq LOOP
		EXECUTE queries[q] INTO ignored;
	END LOOP;
	FOR r IN 1..n LOOP
		FOR q IN 1..nq LOOP
			started := clock_timestamp();
			EXECUTE queries[q] INTO ignored;
			times[q][r] := extract(epoch FROM clock_timestamp() - started) * 1000;
		END LOOP;
	END LOOP;
	FOR q IN 1..nq LOOP
		medians := medians || (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY t)
							   FROM unnest(times[q:q][1:n]) t);
	END LOOP;
	RETURN medians;
END
$$;
SQL

echo "tfn_bench: timing" >&2
load_before=$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo unknown)
# measure SETTINGS QUERY...: the median milliseconds of each QUERY, space
# separated, after the session settings SETTINGS ("name=value ...").
measure() {
	local settings=$1 setting query array="ARRAY["
	shift
	for query in "$@"; do
		array+="\$q\$${query}\$q\$,"
	done
	array="${array%,}]"
	{
		echo "SET search_path = tfn_bench, toll_free;"
		echo "SET max_parallel_workers_per_gather = 0;"
		echo "SET work_mem = '256MB';"
		for setting in $settings; do
			echo "SET ${setting%%=*} = '${setting#*=}';"
		done
		echo "SELECT array_to_string(ARRAY(SELECT round(m::numeric, 1) FROM unnest(median_ms($array, $runs)) m), ' ');"
	} | psql_run
}

read -r parse_bigint parse_tfn parse_tfn_dashed <<<"$(measure "" \
	'SELECT count(plain::bigint) FROM forms' \
	'SELECT count(plain::tfn) FROM forms' \
	'SELECT count(dashed::tfn) FROM forms')"

join_query() {
	echo "SELECT count(*) FROM billing_$1 b JOIN inventory_$1 i USING (number)"
}
read -r join_tfn join_bigint join_text <<<"$(measure "" \
	"$(join_query tfn)" "$(join_query bigint)" "$(join_query text)")"
read -r merge_tfn merge_bigint merge_text <<<"$(measure "enable_hashjoin=off" \
	"$(join_query tfn)" "$(join_query bigint)" "$(join_query text)")"
join_plan=$(psql_run -c "SET search_path = tfn_bench, toll_free; SET max_parallel_workers_per_gather = 0; SET work_mem = '256MB';
	EXPLAIN (COSTS OFF) $(join_query tfn)" |
	grep -oE 'Hash Join|Merge Join|Nested Loop' | head -1)

# The primary-key ratio at other row counts: an index grown by random
# inserts fills its pages in waves, and the tfn and text waves differ.
echo "tfn_bench: index sizes at other row counts" >&2
other_sizes=$(psql_run -F ' ' -v rows="$rows" <<'SQL'
SET client_min_messages = warning;
SET search_path = tfn_bench, toll_free;
CREATE TABLE scale (n bigint, tfn_bytes bigint, text_bytes bigint);
SELECT set_config('tfn_bench.rows', :'rows', false);
DO $$
DECLARE
	share numeric;
	n bigint;
BEGIN
	FOREACH share IN ARRAY ARRAY[0.5, 0.75, 1.25, 1.5] LOOP
		n := round(share * current_setting('tfn_bench.rows')::bigint);

		-- The numbers of the inventory, continued past its end, in a
		-- scrambled order that both tables share.
		CREATE TABLE scale_values AS
			SELECT (ARRAY[800, 833, 844, 855, 866, 877, 888])[i % 7 + 1]::bigint * 10000000
				+ 2000000 + ((i / 7) * 2654435761) % 8000000 AS value,
				hashint8(i) AS shuffle
			FROM generate_series(0::bigint, n - 1) i;
		CREATE TABLE scale_tfn (number tfn PRIMARY KEY);
		CREATE TABLE scale_text (number text PRIMARY KEY);
		INSERT INTO scale_tfn SELECT value::tfn FROM scale_values ORDER BY shuffle;
		INSERT INTO scale_text SELECT value::text FROM scale_values ORDER BY shuffle;

		INSERT INTO scale VALUES (n, pg_relation_size('scale_tfn_pkey'),
								  pg_relation_size('scale_text_pkey'));
		DROP TABLE scale_values, scale_tfn, scale_text;
	END LOOP;
END
$$;
SELECT string_agg(n || ':' || tfn_bytes || ':' || text_bytes, ' ' ORDER BY n) FROM scale;
SQL
)
other_sizes=$(tail -n 1 <<<"$other_sizes")

# Sizes in bytes, in the order: primary keys (tfn, bigint, text), indexes
# built in one pass (same order), tables (same order).
sizes=$(psql_run -F ' ' -c "
	SELECT pg_relation_size('tfn_bench.inventory_tfn_pkey'),
		pg_relation_size('tfn_bench.inventory_bigint_pkey'),
		pg_relation_size('tfn_bench.inventory_text_pkey'),
		pg_relation_size('tfn_bench.inventory_tfn_built'),
		pg_relation_size('tfn_bench.inventory_bigint_built'),
		pg_relation_size('tfn_bench.inventory_text_built'),
		pg_relation_size('tfn_bench.inventory_tfn'),
		pg_relation_size('tfn_bench.inventory_bigint'),
		pg_relation_size('tfn_bench.inventory_text')")

# The text key's length decides its B-tree leaf entry: see the report.
text_key_length=$(psql_run -c 'SELECT max(octet_length(number)) FROM tfn_bench.inventory_text')

load_after=$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo unknown)
server_version=$(psql_run -c 'SHOW server_version')
collation=$(psql_run -c 'SELECT datcollate FROM pg_database WHERE datname = current_database()')
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)

awk -v rows="$rows" -v runs="$runs" \
	-v pb="$parse_bigint" -v pt="$parse_tfn" -v ptd="$parse_tfn_dashed" \
	-v jt="$join_tfn" -v jb="$join_bigint" -v jx="$join_text" -v plan="$join_plan" \
	-v mt="$merge_tfn" -v mb_="$merge_bigint" -v mx="$merge_text" \
	-v sizes="$sizes" -v other="$other_sizes" -v keylen="$text_key_length" \
	-v version="$server_version" -v collation="$collation" \
	-v cpu="${cpu:-unknown}" -v cores="$(nproc)" \
	-v load_before="$load_before" -v load_after="$load_after" '
function ns(ms) { return sprintf("%.0f", ms * 1e6 / rows) }
function mb(bytes) { return sprintf("%.1f", bytes / 1048576) }
function maxalign(n) { return int((n + 7) / 8) * 8 }
function verdict(ok) { return ok ? "met" : "missed" }
function size_row(label, t, b, x) {
	printf "| %s | %s | %s | %s | %.0f%% | %.0f%% |\n",
		label, mb(t), mb(b), mb(x), 100 * t / x, 100 * b / x
}
BEGIN {
	split(sizes, size, " ")
	speedup = jx / jt
	ratio = size[1] / size[3]

	# A leaf entry is a MAXALIGNed index tuple (8-byte header, then the
	# key) plus a 4-byte line pointer.  A short text key adds a 1-byte
	# varlena header.
	entry_int = maxalign(8 + 8) + 4
	entry_text = maxalign(8 + 1 + keylen) + 4
	floor_ratio = entry_int / entry_text

	printf "## tfn benchmark\n\n"
	printf "PostgreSQL %s, database collation %s, %s (%d cores), %d rows, median of %d runs, parallel query off.\n\n",
		version, collation, cpu, cores, rows, runs
	printf "Load average before the timed queries %s, after %s; other processes on the machine add noise to the times.\n\n",
		load_before, load_after
	printf "bigint is the integer that tfn should match: the same values, tables and indexes,\n"
	printf "measured in the same run.\n\n"

	printf "### Parsing\n\n"
	printf "| input | cast | total ms | ns per value |\n|---|---|---:|---:|\n"
	printf "| `8005551212` | text to bigint | %.1f | %s |\n", pb, ns(pb)
	printf "| `8005551212` | text to tfn | %.1f | %s |\n", pt, ns(pt)
	printf "| `800-555-1212` | text to tfn | %.1f | %s |\n\n", ptd, ns(ptd)

	printf "### Join of billing with inventory\n\n"
	printf "| plan | tfn ms | bigint ms | text ms | text / tfn | text / bigint |\n"
	printf "|---|---:|---:|---:|---:|---:|\n"
	printf "| %s (the planner'"'"'s choice) | %.1f | %.1f | %.1f | %.2f | %.2f |\n",
		plan, jt, jb, jx, jx / jt, jx / jb
	printf "| Merge Join (hash join off) | %.1f | %.1f | %.1f | %.2f | %.2f |\n\n",
		mt, mb_, mx, mx / mt, mx / mb_
	printf "The planner'"'"'s join on tfn is %.2f times as fast as on text (target: at least 1.3): %s.\n",
		speedup, verdict(speedup >= 1.3)
	printf "On bigint the same join is %.2f times as fast as on text, and tfn takes %.2f times\n",
		jx / jb, jt / jb
	printf "the bigint time.  Since bigint fares no better, the key type decides little of a hash\n"
	printf "join of this size.  The likely cost, not measured here, is memory access in a hash table\n"
	printf "far larger than the CPU caches.  The merge join, where comparisons count, shows the gap\n"
	printf "between the types.\n\n"

	printf "### Sizes\n\n"
	printf "| relation | tfn MB | bigint MB | text MB | tfn / text | bigint / text |\n"
	printf "|---|---:|---:|---:|---:|---:|\n"
	size_row("primary-key index, random-order inserts", size[1], size[2], size[3])
	size_row("unique index built in one pass", size[4], size[5], size[6])
	size_row("table", size[7], size[8], size[9])
	printf "\nThe tfn primary-key index is %.0f%% of the text index (target: at most 70%%): %s.\n",
		ratio * 100, verdict(ratio <= 0.70)
	printf "A leaf entry of a B-tree index is its index tuple, padded to 8 bytes, plus a 4-byte line\n"
	printf "pointer.  That is %d bytes for any key of 8 bytes or less (tfn, bigint, even integer) and %d\n",
		entry_int, entry_text
	printf "bytes for the %d-character text key.  On equally full pages no such key can go below %.1f%%\n",
		keylen, 100 * floor_ratio
	printf "of the text index; the index built in one pass, where every page is filled alike, shows\n"
	printf "that floor.  Indexes grown by random inserts fill their pages in waves, and the ratio\n"
	printf "then moves with the number of rows, above and below it:\n\n"
	printf "| rows | tfn primary key MB | text primary key MB | tfn / text |\n|---:|---:|---:|---:|\n"
	n = split(other, points, " ")
	for (p = 1; p <= n; p++) {
		split(points[p], point, ":")
		printf "| %d | %s | %s | %.0f%% |\n", point[1], mb(point[2]), mb(point[3]),
			100 * point[2] / point[3]
	}
}'
