#!/usr/bin/python3
"""
test/soak/soak.py: mixed registry work under low-rate faults for a set time.

Run by test/soak/run inside test/sandbox.  One long-lived session makes
synchronous calls (query, reserve and spare, customer record reads) and
queues reservations and spares for the worker, while the worker also syncs
RUC01 on a short interval and the simulator injects faults into about 2 % of
requests.  Every minute it samples the resident memory of the session's
backend and of the worker.  It fails when:

  - a call, a queued request or a sync ends with an SQLSTATE that neither
    an injected fault (class 08, TF009 for 5xx, TF003 when a 429 outlasts
    the retries) nor the mix itself (see BUSINESS) explains;
  - the backend or the worker grows by more than the allowed amount between
    the end of the warm-up (the first quarter) and the end.

Usage: soak.py MINUTES
"""
import json
import os
import random
import sys
import time
import urllib.request

import psycopg2

MINUTES = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
ADMIN = os.environ["TOLL_FREE_SIM_ADMIN_URL"]
ALLOWED = ("08", "TF009", "TF003")
# Refusals the soak's own mix causes: a number reserved by a queued request
# before a call reserves it (TF001), a spare racing a reserve of the same
# number (TF004 stale version, TF007 wrong status).
BUSINESS = ("TF001", "TF004", "TF007")
# Growth allowed after warm-up, in kB.  NOTE: this is a guess that leaves
# room for allocator noise.  A leak of a few hundred bytes per call exceeds
# it within minutes at this call rate.
GROWTH_LIMIT_KB = 4096


def admin(method, path):
    request = urllib.request.Request(ADMIN + path, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def rss_kb(pid):
    """Private anonymous memory of a process (RssAnon), in kB.  VmRSS would
    also count the pages of shared buffers a process touches, which grows for
    a long time without any leak."""
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def allowed(sqlstate):
    return sqlstate is None or sqlstate.startswith(ALLOWED)


def main():
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS toll_free")
    cur.execute("SET toll_free.timeout = 3000")
    cur.execute("SELECT pg_backend_pid()")
    backend = cur.fetchone()[0]

    for fault in ("kind=latency&ms=4000", "kind=reset_after", "kind=status&status=503",
                  "kind=throttle&retry_after=1", "kind=reset_before"):
        admin("POST", "/faults?path=/&probability=0.004&" + fault)

    deadline = time.time() + MINUTES * 60
    warmup_end = time.time() + MINUTES * 60 / 4
    samples = []
    errors = {}
    unexplained = []
    calls = 0
    queued = []
    next_sample = 0.0
    numbers = ["80055509%02d" % i for i in range(50)]

    while time.time() < deadline:
        number = random.choice(numbers)
        choice = random.random()
        try:
            if choice < 0.4:
                cur.execute("SELECT status FROM toll_free.tf_query(%s)", (number,))
            elif choice < 0.6:
                cur.execute("SELECT ok FROM toll_free.tf_reserve(%s, 'Soak Test', '7325550100')",
                            (number,))
                cur.execute("SELECT ok FROM toll_free.tf_spare(%s)", (number,))
            elif choice < 0.75:
                cur.execute("SELECT count(*) FROM toll_free.tf_query_records('8005560001')")
            elif choice < 0.85:
                cur.execute("SELECT length(toll_free.tf_retrieve('8005560001')::text)")
            else:
                operation = random.choice(["reserve", "spare"])
                cur.execute("SELECT toll_free.tf_enqueue(%s, %s, %s)",
                            (operation, number, json.dumps(
                                {"contact_name": "Soak Test", "contact_phone": "7325550100"}
                                if operation == "reserve" else {})))
                queued.append(cur.fetchone()[0])
            cur.fetchall()
        except psycopg2.Error as error:
            code = error.pgcode or "none"
            errors[code] = errors.get(code, 0) + 1
            if not allowed(code) and code not in BUSINESS:
                unexplained.append("%s: %s" % (code, (error.pgerror or "").strip()[:200]))
        calls += 1

        if time.time() >= next_sample:
            cur.execute("SELECT pid FROM toll_free.worker_status")
            worker = cur.fetchone()[0]
            samples.append((time.time(), rss_kb(backend), rss_kb(worker) if worker else 0))
            next_sample = time.time() + 60

    admin("DELETE", "/faults")
    samples.append((time.time(), rss_kb(backend), 0))

    # Queued work and syncs: wait for the queue, then read the outcomes.
    wait_until = time.time() + 120
    while time.time() < wait_until:
        cur.execute("SELECT count(*) FROM toll_free.requests WHERE origin = 'queue' AND finished_at IS NULL")
        if cur.fetchone()[0] == 0:
            break
        time.sleep(1)
    cur.execute("""SELECT coalesce(sqlstate, state), count(*), min(operation || ' ' || coalesce(error, ''))
                   FROM toll_free.requests
                   WHERE origin = 'queue' AND state <> 'done' GROUP BY 1""")
    for code, count, example in cur.fetchall():
        if code not in BUSINESS and not allowed(code):
            unexplained.append("queued requests ending %s: %d (%s)" % (code, count, example[:160]))
    cur.execute("""SELECT coalesce(sqlstate, 'none'), count(*), min(coalesce(error, ''))
                   FROM toll_free.sync_runs WHERE state = 'failed' GROUP BY 1""")
    for code, count, example in cur.fetchall():
        if not allowed(code):
            unexplained.append("failed syncs with %s: %d (%s)" % (code, count, example[:160]))
    cur.execute("SELECT count(*) FILTER (WHERE state = 'done'), count(*) FROM toll_free.sync_runs")
    syncs_done, syncs = cur.fetchone()

    print("soak: %.0f min, %d calls, %d queued, %d of %d syncs done, errors %s"
          % (MINUTES, calls, len(queued), syncs_done, syncs, json.dumps(errors, sort_keys=True)))
    after_warmup = [s for s in samples if s[0] >= warmup_end] or samples
    backend_growth = samples[-1][1] - after_warmup[0][1]
    worker_samples = [s[2] for s in after_warmup if s[2]]
    worker_growth = worker_samples[-1] - worker_samples[0] if len(worker_samples) > 1 else 0
    print("soak: backend RssAnon %d -> %d kB, worker RssAnon growth %d kB after warm-up"
          % (after_warmup[0][1], samples[-1][1], worker_growth))

    failed = False
    if backend_growth > GROWTH_LIMIT_KB:
        print("soak: FAILED: backend grew by %d kB after warm-up" % backend_growth)
        failed = True
    if worker_growth > GROWTH_LIMIT_KB:
        print("soak: FAILED: worker grew by %d kB after warm-up" % worker_growth)
        failed = True
    for line in unexplained[:20]:
        print("soak: FAILED: unexplained error %s" % line)
    failed = failed or bool(unexplained)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
