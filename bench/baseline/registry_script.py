#!/usr/bin/python3
"""Baseline: the kind of registry script a RespOrg runs today.

Python from Debian's packages only: http.client over TLS on one keep-alive
connection, xml.etree.ElementTree (an incremental XMLPullParser for the
RespOrg check) and psycopg2's copy_expert.  The benchmarks compare the
extension against it.

  sync   open a session, download every page of GET /num/rck/{respOrgId},
         parse it while it arrives and COPY the rows, page by page, into a
         table that has the columns and indexes of toll_free.numbers
  query  open a session and send PUT /num/tfn/query with 10 numbers a
         request, one request after the other

The registry user is the first line of the simulator's users file
(user:password:RespOrg:updList).  Prints one line of key=value pairs:
rows, requests, seconds, and the peak resident memory (maxrss_kb).
"""

import argparse
import http.client
import io
import resource
import ssl
import sys
import time
import urllib.parse
import xml.etree.ElementTree as ET

import psycopg2

# The columns filled from a numInfo row, in COPY order.  Rows of a RespOrg
# check leave out ctrlRespOrgId, because every row belongs to the RespOrg
# checked, so resporg is filled from the command line.
NUMINFO_FIELDS = ("num", "status", "effDt", "resUntilDt", "discUntilDt",
                  "lastActDt", "recVersionId")
COPY_SQL = ("COPY {table} (number, status, status_date, reserved_until,"
            " disconnect_until, last_active, rec_version_id, resporg) FROM STDIN")


class Registry:
    """One HTTPS keep-alive connection to the registry with a session token."""

    def __init__(self, url, cafile, users_file):
        parsed = urllib.parse.urlsplit(url)
        context = ssl.create_default_context(cafile=cafile)
        self.base = parsed.path.rstrip("/")
        self.conn = http.client.HTTPSConnection(parsed.hostname, parsed.port,
                                                context=context, timeout=60)
        self.requests = 0
        with open(users_file, encoding="utf-8") as f:
            user, password = f.readline().strip().split(":")[:2]
        body = ("<sessionOpen><usrName>%s</usrName><password>%s</password></sessionOpen>"
                % (user, password))
        answer = self.call("POST", "/sec/session/open", body, token=None)
        self.token = ET.fromstring(answer).findtext("oauthToken")

    def start(self, method, path, body=None, token=None):
        """Send a request and return the response once its headers arrived."""
        headers = {"Content-Type": "application/xml; charset=utf-8"}
        if token:
            headers["Authorization"] = "Bearer " + token
        self.conn.request(method, self.base + path, body=body, headers=headers)
        self.requests += 1
        response = self.conn.getresponse()
        if response.status != 200:
            raise RuntimeError("%s %s failed with HTTP %d: %s"
                               % (method, path, response.status, response.read()[:300]))
        return response

    def call(self, method, path, body=None, token=""):
        """Send a request and return the whole response body."""
        return self.start(method, path, body, self.token if token == "" else token).read()


def sync(args):
    """Download the RespOrg check page by page and COPY it into args.table."""
    registry = Registry(args.url, args.ca, args.users)
    db = psycopg2.connect("")
    cursor = db.cursor()
    cursor.execute("TRUNCATE " + args.table)
    copy_sql = COPY_SQL.format(table=args.table)
    rows = 0
    start_key = None

    while True:
        path = "/num/rck/%s?pageSize=%d" % (args.resporg, args.page_size)
        if start_key:
            path += "&startKey=" + start_key
        response = registry.start("GET", path, token=registry.token)

        # Parse while the page arrives; each finished numInfo becomes one
        # line of COPY text and is then dropped from the tree.
        parser = ET.XMLPullParser(events=("end",))
        page = io.StringIO()
        start_key = None
        while True:
            chunk = response.read(65536)
            if not chunk:
                break
            parser.feed(chunk)
            for _, element in parser.read_events():
                if element.tag == "numInfo":
                    values = [element.findtext(f) for f in NUMINFO_FIELDS]
                    page.write("\t".join(v if v else "\\N" for v in values))
                    page.write("\t%s\n" % args.resporg)
                    rows += 1
                    element.clear()
                elif element.tag == "nextKey":
                    start_key = element.text
        parser.close()

        page.seek(0)
        cursor.copy_expert(copy_sql, page)
        if not start_key:
            break

    db.commit()
    return rows, registry.requests


def query(args):
    """Query the numbers of args.numbers_file, 10 a request, sequentially."""
    with open(args.numbers_file, encoding="ascii") as f:
        numbers = [line.strip() for line in f if line.strip()]
    registry = Registry(args.url, args.ca, args.users)
    rows = 0

    for i in range(0, len(numbers), 10):
        body = ("<numQuery><numList>"
                + "".join("<num>%s</num>" % n for n in numbers[i:i + 10])
                + "</numList></numQuery>")
        answer = ET.fromstring(registry.call("PUT", "/num/tfn/query", body))
        for info in answer.iter("numInfo"):
            if info.findtext("status"):
                rows += 1

    return rows, registry.requests


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=("sync", "query"))
    parser.add_argument("--url", required=True, help="registry base URL (ends in /v3/ip)")
    parser.add_argument("--ca", required=True, help="CA certificate file")
    parser.add_argument("--users", required=True, help="simulator users file")
    parser.add_argument("--resporg", default="RUC01", help="RespOrg to sync")
    parser.add_argument("--page-size", type=int, default=50000, help="RespOrg check page size")
    parser.add_argument("--table", default="bench.numbers_script", help="table the sync loads")
    parser.add_argument("--numbers-file", help="query mode: one number a line")
    args = parser.parse_args()

    started = time.monotonic()
    rows, requests = sync(args) if args.mode == "sync" else query(args)
    seconds = time.monotonic() - started
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("rows=%d requests=%d seconds=%.3f maxrss_kb=%d" % (rows, requests, seconds, maxrss))
    return 0


if __name__ == "__main__":
    sys.exit(main())
