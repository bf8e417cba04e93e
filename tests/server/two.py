#!/usr/bin/env python3
"""The server-pg suite's two-server driver (tests/lib/97-server-pg.sh): two `flowc server` processes
(FLOWC, the sanitized build) on two ports and two workspace directories (as on two machines: the
second holds a copy of the first's secret.key and was never `init`), serving one PostgreSQL store
(FLOWC_TEST_PG). Prints PASS NAME / FAIL NAME lines:
  - a change made through one server is seen through the other at once (an integration, a flow's
    disabled flag, a revoked token);
  - schedules and webhooks made, changed (the text, the trigger's secret) and deleted through one
    server are served, and stopped, by the other without a restart, each schedule fire claimed once
    (tests/server/two/beat.flow);
  - the runs' state is the store's (each integration's schema flowstate_<integration>, the children
    given its DSN as FLOW_STATE_DB): a delta flow run on one server then the other takes only the rows
    changed since the last run on either (tests/server/two/shared.flow); an error kept by a run on one
    is listed, resolved and retried through the other; a webhook request taken by either server is run
    once, by whichever server claims its job, with its record; a run killed with SIGKILL releases its
    run lock (an advisory lock of its own connection) and the next run takes it; no state file in
    either directory, and no secret in the state tables;
  - a package's hook and data files taken through one server are the other's too: a text changed
    through it checks beside them, both servers' runs use them, a new package's files replace them
    on both, a delete removes them on both;
  - many jobs queued through both run exactly once each: the runs of tests/server/two/tally.flow write
    one row per run (its run id) into a PostgreSQL table, and those rows are counted;
  - concurrent changes through both servers leave one audit chain that `audit verify` finds intact;
  - a server killed (kill -9) while it runs a job: the other fails that job when its lease runs out;
  - the store DSN's password is in no log, answer, audit entry or workspace file; the survivor stops
    cleanly on SIGTERM (exit 0, no sanitizer report).

    FLOWC=build/asan/flowc FLOWC_TEST_PG="host=... port=... user=..." python3 tests/server/two.py WORKDIR
"""
import json, os, re, shutil, signal, subprocess, sys, threading, time, traceback

sys.argv = [sys.argv[0], sys.argv[1]]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api   # noqa: E402  the server suite's Server, check, expect, report
from api import check, expect, psql, report, until   # noqa: E402

WORK = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
LEASE = 3                      # seconds: --lease of both servers
TALLY_DB = "two_tally"         # the database the runs write into
TALLY_SECRET = "tally-pw-S3CRET-91b"
CASES = []
A = B = None


def case(name):
    def deco(f):
        CASES.append((name, f))
        return f
    return deco


def wait_job(srv, jid, secs=180):
    b = None
    for _ in range(secs * 10):
        b = expect(srv.req("GET", "/v1/jobs/" + jid), 200, "GET /v1/jobs/" + jid)
        if b["status"] in ("completed", "failed", "canceled"):
            return b
        time.sleep(0.1)
    raise AssertionError("job %s still %s after %d s" % (jid, b and b["status"], secs))


def in_parallel(calls):
    """runs each call on a thread of its own, all at once: their results, in order"""
    out = [None] * len(calls)

    def one(i, f):
        try:
            out[i] = f()
        except Exception as e:   # noqa: BLE001  reported by the caller's checks
            out[i] = e
    ts = [threading.Thread(target=one, args=(i, f)) for i, f in enumerate(calls)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


@case("server-pg/two/a-change-through-one-is-seen-through-the-other")
def _():
    expect(B.req("GET", "/v1/integrations/tally"), 200, "the integration created through A, through B")
    b = expect(B.req("PATCH", "/v1/flows/tally.c4", {"disabled": True}), 200, "PATCH through B")
    check(b.get("disabled") is True, str(b)[:300])
    b = expect(A.req("GET", "/v1/flows/tally.c4"), 200, "GET through A")
    check(b.get("disabled") is True, "A does not see B's change: %s" % str(b)[:300])
    expect(A.req("PATCH", "/v1/flows/tally.c4", {"disabled": False}), 200, "PATCH through A")
    check(expect(B.req("GET", "/v1/flows/tally.c4"), 200, "GET through B").get("disabled") is False, "B does not see A's change")
    t = expect(A.req("POST", "/v1/tokens", {"name": "short-lived", "scope": "full"}), 201, "a token made through A")
    expect(B.req("GET", "/v1/integrations", token=t["token"]), 200, "the token through B")
    expect(B.req("DELETE", "/v1/tokens/" + t["id"]), 204, "revoked through B")
    expect(A.req("GET", "/v1/integrations", token=t["token"]), 401, "the revoked token through A")


def hooks_view(srv, integ, status, rev=None):
    """srv's view of integ's schedules and webhooks once it serves the store's head (revision rev) in status"""
    def look():
        st, _, b = srv.req("GET", "/v1/integrations/%s/hooks" % integ)
        return b if st == 200 and b["status"] == status and b["revision"] == b["head"] and (rev is None or b["head"] == rev) else None
    return until(120, "%s serving %s revision %s (%s)" % (srv.dir, integ, rev, status), look)


def beat_jobs(flow, trigger):
    b = expect(A.req("GET", "/v1/jobs?flow=beat.%s&limit=1000" % flow), 200, "jobs of beat." + flow)
    return [j for j in b if j["trigger"] == trigger]


@case("server-pg/two/triggers-changed-through-one-serve-on-both-without-a-restart")
def _():
    tok = "beat-tok-S3CRET-77x"
    for srv in (A, B):   # each server's work directory of the integration (as on two machines)
        os.makedirs(os.path.join(srv.dir, "work/beat/data"), exist_ok=True)
        os.makedirs(os.path.join(srv.dir, "work/beat/out"), exist_ok=True)
        with open(os.path.join(srv.dir, "work/beat/data/items.ndjson"), "w") as f:
            f.write('{"id": 1, "name": "one"}\n')
    text = open(os.path.join(HERE, "two/beat.flow")).read()
    b = expect(A.req("POST", "/v1/integrations", text), 201, "beat through A")
    # B loads what A took: its gate says the trigger's secret is missing, then serves once it is set through A
    b = hooks_view(B, "beat", "failed", b["revision"])
    check("BEAT_TOKEN" in b.get("error", ""), "B without the secret: %s" % b)
    expect(A.req("PUT", "/v1/connections/beat.webhook/secrets", {"BEAT_TOKEN": tok}), 200, "the secret through A")
    b = hooks_view(B, "beat", "ready")
    f = {x["id"]: x for x in b["flows"]}
    check(f["beat.tick"]["schedule"] == "every(1s)" and f["beat.tick"]["next_run"], "B's timer: %s" % f["beat.tick"])
    check(f["beat.hooked"]["webhook"]["url"] == "/hooks/beat/in", "B's webhook: %s" % f["beat.hooked"])
    body = json.dumps({"id": 7}).encode()
    hdr = {"X-Token": tok, "Content-Type": "application/json"}
    st, _, _ = B.req("POST", "/hooks/beat/in", body, token=None, headers=hdr, raw=True)
    check(st == 202, "a delivery to B: %s" % st)
    until(60, "the delivery's job", lambda: beat_jobs("hooked", "webhook"))
    # a change through A: B serves the new path and not the old one
    b = expect(A.req("PUT", "/v1/integrations/beat", text.replace('webhook("/in"', 'webhook("/in/v2"')), 200, "PUT beat through A")
    hooks_view(B, "beat", "ready", b["revision"])
    st, _, _ = B.req("POST", "/hooks/beat/in/v2", body, token=None, headers=hdr, raw=True)
    check(st == 202, "the new path through B: %s" % st)
    st, _, _ = B.req("POST", "/hooks/beat/in", body, token=None, headers=hdr, raw=True)
    check(st == 404, "the old path through B: %s" % st)
    until(60, "three fires of tick", lambda: len(beat_jobs("tick", "schedule")) >= 3)
    # a delete through A stops both: B's webhook is gone and no fire follows
    expect(A.req("DELETE", "/v1/integrations/beat"), 204, "DELETE beat through A")
    until(10, "B stops serving the deleted integration's webhook",
          lambda: B.req("POST", "/hooks/beat/in/v2", body, token=None, headers=hdr, raw=True)[0] == 404)
    time.sleep(1.5)
    n = len(beat_jobs("tick", "schedule"))
    time.sleep(2.5)
    check(len(beat_jobs("tick", "schedule")) == n, "a deleted integration's schedule fired")
    # each fire was claimed by one server: the jobs the two logs say they queued are the jobs there are
    queued = sum(len(re.findall(r"flow beat\.tick: job \d+ queued \(schedule", open(srv.log).read())) for srv in (A, B))
    check(queued == n, "%d schedule jobs, %d queued by the servers' logs" % (n, queued))
    for srv in (A, B):
        check("integration beat: deleted" in open(srv.log).read(), "%s did not stop beat" % srv.dir)
        check(tok not in open(srv.log).read(), "the webhook token in %s's log" % srv.dir)


@case("server-pg/two/a-package's-files-reach-the-other-server")
def _():
    src = os.path.join(HERE, "pkghooks")
    even = os.path.join(WORK, "pkgeven")   # the same package, its hook dropping even ids instead
    subprocess.run(["rm", "-rf", even])
    shutil.copytree(src, even)
    hook = open(os.path.join(src, "hooks/odd.c")).read()
    check("% 2 != 0" in hook, "the hook's test is not where it was")
    open(os.path.join(even, "hooks/odd.c"), "w").write(hook.replace("% 2 != 0", "% 2 == 0"))
    pkgs = []
    for d in (src, even):
        pkgs.append(os.path.join(WORK, os.path.basename(d) + ".flowpkg"))
        r = subprocess.run([api.FLOWC, "package", os.path.join(d, "pkghooks.flow"), "-o", pkgs[-1]], capture_output=True, text=True)
        check(r.returncode == 0, "flowc package: " + r.stderr)
    for srv in (A, B):
        data = os.path.join(srv.dir, "work/pkghooks/data")
        os.makedirs(data, exist_ok=True)
        open(os.path.join(data, "items.ndjson"), "w").write("".join('{"id": %d, "name": "n%d"}\n' % (i, i) for i in range(1, 6)))
    expect(A.req("POST", "/v1/integrations", body=open(pkgs[0], "rb").read(), ctype="application/gzip"), 201, "the package through A")
    # its text changed through B is checked beside the files A took
    text = open(os.path.join(src, "pkghooks.flow")).read()
    expect(B.req("PUT", "/v1/integrations/pkghooks", body=text.replace('"out.ndjson"', '"out2.ndjson"')), 200, "PUT the text through B")
    on_b = os.path.join(B.dir, "files/pkghooks/hooks/odd.c")
    check(os.path.exists(on_b) and open(on_b).read() == hook, "B's copy of the hook file")

    def runs(ignored):
        jobs = [expect((A if k % 2 else B).req("POST", "/v1/flows/pkghooks.copy/run"), 201, "run")["id"] for k in range(6)]
        for jid in jobs:
            j = wait_job(A, jid)
            check(j["status"] == "completed" and (j["exported"], j["ignored"]) == (5, ignored),
                  "a run on %s did not drop %d: %s" % (j["server"], ignored, {k: j.get(k) for k in ("status", "exported", "ignored", "message")}))
    runs(3)
    # new files through A: both servers' runs use them
    expect(A.req("PUT", "/v1/integrations/pkghooks", body=open(pkgs[1], "rb").read(), ctype="application/gzip"), 200, "the new package through A")
    runs(2)
    expect(B.req("GET", "/v1/integrations/pkghooks"), 200, "through B")
    check("% 2 == 0" in open(on_b).read(), "B's copy of the changed hook file")
    expect(A.req("DELETE", "/v1/integrations/pkghooks"), 204, "DELETE through A")
    until(10, "B's copy of the deleted integration's files removed", lambda: not os.path.exists(os.path.join(B.dir, "files/pkghooks")))


def on(srv, j):
    """whether job j ran on server srv"""
    return str(srv.proc.pid) in (j.get("server") or "").split(":")


def shared_setup():
    """the shared integration (tests/server/two/shared.flow) and its tables in the tally database"""
    psql(TALLY_DB, "-c", "DROP TABLE IF EXISTS shared_items, shared_seen",
         "-c", "CREATE TABLE shared_items (id int PRIMARY KEY, name text, updated_at timestamptz NOT NULL DEFAULT clock_timestamp())",
         "-c", "CREATE TABLE shared_seen (run text NOT NULL, id int NOT NULL CONSTRAINT not_13 CHECK (id % 100 <> 13))")
    st, _, _ = A.req("GET", "/v1/integrations/shared")
    if st != 200:
        expect(A.req("POST", "/v1/integrations", open(os.path.join(HERE, "two/shared.flow")).read()), 201, "shared through A")
        dsn = "%s dbname=%s password=%s" % (api.PG, TALLY_DB, TALLY_SECRET)
        expect(B.req("PUT", "/v1/connections/shared.db/secrets", {"SHARED_DSN": dsn}), 200, "its DSN as a secret, through B")


def shared_run(srv):
    """a run of shared.changes asked through srv, waited for"""
    return wait_job(srv, expect(srv.req("POST", "/v1/flows/shared.changes/run"), 201, "run shared.changes")["id"])


@case("server-pg/two/a-delta-flow-run-on-one-then-the-other-exports-only-the-new-records")
def _():
    shared_setup()
    # a job asked through a server is nearly always claimed by it (its worker wakes at once): runs
    # asked through A and B in turn go back and forth between the servers; every run, wherever it ran,
    # takes only the rows changed since the last run, on either server (the delta time is the store's)
    total, last, switches = 0, None, 0
    for k in range(12):
        rows = ",".join("(%d, 'n%d')" % (1000 + 10 * k + i, i) for i in range(3))
        psql(TALLY_DB, "-c", "INSERT INTO shared_items (id, name) VALUES " + rows)
        time.sleep(1.1)   # (a row written during the second a run starts comes with the next run)
        j = shared_run(A if k % 2 == 0 else B)
        check(j["status"] == "completed" and (j["exported"], j["ignored"]) == (total + 3, total),
              "run %d on %s took %s of %d rows, %d of them new: %s" % (k, j["server"], j.get("exported"), total + 3, 3,
                                                                       {x: j.get(x) for x in ("status", "exported", "ignored", "message")}))
        total += 3
        where = "A" if on(A, j) else "B"
        switches += last is not None and where != last
        last = where
        if switches >= 2 and k >= 3:
            break
    check(switches >= 1, "every run was on one server: the test proved nothing")
    seen = psql(TALLY_DB, "-c", "SELECT count(*), count(DISTINCT id) FROM shared_seen").strip()
    check(seen == "%d|%d" % (total, total), "rows imported (all, distinct): %s, want %d" % (seen, total))


@case("server-pg/two/an-error-kept-on-one-is-listed-resolved-and-retried-through-the-other")
def _():
    shared_setup()
    psql(TALLY_DB, "-c", "INSERT INTO shared_items (id, name) VALUES (2013, 'x'), (2014, 'y'), (2113, 'z')")
    time.sleep(1.1)
    j = shared_run(A)
    check(j["status"] == "completed" and j["errors"] == 2, "the run: %s" % j)
    owner, other = (A, B) if on(A, j) else (B, A)
    # the two errors (2013 and 2113 break not_13) through the server that did not run it
    errs = expect(other.req("GET", "/v1/flows/shared.changes/seen/errors"), 200, "the errors through the other server")
    got = sorted(e["record"]["id"] for e in errs)
    check(got == [2013, 2113], "the other server lists %s" % got)
    by_id = {e["record"]["id"]: e["id"] for e in errs}
    expect(other.req("PUT", "/v1/flows/shared.changes/seen/resolved", {"errors": [by_id[2113]]}), 200, "resolved through the other server")
    res = expect(owner.req("GET", "/v1/flows/shared.changes/seen/resolved"), 200, "resolved through the owner")
    check([e["id"] for e in res] == [by_id[2113]], "the owner's resolved: %s" % res)
    left = expect(owner.req("GET", "/v1/flows/shared.changes/seen/errors"), 200, "open through the owner")
    check([e["id"] for e in left] == [by_id[2013]], "the owner's open errors: %s" % left)
    # the retry, asked through the other server, succeeds once the table takes the row; the
    # error is done on both servers
    psql(TALLY_DB, "-c", "ALTER TABLE shared_seen DROP CONSTRAINT not_13")
    r = wait_job(other, expect(other.req("POST", "/v1/flows/shared.changes/seen/retry", {"errors": [by_id[2013]]}), 201, "retry")["id"])
    check(r["status"] == "completed" and r["errors"] == 0, "the retry: %s" % {x: r.get(x) for x in ("status", "server", "errors", "message")})
    rows = psql(TALLY_DB, "-c", "SELECT run FROM shared_seen WHERE id = 2013").strip()
    check(rows == "job-" + r["id"], "the retried record's row: %r (the retry's run: job-%s)" % (rows, r["id"]))
    for srv in (A, B):
        check(expect(srv.req("GET", "/v1/flows/shared.changes/seen/errors"), 200, "open errors") == [], "an open error left on %s" % srv.dir)


@case("server-pg/two/a-webhook-request-is-run-once-by-whichever-server-claims-it")
def _():
    tok = "beat-tok-S3CRET-77x"
    expect(A.req("POST", "/v1/integrations", open(os.path.join(HERE, "two/beat.flow")).read().replace("every(1s)", "manual()")), 201, "beat")
    expect(B.req("PUT", "/v1/connections/beat.webhook/secrets", {"BEAT_TOKEN": tok}), 200, "the secret through B")
    for srv in (A, B):
        hooks_view(srv, "beat", "ready")

    def out(srv):
        p = os.path.join(srv.dir, "work/beat/out/hooked.ndjson")
        return [json.loads(line)["id"] for line in open(p)] if os.path.exists(p) else []
    # the requests wait in the store's queue (the state store in PostgreSQL), whichever server took
    # them: a run on either server takes each once, with its record
    before = {j["id"] for j in beat_jobs("hooked", "webhook")}
    sent = []
    for k in range(8):
        srv = A if k % 2 else B
        rid = 100 + k
        st, _, _ = srv.req("POST", "/hooks/beat/in", json.dumps({"id": rid}).encode(), token=None,
                           headers={"X-Token": tok, "Content-Type": "application/json"}, raw=True)
        check(st == 202, "delivery %d: %s" % (rid, st))
        sent.append(rid)
        until(60, "request %d run" % rid, lambda: rid in out(A) + out(B))
    def ours():
        return [j for j in beat_jobs("hooked", "webhook") if j["id"] not in before]
    until(60, "the webhook jobs ended", lambda: all(j["status"] in ("completed", "failed") for j in ours()))
    got = sorted(x for x in out(A) + out(B) if x >= 100)   # (7: the triggers case's delivery)
    check(got == sent, "the requests run (both servers' outputs): %s, sent %s" % (got, sent))
    for j in ours():
        check(j["status"] == "completed", "a webhook job: %s" % j)
    expect(A.req("DELETE", "/v1/integrations/beat"), 204, "DELETE beat")


@case("server-pg/two/a-run-killed-with-sigkill-releases-its-lock")
def _():
    def holders():
        rows = psql("postgres", "-c", "SELECT application_name FROM pg_stat_activity WHERE application_name LIKE 'flowc run pid %'")
        return [int(x.rsplit(" ", 1)[1]) for x in rows.splitlines() if x]
    job = expect(A.req("POST", "/v1/flows/tally.slow/run"), 201, "the slow job")
    pids = until(120, "the slow run holding its lock", holders)
    check(len(pids) == 1, "run locks held: %s" % pids)
    os.kill(pids[0], signal.SIGKILL)
    j = wait_job(A, job["id"], secs=60)
    check(j["status"] == "failed", "the killed run's job: %s" % j)
    # the lock went with the process: the next run of the flow takes it
    job = expect(B.req("POST", "/v1/flows/tally.slow/run"), 201, "the slow job again")
    again = until(120, "the next run holding the lock", lambda: [p for p in holders() if p != pids[0]])
    check(len(again) == 1, "run locks held: %s" % again)
    j = wait_job(A, job["id"], secs=60)
    check(j["status"] == "completed", "the next run: %s" % {x: j.get(x) for x in ("status", "server", "message")})


@case("server-pg/two/a-run-whose-lock-session-ends-commits-nothing-more")
def _():
    # the database ends the run lock's session (as a restart would): the lock is gone, another run
    # may take it, so the run must not record itself as a good run of the flow
    def holders():
        rows = psql("postgres", "-c", "SELECT pid, application_name FROM pg_stat_activity WHERE application_name LIKE 'flowc run pid %'")
        return [x.split("|")[0] for x in rows.splitlines() if x]
    job = expect(A.req("POST", "/v1/flows/tally.slow/run"), 201, "the slow job")
    backends = until(120, "the slow run holding its lock", holders)
    check(len(backends) == 1, "run locks held: %s" % backends)
    psql("postgres", "-c", "SELECT pg_terminate_backend(%s)" % backends[0])
    j = wait_job(A, job["id"], secs=60)
    check(j["status"] == "failed", "the run that lost its lock: %s" % {x: j.get(x) for x in ("status", "message")})
    check("run lock of flow slow was lost" in json.dumps(j), "the job does not say the lock was lost: %s" % j)


@case("server-pg/two/the-runs-state-is-in-the-store-and-holds-no-secret")
def _():
    schemas = psql(A.dbname, "-c", "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'flowstate_%' ORDER BY 1").split()
    check("flowstate_tally" in schemas and "flowstate_shared" in schemas, "the state schemas: %s" % schemas)
    for srv in (A, B):
        d = os.path.join(srv.dir, "state")
        files = [f for f in os.listdir(d) if f.endswith(".state.db")] if os.path.isdir(d) else []
        check(not files, "state files in %s: %s" % (d, files))
    r = subprocess.run([os.path.join(api.PG_BIN, "pg_dump"), "-a", "-n", "flowstate_*", "%s dbname=%s" % (api.PG, A.dbname)],
                       capture_output=True, timeout=60)
    check(r.returncode == 0, "pg_dump: %s" % r.stderr.decode()[-500:])
    dump = r.stdout
    check(b"shared_seen" in dump and b"job-" in dump, "the state dump holds no run or error: %s" % dump[:300])
    for secret in (api.PG_SECRET, TALLY_SECRET, "beat-tok-S3CRET-77x"):
        check(secret.encode() not in dump, "the state tables hold %s" % secret)


@case("server-pg/two/a-server-with-another-key-is-refused")
def _():
    d = os.path.join(WORK, "two-c")
    subprocess.run(["rm", "-rf", d])
    os.makedirs(d, mode=0o700)
    with open(os.path.join(d, "secret.key"), "wb") as f:
        f.write(os.urandom(32))
    os.chmod(os.path.join(d, "secret.key"), 0o600)
    r = subprocess.run([api.FLOWC, "server", d, "--listen", "127.0.0.1:0", *A.db_args()], capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and "secret.key is not this workspace's key" in r.stderr, "another key: %d %s" % (r.returncode, r.stderr[-600:]))
    check(api.PG_SECRET not in r.stderr, "the DSN's password in the message: %s" % r.stderr)
    r = subprocess.run([api.FLOWC, "server", d, "--listen", "127.0.0.1:0", "--db", A.dsn.replace("dbname=", "dbname=nowhere_")],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and "nowhere_" in r.stderr and api.PG_SECRET not in r.stderr, "no such database: %d %s" % (r.returncode, r.stderr[-600:]))
    r = subprocess.run([api.FLOWC, "server", "init", os.path.join(WORK, "two-d"), *A.db_args()], capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and "already holds a workspace" in r.stderr and api.PG_SECRET not in r.stderr, "a second init: %d %s" % (r.returncode, r.stderr))


@case("server-pg/two/every-job-runs-exactly-once")
def _():
    flows = ["tally.c1", "tally.c2", "tally.c3", "tally.c4"]
    calls = []
    for i in range(40):   # 10 jobs of each flow, queued through both servers at once
        srv = A if i % 2 == 0 else B
        calls.append(lambda srv=srv, f=flows[i % 4]: srv.req("POST", "/v1/flows/%s/run" % f))
    res = in_parallel(calls)
    ids = []
    for r in res:
        check(not isinstance(r, Exception), "a request failed: %s" % (r,))
        ids.append(expect(r, 201, "POST run")["id"])
    check(len(set(ids)) == 40, "40 jobs, %d ids" % len(set(ids)))
    jobs = [wait_job(A if k % 2 else B, jid) for k, jid in enumerate(ids)]
    bad = [(j["id"], j["status"], j["message"]) for j in jobs if j["status"] != "completed"]
    check(not bad, "jobs that did not complete: %s" % bad[:5])
    rows = psql(TALLY_DB, "-c", "SELECT run, count(*) FROM tally_runs WHERE flow LIKE 'c%' GROUP BY run ORDER BY run")
    counts = dict(line.split("|") for line in rows.splitlines() if line)
    want = {"job-" + i for i in ids}
    twice = {k: v for k, v in counts.items() if v != "1"}
    check(not twice, "runs that wrote more than once (a job run twice): %s" % twice)
    check(set(counts) == want, "runs missing: %s; runs no job asked for: %s" % (sorted(want - set(counts))[:5], sorted(set(counts) - want)[:5]))
    servers = {j["server"] for j in jobs}
    check(len(servers) == 2, "the jobs ran on %s: both servers should have claimed some" % servers)


@case("server-pg/two/concurrent-changes-keep-one-audit-chain")
def _():
    before = len(expect(A.req("GET", "/v1/audit?limit=1000"), 200, "audit"))
    calls = []
    for i in range(30):
        srv = A if i % 2 == 0 else B
        if i % 3 == 0:
            calls.append(lambda srv=srv, i=i: srv.req("POST", "/v1/tokens", {"name": "t%d" % i, "scope": "full"}))
        elif i % 3 == 1:
            calls.append(lambda srv=srv, i=i: srv.req("POST", "/v1/integrations/tally/snapshots", {"message": "snap %d" % i}))
        else:
            calls.append(lambda srv=srv, i=i: srv.req("PATCH", "/v1/flows/tally.c%d" % (1 + i % 4), {"disabled": i % 4 == 2}))
    res = in_parallel(calls)
    made = 0
    for i, r in enumerate(res):
        check(not isinstance(r, Exception), "a request failed: %s" % (r,))
        # a change of the integration made from a head that moved meanwhile is refused (409: try again)
        ok = (201,) if i % 3 == 0 else (200, 201, 409)
        check(r[0] in ok, "a change answered %s: %s" % (r[0], str(r[2])[:300]))
        made += i % 3 != 2 and r[0] in (200, 201)
    after = expect(B.req("GET", "/v1/audit?limit=1000"), 200, "audit")
    seqs = [e["seq"] for e in after]
    check(seqs == list(range(1, len(seqs) + 1)), "the audit's seqs are not 1..N: %s" % seqs[-40:])
    check(made >= 10 and len(after) >= before + made, "%d entries after %d changes (%d before)" % (len(after), made, before))
    r = api.run("server", A.dir, "audit", "verify", *A.db_args())
    check(r.returncode == 0 and "intact" in r.stdout, "audit verify: %d %s %s" % (r.returncode, r.stdout, r.stderr))
    # the check can fail: a forked link is found
    prev = A.sql("SELECT prev FROM audit WHERE seq = ?", len(after))[0][0]
    A.sql("UPDATE audit SET prev = ? WHERE seq = ?", "0" * 64, len(after))
    r = api.run("server", B.dir, "audit", "verify", *B.db_args())
    A.sql("UPDATE audit SET prev = ? WHERE seq = ?", prev, len(after))
    check(r.returncode == 1 and "does not follow" in r.stderr, "a forked entry went unseen: %d %s" % (r.returncode, r.stderr))


@case("server-pg/two/a-killed-server's-job-fails-when-its-lease-runs-out")
def _():
    global A, B
    job = expect(A.req("POST", "/v1/flows/tally.slow/run"), 201, "the slow job")
    j = None
    for _ in range(1800):   # until it runs (its server built it first)
        j = expect(A.req("GET", "/v1/jobs/" + job["id"]), 200, "GET job")
        if j["status"] != "queued":
            break
        time.sleep(0.1)
    check(j["status"] == "running", "the slow job: %s" % j)
    time.sleep(0.5)
    owner, other = (A, B) if str(A.proc.pid) in j["server"].split(":") else (B, A)
    check(str(owner.proc.pid) in j["server"].split(":"), "job %s runs on %s, neither server (%s, %s)" % (j["id"], j["server"], A.proc.pid, B.proc.pid))
    owner.proc.send_signal(signal.SIGKILL)
    owner.proc.wait(30)
    owner.proc = None
    t0 = time.time()
    j = wait_job(other, job["id"], secs=60)
    took = time.time() - t0
    check(j["status"] == "failed" and "lease ran out" in (j["message"] or ""), "the dead server's job: %s" % j)
    check(took < LEASE * 4, "failed %.1f s after the kill (lease %d s)" % (took, LEASE))
    A, B = other, owner   # the survivor is A from here on
    r = expect(A.req("POST", "/v1/flows/tally.c1/run"), 201, "a job after the kill")
    check(wait_job(A, r["id"])["status"] == "completed", "the survivor runs jobs")


@case("server-pg/two/no-password-in-logs-answers-audit-or-workspace")
def _():
    audit = json.dumps(expect(A.req("GET", "/v1/audit?limit=1000"), 200, "audit"))
    jobs = json.dumps(expect(A.req("GET", "/v1/jobs?limit=1000"), 200, "jobs"))
    conns = json.dumps(expect(A.req("GET", "/v1/connections/tally.db"), 200, "the connection"))
    hits = []
    for what, text in (("the audit", audit), ("the jobs", jobs), ("the connection", conns)):
        for secret in (api.PG_SECRET, TALLY_SECRET):
            if secret in text:
                hits.append("%s shows %s" % (what, secret))
    for srv in (A, B):
        for d, _, files in os.walk(srv.dir):
            for f in files:
                p = os.path.join(d, f)
                try:
                    data = open(p, "rb").read()
                except OSError:
                    continue
                for secret in (api.PG_SECRET, TALLY_SECRET):
                    if secret.encode() in data:
                        hits.append("%s holds %s" % (os.path.relpath(p, WORK), secret))
        if api.PG_SECRET in open(srv.log).read():
            hits.append("the log of %s" % srv.dir)
    if TALLY_SECRET.encode() in A.store_bytes():
        hits.append("the store holds the tally DSN's password in clear")
    check(not hits, "; ".join(hits))


def main():
    global A, B
    os.makedirs(WORK, exist_ok=True)
    try:
        A = api.Server("two-a", args=("--lease", "%ds" % LEASE))
        B = api.Server("two-b", share=A, args=("--lease", "%ds" % LEASE))
        psql("postgres", "-c", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % TALLY_DB, "-c", "CREATE DATABASE %s" % TALLY_DB)
        psql(TALLY_DB, "-c", "CREATE TABLE tally_runs (run text NOT NULL, flow text NOT NULL)")
        expect(A.req("POST", "/v1/integrations", open(os.path.join(HERE, "two/tally.flow")).read()), 201, "POST /v1/integrations")
        dsn = "%s dbname=%s password=%s" % (api.PG, TALLY_DB, TALLY_SECRET)
        expect(B.req("PUT", "/v1/connections/tally.db/secrets", {"TALLY_DSN": dsn}), 200, "the DSN as a secret, through B")
    except Exception as e:
        report("server-pg/two/starts", e if isinstance(e, AssertionError) else traceback.format_exc())
        for s in (A, B):
            if s:
                s.stop()
        return
    api.run_cases(CASES)
    bad = A.stop() + (B.stop() if B.proc else [])
    report("server-pg/two/stops-cleanly-on-sigterm", "\n".join(bad) if bad else None)


main()
