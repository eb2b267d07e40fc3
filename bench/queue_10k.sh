#!/usr/bin/env bash
#
# bench/queue_10k.sh: the request queue's fault run at full size.
#
# Runs test/t/520_queue_faults.pl with 10,000 queued reserves in a sandbox
# of its own.  10% of the reserves meet an injected fault: half are reset
# after the registry carried them out, half get a 503 without effect.  The
# worker is killed with kill -9 three times and the server is shut down
# once in immediate mode.  The test passes
# when every request ends done or failed with a reason, none is lost, and
# the simulator's request log shows no reserve carried out twice.
# toll_free.rate_limit is 1200 a minute in that test, so the sends alone
# need at least 8.5 minutes.  The run is stopped after 25 minutes.
#
# Usage: bench/queue_10k.sh [BATCH]   (after make install and make -C test/sim)
set -euo pipefail
cd "$(dirname "$0")/.."

batch=${1:-10000}
limit_s=1500

start=$(date +%s)
status=0
TOLL_FREE_SIM_OPTIONS="--res-limit 20000" TOLL_FREE_QUEUE_BATCH=$batch \
	timeout "$limit_s" test/sandbox -- prove -v -I test/t/lib test/t/520_queue_faults.pl ||
	status=$?
end=$(date +%s)

echo "queue fault run: $batch requests, $((end - start)) s including sandbox set-up, exit status $status"
if [ "$status" -eq 124 ]; then
	echo "stopped after the limit of $limit_s s" >&2
fi
exit "$status"
