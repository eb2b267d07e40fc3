#!/usr/bin/env bash
#
# bench/sync_bench.sh: time an inventory sync of a large RespOrg against a
# plain COPY of the same rows, and measure the worker's memory meanwhile.
#
# Usage: bench/sync_bench.sh [RUNS]
#
# Outside a sandbox it starts one (test/sandbox) whose simulator holds
# TOLL_FREE_SIM_NUMBERS numbers (default 2,500,000, so RUC01, which holds
# about 40% of them, has about a million).  In the sandbox it:
#
#   1. COPYs the RespOrg's rows, as the simulator's admin API lists them in
#      CSV, into an empty copy of toll_free.numbers with the same indexes;
#   2. syncs the same RespOrg into an empty toll_free.numbers with
#      tf_sync(), while sampling the worker's private memory (RssAnon);
#   3. syncs once more with nothing changed;
#
# each RUNS times (default 3), and prints the medians as a markdown table.
# Both sides include the download from the simulator.  Run it as root or as
# the server's account, so that /proc/PID/status of the worker is readable.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-3}

if [ -z "${TOLL_FREE_SANDBOX_DIR:-}" ]; then
	export TOLL_FREE_SIM_NUMBERS=${TOLL_FREE_SIM_NUMBERS:-2500000}
	exec "$top/test/sandbox" -- "$0" "$@"
fi

resporg=RUC01
export PGOPTIONS='-c search_path=toll_free,public'

psql_value() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"
}

now_ms() {
	date +%s%3N
}

# median N...: the middle value of the arguments.
median() {
	printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

# rss_kb PID: the private (anonymous) resident memory of a process in kB.
rss_kb() {
	awk '/^RssAnon:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}

psql_value "CREATE EXTENSION IF NOT EXISTS toll_free" >/dev/null
rows=$(curl -fsS "$TOLL_FREE_SIM_ADMIN_URL/inventory/$resporg" | tail -n +2 | wc -l)

# The COPY target: numbers' columns, indexes and fill factor, with defaults
# for the columns the CSV lacks.
psql_value "
DROP TABLE IF EXISTS public.bench_copy;
CREATE TABLE public.bench_copy (LIKE toll_free.numbers INCLUDING ALL) WITH (fillfactor = 90);
ALTER TABLE public.bench_copy
	ALTER resporg SET DEFAULT '$resporg',
	ALTER last_seen SET DEFAULT now(),
	ALTER source SET DEFAULT 'sync';" >/dev/null

copy_ms=()
sync_ms=()
again_ms=()
growth_kb=()

for run in $(seq 1 "$runs"); do
	# 1. COPY from the simulator's CSV.
	psql_value "TRUNCATE public.bench_copy; CHECKPOINT" >/dev/null
	start=$(now_ms)
	curl -fsS "$TOLL_FREE_SIM_ADMIN_URL/inventory/$resporg" |
		psql -X -q -v ON_ERROR_STOP=1 -c "\\copy public.bench_copy (number, status, status_date, reserved_until, disconnect_until, last_active) FROM STDIN WITH (FORMAT csv, HEADER)"
	copy_ms+=($(($(now_ms) - start)))

	# 2. A first sync into an empty inventory, sampling the worker's memory.
	psql_value "TRUNCATE toll_free.numbers, toll_free.number_history, toll_free.sync_runs; CHECKPOINT" >/dev/null
	worker=$(psql_value "SELECT pid FROM pg_stat_activity WHERE backend_type = 'toll_free worker'")
	base=$(rss_kb "$worker")
	peak=$base
	start=$(now_ms)
	psql_value "SELECT state FROM toll_free.tf_sync('$resporg', wait => true, timeout => '30 min')" >"$TOLL_FREE_SANDBOX_DIR/sync.out" &
	sync_pid=$!
	while kill -0 "$sync_pid" 2>/dev/null; do
		kb=$(rss_kb "$worker")
		[ "$kb" -gt "$peak" ] && peak=$kb
		sleep 0.1
	done
	wait "$sync_pid"
	sync_ms+=($(($(now_ms) - start)))
	growth_kb+=($((peak - base)))
	state=$(cat "$TOLL_FREE_SANDBOX_DIR/sync.out")
	if [ "$state" != done ]; then
		echo "sync run $run ended in state '$state'" >&2
		exit 1
	fi

	# 3. The same sync again: nothing changed.
	start=$(now_ms)
	psql_value "SELECT state FROM toll_free.tf_sync('$resporg', wait => true, timeout => '30 min')" >/dev/null
	again_ms+=($(($(now_ms) - start)))
done

synced=$(psql_value "SELECT count(*) FROM toll_free.numbers WHERE resporg = '$resporg'")
copied=$(psql_value "SELECT count(*) FROM public.bench_copy")
copy=$(median "${copy_ms[@]}")
sync=$(median "${sync_ms[@]}")
again=$(median "${again_ms[@]}")
growth=$(median "${growth_kb[@]}")

cat <<MD
### Inventory sync of $rows numbers ($resporg), median of $runs runs

| step | time | against COPY |
|---|---:|---:|
| COPY of the admin CSV into a copy of toll_free.numbers ($copied rows) | $((copy / 1000)).$(printf '%03d' $((copy % 1000))) s | 1.00x |
| first sync with tf_sync() into an empty toll_free.numbers ($synced rows) | $((sync / 1000)).$(printf '%03d' $((sync % 1000))) s | $(awk -v a="$sync" -v b="$copy" 'BEGIN {printf "%.2fx", a / b}') |
| second sync, nothing changed | $((again / 1000)).$(printf '%03d' $((again % 1000))) s | $(awk -v a="$again" -v b="$copy" 'BEGIN {printf "%.2fx", a / b}') |

Worker memory (RssAnon) grew by $(awk -v kb="$growth" 'BEGIN {printf "%.1f", kb / 1024}') MB during the first sync (median; sampled every 0.1 s).
Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo) RAM, PostgreSQL $(psql_value 'SHOW server_version').
MD

psql_value "DROP TABLE public.bench_copy" >/dev/null
