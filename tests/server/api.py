#!/usr/bin/env python3
"""The server suite's driver: starts real `flowc server` processes (FLOWC, the sanitized build) on
127.0.0.1 over workspaces made by `flowc server init`, drives every route with urllib, and prints one
line per case: `PASS NAME` or `FAIL NAME` with indented details (tests/lib/97-server.sh counts them).
Each server is stopped with SIGTERM and must exit 0 without a sanitizer report (leaks count).

    FLOWC=build/asan/flowc python3 tests/server/api.py WORKDIR [CASE-PREFIX...]
"""
import json, os, re, signal, sqlite3, subprocess, sys, time, traceback, urllib.error, urllib.request

FLOWC = os.environ["FLOWC"]
WORK = sys.argv[1]
ONLY = sys.argv[2:]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SAN_RE = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:")
RESULTS = []


def run(*args, **kw):
    return subprocess.run([FLOWC, *args], capture_output=True, text=True, timeout=120, **kw)


class Server:
    """a workspace made by `flowc server init` and a server on it, on a free port"""
    n = 0

    def __init__(self, name):
        Server.n += 1
        self.dir = os.path.join(WORK, name)
        subprocess.run(["rm", "-rf", self.dir])
        r = run("server", "init", self.dir)
        if r.returncode != 0:
            raise AssertionError("server init failed: " + r.stderr)
        self.init_out = r.stdout
        self.token = r.stdout.rstrip("\n").split("\n")[-1]
        self.proc = None
        self.start()

    def start(self):
        self.log = os.path.join(WORK, "server.%d.log" % Server.n)
        Server.n += 1
        self.proc = subprocess.Popen([FLOWC, "server", self.dir, "--listen", "127.0.0.1:0"], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        for _ in range(600):
            m = re.search(r"listening on http://(127\.0\.0\.1:\d+)", open(self.log).read())
            if m:
                self.base = "http://" + m.group(1)
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("the server did not come up: " + open(self.log).read()[:2000])

    def stop(self):
        """SIGTERM; returns the problems (exit status, sanitizer report) as a list"""
        if not self.proc:
            return []
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = "killed after 60 s"
        self.proc = None
        log = open(self.log).read()
        bad = []
        if rc != 0:
            bad.append("the server exited %s after SIGTERM" % rc)
        if SAN_RE.search(log):
            bad.append("sanitizer report: " + log[SAN_RE.search(log).start():][:3000])
        return bad

    def req(self, method, path, body=None, token="", ctype=None, headers=None, raw=False):
        """(status, headers, body: parsed JSON when it is JSON)"""
        if token == "":
            token = self.token
        data = body
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            ctype = ctype or "application/json"
        elif isinstance(body, str):
            data = body.encode()
            ctype = ctype or "text/plain"
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        if ctype:
            h["Content-Type"] = ctype
        r = urllib.request.Request(self.base + path, data=data, method=method, headers=h)
        try:
            resp = urllib.request.urlopen(r, timeout=60)
            st, hd, b = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            st, hd, b = e.code, e.headers, e.read()
        if not raw and hd.get("Content-Type", "").startswith("application/json"):
            b = json.loads(b)
        return st, hd, b


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def expect(resp, status, what=""):
    st, hd, b = resp
    check(st == status, "%s: status %s, expected %s: %s" % (what, st, status, str(b)[:600]))
    if st >= 400:
        check(isinstance(b, dict) and isinstance(b.get("errors"), list) and b["errors"] and
              all(set(e) >= {"code", "message", "field"} for e in b["errors"]), "%s: not the error shape: %s" % (what, str(b)[:300]))
    return b


CASES = []


def case(name):
    def deco(f):
        CASES.append((name, f))
        return f
    return deco


def flow_file(name):
    return open(os.path.join(HERE, name)).read()


# ---------------------------------------------------------------------------------------------------
# 1. init, the listener, tokens, the conventions

S = None   # the shared server of most cases


@case("server/init/prints-the-token-alone-on-its-last-line")
def _():
    check(re.fullmatch(r"flw_[0-9a-f]{64}", S.token), "last line: %r" % S.token)
    key = os.path.join(S.dir, "secret.key")
    check(oct(os.stat(key).st_mode & 0o777) == "0o600", "secret.key mode %o" % (os.stat(key).st_mode & 0o777))
    check(os.path.getsize(key) == 32, "secret.key holds %d bytes" % os.path.getsize(key))
    check(S.token.encode() not in open(os.path.join(S.dir, "store.db"), "rb").read(), "the token's secret is in store.db")
    r = run("server", "init", S.dir)
    check(r.returncode == 1 and "already a workspace" in r.stderr, "init over a workspace: %d %s" % (r.returncode, r.stderr))


@case("server/healthz-is-public")
def _():
    b = expect(S.req("GET", "/healthz", token=None), 200, "GET /healthz")
    check(b == {"status": "ok"}, str(b))


@case("server/401-without-a-token-or-with-a-wrong-one")
def _():
    st, hd, b = expect(S.req("GET", "/v1/integrations", token=None), 401, "no token"), None, None
    st, hd, b = S.req("GET", "/v1/integrations", token="flw_" + "0" * 64)
    check(st == 401 and hd.get("WWW-Authenticate", "").startswith("Bearer"), "a wrong token: %s %s" % (st, b))
    expect(S.req("GET", "/v1/integrations", headers={"Authorization": "Basic Zm9vOmJhcg=="}, token=None), 401, "basic auth")


@case("server/404-and-405-with-allow")
def _():
    expect(S.req("GET", "/v1/nothing"), 404, "an unknown path")
    expect(S.req("GET", "/v1/integrations/a/b/c/d"), 404, "too many segments")
    st, hd, b = S.req("PUT", "/healthz", token=None)
    check(st == 405 and hd.get("Allow") == "GET", "PUT /healthz: %s Allow %s" % (st, hd.get("Allow")))
    st, hd, b = S.req("PATCH", "/v1/integrations/x")
    check(st == 405 and set(hd.get("Allow", "").split(", ")) == {"GET", "PUT", "DELETE"}, "PATCH /v1/integrations/x: %s %s" % (st, hd.get("Allow")))


@case("server/413-over-5-MB-and-400-for-bad-json")
def _():
    big = os.path.join(WORK, "big.json")
    with open(big, "wb") as f:
        f.write(b"{" + b" " * (5 * 1024 * 1024 + 10) + b"}")
    for extra in ([], ["-H", "Transfer-Encoding: chunked"]):   # announced by Content-Length, and not
        r = subprocess.run(["curl", "-s", "-o", os.path.join(WORK, "big.out"), "-w", "%{http_code}", "--max-time", "30", "-H",
                            "Authorization: Bearer " + S.token, "-H", "Content-Type: application/json", *extra, "--data-binary",
                            "@" + big, S.base + "/v1/tokens"], capture_output=True, text=True)
        check(r.stdout == "413", "a body over 5 MB %s: %s" % (extra, r.stdout))
        check(json.load(open(os.path.join(WORK, "big.out")))["errors"][0]["code"] == "too_large", open(os.path.join(WORK, "big.out")).read())
    b = expect(S.req("POST", "/v1/tokens", body=b'{"name": ', ctype="application/json"), 400, "truncated JSON")
    check("line 1" in b["errors"][0]["message"], "no place in: %s" % b)
    expect(S.req("POST", "/v1/tokens", body=b'[1]', ctype="application/json"), 400, "an array")
    expect(S.req("POST", "/v1/tokens", body=b'{"name":"x"}', ctype="text/csv"), 415, "text/csv")
    b = expect(S.req("POST", "/v1/tokens", body={"name": "x", "scope": "full", "colour": 1}), 400, "an unknown field")
    check(b["errors"][0]["field"] == "colour", str(b))
    b = expect(S.req("POST", "/v1/tokens", body={"name": "x", "scope": {"flows": ["a"], "planets": []}}), 400, "an unknown scope key")
    check(b["errors"][0]["field"] == "scope.planets", str(b))
    b = expect(S.req("POST", "/v1/tokens", body={"name": "x", "scope": "full", "expires": "soon"}), 400, "a bad expiry")
    check(b["errors"][0]["field"] == "expires", str(b))
    expect(S.req("POST", "/v1/tokens", body={"scope": "full"}), 400, "no name")


@case("server/tokens/create-list-revoke")
def _():
    b = expect(S.req("POST", "/v1/tokens", body={"name": "ci", "scope": "full", "expires": "30d"}), 201, "POST /v1/tokens")
    check(set(b) >= {"id", "token", "name", "scope", "expires"} and b["token"].startswith("flw_"), str(b))
    tid, secret = b["id"], b["token"]
    expect(S.req("GET", "/v1/tokens", token=secret), 200, "the new token works")
    lst = expect(S.req("GET", "/v1/tokens"), 200, "GET /v1/tokens")
    check(isinstance(lst, list) and all("id" in t for t in lst), str(lst)[:300])
    check(not any(secret in json.dumps(t) or "hash" in t for t in lst), "a list shows a secret or a hash")
    mine = [t for t in lst if t["id"] == tid]
    check(mine and mine[0]["status"] == "active" and mine[0]["expires"], str(mine))
    st, hd, body = S.req("DELETE", "/v1/tokens/" + tid)
    check(st == 204 and not body, "DELETE: %s %r" % (st, body))
    b = expect(S.req("GET", "/v1/tokens", token=secret), 401, "a revoked token")
    check("revoked" in b["errors"][0]["message"], str(b))
    lst = expect(S.req("GET", "/v1/tokens"), 200, "GET /v1/tokens")
    check([t["status"] for t in lst if t["id"] == tid] == ["revoked"], str(lst))
    expect(S.req("DELETE", "/v1/tokens/tok_nope"), 404, "an unknown token")


@case("server/tokens/expiry")
def _():
    b = expect(S.req("POST", "/v1/tokens", body={"name": "short", "scope": "full", "expires": "1s"}), 201, "POST /v1/tokens")
    expect(S.req("GET", "/v1/tokens", token=b["token"]), 200, "before it expires")
    time.sleep(1.2)
    e = expect(S.req("GET", "/v1/tokens", token=b["token"]), 401, "after it expired")
    check("expired" in e["errors"][0]["message"], str(e))
    expect(S.req("GET", "/v1/tokens", token=b["token"]), 401, "after it expired, again")
    ex = [a for a in expect(S.req("GET", "/v1/audit?resource=" + b["id"]), 200, "audit") if a["action"] == "token.expired"]
    check(len(ex) == 1, "token.expired entries: %s" % ex)


@case("server/tokens/a-scoped-token-cannot-manage-tokens-or-read-the-audit")
def _():
    b = expect(S.req("POST", "/v1/tokens", body={"name": "scoped", "scope": {"flows": ["x.y"]}}), 201, "POST /v1/tokens")
    for m, p, body in (("GET", "/v1/tokens", None), ("POST", "/v1/tokens", {"name": "n", "scope": "full"}),
                       ("DELETE", "/v1/tokens/" + b["id"], None), ("GET", "/v1/audit", None)):
        expect(S.req(m, p, body=body, token=b["token"]), 403, "%s %s with a scoped token" % (m, p))
    denied = [a for a in expect(S.req("GET", "/v1/audit"), 200, "audit") if a["action"] == "scope.denied" and a["who"]["token"] == b["id"]]
    check(len(denied) == 4, "scope.denied entries: %d" % len(denied))


@case("server/paging-with-link")
def _():
    for i in range(5):
        expect(S.req("POST", "/v1/tokens", body={"name": "page%d" % i, "scope": "full"}), 201, "POST /v1/tokens")
    allt = expect(S.req("GET", "/v1/tokens"), 200, "all")
    seen, url, pages = [], "/v1/tokens?limit=2", 0
    while url:
        st, hd, b = S.req("GET", url)
        check(st == 200 and len(b) <= 2, "page %s: %s %s" % (url, st, b))
        seen += [t["id"] for t in b]
        pages += 1
        m = re.match(r'<([^>]*)>; rel="next"', hd.get("Link", ""))
        url = m.group(1) if m else None
        check(pages < 50, "no end to the pages")
    check(seen == [t["id"] for t in allt], "paged %s, whole %s" % (seen, [t["id"] for t in allt]))
    expect(S.req("GET", "/v1/tokens?limit=0"), 400, "limit=0")
    expect(S.req("GET", "/v1/tokens?limit=x"), 400, "limit=x")


@case("server/openapi-matches-the-route-table")
def _():
    doc = expect(S.req("GET", "/v1/openapi.json", token=None), 200, "GET /v1/openapi.json")
    check(doc.get("openapi", "").startswith("3."), "openapi: %s" % doc.get("openapi"))
    routes = re.findall(r'^ROUTE\("(\w+)",\s*"([^"]+)"', open(os.path.join(ROOT, "server", "routes.def")).read(), re.M)
    check(len(routes) > 10, "routes.def: %d routes" % len(routes))
    want = {(m.lower(), p) for m, p in routes}
    have = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    check(want == have, "only in routes.def: %s; only in openapi.json: %s" % (sorted(want - have), sorted(have - want)))
    for m, p in routes:   # the router knows every one: never `no route`
        path = re.sub(r"\{[^}]*\}", "nosuch", p)
        st, hd, b = S.req(m, path, body={} if m in ("POST", "PUT", "PATCH") else None)
        check(not (st == 404 and "no route" in json.dumps(b)), "%s %s: the router does not know it" % (m, path))
        op = doc["paths"][p][m.lower()]
        check(op.get("summary") and str(st) in op["responses"] or st in (401, 403, 501),
              "%s %s answered %s, not in its documented responses %s" % (m, p, st, sorted(op["responses"])))


@case("server/metrics")
def _():
    st, hd, b = S.req("GET", "/metrics", token=None, raw=True)
    t = b.decode()
    check(st == 200 and hd.get("Content-Type", "").startswith("text/plain"), "%s %s" % (st, hd.get("Content-Type")))
    check(re.search(r'flowc_server_requests_total\{method="GET",route="/healthz",code="2xx"\} [1-9]', t), t[:1500])
    check(re.search(r'flowc_server_requests_total\{method="GET",route="/v1/integrations",code="4xx"\} [1-9]', t), t[:1500])


@case("server/audit/verify-catches-an-edited-row")
def _():
    r = run("server", S.dir, "audit", "verify")
    check(r.returncode == 0 and "intact" in r.stdout, "verify before: %d %s %s" % (r.returncode, r.stdout, r.stderr))
    entries = expect(S.req("GET", "/v1/audit"), 200, "GET /v1/audit")
    check(len(entries) >= 5 and all(re.fullmatch(r"[0-9a-f]{64}", e["hash"]) for e in entries), "entries: %d" % len(entries))
    check(S.token not in json.dumps(entries), "the audit log holds a token's secret")
    expect(S.req("PUT", "/v1/audit", body={}), 405, "PUT /v1/audit")
    expect(S.req("DELETE", "/v1/audit", body={}), 405, "DELETE /v1/audit")
    db = sqlite3.connect(os.path.join(S.dir, "store.db"))
    db.execute("UPDATE audit SET token_name = 'someone else' WHERE seq = 2")
    db.commit()
    db.close()
    r = run("server", S.dir, "audit", "verify")
    check(r.returncode == 1 and "entry 2 was changed" in r.stderr, "verify after an edit: %d %s %s" % (r.returncode, r.stdout, r.stderr))
    db = sqlite3.connect(os.path.join(S.dir, "store.db"))
    db.execute("UPDATE audit SET token_name = ? WHERE seq = 2", (entries[1]["who"]["name"],))
    db.commit()
    db.execute("DELETE FROM audit WHERE seq = 3")
    db.commit()
    db.close()
    r = run("server", S.dir, "audit", "verify")
    check(r.returncode == 1 and "entry 3 is missing" in r.stderr, "verify after a removal: %d %s %s" % (r.returncode, r.stdout, r.stderr))


# ---------------------------------------------------------------------------------------------------

def report(name, err):
    if err is None:
        print("PASS " + name, flush=True)
    else:
        print("FAIL " + name, flush=True)
        for line in str(err).splitlines()[:30]:
            print("    " + line[:300], flush=True)


def main():
    global S
    os.makedirs(WORK, exist_ok=True)
    try:
        S = Server("main")
    except Exception as e:
        report("server/starts", e)
        return
    last = [c for c in CASES if c[0].startswith("server/audit/verify")]
    for name, f in [c for c in CASES if c not in last] + last:
        if ONLY and not any(name.startswith(o) for o in ONLY):
            continue
        try:
            f()
            report(name, None)
        except AssertionError as e:
            report(name, e)
        except Exception:
            report(name, traceback.format_exc())
    bad = S.stop()
    report("server/stops-cleanly-on-sigterm", "\n".join(bad) if bad else None)


main()
