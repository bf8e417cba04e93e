#!/usr/bin/env python3
"""The server-jobs suite's second driver (tests/lib/98-server-jobs.sh): a real `flowc server` (FLOWC,
the sanitized build) on 127.0.0.1 serving the schedules and webhooks of tests/server/hooks/hooks.flow
(server/triggers.c, the executable's `gate`): a schedule firing jobs every second and the after() chain
behind it, catch_up, GitHub-signed deliveries (HMAC-SHA256 over the raw body, as GitHub signs) and a
token in a header becoming jobs whose runs take the bodies, the refusals (401, 404, 405, a
redelivery), a disabled flow never started, the integration replaced, reverted and deleted taking
effect, a failed webhook run retried, acknowledged requests run after a restart, and no secret in
the hooks' view, the log or the workspace. Every wait polls with a deadline. Prints PASS NAME /
FAIL NAME lines.

    FLOWC=build/asan/flowc python3 tests/server/hooks.py WORKDIR
"""
import glob, hashlib, hmac, json, os, sys, time

sys.argv = [sys.argv[0], sys.argv[1]]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api   # noqa: E402  the server suite's Server, check, expect, report, run_cases
from api import check, expect, until   # noqa: E402

WORK = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
GH_SECRET = "gh-Hook-Secret-4Rw9"
HOOK_TOKEN = "tok-Hook-Value-8Lp2"
CASES = []
S = None
case = api.cases_into(CASES)


def jobs(flow, **filters):
    q = "&".join(["flow=" + flow, "limit=1000"] + ["%s=%s" % kv for kv in filters.items()])
    return expect(S.req("GET", "/v1/jobs?" + q), 200, "GET /v1/jobs?" + q)


def ended(flow, trigger=None):
    return [j for j in jobs(flow) if j["status"] in ("completed", "failed", "canceled") and (not trigger or j["trigger"] == trigger)]


def ready(rev=None):
    """the hooks' view once the head revision is served"""
    def look():
        b = expect(S.req("GET", "/v1/integrations/hooks/hooks"), 200, "GET /v1/integrations/hooks/hooks")
        return b if b["status"] in ("ready", "failed") and b["revision"] == b["head"] and (rev is None or b["head"] == rev) else None
    return until(120, "the hooks of revision %s served" % rev, look)


def signed(body, secret=GH_SECRET, delivery=None):
    h = {"X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(), "X-GitHub-Event": "push",
         "Content-Type": "application/json"}
    if delivery:
        h["X-GitHub-Delivery"] = delivery
    return h


def deliver(path, body, headers, method="POST"):
    return S.req(method, "/hooks/hooks" + path, body, token=None, headers=headers, raw=True)


def outfile(name):
    p = os.path.join(S.dir, "work/hooks/out", name)
    return [json.loads(line) for line in open(p)] if os.path.exists(p) else []


def patch(flow, body):
    return expect(S.req("PATCH", "/v1/flows/hooks." + flow, body), 200, "PATCH %s %s" % (flow, body))


# ---------------------------------------------------------------------------------------------------

@case("server-hooks/load/a-trigger-secret-missing-is-said")
def _():
    b = ready(1)
    check(b["status"] == "failed" and "GH_SECRET" in b.get("error", ""), "without GH_SECRET: %s" % b)
    b = expect(S.req("PUT", "/v1/connections/hooks.webhook/secrets", {"GH_SECRET": GH_SECRET, "HOOK_TOKEN": HOOK_TOKEN}), 200,
               "the triggers' secrets through the webhook connection")
    check([x["name"] for x in b["secrets"]] == ["GH_SECRET", "HOOK_TOKEN"] and GH_SECRET not in json.dumps(b), str(b))
    b = until(120, "served once the secrets are set", lambda: (lambda v: v if v["status"] == "ready" else None)(
        expect(S.req("GET", "/v1/integrations/hooks/hooks"), 200, "hooks")))
    f = {x["id"]: x for x in b["flows"]}
    check(f["hooks.tick"]["schedule"] == "every(1s)" and f["hooks.tick"]["next_run"], str(f["hooks.tick"]))
    check(f["hooks.chained"]["schedule"] == "after(tick)" and f["hooks.chained"]["next_run"] is None, str(f["hooks.chained"]))
    check(f["hooks.github"]["webhook"]["url"] == "/hooks/hooks/github" and f["hooks.github"]["webhook"]["verify"]["secret"] == "<redacted>",
          str(f["hooks.github"]))
    check(f["hooks.tokened"]["webhook"]["url"] == "/hooks/hooks/in/token", str(f["hooks.tokened"]))
    check(GH_SECRET not in json.dumps(b) and HOOK_TOKEN not in json.dumps(b), "the hooks' view shows a secret")
    b = expect(S.req("DELETE", "/v1/connections/hooks.webhook"), 409, "delete the built-in webhook connection")
    check("built-in" in b["errors"][0]["message"], str(b))


@case("server-hooks/schedule/every-second-fires-jobs-and-the-chain-follows")
def _():
    t = until(30, "two jobs of tick fired by its schedule", lambda: (lambda e: e if len(e) >= 2 else None)(ended("hooks.tick", "schedule")))
    check(all(j["status"] == "completed" and j["exported"] == 2 and j["token_id"] is None for j in t), str(t)[:800])
    c = until(30, "chained after tick", lambda: ended("hooks.chained", "after"))
    check(c[0]["status"] == "completed" and c[0]["imported"] == {"copy": 2}, str(c[0]))
    check(len(outfile("chained.ndjson")) >= 2, "chained wrote nothing")


@case("server-hooks/schedule/catch-up-runs-once-when-loaded")
def _():
    y = until(30, "yearly caught up", lambda: ended("hooks.yearly", "catch_up"))
    check(len(y) == 1 and y[0]["status"] == "completed", str(y))
    check([j for j in jobs("hooks.yearly") if j["trigger"] == "schedule"] == [], "yearly fired by its schedule")


@case("server-hooks/schedule/a-disabled-flow-never-fires")
def _():
    patch("tick", {"disabled": True})
    # what was queued before the PATCH ends; from then on nothing new for 2.5 s (2 fires)
    until(30, "tick's jobs ended", lambda: not jobs("hooks.tick", status="queued") and not jobs("hooks.tick", status="running"))
    n = len(jobs("hooks.tick"))
    time.sleep(2.5)
    check(len(jobs("hooks.tick")) == n, "a disabled flow fired: %d jobs, then %d" % (n, len(jobs("hooks.tick"))))
    f = {x["id"]: x for x in expect(S.req("GET", "/v1/integrations/hooks/hooks"), 200, "hooks")["flows"]}
    check(f["hooks.tick"]["disabled"] is True, str(f["hooks.tick"]))


@case("server-hooks/webhook/a-signed-delivery-is-a-job-whose-run-takes-the-body")
def _():
    body = json.dumps([{"id": 1, "name": "one"}, {"id": 2, "name": "two"}]).encode()
    st, hd, b = deliver("/github", body, signed(body, delivery="d-1"))
    check(st == 204 and not b, "a signed delivery: %s %s" % (st, b))
    j = until(60, "the webhook's job", lambda: ended("hooks.github", "webhook"))
    check(j[0]["status"] == "completed" and j[0]["exported"] == 2 and j[0]["imported"] == {"rows": 2}, str(j[0]))
    check([r["id"] for r in outfile("github.ndjson")] == [1, 2], "github.ndjson: %s" % outfile("github.ndjson"))
    # the same delivery again: acknowledged, not queued
    st, _, _ = deliver("/github", body, signed(body, delivery="d-1"))
    check(st == 204, "a redelivery: %s" % st)
    b2 = json.dumps({"id": 3, "name": "three"}).encode()
    st, _, _ = deliver("/github", b2, signed(b2, delivery="d-2"))
    check(st == 204, "a second delivery: %s" % st)
    until(60, "the second delivery run", lambda: [r["id"] for r in outfile("github.ndjson")] == [1, 2, 3])
    time.sleep(0.5)
    check([r["id"] for r in outfile("github.ndjson")] == [1, 2, 3], "the redelivery ran: %s" % outfile("github.ndjson"))


@case("server-hooks/webhook/token-in-a-header-and-its-status")
def _():
    body = json.dumps({"items": [{"id": 5, "name": "five"}]}).encode()
    st, _, b = deliver("/in/token", body, {"X-Token": HOOK_TOKEN, "Content-Type": "application/json"})
    check(st == 202, "a token delivery: %s %s" % (st, b))
    until(60, "tokened's job", lambda: [r["id"] for r in outfile("tokened.ndjson")] == [5])
    st, _, b = deliver("/in/token", body, {"X-Token": "wrong", "Content-Type": "application/json"})
    check(st == 401 and b"wrong" in b and HOOK_TOKEN.encode() not in b, "a wrong token: %s %s" % (st, b))


@case("server-hooks/webhook/secret-url-shown-to-full-tokens-who-ask")
def _():
    b = expect(S.req("GET", "/v1/integrations/hooks/hooks"), 200, "hooks")
    f = {x["id"]: x for x in b["flows"]}
    check(f["hooks.by_url"]["webhook"]["url"] == "/hooks/hooks/by-url/<redacted>", str(f["hooks.by_url"]))
    b = expect(S.req("GET", "/v1/integrations/hooks/hooks?show_secrets=true"), 200, "show_secrets")
    url = {x["id"]: x for x in b["flows"]}["hooks.by_url"]["webhook"]["url"]
    check(url.startswith("/hooks/hooks/by-url/") and "redacted" not in url and len(url) > 30, url)
    t = expect(S.req("POST", "/v1/tokens", {"name": "hooks-reader", "scope": {"integrations": ["hooks"]}}), 201, "a scoped token")["token"]
    expect(S.req("GET", "/v1/integrations/hooks/hooks", token=t), 200, "a scoped token reads the hooks")
    expect(S.req("GET", "/v1/integrations/hooks/hooks?show_secrets=true", token=t), 403, "a scoped token asks for the secret")
    expect(S.req("GET", "/v1/integrations/hooks/hooks?show_secrets=yes"), 400, "show_secrets=yes")
    st, _, b = S.req("POST", url, json.dumps({"challenge": "abc123"}).encode(), token=None, headers={"Content-Type": "application/json"}, raw=True)
    check(st == 200 and b == b"abc123", "the handshake: %s %s" % (st, b))
    body = json.dumps({"id": 30, "name": "thirty"}).encode()
    st, _, b = S.req("POST", url, body, token=None, headers={"Content-Type": "application/json"}, raw=True)
    check(st == 204, "at its secret URL: %s %s" % (st, b))
    st, _, b = deliver("/by-url/not-the-secret", body, {"Content-Type": "application/json"})
    check(st == 401, "a wrong secret: %s %s" % (st, b))
    until(60, "by_url's run", lambda: [r["id"] for r in outfile("by_url.ndjson")] == [30])


@case("server-hooks/webhook/refusals")
def _():
    body = json.dumps({"id": 9, "name": "nine"}).encode()
    n = len(jobs("hooks.github"))
    st, _, b = deliver("/github", body, signed(body, secret="not-the-secret"))
    check(st == 401 and b"signature" in b, "a bad signature: %s %s" % (st, b))
    st, _, b = deliver("/github", body, {"Content-Type": "application/json"})
    check(st == 401, "unsigned: %s %s" % (st, b))
    st, _, b = deliver("/nope", body, signed(body))
    check(st == 404 and b"no webhook" in b, "an unknown path: %s %s" % (st, b))
    st, hd, b = deliver("/github", None, {}, method="GET")
    check(st == 405 and hd.get("Allow") == "POST", "GET: %s %s" % (st, hd.get("Allow")))
    st, _, b = S.req("POST", "/hooks/nobody/github", body, token=None, headers=signed(body), raw=True)
    check(st == 404, "an unknown integration: %s" % st)
    st, _, b = deliver("/github", b"{not json", signed(b"{not json"))
    check(st == 400 and b"not JSON" in b, "a body that is not JSON: %s %s" % (st, b))
    time.sleep(0.3)
    check(len(jobs("hooks.github")) == n, "a refused request made a job")


@case("server-hooks/webhook/a-disabled-flow-refuses-with-503")
def _():
    patch("github", {"disabled": True})
    body = json.dumps({"id": 10, "name": "ten"}).encode()
    n = len(jobs("hooks.github"))
    st, _, b = deliver("/github", body, signed(body))
    check(st == 503 and b"disabled" in b, "a disabled flow's webhook: %s %s" % (st, b))
    time.sleep(0.3)
    check(len(jobs("hooks.github")) == n, "a disabled flow got a job")
    patch("github", {"disabled": False})
    st, _, b = deliver("/github", body, signed(body))
    check(st == 204, "enabled again: %s %s" % (st, b))
    until(60, "the delivery after enabling ran", lambda: 10 in [r["id"] for r in outfile("github.ndjson")])


@case("server-hooks/webhook/a-failed-run-keeps-the-request-and-is-retried")
def _():
    out = os.path.join(S.dir, "work/hooks/out")
    os.rename(out, out + ".away")
    open(out, "w").close()   # out is a file: the run cannot write
    try:
        body = json.dumps({"id": 11, "name": "eleven"}).encode()
        check(deliver("/github", body, signed(body))[0] == 204, "delivered")
        until(60, "a failed run", lambda: [j for j in jobs("hooks.github") if j["status"] == "failed"])
    finally:
        os.unlink(out)
        os.rename(out + ".away", out)
    until(60, "the retry ran it", lambda: 11 in [r["id"] for r in outfile("github.ndjson")])


@case("server-hooks/restart/acknowledged-requests-run-after-a-restart")
def _():
    out = os.path.join(S.dir, "work/hooks/out")
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 1))
    os.rename(out, out + ".away")
    open(out, "w").close()   # the run fails: the request stays queued
    body = json.dumps({"id": 12, "name": "twelve"}).encode()
    check(deliver("/github", body, signed(body))[0] == 204, "delivered")
    until(60, "its run failed", lambda: [j for j in jobs("hooks.github") if j["status"] == "failed" and j["created_at"] > since])
    bad = S.stop()
    check(not bad, "the server did not stop cleanly: %s" % bad)
    os.unlink(out)
    os.rename(out + ".away", out)
    S.start()
    until(120, "the acknowledged request ran after the restart", lambda: 12 in [r["id"] for r in outfile("github.ndjson")])


@case("server-hooks/changes/replace-revert-delete-take-effect")
def _():
    text = open(os.path.join(HERE, "hooks/hooks.flow")).read()
    moved = text.replace('webhook("/github"', 'webhook("/gh/v2"').replace("schedule = every(1s)", "schedule = manual()")
    b = expect(S.req("PUT", "/v1/integrations/hooks", moved), 200, "PUT the integration")
    ready(b["revision"])
    body = json.dumps({"id": 20, "name": "twenty"}).encode()
    st, _, _ = deliver("/github", body, signed(body))
    check(st == 404, "the old path after the change: %s" % st)
    st, _, _ = deliver("/gh/v2", body, signed(body))
    check(st == 204, "the new path: %s" % st)
    until(60, "the new path's run", lambda: 20 in [r["id"] for r in outfile("github.ndjson")])
    f = {x["id"]: x for x in ready()["flows"]}
    check(f["hooks.tick"]["schedule"] == "manual()" and f["hooks.tick"]["next_run"] is None, str(f["hooks.tick"]))
    revs = expect(S.req("GET", "/v1/integrations/hooks/revisions"), 200, "revisions")
    b = expect(S.req("POST", "/v1/integrations/hooks/revert", {"revision": revs[0]["revision"]}), 200, "revert")
    ready(b["revision"])
    st, _, _ = deliver("/github", body, signed(body))
    check(st == 204, "the first path after the revert: %s" % st)
    expect(S.req("DELETE", "/v1/integrations/hooks"), 204, "DELETE")
    st, _, _ = deliver("/github", body, signed(body))
    check(st == 404, "a webhook of the deleted integration: %s" % st)
    n = len(jobs("hooks.tick"))
    time.sleep(1.5)
    check(len(jobs("hooks.tick")) == n and ended("hooks.yearly", "schedule") == [], "a deleted integration's schedule fired")


@case("server-hooks/secrets/nowhere-but-the-store")
def _():
    hits = api.files_holding(S.dir, (GH_SECRET, HOOK_TOKEN))
    for log in glob.glob(os.path.join(WORK, "server.*.log")):
        if GH_SECRET in open(log).read() or HOOK_TOKEN in open(log).read():
            hits.append(log)
    check(not hits, "a secret's value is in: %s" % hits)


@case("server-hooks/openapi/success-codes-as-answered")
def _():
    api.check_success_codes(S, 4)


def start():
    global S
    os.makedirs(WORK, exist_ok=True)
    for name in ("GH_SECRET", "HOOK_TOKEN"):   # (other suites export them) the triggers' secrets come through the API only
        os.environ.pop(name, None)
    S = api.Server("hooks")
    return S


def prepare(server):
    work = os.path.join(server.dir, "work/hooks")
    os.makedirs(os.path.join(work, "data"), exist_ok=True)
    os.makedirs(os.path.join(work, "out"), exist_ok=True)
    with open(os.path.join(work, "data/items.ndjson"), "w") as f:
        f.write('{"id": 1, "name": "a"}\n{"id": 2, "name": "b"}\n')
    expect(server.req("POST", "/v1/integrations", open(os.path.join(HERE, "hooks/hooks.flow")).read()), 201, "POST /v1/integrations")


api.drive("server-hooks", start, prepare, CASES)
