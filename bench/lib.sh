# bench/lib.sh: shell helpers shared by the benchmark scripts (sourced).
#
# The benchmark scripts run inside test/sandbox, so PGHOST, PGPORT,
# PGDATABASE, PGUSER and the TOLL_FREE_SIM_* variables are set.  Each script
# writes a markdown section to $BENCH_OUT/NAME.md and one line per figure to
# $BENCH_OUT/summary.tsv; bench/run assembles docs/benchmarks.md from them.

# Let a failing command inside $(...) stop the script, as set -e does elsewhere.
shopt -s inherit_errexit

bench_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian's interpreter, so that python3-psycopg2 from apt is importable even
# when another python3 comes first in PATH.
BENCH_PYTHON=${BENCH_PYTHON:-/usr/bin/python3}

note() {
	echo "bench: $*" >&2
}

die() {
	echo "bench: $*" >&2
	exit 1
}

# psql_at ARGS...: psql with unaligned, tuples-only output that stops at the
# first error.
psql_at() {
	psql -X -q -At -v ON_ERROR_STOP=1 "$@"
}

# now_s: seconds since the epoch with nanoseconds.
now_s() {
	date +%s.%N
}

# elapsed START: seconds since START (from now_s), three decimals.
elapsed() {
	awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.3f", b - a }'
}

# stats VALUE...: print "median min max" of the values.
stats() {
	printf '%s\n' "$@" | sort -g | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "nan nan nan"; exit }
			if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%g %g %g\n", m, v[1], v[NR]
		}'
}

# calc EXPRESSION: evaluate an awk arithmetic expression.
calc() {
	awk "BEGIN { print $1 }"
}

# fmt DIGITS VALUE: VALUE rounded to DIGITS decimals.
fmt() {
	awk -v d="$1" -v v="$2" 'BEGIN { printf "%.*f", d, v }'
}

# summary FIGURE VALUE BASELINE RATIO TARGET VERDICT: one line of the summary
# table.  Fields must not contain tabs.
summary() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$BENCH_OUT/summary.tsv"
}

# verdict CONDITION: "met" when the awk condition holds, else "missed".
verdict() {
	if awk "BEGIN { exit !($1) }"; then echo met; else echo missed; fi
}

# sim_admin METHOD PATH: call the simulator's admin API (loopback only).
sim_admin() {
	curl -fsS -X "$1" "$TOLL_FREE_SIM_ADMIN_URL$2"
}

# sim_last_seq: the sequence number of the newest logged API request.
sim_last_seq() {
	sim_admin GET "/requests" | awk -F'\t' 'END { print $1 + 0 }'
}

# ensure_extension: CREATE EXTENSION toll_free in the sandbox database and
# wait until the worker is connected to it (at most 30 s).
ensure_extension() {
	psql_at -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION IF NOT EXISTS toll_free' >/dev/null
	for _ in $(seq 1 60); do
		if [ -n "$(worker_pid)" ]; then
			return 0
		fi
		sleep 0.5
	done
	note "the toll_free worker did not start within 30 s"
	return 1
}

# worker_pid: the pid of the toll_free worker, empty when it is not running.
worker_pid() {
	psql_at -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'toll_free worker'" 2>/dev/null | head -1
}

# proc_kb PID FIELD: a field of /proc/PID/status in kB (VmRSS, VmHWM, RssAnon).
proc_kb() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}
