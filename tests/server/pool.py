#!/usr/bin/env python3
"""The state stores a real `flowc server` (FLOWC, the sanitized build) keeps open between requests
(runtime/state_pool.c), driven with urllib over examples/quickstart.flow, whose import big_orders
keeps an error for each pushed record whose total is not a number (POST /v1/imports/{id}/run):
  pool/one-store-serves-many-requests   the errors routes read through one open store: on SQLite the
                                        server holds the state file open across requests, on
                                        PostgreSQL one session (pg_stat_activity) answers them all
  pool/postgresql-restart               (PostgreSQL) the database restarted between requests: the next
                                        ones are answered, reads and writes, no error
  pool/state-removed-by-hand            the state store removed behind the server's back and made again by
                                        a run: the new one is read, not the one kept open
  pool/deleted-and-made-again           the integration deleted, its state removed by hand, made again:
                                        its errors are none, not the old ones
  pool/concurrent-requests              wrk (or, without it, threads) on the errors page and pushes at
                                        once: every answer 2xx (and the server's clean stop: no leak)
Prints PASS NAME / FAIL NAME lines (as server-jobs/pool/... or server-jobs-pg/pool/...).

    FLOWC=build/asan/flowc python3 tests/server/pool.py WORKDIR
FLOWC_TEST_PG (and FLOWC_TEST_PG_DIR, the cluster scripts/pg.sh runs): on a PostgreSQL store.
"""
import json, os, shutil, subprocess, sys, threading, time

sys.argv = [sys.argv[0], sys.argv[1]]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api   # noqa: E402  the server suite's Server, check, expect, report
from api import check, expect   # noqa: E402

WORK = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PG_DIR = os.environ.get("FLOWC_TEST_PG_DIR")
CASES = []
S = None
ERRS = "/v1/flows/quickstart.orders/big_orders/errors"
PUSH = "/v1/imports/quickstart.orders.big_orders/run"

case = api.cases_into(CASES)


def records(ids, bad):
    return [{"id": i, "email": "u%d@example.com" % i, "name": "U %d" % i, "total": "not a number" if bad else 10.5 + i, "note": None,
             "customer": {"first": "U", "last": str(i), "vip": False}, "items": []} for i in ids]


def push(ids, bad=True):
    b = expect(S.req("POST", PUSH, records(ids, bad)), 200, "push")
    check(b["errors"] == (len(ids) if bad else 0), "push: %s" % json.dumps(b)[:400])
    return b


def errors(query=""):
    return expect(S.req("GET", ERRS + query), 200, "GET errors")


def state_sessions():
    """PostgreSQL: the pids of the sessions whose last statement read the errors table"""
    out = api.psql(S.dbname, "-c", "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                                   "AND query LIKE '%FROM errors WHERE%'")
    return {int(x) for x in out.split()}


def state_fds():
    """SQLite: the server's file descriptors open on the integration's state store"""
    want = os.path.realpath(os.path.join(S.dir, "state", "quickstart.state.db"))
    fds = set()
    for fd in os.listdir("/proc/%d/fd" % S.proc.pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (S.proc.pid, fd)) == want:
                fds.add(int(fd))
        except OSError:
            pass
    return fds


def metrics():
    """the state stores' counters of /metrics"""
    st, _, b = S.req("GET", "/metrics", token=None, raw=True)
    check(st == 200, "GET /metrics: %s" % st)
    return {k: int(v) for k, v in (line.split() for line in b.decode().splitlines() if line.startswith("flowc_server_state_store_"))}


def remove_state():
    """the integration's state removed by hand, as docs/cli.md tells to start afresh"""
    if S.dsn:
        api.psql(S.dbname, "-c", 'DROP SCHEMA "flowstate_quickstart" CASCADE')
    else:
        for f in os.listdir(os.path.join(S.dir, "state")):
            if f.startswith("quickstart.state.db"):
                os.unlink(os.path.join(S.dir, "state", f))


# ---------------------------------------------------------------------------------------------------

@case("server-jobs/pool/one-store-serves-many-requests")
def _():
    seen = []
    for _ in range(12):
        e = errors("?limit=2")
        check(len(e) == 2, "a page: %s" % json.dumps(e)[:300])
        seen.append(state_sessions() if S.dsn else state_fds())
    # (before the pool: a session or an open per request, ended with it: nothing between requests)
    check(all(len(x) == 1 for x in seen), "between requests, the open stores were %s" % seen)
    m = metrics()
    check(m.get("flowc_server_state_store_opens_total", 99) <= 2 and m.get("flowc_server_state_store_reuses_total", 0) >= 11,
          "/metrics: %s" % m)
    check(len(set().union(*seen)) == 1, "the requests were served by several stores: %s" % seen)
    e = errors()
    b = expect(S.req("PUT", "/v1/flows/quickstart.orders/big_orders/resolved", {"errors": [e[0]["id"]]}), 200, "resolve")
    check(b == {"resolved": [e[0]["id"]]}, str(b))
    check(e[0]["id"] not in [x["id"] for x in errors()], "the resolved error is still listed")


def pg_restart():
    check(PG_DIR, "FLOWC_TEST_PG_DIR is not set: the cluster cannot be restarted")
    before = errors()
    old = state_sessions()
    r = subprocess.run([os.path.join(ROOT, "scripts/pg.sh"), "restart", PG_DIR], capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "pg.sh restart: %s" % r.stderr)
    check(not (old & state_sessions()), "the sessions outlived the restart")
    # every request after the restart answered (a kept session that broke is not handed out)
    for k in range(4):
        check(errors() == before, "after the restart (request %d): not the same errors" % (k + 1))
    push([9001])
    e = errors()
    check(len(e) == len(before) + 1, "the pushed record's error: %d, were %d" % (len(e), len(before)))
    b = expect(S.req("PUT", "/v1/flows/quickstart.orders/big_orders/resolved", {"errors": [e[-1]["id"]]}), 200, "resolve after the restart")
    check(b == {"resolved": [e[-1]["id"]]}, str(b))
    check(len(state_sessions()) == 1, "sessions reading errors after the restart: %s" % state_sessions())


if api.PG:   # (a case of the PostgreSQL store's only)
    case("server-jobs/pool/postgresql-restart")(pg_restart)


@case("server-jobs/pool/state-removed-by-hand")
def _():
    check(len(errors()) >= 2, "no errors to begin with")
    remove_state()
    if not S.dsn:   # (SQLite: no store, no errors; on PostgreSQL the open makes the schema again)
        check(errors() == [], "the removed store's errors are still listed")
    push([7001, 7002, 7003])
    e = errors()
    check(sorted(x["record"]["id"] for x in e) == [7001, 7002, 7003], "not the new store's errors: %s" % json.dumps(e)[:600])


@case("server-jobs/pool/deleted-and-made-again")
def _():
    push([8001])
    check(len(errors()) >= 1, "no errors to begin with")
    expect(S.req("DELETE", "/v1/integrations/quickstart"), 204, "DELETE")
    expect(S.req("GET", ERRS), 404, "the deleted integration's errors")
    remove_state()
    expect(S.req("POST", "/v1/integrations", open(os.path.join(ROOT, "examples/quickstart.flow")).read()), 201, "made again")
    check(errors() == [], "the old state is read: %s" % json.dumps(errors())[:600])
    push([8002])
    check([x["record"]["id"] for x in errors()] == [8002], "not the new state: %s" % json.dumps(errors())[:600])


def threads_load(path, n_threads, secs):
    """requests from n_threads at once for secs: (answered, not 2xx)"""
    stop = time.time() + secs
    counts = {"n": 0, "bad": []}
    lock = threading.Lock()

    def go():
        while time.time() < stop:
            st, _, b = S.req("GET", path)
            with lock:
                counts["n"] += 1
                if not 200 <= st < 300:
                    counts["bad"].append((st, str(b)[:200]))
    ts = [threading.Thread(target=go) for _ in range(n_threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return counts["n"], counts["bad"]


@case("server-jobs/pool/concurrent-requests")
def _():
    push(range(100, 160))
    pushes = []

    def pusher():   # writes (a run's child, and the answer's read) while the pages are read
        for k in range(3):
            st, _, b = S.req("POST", PUSH, records(range(200 + 10 * k, 205 + 10 * k), True))
            pushes.append((st, str(b)[:200]))
    pt = threading.Thread(target=pusher)
    pt.start()
    if shutil.which("wrk"):
        r = subprocess.run(["wrk", "-t2", "-c8", "-d3s", "-H", "Authorization: Bearer " + S.token, S.base + ERRS + "?limit=20"],
                           capture_output=True, text=True, timeout=60)
        n = int(r.stdout.split(" requests in ")[0].split()[-1]) if " requests in " in r.stdout else 0
        bad = [line for line in r.stdout.splitlines() if "Non-2xx" in line or "Socket errors" in line]
    else:
        n, bad = threads_load(ERRS + "?limit=20", 8, 3)
    pt.join()
    check(n > 0, "no request answered")
    check(not bad, "answers not 2xx: %s" % bad)
    check(all(st == 200 for st, _ in pushes), "pushes: %s" % pushes)
    if S.dsn:
        n = len(state_sessions())
        check(1 <= n <= 16, "sessions kept reading errors: %d" % n)


def start():
    os.makedirs(WORK, exist_ok=True)
    return api.Server("pool")


def prepare(server):
    global S
    S = server
    expect(S.req("POST", "/v1/integrations", open(os.path.join(ROOT, "examples/quickstart.flow")).read()), 201, "POST /v1/integrations")
    for d in ("out", "data"):   # a push opens the flow's connections, as a run does
        os.makedirs(os.path.join(S.dir, "work/quickstart", d), exist_ok=True)
    push([1, 2, 3, 4])
    push([5, 6], bad=False)


api.drive("server-jobs/pool", start, prepare, CASES)
