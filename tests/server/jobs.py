#!/usr/bin/env python3
"""The server-jobs suite's driver (tests/lib/98-server-jobs.sh): a real `flowc server` (FLOWC, the
sanitized build) on 127.0.0.1 and the HTTP test server (tests/http/server.c) the integration
tests/server/jobs/shop.flow talks to; drives the routes that run things with urllib: secrets through
PUT /connections/{id}/secrets, POST /flows/{id}/run and the jobs (a delta window, paging, a run
killed with kill -9, cancel), POST /exports/{id}/run, POST /imports/{id}/run, a scoped token, the
audit entries, and the secret's value nowhere at rest. Prints PASS NAME / FAIL NAME lines.

    FLOWC=build/asan/flowc python3 tests/server/jobs.py WORKDIR
"""
import json, os, re, signal, subprocess, sys, time, urllib.request

sys.argv = [sys.argv[0], sys.argv[1]]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api   # noqa: E402  the server suite's Server, check, expect, report
from api import check, expect   # noqa: E402

WORK = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SECRET = "s3cr3t-Api-Token-7Qx"
CASES = []
S = None
HTTP = None

case = api.cases_into(CASES)


def start_http():
    ready = os.path.join(WORK, "http.port")
    if os.path.exists(ready):
        os.unlink(ready)
    p = subprocess.Popen([os.path.join(ROOT, "build/tests/http_server"), "--port", "0", "--ready", ready],
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(WORK, "http.log"), "w"))
    for _ in range(200):
        if os.path.exists(ready):
            return p, "http://127.0.0.1:" + open(ready).read().strip()
        time.sleep(0.05)
    raise AssertionError("the HTTP test server did not come up")


def wait_job(jid, until=("completed", "failed", "canceled"), secs=90):
    b = None
    for _ in range(secs * 10):
        b = expect(S.req("GET", "/v1/jobs/" + jid), 200, "GET /v1/jobs/" + jid)
        if b["status"] in until:
            return b
        time.sleep(0.1)
    raise AssertionError("job %s still %s after %d s" % (jid, b and b["status"], secs))


def job_pid(jid):
    r = S.sql("SELECT pid FROM jobs WHERE id = ?", int(jid))
    return r[0][0] if r and r[0][0] != "" else None


def run(flow, body=None, token=""):
    return S.req("POST", "/v1/flows/%s/run" % flow, body, token=token)


# ---------------------------------------------------------------------------------------------------

@case("server-jobs/secrets/set-and-never-shown")
def _():
    b = expect(S.req("PUT", "/v1/connections/shop.crm/secrets", {"API_TOKEN": SECRET}), 200, "PUT secrets")
    check(SECRET not in json.dumps(b), "the answer shows the secret")
    check(b["secrets"] == [{"name": "API_TOKEN", "set": True, "updated_at": b["secrets"][0].get("updated_at")}], "secrets: %s" % b["secrets"])
    check(b["settings"].get("auth") == "<redacted>", "auth shown: %s" % b["settings"])
    check(b["settings"].get("base_url") == "param.base", "base_url: %s" % b["settings"])
    b = expect(S.req("PUT", "/v1/connections/shop.crm/secrets", {"NOPE": "x"}), 400, "a name the connection does not take")
    check(b["errors"][0]["field"] == "NOPE" and "API_TOKEN" in b["errors"][0]["message"], str(b))
    expect(S.req("PUT", "/v1/connections/shop.crm/secrets", {"API_TOKEN": 7}), 400, "not a string")
    expect(S.req("PUT", "/v1/connections/shop.data/secrets", {"API_TOKEN": "x"}), 400, "a connection that takes no env()")
    expect(S.req("PUT", "/v1/connections/shop.nope/secrets", {"API_TOKEN": "x"}), 404, "no such connection")
    b = expect(S.req("GET", "/v1/connections/shop.crm"), 200, "GET connection")
    check(SECRET not in json.dumps(b) and b["kind"] == "http", str(b))
    b = expect(S.req("GET", "/v1/connections"), 200, "GET /v1/connections")
    check([c["id"] for c in b] == ["shop.crm", "shop.data"], str(b))


@case("server-jobs/run/a-job-with-the-secret-in-its-environment")
def _():
    st, hd, b = run("shop.orders")
    expect((st, hd, b), 201, "POST /v1/flows/shop.orders/run")
    check(b["status"] in ("queued", "running") and b["id"], str(b))
    check(hd.get("Location") == "/v1/jobs/" + b["id"], "Location: %s" % hd.get("Location"))
    j = wait_job(b["id"])
    check(j["status"] == "completed", "job: %s" % j)
    # 4 records: 3 carry the secret (one with qty 0: a value error), 1 does not (filtered out)
    check((j["exported"], j["ignored"], j["errors"], j["imported"]) == (4, 1, 1, {"deals": 2}), "counts: %s" % j)
    check(j["error_classes"] == {"value": 1}, "error classes: %s" % j["error_classes"])
    check(j["run_id"] == "job-" + j["id"] and j["duration_ms"] is not None and j["finished_at"], str(j))
    sink = json.loads(urllib.request.urlopen(HTTP + "/sink/deals", timeout=10).read())
    check(sorted(r["id"] for r in sink) == [1, 4], "the sink holds %s" % sink)


@case("server-jobs/run/delta-window")
def _():
    b = expect(run("shop.orders", {"since": "2026-01-01T00:00:00Z", "until": "2026-02-01T00:00:00Z"}), 201, "a window")
    check(b["since"] == "2026-01-01T00:00:00Z" and b["until"] == "2026-02-01T00:00:00Z", str(b))
    check(wait_job(b["id"])["status"] == "completed", "the windowed run")
    b = expect(S.req("POST", "/v1/flows/shop.orders/run?since=2026-01-01T00:00:00Z"), 201, "since in the query")
    check(b["since"] == "2026-01-01T00:00:00Z", str(b))
    wait_job(b["id"])
    b = expect(run("shop.orders", {"since": "yesterday"}), 400, "a bad since")
    check(b["errors"][0]["field"] == "since", str(b))
    b = expect(run("shop.orders", {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}), 400, "an inverted window")
    check("empty" in b["errors"][0]["message"], str(b))
    b = expect(run("shop.orders", {"from": "2026-01-01T00:00:00Z"}), 400, "an unknown field")
    check(b["errors"][0]["field"] == "from", str(b))
    expect(run("shop.nope"), 404, "no such flow")
    expect(run("nope.orders"), 404, "no such integration")
    expect(run("shop"), 404, "not a flow id")


@case("server-jobs/jobs/list-filters-and-paging")
def _():
    st, hd, b = S.req("GET", "/v1/jobs?flow=shop.orders&limit=1")
    expect((st, hd, b), 200, "GET /v1/jobs")
    check(len(b) == 1 and 'rel="next"' in (hd.get("Link") or ""), "page 1: %s %s" % (b, hd.get("Link")))
    nxt = re.search(r"<([^>]*)>", hd["Link"]).group(1)
    st, hd2, b2 = S.req("GET", nxt)
    check(st == 200 and len(b2) == 1 and int(b2[0]["id"]) < int(b[0]["id"]), "page 2: %s" % b2)
    every = expect(S.req("GET", "/v1/jobs?flow=shop.orders"), 200, "all")
    check(len(every) == 3 and all(j["flow"] == "orders" for j in every), "jobs: %s" % [j["id"] for j in every])
    check([int(j["id"]) for j in every] == sorted((int(j["id"]) for j in every), reverse=True), "not newest first")
    done = expect(S.req("GET", "/v1/jobs?status=completed"), 200, "status filter")
    check(len(done) == 3, "completed: %d" % len(done))
    expect(S.req("GET", "/v1/jobs?status=bogus"), 400, "a bad status")
    expect(S.req("GET", "/v1/jobs?since=tomorrow"), 400, "a bad since")
    check(expect(S.req("GET", "/v1/jobs?since=2999-01-01T00:00:00Z"), 200, "since the future") == [], "jobs in the future")
    expect(S.req("GET", "/v1/jobs/999999"), 404, "no such job")
    expect(S.req("GET", "/v1/jobs/abc"), 404, "not a job id")


@case("server-jobs/jobs/a-killed-run-is-a-failed-job-and-the-server-goes-on")
def _():
    b = expect(run("shop.pages"), 201, "the slow flow")
    pid = None
    for _ in range(600):
        pid = job_pid(b["id"])
        if pid:
            break
        time.sleep(0.1)
    check(pid, "no pid recorded for the job")
    time.sleep(0.5)
    os.kill(pid, signal.SIGKILL)
    j = wait_job(b["id"])
    check(j["status"] == "failed" and "crashed" in j["message"] and "Killed" in j["message"], "job: %s" % j)
    expect(S.req("GET", "/healthz", token=None), 200, "healthz after the crash")
    check(wait_job(expect(run("shop.orders"), 201, "the next job")["id"])["status"] == "completed", "the next job")


@case("server-jobs/jobs/cancel")
def _():
    b = expect(run("shop.pages"), 201, "the slow flow")
    wait_job(b["id"], until=("running",))
    time.sleep(0.6)
    c = expect(S.req("POST", "/v1/jobs/%s/cancel" % b["id"]), 200, "cancel")
    check(c.get("cancel_requested") is True, str(c))
    j = wait_job(b["id"])
    check(j["status"] == "canceled" and "safe point" in j["message"], "job: %s" % j)
    check(0 < j["exported"] < 25, "it stopped at a page: exported %s" % j["exported"])
    expect(S.req("POST", "/v1/jobs/%s/cancel" % b["id"]), 409, "cancel an ended job")
    expect(S.req("POST", "/v1/jobs/999999/cancel"), 404, "cancel no job")
    # a queued job is canceled at once: queue two runs of one flow, cancel the second
    first = expect(run("shop.pages"), 201, "first")
    second = expect(run("shop.pages"), 201, "second")
    c = expect(S.req("POST", "/v1/jobs/%s/cancel" % second["id"]), 200, "cancel the queued one")
    check(c["status"] == "canceled", "a queued job is canceled at once: %s" % c)
    expect(S.req("POST", "/v1/jobs/%s/cancel" % first["id"]), 200, "cancel the first")
    check(wait_job(first["id"])["status"] == "canceled", "first")


@case("server-jobs/exports/run-answers-the-first-page")
def _():
    b = expect(S.req("POST", "/v1/exports/shop.orders.orders/run"), 200, "export run")
    check(b["count"] == 4 and [r["id"] for r in b["records"]] == [1, 2, 3, 4], str(b)[:500])
    b = expect(S.req("POST", "/v1/exports/shop.orders.orders/run?limit=2"), 200, "limit 2")
    check(b["count"] == 2, str(b)[:300])
    expect(S.req("POST", "/v1/exports/shop.orders.orders/run?limit=101"), 400, "limit 101")
    expect(S.req("POST", "/v1/exports/shop.orders.nope/run"), 404, "no such export")
    expect(S.req("POST", "/v1/exports/shop.orders.deals/run"), 404, "an import is not an export")


@case("server-jobs/imports/run-answers-per-record")
def _():
    recs = [{"id": 10, "token": "any", "qty": 5}, {"id": 11, "token": "any", "qty": 0}, {"id": 12, "token": "any", "qty": 1}]
    b = expect(S.req("POST", "/v1/imports/shop.orders.deals/run", recs), 200, "push")
    check((b["records"], b["ok"], b["errors"]) == (3, 2, 1), str(b))
    r = b["results"]
    check([x["status"] for x in r] == ["ok", "error", "ok"] and r[1]["class"] == "value" and "division by zero" in r[1]["message"], str(r))
    sink = json.loads(urllib.request.urlopen(HTTP + "/sink/deals", timeout=10).read())
    check({10, 12} <= {x["id"] for x in sink} and 11 not in {x["id"] for x in sink}, "the sink: %s" % sink)
    err = expect(S.req("POST", "/v1/imports/shop.orders.deals/run", {"id": 1}), 400, "not an array")
    expect(S.req("POST", "/v1/imports/shop.orders.deals/run", [1]), 400, "not records")
    expect(S.req("POST", "/v1/imports/shop.orders.deals/run", []), 400, "no records")
    expect(S.req("POST", "/v1/imports/shop.orders.nope/run", recs), 404, "no such import")
    check(err["errors"][0]["code"], str(err))


@case("server-jobs/errors/list-filter-resolve-retry")
def _():
    errs = expect(S.req("GET", "/v1/flows/shop.orders/deals/errors"), 200, "errors")
    check(len(errs) >= 2 and all(e["step"] == "deals" and e["class"] == "value" and e["status"] == "open" for e in errs), str(errs)[:600])
    check(all(isinstance(e["id"], str) and e["occurred_at"] and "division by zero" in e["message"] for e in errs), str(errs[0]))
    check(SECRET not in json.dumps(errs), "an error shows the secret")
    check(expect(S.req("GET", "/v1/flows/shop.orders/deals/errors?class=missing"), 200, "class filter") == [], "class=missing")
    check(len(expect(S.req("GET", "/v1/flows/shop.orders/deals/errors?class=value"), 200, "class=value")) == len(errs), "class=value")
    expect(S.req("GET", "/v1/flows/shop.orders/deals/errors?class=bogus"), 400, "a bad class")
    expect(S.req("GET", "/v1/flows/shop.orders/deals/errors?occurred_after=soon"), 400, "a bad time")
    check(expect(S.req("GET", "/v1/flows/shop.orders/deals/errors?occurred_after=2999-01-01T00:00:00Z"), 200, "after") == [], "future")
    check(len(expect(S.req("GET", "/v1/flows/shop.orders/deals/errors?occurred_before=2999-01-01T00:00:00Z"), 200, "before")) == len(errs), "before")
    st, hd, p1 = S.req("GET", "/v1/flows/shop.orders/deals/errors?limit=1")
    check(st == 200 and len(p1) == 1 and 'rel="next"' in (hd.get("Link") or ""), "paging: %s %s" % (p1, hd.get("Link")))
    check(expect(S.req("GET", "/v1/flows/shop.orders/orders/errors"), 200, "another step") == [], "the export's errors")
    check(expect(S.req("GET", "/v1/exports/shop.orders.orders/errors"), 200, "export errors") == [], "GET /v1/exports/{id}/errors")
    expect(S.req("GET", "/v1/flows/shop.nope/deals/errors"), 404, "no such flow")
    first = errs[0]["id"]
    b = expect(S.req("PUT", "/v1/flows/shop.orders/deals/resolved", {"errors": [first]}), 200, "resolve")
    check(b == {"resolved": [first]}, str(b))
    check(first not in [e["id"] for e in expect(S.req("GET", "/v1/flows/shop.orders/deals/errors"), 200, "open")], "still open")
    res = expect(S.req("GET", "/v1/flows/shop.orders/deals/resolved"), 200, "resolved")
    check([e["id"] for e in res] == [first] and res[0]["status"] == "resolved" and res[0].get("resolved_by", "").startswith("api "), str(res))
    b = expect(S.req("PUT", "/v1/flows/shop.orders/deals/resolved", {"errors": [first]}), 400, "resolve twice")
    check(first in b["errors"][0]["message"], str(b))
    expect(S.req("PUT", "/v1/flows/shop.orders/deals/resolved", {"errors": ["x"]}), 400, "not an id")
    expect(S.req("PUT", "/v1/flows/shop.orders/deals/resolved", {}), 400, "no ids")
    # retry one: the record fails again (qty 0): a new error, the old one superseded
    second = errs[1]["id"]
    j = expect(S.req("POST", "/v1/flows/shop.orders/deals/retry", {"errors": [second]}), 201, "retry one")
    check(j["kind"] == "retry", str(j))
    j = wait_job(j["id"])
    check(j["status"] == "completed" and j["errors"] == 1 and j["exported"] == 1, "retry job: %s" % j)
    now = [e["id"] for e in expect(S.req("GET", "/v1/flows/shop.orders/deals/errors"), 200, "after the retry")]
    check(second not in now, "the retried error is still open: %s" % now)
    j = wait_job(expect(S.req("POST", "/v1/flows/shop.orders/deals/retry"), 201, "retry all")["id"])
    check(j["status"] == "completed" and j["exported"] == len(now), "retry all: %s (open were %d)" % (j, len(now)))
    expect(S.req("POST", "/v1/flows/shop.orders/deals/retry", {"errors": [first]}), 400, "retry a resolved error")


@case("server-jobs/scope/a-scoped-token-runs-its-flow-only")
def _():
    t = expect(S.req("POST", "/v1/tokens", {"name": "orders-only", "scope": {"flows": ["shop.orders"]}}), 201, "token")["token"]
    mine = expect(run("shop.orders", token=t), 201, "run its flow")
    expect(run("shop.pages", token=t), 403, "run another flow")
    expect(S.req("POST", "/v1/imports/shop.orders.deals/run", [{"id": 20, "token": "x", "qty": 1}], token=t), 200, "push into its flow")
    expect(S.req("POST", "/v1/exports/shop.orders.orders/run", token=t), 200, "preview its export")
    expect(S.req("PUT", "/v1/connections/shop.crm/secrets", {"API_TOKEN": "x"}, token=t), 403, "set a secret")
    seen = expect(S.req("GET", "/v1/jobs", token=t), 200, "its jobs")
    check(seen and all(j["flow"] == "orders" for j in seen), "a scoped token sees %s" % [(j["id"], j["flow"]) for j in seen])
    pages = expect(S.req("GET", "/v1/jobs?flow=shop.pages"), 200, "pages jobs")
    expect(S.req("GET", "/v1/jobs/" + pages[0]["id"], token=t), 404, "another flow's job")
    expect(S.req("POST", "/v1/jobs/%s/cancel" % pages[0]["id"], token=t), 404, "cancel another flow's job")
    expect(S.req("GET", "/v1/jobs/" + mine["id"], token=t), 200, "its own job")
    wait_job(mine["id"])


@case("server-jobs/remote/the-command-line-client")
def _():
    def remote(*args, token=True, env=None):
        e = dict(os.environ, **(env or {}))
        pre = ["remote", S.base] + (["--token", S.token] if token is True else [])
        return subprocess.run([api.FLOWC, *pre, *args], capture_output=True, text=True, timeout=120, env=e)
    r = remote("integrations", "list")
    check(r.returncode == 0 and [i["id"] for i in json.loads(r.stdout)] == ["shop"], "integrations list: %s %s" % (r.returncode, r.stderr))
    r = remote("flows", "run", "shop.orders", "--wait")
    check(r.returncode == 0 and json.loads(r.stdout)["status"] == "completed", "flows run --wait: %s %s %s" % (r.returncode, r.stdout[-300:], r.stderr))
    jid = json.loads(r.stdout)["id"]
    r = remote("jobs", "list", "--flow", "shop.orders", token=False, env={"FLOWC_TOKEN": S.token})
    jobs = json.loads(r.stdout) if r.returncode == 0 else []
    check(jobs and jobs[0]["id"] == jid, "jobs list with $FLOWC_TOKEN: %s %s" % (r.returncode, r.stderr))
    every = json.loads(remote("jobs", "list").stdout)
    check(len(every) == len(expect(S.req("GET", "/v1/jobs?limit=1000"), 200, "all jobs")), "jobs list did not follow the pages")
    r = remote("errors", "list", "shop.orders", "deals")
    check(r.returncode == 0 and all(e["step"] == "deals" for e in json.loads(r.stdout)), "errors list: %s" % r.stderr)
    r = remote("jobs", "get", "999999")
    check(r.returncode == 1 and "404 not_found" in r.stderr, "a 404: %s %s" % (r.returncode, r.stderr))
    r = remote("jobs", "list", token=False, env={"FLOWC_TOKEN": ""})
    check(r.returncode == 1 and "401" in r.stderr, "no token: %s %s" % (r.returncode, r.stderr))
    r = remote("bogus")
    check(r.returncode == 2 and "usage" in r.stderr, "usage: %s %s" % (r.returncode, r.stderr))
    r = remote("tokens", "create", "ci", "--scope", '{"flows":["shop.orders"]}', "--expires", "1h")
    check(r.returncode == 0 and json.loads(r.stdout)["token"].startswith("flw_"), "tokens create: %s" % r.stderr)
    check(S.token not in r.stdout, "tokens create printed the caller's token")


@case("server-jobs/audit/runs-and-secrets-audited-without-values")
def _():
    entries = expect(S.req("GET", "/v1/audit?limit=1000"), 200, "audit")
    text = json.dumps(entries)
    check(SECRET not in text, "the audit log holds the secret")
    acts = [(e.get("action"), e.get("resource")) for e in entries]
    for want in [("run", "shop.orders"), ("run", "shop.pages"), ("run", "shop.orders.deals"), ("cancel", "shop.pages"),
                 ("secrets.set", "shop.crm"), ("errors.resolve", "shop.orders"), ("retry", "shop.orders")]:
        check(want in acts, "no audit entry %s in %s" % (want, acts[-20:]))


@case("server-jobs/secrets/nowhere-at-rest")
def _():
    # the test's input holds the secret as data: the flow compares tokens with it
    hits = api.files_holding(S.dir, (SECRET,), skip=("work/shop/data/orders.ndjson",))
    if SECRET in open(S.log).read():
        hits.append("the server's log")
    if SECRET.encode() in S.store_bytes():
        hits.append("the store")
    check(not hits, "the secret's value is in: %s" % hits)
    n = S.sql("SELECT count(*) FROM secrets WHERE integration = 'shop' AND name = 'API_TOKEN'")[0][0]
    check(n == 1, "the secret is not in the store (%d rows)" % n)


@case("server-jobs/openapi/success-codes-as-answered")
def _():
    api.check_success_codes(S, 8)


def start():
    global S, HTTP, HTTP_PROC
    os.makedirs(WORK, exist_ok=True)
    HTTP_PROC, HTTP = start_http()
    S = api.Server("jobs")
    return S


def prepare(server):
    text = open(os.path.join(HERE, "jobs/shop.flow")).read().replace('"http://127.0.0.1:9"', '"%s"' % HTTP)
    expect(server.req("POST", "/v1/integrations", text), 201, "POST /v1/integrations")
    data = os.path.join(server.dir, "work/shop/data")
    os.makedirs(data, exist_ok=True)
    with open(os.path.join(data, "orders.ndjson"), "w") as f:
        for i, tok, qty in [(1, SECRET, 2), (2, SECRET, 0), (3, "other", 1), (4, SECRET, 4)]:
            f.write(json.dumps({"id": i, "token": tok, "qty": qty}) + "\n")


def stop_http():
    if HTTP_PROC:
        HTTP_PROC.terminate()
        HTTP_PROC.wait()


HTTP_PROC = None
api.drive("server-jobs", start, prepare, CASES, stop_http)
