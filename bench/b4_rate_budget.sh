#!/usr/bin/env bash
#
# bench/b4_rate_budget.sh: B4, the request budget.  The simulator limits
# RespOrg RUC01 to R requests per minute (tfsim --rate-limit R, a fixed
# one-minute window) and the cluster's toll_free.rate_limit is set to a
# budget B.  A burst of queued reserves (tf_enqueue, one number each,
# committed in one transaction) must drain at no less than 95% of R, and the
# simulator's request log must show no request rejected with 429.
#
# Two passes run in the same sandbox: B = R, then B = R x 60 / 61, the
# budget below R at which the client's token bucket (one second of burst on
# top of B per minute) cannot exceed R in any one-minute window.  Before
# each pass the simulator is reset (rate window, reservations, sessions).
#
# Usage: bench/b4_rate_budget.sh R BURST (inside test/sandbox started with
# TOLL_FREE_SIM_OPTIONS="--rate-limit R --res-limit ..."; BENCH_OUT)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

limit=${1:?usage: b4_rate_budget.sh R BURST}
burst=${2:?usage: b4_rate_budget.sh R BURST}

ensure_extension

# run_pass PASS BUDGET: enqueue the burst, wait until it drained, and print
# "budget done not_done rate_per_min count_429 resent seconds sent".
run_pass() {
	local pass=$1 budget=$2 base start_seq deadline finished seconds rate n429 done_count failed resent

	psql_at -c "ALTER SYSTEM SET toll_free.rate_limit = $budget" -c 'SELECT pg_reload_conf()' >/dev/null
	sim_admin POST /reset >/dev/null
	sleep 1
	start_seq=$(sim_last_seq)

	# Numbers in 877-3xx-xxxx (step 7), a different block in each pass.  Nearly
	# all are SPARE, and a seeded one answers 801124 (not spare).
	base=$((8773000000 + pass * 100000))
	note "B4: enqueueing $burst reserves with toll_free.rate_limit = $budget"
	psql_at <<SQL >/dev/null
SET client_min_messages = warning;
BEGIN;
CREATE TEMP TABLE b4_ids AS
SELECT toll_free.tf_enqueue('reserve', toll_free.tfn($base + i * 7),
	'{"contact_name": "Bench User", "contact_phone": "7325550100"}') AS id
FROM generate_series(0, $burst - 1) i;
CREATE TABLE IF NOT EXISTS public.b4_pass (budget int, first_id bigint, last_id bigint);
INSERT INTO public.b4_pass SELECT $budget, min(id), max(id) FROM b4_ids;
COMMIT;
SQL

	# Wait for the drain: at least burst / R minutes, bounded at three times
	# that plus two minutes.
	deadline=$(($(date +%s) + burst * 60 * 3 / limit + 120))
	while :; do
		finished=$(psql_at -c "SELECT count(*) FROM toll_free.requests r, public.b4_pass p
			WHERE p.budget = $budget AND r.id BETWEEN p.first_id AND p.last_id AND r.finished_at IS NOT NULL")
		[ "$finished" -lt "$burst" ] || break
		[ "$(date +%s)" -lt "$deadline" ] || { note "B4: only $finished of $burst finished before the deadline"; break; }
		sleep 2
	done

	read -r seconds done_count failed resent <<<"$(psql_at -F ' ' -c "
		SELECT extract(epoch FROM max(r.finished_at) - min(r.started_at)),
			count(*) FILTER (WHERE r.state = 'done'),
			count(*) FILTER (WHERE r.state <> 'done'),
			count(*) FILTER (WHERE r.attempts > 1)
		FROM toll_free.requests r, public.b4_pass p
		WHERE p.budget = $budget AND r.id BETWEEN p.first_id AND p.last_id")"
	sim_admin GET "/requests?since=$start_seq&path=/num/tfn/reserve" >"$BENCH_OUT/b4-log-$budget"
	sent=$(wc -l <"$BENCH_OUT/b4-log-$budget")

	# Numbers the simulator received more than once, with the status of each
	# answer: a 429 followed by a retry, or a reserve sent twice.
	awk -F'\t' '{
		if (match($7, /<num>[0-9]+<\/num>/)) {
			n = substr($7, RSTART + 5, 10); count[n]++; answers[n] = answers[n] " " $5
		}
	} END { for (n in count) if (count[n] > 1) print n ":" answers[n] }' \
		"$BENCH_OUT/b4-log-$budget" >"$BENCH_OUT/b4-repeated-$budget"
	n429=$(sim_admin GET "/requests?since=$start_seq" | awk -F'\t' '$5 == 429 { n++ } END { print n + 0 }')
	rate=$(calc "($sent - $n429) / $seconds * 60")
	psql_at -F ' ' -c "SELECT count(*), r.state, coalesce(r.registry_code, r.sqlstate), r.error
		FROM toll_free.requests r, public.b4_pass p
		WHERE p.budget = $budget AND r.id BETWEEN p.first_id AND p.last_id AND r.state <> 'done'
		GROUP BY 2, 3, 4" >"$BENCH_OUT/b4-not-done-$budget"
	echo "$budget $done_count $failed $rate $n429 $resent $seconds $sent"
}

results=()
pass=0
for budget in "$limit" "$(calc "int($limit * 60 / 61)")"; do
	pass=$((pass + 1))
	results+=("$(run_pass "$pass" "$budget")")
	note "B4 pass: ${results[-1]}"
done

{
	echo "## B4: request budget"
	echo
	echo "The simulator allows RUC01 $limit requests per minute (fixed one-minute window) and answers"
	echo "429 beyond that.  A burst of $burst queued reserves (tf_enqueue, one number each, committed"
	echo "in one transaction) drains through the worker (toll_free.queue_max_in_flight ="
	echo "$(psql_at -c 'SHOW toll_free.queue_max_in_flight')).  Rate = registry requests answered other than 429 per minute"
	echo "between the first start and the last finish.  One run per budget.  \"resent\" counts queued"
	echo "requests the worker attempted more than once; the client's own retry after a 429 or 401"
	echo "answer (the registry did nothing) shows among the numbers received more than once."
	echo
	echo "| toll_free.rate_limit | rate (requests/min) | share of R | 429 answers | requests sent | done | not done | resent | seconds |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for line in "${results[@]}"; do
		read -r budget done_count failed rate n429 resent seconds sent <<<"$line"
		echo "| $budget | $(fmt 0 "$rate") | $(fmt 1 "$(calc "$rate / $limit * 100")")% | $n429 | $sent | $done_count | $failed | $resent | $(fmt 1 "$seconds") |"
	done
	echo
	for line in "${results[@]}"; do
		read -r budget _ <<<"$line"
		if [ -s "$BENCH_OUT/b4-repeated-$budget" ]; then
			echo "Numbers the simulator received more than once with budget $budget (number: HTTP status of each answer):"
			echo
			sed 's/^/    /' "$BENCH_OUT/b4-repeated-$budget"
			echo
		fi
		if [ -s "$BENCH_OUT/b4-not-done-$budget" ]; then
			echo "Requests not done with budget $budget (count, state, code, error):"
			echo
			sed 's/^/    /' "$BENCH_OUT/b4-not-done-$budget"
			echo
		fi
	done
	for line in "${results[@]}"; do
		read -r budget done_count failed rate n429 resent seconds sent <<<"$line"
		share=$(calc "$rate / $limit")
		v_rate=$(verdict "$share >= 0.95")
		v_429=$(verdict "$n429 == 0")
		echo "- Budget $budget: $(fmt 1 "$(calc "$share * 100")")% of R (target: at least 95%): **$v_rate**$(
			[ "$v_rate" = met ] || printf ', short by %s points' "$(fmt 1 "$(calc "(0.95 - $share) * 100")")");"
		echo "  429 answers: $n429 (target: none): **$v_429**."
		summary "B4 queue drain, rate_limit $budget, R = $limit/min" "$(fmt 0 "$rate")/min, $n429 x 429" "R = $limit/min" \
			"$(fmt 1 "$(calc "$share * 100")")% of R" "at least 95%, no 429" \
			"$(if [ "$v_rate" = met ] && [ "$v_429" = met ]; then echo met; else echo missed; fi)"
	done
	echo
} >"$BENCH_OUT/b4.md"
