#!/usr/bin/env bash
#
# bench/sim_capacity.sh: measure what tfsim, the registry simulator, can
# carry, and print the figures.
#
# It starts its own tfsim on free loopback ports with --numbers numbers
# (default 5000000) and measures:
#   1. resident memory (VmRSS) once the numbers are seeded;
#   2. single-number queries per second over HTTPS, with wrk on 8 keep-alive
#      connections for 10 s;
#   3. the time to stream a whole RespOrg check of the second RespOrg
#      (about 20 % of the numbers, 1,000,000 at the default size) over
#      HTTPS with curl, page by page.
# Targets: RSS under 1 GB, at least 20,000 queries/s, the check in under 2 s.
# The exit status is 0 when every target is met.
#
# Usage: bench/sim_capacity.sh [NUMBERS]
# Needs: wrk, curl, openssl, python3 (Debian packages; see test/install-deps).
set -euo pipefail

numbers=${1:-5000000}
top=$(cd "$(dirname "$0")/.." && pwd)
sim="$top/test/sim/tfsim"
make -s -C "$top/test/sim" >/dev/null

for tool in wrk curl openssl python3; do
	command -v "$tool" >/dev/null || { echo "sim_capacity: $tool is missing (run test/install-deps)" >&2; exit 2; }
done

dir=$(mktemp -d /tmp/tfsim_bench.XXXXXX)
sim_pid=""
cleanup() {
	if [ -n "$sim_pid" ]; then
		kill -TERM "$sim_pid" 2>/dev/null || true
		wait "$sim_pid" 2>/dev/null || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT

read -r port admin_port <<<"$(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')"

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" \
	-days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
echo "bench01:$password:RUC01:RUC01,RUC02" >"$dir/users"
chmod 600 "$dir/users"

start=$(date +%s.%N)
"$sim" --port "$port" --admin-port "$admin_port" --tls-cert "$dir/cert.pem" \
	--tls-key "$dir/key.pem" --users "$dir/users" --numbers "$numbers" \
	--ready-file "$dir/ready" >"$dir/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 1200); do
	[ -s "$dir/ready" ] && break
	kill -0 "$sim_pid" 2>/dev/null || { cat "$dir/sim.log" >&2; exit 1; }
	sleep 0.1
done
[ -s "$dir/ready" ] || { echo "sim_capacity: tfsim did not start in 120 s" >&2; exit 1; }
seeded=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$sim_pid/status"; }
rss_seeded=$(rss_kb)

base="https://127.0.0.1:$port/v3/ip"
token=$(curl -sS --cacert "$dir/cert.pem" -X POST "$base/sec/session/open" \
	-d "<sessionOpen><usrName>bench01</usrName><password>$password</password></sessionOpen>" |
	sed -n 's/.*<oauthToken>\([0-9a-f]*\)<\/oauthToken>.*/\1/p')
[ -n "$token" ] || { echo "sim_capacity: session open failed" >&2; exit 1; }

# 2. single-number queries: random numbers of the 800 NPA, most of them SPARE,
# some held
cat >"$dir/query.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $token"
math.randomseed(42)
request = function()
	return wrk.format("GET", string.format("/v3/ip/num/tfn/query/tfn/800%07d", math.random(0, 9999999)))
end
LUA
wrk -t 2 -c 8 -d 10s -s "$dir/query.lua" "https://127.0.0.1:$port" >"$dir/wrk.out"
qps=$(awk '/^Requests\/sec:/ { printf "%d", $2 }' "$dir/wrk.out")
errors=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' "$dir/wrk.out")

# 3. RespOrg check of RUC02, page by page with the largest page size; the
# rows are counted after the clock stops
check_start=$(date +%s.%N)
pages=0
key=""
while :; do
	pages=$((pages + 1))
	url="$base/num/rck/RUC02?pageSize=100000${key:+&startKey=$key}"
	curl -sS --fail --cacert "$dir/cert.pem" -H "Authorization: Bearer $token" "$url" -o "$dir/page$pages.xml"
	key=$(tail -c 200 "$dir/page$pages.xml" | sed -n 's/.*<nextKey>\([0-9]*\)<\/nextKey>.*/\1/p')
	[ -n "$key" ] || break
done
check_seconds=$(python3 -c "import time; print(f'{time.time() - $check_start:.2f}')")
rows=$(cat "$dir"/page*.xml | grep -c '<numInfo>' || true)
check_bytes_per_row=$(cat "$dir"/page*.xml | wc -c | awk -v r="$rows" '{ printf "%d", $1 / (r ? r : 1) }')
rss_end=$(rss_kb)

echo "tfsim capacity ($(nproc) CPUs, $(awk '/^model name/ { sub(/^[^:]*: /, ""); print; exit }' /proc/cpuinfo))"
printf '  numbers held:            %d (seeded in %s s)\n' "$numbers" "$seeded"
printf '  RSS after seeding:       %d MB\n' $((rss_seeded / 1024))
printf '  RSS at the end:          %d MB\n' $((rss_end / 1024))
printf '  queries per second:      %d (wrk, 2 threads, 8 HTTPS keep-alive connections, 10 s, non-2xx: %s)\n' "$qps" "${errors:-0}"
printf '  RespOrg check of RUC02:  %d rows in %d pages, %s s (about %d bytes a row)\n' "$rows" "$pages" "$check_seconds" "$check_bytes_per_row"

status=0
if [ $((rss_end / 1024)) -ge 1024 ]; then echo "  FAIL: RSS of 1 GB or more"; status=1; fi
if [ "$qps" -lt 20000 ]; then echo "  FAIL: fewer than 20000 queries per second"; status=1; fi
if [ "$numbers" -ge 5000000 ] && python3 -c "import sys; sys.exit(0 if $check_seconds >= 2 else 1)"; then
	echo "  FAIL: the RespOrg check took 2 s or more"
	status=1
fi
[ -z "${errors:-}" ] || { echo "  FAIL: some queries did not answer 2xx"; status=1; }
exit $status
