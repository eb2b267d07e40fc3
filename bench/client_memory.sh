#!/usr/bin/env bash
#
# bench/client_memory.sh: backend memory over 50,000 tf_query calls in one
# DO block on one session, with the backend's memory read from
# /proc/<pid>/status before and after (after a warm-up of 1,000 calls).
# Prints a markdown table; exits 1 when private memory (RssAnon + RssFile)
# grew by 20 MB or more.  RssShmem is shown but not bounded: it counts the
# shared buffers the backend touched while inserting toll_free.requests rows.
#
# Usage: test/sandbox -- bench/client_memory.sh   (as root or the server's
# account, since it reads the backend's /proc entry); CALLS overrides 50000.
set -euo pipefail

calls=${CALLS:-50000}

psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION IF NOT EXISTS toll_free'
psql -X -q -v ON_ERROR_STOP=1 -c 'ALTER SYSTEM SET toll_free.rate_limit = 1000000' -c 'SELECT pg_reload_conf()' >/dev/null
trap "psql -X -q -c 'ALTER SYSTEM RESET toll_free.rate_limit' -c 'SELECT pg_reload_conf()' >/dev/null" EXIT
sleep 1

start=$(date +%s.%N)
out=$(psql -X -q -At -v ON_ERROR_STOP=1 <<SQL
SELECT pg_backend_pid() AS pid \gset
\setenv BPID :pid
DO \$\$BEGIN FOR i IN 1..1000 LOOP PERFORM toll_free.tf_query('8005551212'); END LOOP; END\$\$;
\! grep -E '^(VmRSS|RssAnon|RssFile|RssShmem):' /proc/\$BPID/status | tr -s ' \t' ' '
DO \$\$BEGIN FOR i IN 1..$calls LOOP PERFORM toll_free.tf_query('8005551212'); END LOOP; END\$\$;
\! grep -E '^(VmRSS|RssAnon|RssFile|RssShmem):' /proc/\$BPID/status | tr -s ' \t' ' '
SQL
)
end=$(date +%s.%N)

echo "| $calls tf_query calls | before (kB) | after (kB) |"
echo "|---|---:|---:|"
for field in VmRSS RssAnon RssFile RssShmem; do
	mapfile -t values < <(echo "$out" | awk -v f="$field:" '$1 == f { print $2 }')
	echo "| $field | ${values[0]} | ${values[1]} |"
done
echo
awk -v s="$start" -v e="$end" -v n="$calls" 'BEGIN { printf "%d calls in %.1f s (%.2f ms per call, warm-up included)\n", n, e - s, (e - s) * 1000 / (n + 1000) }'

growth=$(echo "$out" | awk '$1 == "RssAnon:" || $1 == "RssFile:" { v[n++] = $2 } END { print (v[2] + v[3]) - (v[0] + v[1]) }')
echo "private memory growth: $growth kB"
[ "$growth" -lt $((20 * 1024)) ]
