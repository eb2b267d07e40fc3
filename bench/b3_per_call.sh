#!/usr/bin/env bash
#
# bench/b3_per_call.sh: B3, the cost of one registry call.  10,000
# sequential tf_query(tfn) calls in a DO loop on one session, against
# bench/baseline/query_loop (C, libcurl) sending the same GET requests on one
# keep-alive TLS connection.  No latency fault: faults are cleared first.
#
# Both clocks start after the registry session is open: the extension's
# loop follows a warm-up call in the same session, the C program times its
# loop after its session open.
#
# Usage: bench/b3_per_call.sh (inside test/sandbox; BENCH_OUT, BENCH_B3_RUNS,
# BENCH_QUERY_LOOP = the built query_loop program)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

runs=${BENCH_B3_RUNS:-3}
count=10000
numbers_file="$TOLL_FREE_SANDBOX_DIR/b3-numbers"
query_loop=${BENCH_QUERY_LOOP:?set BENCH_QUERY_LOOP to the built bench/baseline/query_loop}

ensure_extension
sim_admin DELETE /faults >/dev/null
seq 0 $((count - 1)) | awk '{ printf "%.0f\n", 8002000000 + $1 * 37 }' >"$numbers_file"

ext_times=()
c_times=()
for ((run = 1; run <= runs; run++)); do
	note "B3 run $run of $runs: $count tf_query(tfn) calls"
	out=$(psql -X -q -v ON_ERROR_STOP=1 2>&1 <<SQL
SELECT status FROM toll_free.tf_query('8005560001'::toll_free.tfn) \\g /dev/null
DO \$\$
DECLARE
	started timestamptz := clock_timestamp();
BEGIN
	FOR i IN 0..$((count - 1)) LOOP
		PERFORM toll_free.tf_query(toll_free.tfn(8002000000 + i * 37));
	END LOOP;
	RAISE NOTICE 'seconds=%', extract(epoch FROM clock_timestamp() - started);
END
\$\$;
SQL
	)
	seconds=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$out")
	[ -n "$seconds" ] || die "B3: the DO loop failed: $out"
	ext_times+=("$seconds")

	note "B3 run $run of $runs: C program with libcurl"
	sim_admin POST /sessions/expire >/dev/null
	out=$("$query_loop" "$TOLL_FREE_SIM_URL" "$TOLL_FREE_SIM_CA" "$TOLL_FREE_SIM_USERS" "$numbers_file")
	sim_admin POST /sessions/expire >/dev/null
	c_times+=("$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$out")")
done

read -r ext_med ext_min ext_max <<<"$(stats "${ext_times[@]}")"
read -r c_med c_min c_max <<<"$(stats "${c_times[@]}")"
ratio=$(calc "$ext_med / $c_med")
v_ratio=$(verdict "$ratio <= 1.3")
us() { fmt 0 "$(calc "$1 * 1000000 / $count")"; }

summary "B3 $count sequential tf_query(tfn) calls" "$(fmt 2 "$ext_med") s ($(us "$ext_med") us a call)" \
	"C/libcurl $(fmt 2 "$c_med") s ($(us "$c_med") us)" "$(fmt 2 "$ratio")x the C time" "at most 1.3x" "$v_ratio"

{
	echo "## B3: per-call cost"
	echo
	echo "$count sequential single-number queries (GET /num/tfn/query/tfn/{num}) over TLS, no added"
	echo "latency; $runs runs each, median (min-max)."
	echo
	echo "| method | seconds | microseconds a call | ratio |"
	echo "|---|---:|---:|---:|"
	echo "| \`tf_query(tfn)\` in a DO loop, one session | $(fmt 2 "$ext_med") ($(fmt 2 "$ext_min")-$(fmt 2 "$ext_max")) | $(us "$ext_med") | $(fmt 2 "$ratio") |"
	echo "| C program, libcurl, one keep-alive connection | $(fmt 2 "$c_med") ($(fmt 2 "$c_min")-$(fmt 2 "$c_max")) | $(us "$c_med") | 1.00 |"
	echo
	echo "- tf_query against the C program: $(fmt 2 "$ratio") times its time (target: at most 1.3): **$v_ratio**$(
		[ "$v_ratio" = met ] || printf ', over by %s%%' "$(fmt 0 "$(calc "($ratio / 1.3 - 1) * 100")")")."
	echo "- toll_free.rate_limit is $(psql_at -c 'SHOW toll_free.rate_limit') requests per minute here (bench/run raises it), because the"
	echo "  default of 3000 a minute alone holds the client to 50 requests a second, 20 ms a request."
	echo "- Each tf_query call also parses the answer, writes its toll_free.requests row and, for a"
	echo "  number held by the session's RespOrgs, writes it through to toll_free.numbers; the C"
	echo "  program only counts the bytes."
	echo
} >"$BENCH_OUT/b3.md"
