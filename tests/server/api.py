#!/usr/bin/env python3
"""The server suite's driver: starts real `flowc server` processes (FLOWC, the sanitized build) on
127.0.0.1 over workspaces made by `flowc server init`, drives every route with urllib, and prints one
line per case: `PASS NAME` or `FAIL NAME` with indented details (tests/lib/97-server.sh counts them).
Each server is stopped with SIGTERM and must exit 0 without a sanitizer report (leaks count).

    FLOWC=build/asan/flowc python3 tests/server/api.py WORKDIR [CASE-PREFIX...]

The store is SQLite (DIR/store.db) unless FLOWC_TEST_PG names a PostgreSQL server ("host=... port=...
user=..."; tests/lib/97-server-pg.sh starts one): then every workspace is `init --db` on a database of
its own, every case runs the same against it, and its names read server-pg/..., server-jobs-pg/....
"""
import hashlib, json, os, re, signal, sqlite3, subprocess, sys, time, traceback, urllib.error, urllib.request

FLOWC = os.environ["FLOWC"]
PG = os.environ.get("FLOWC_TEST_PG")          # the PostgreSQL server for the stores, or None: SQLite
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
PG_SECRET = "pw-S3CRET-store-7c1d"            # every store DSN's password: never in a log, an answer or the workspace
WORK = sys.argv[1]
ONLY = sys.argv[2:]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SAN_RE = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:")
RESULTS = []


def run(*args, **kw):
    return subprocess.run([FLOWC, *args], capture_output=True, text=True, timeout=120, **kw)


def psql(db, *args, check_rc=True):
    """psql on the FLOWC_TEST_PG server's database db: its unaligned output"""
    r = subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-q", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1",
                        "%s dbname=%s" % (PG, db), *args], capture_output=True, text=True, timeout=60)
    if check_rc and r.returncode != 0:
        raise AssertionError("psql %s: %s" % (" ".join(args), r.stderr))
    return r.stdout


class Server:
    """a workspace made by `flowc server init` and a server on it, on a free port. share: another
    Server whose PostgreSQL store this one serves too (a second machine: its own DIR, with a copy of
    secret.key, and no init)"""
    n = 0

    def __init__(self, name, share=None, args=()):
        Server.n += 1
        self.dir = os.path.join(WORK, name)
        self.args = list(args)
        subprocess.run(["rm", "-rf", self.dir])
        self.dsn = None
        if share:
            self.dsn, self.dbname, self.token, self.init_out = share.dsn, share.dbname, share.token, share.init_out
            os.makedirs(self.dir, mode=0o700)
            key = os.path.join(self.dir, "secret.key")
            with open(key, "wb") as f:
                f.write(open(os.path.join(share.dir, "secret.key"), "rb").read())
            os.chmod(key, 0o600)
        else:
            if PG:
                self.dbname = "ws_" + re.sub(r"[^a-z0-9]", "_", name.lower())
                psql("postgres", "-c", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.dbname, "-c", "CREATE DATABASE %s" % self.dbname)
                self.dsn = "%s dbname=%s password=%s" % (PG, self.dbname, PG_SECRET)
            r = run("server", "init", self.dir, *self.db_args())
            if r.returncode != 0:
                raise AssertionError("server init failed: " + r.stderr)
            self.init_out = r.stdout
            self.token = r.stdout.rstrip("\n").split("\n")[-1]
        self.proc = None
        self.start()

    def db_args(self):
        """the arguments that name the store: --db DSN on PostgreSQL"""
        return ["--db", self.dsn] if self.dsn else []

    def sql(self, statement, *params):
        """a statement on the store, as its owner could run it behind the server's back: the rows"""
        if not self.dsn:
            db = sqlite3.connect(os.path.join(self.dir, "store.db"), timeout=10)
            try:
                rows = db.execute(statement, params).fetchall()
                db.commit()
            finally:
                db.close()
            return rows
        for p in params:   # the tests' own values, quoted as literals
            statement = statement.replace("?", "'" + str(p).replace("'", "''") + "'", 1)
        out = psql(self.dbname, "-c", statement)
        return [tuple(int(v) if re.fullmatch(r"-?\d+", v) else v for v in line.split("|")) for line in out.splitlines() if line]

    def store_bytes(self):
        """everything the store holds, as bytes (the file; on PostgreSQL a dump of the database)"""
        if not self.dsn:
            return open(os.path.join(self.dir, "store.db"), "rb").read()
        r = subprocess.run([os.path.join(PG_BIN, "pg_dump"), "-a", "%s dbname=%s" % (PG, self.dbname)], capture_output=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError("pg_dump: " + r.stderr.decode())
        return r.stdout

    def start(self):
        self.log = os.path.join(WORK, "server.%d.log" % Server.n)
        Server.n += 1
        self.proc = subprocess.Popen([FLOWC, "server", self.dir, "--listen", "127.0.0.1:0", *self.db_args(), *self.args],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
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
        if PG_SECRET in log:
            bad.append("the store DSN's password is in the server's log")
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
        if 200 <= st < 300:
            SUCCESS.setdefault((method, path.split("?")[0]), set()).add(st)
        if not raw and hd.get("Content-Type", "").startswith("application/json"):
            b = json.loads(b)
        return st, hd, b


def files_holding(root, secrets, skip=()):
    """the files under root (relative paths) whose bytes hold one of secrets, but for those in skip"""
    hits = []
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            if os.path.relpath(p, root) in skip:
                continue
            try:
                data = open(p, "rb").read()
            except OSError:
                continue
            if any(x.encode() in data for x in secrets):
                hits.append(os.path.relpath(p, root))
    return hits


def cases_into(cases):
    """a @case decorator for a driver's own list of cases"""
    def case(name):
        def deco(f):
            cases.append((name, f))
            return f
        return deco
    return case


SUCCESS = {}   # (method, path) -> the 2xx statuses every driver's requests were answered with


def check_success_codes(server, least):
    """Every success answer seen so far against its route's documented success status in the OpenAPI
    document (the route as the router finds it: the first of routes.def whose pattern matches); fails
    when fewer than `least` routes were seen succeeding."""
    doc = expect(server.req("GET", "/v1/openapi.json", token=None), 200, "GET /v1/openapi.json")
    routes = re.findall(r'^ROUTE\("(\w+)",\s*"([^"]+)"', open(os.path.join(ROOT, "server", "routes.def")).read(), re.M)
    def pattern(p):   # {name}: one segment; a last {name...}: the rest
        return re.compile("^" + "/".join(".+" if g.endswith("...}") else "[^/]+" if g.startswith("{") else re.escape(g) for g in p.split("/")) + "$")
    pats = [(m, p, pattern(p)) for m, p in routes]
    covered, bad = set(), []
    for (m, path), sts in sorted(SUCCESS.items()):
        hit = [p for rm, p, rx in pats if rm == ("GET" if m == "HEAD" else m) and rx.match(path)]
        if not hit:
            continue
        documented = [c for c in doc["paths"][hit[0]][m.lower()]["responses"] if c.startswith("2")]
        covered.add((m, hit[0]))
        for st in sts:
            if str(st) not in documented and not (200 <= st < 300 and "2XX" in documented):
                bad.append("%s %s (%s %s) answered %d, documented %s" % (m, path, m, hit[0], st, documented))
    check(not bad, "\n".join(bad))
    check(len(covered) >= least, "only %d routes were seen succeeding: %s" % (len(covered), sorted(covered)))


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def until(secs, what, fn):
    """polls fn (every 0.1 s) until it returns a true value, which it returns; fails after secs"""
    last = None
    for _ in range(int(secs * 10)):
        last = fn()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError("%s: not within %d s (last: %s)" % (what, secs, str(last)[:400]))


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
    check(S.token.encode() not in S.store_bytes(), "the token's secret is in the store")
    r = run("server", "init", S.dir, *S.db_args())
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


@case("server/503-when-the-store-cannot-check-the-token")
def _():
    # the tokens table gone behind the server's back (SQLite: a cached statement fails to prepare
    # again): not a 401 that calls a good token bad, but 503 `store`; back again, 200
    if S.dsn:
        return   # (PostgreSQL keeps the server's prepared statement on the renamed table: nothing fails)
    S.sql("ALTER TABLE tokens RENAME TO tokens_away")
    try:
        st, hd, b = S.req("GET", "/v1/integrations")
        check(st == 503 and b["errors"][0]["code"] == "store" and "no such table: tokens" in b["errors"][0]["message"],
              "the store could not be read: %s %s" % (st, b))
    finally:
        S.sql("ALTER TABLE tokens_away RENAME TO tokens")
    expect(S.req("GET", "/v1/integrations"), 200, "the store back")


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
    schemas = doc["components"]["schemas"]
    for m, p in routes:   # a body's schema: every PUT and PATCH takes one; each $ref resolves
        rb = doc["paths"][p][m.lower()].get("requestBody")
        check(rb or m not in ("PUT", "PATCH"), "%s %s documents no request body" % (m, p))
        for media, c in (rb or {}).get("content", {}).items():
            ref = c["schema"].get("$ref", "")
            check(c["schema"] and (not ref or ref.split("/")[-1] in schemas), "%s %s: %s schema %s" % (m, p, media, c["schema"]))
    check(doc["paths"]["/v1/tokens"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/TOKEN" and
          schemas["TOKEN"]["required"] == ["name", "scope"], "POST /v1/tokens' body: %s" % schemas.get("TOKEN"))
    for m, p in routes:   # the router knows every one: never `no route`
        path = re.sub(r"\{[^}]*\}", "nosuch", p)
        st, hd, b = S.req(m, path, body={} if m in ("POST", "PUT", "PATCH") else None)
        check(not (st == 404 and "no route" in json.dumps(b)), "%s %s: the router does not know it" % (m, path))
        op = doc["paths"][p][m.lower()]
        check(op.get("summary") and str(st) in op["responses"] or st in (401, 403, 501),
              "%s %s answered %s, not in its documented responses %s" % (m, p, st, sorted(op["responses"])))


@case("server/openapi/success-codes-as-answered")
def _():
    check_success_codes(S, 25)


@case("server/metrics")
def _():
    st, hd, b = S.req("GET", "/metrics", token=None, raw=True)
    t = b.decode()
    check(st == 200 and hd.get("Content-Type", "").startswith("text/plain"), "%s %s" % (st, hd.get("Content-Type")))
    check(re.search(r'flowc_server_requests_total\{method="GET",route="/healthz",code="2xx"\} [1-9]', t), t[:1500])
    check(re.search(r'flowc_server_requests_total\{method="GET",route="/v1/integrations",code="4xx"\} [1-9]', t), t[:1500])


@case("server/audit/verify-catches-an-edited-row")
def _():
    r = run("server", S.dir, "audit", "verify", *S.db_args())
    check(r.returncode == 0 and "intact" in r.stdout, "verify before: %d %s %s" % (r.returncode, r.stdout, r.stderr))
    entries = expect(S.req("GET", "/v1/audit"), 200, "GET /v1/audit")
    check(len(entries) >= 5 and all(re.fullmatch(r"[0-9a-f]{64}", e["hash"]) for e in entries), "entries: %d" % len(entries))
    check(S.token not in json.dumps(entries), "the audit log holds a token's secret")
    expect(S.req("PUT", "/v1/audit", body={}), 405, "PUT /v1/audit")
    expect(S.req("DELETE", "/v1/audit", body={}), 405, "DELETE /v1/audit")
    S.sql("UPDATE audit SET token_name = 'someone else' WHERE seq = 2")
    r = run("server", S.dir, "audit", "verify", *S.db_args())
    check(r.returncode == 1 and "entry 2 was changed" in r.stderr, "verify after an edit: %d %s %s" % (r.returncode, r.stdout, r.stderr))
    S.sql("UPDATE audit SET token_name = ? WHERE seq = 2", entries[1]["who"]["name"])
    S.sql("DELETE FROM audit WHERE seq = 3")
    r = run("server", S.dir, "audit", "verify", *S.db_args())
    check(r.returncode == 1 and "entry 3 is missing" in r.stderr, "verify after a removal: %d %s %s" % (r.returncode, r.stdout, r.stderr))


# ---------------------------------------------------------------------------------------------------
# 2. integrations, flows, exports and imports

SHOP = None


def shop():
    global SHOP
    if SHOP is None:
        SHOP = flow_file("shop.flow")
    return SHOP


def ensure_shop():
    st, hd, b = S.req("GET", "/v1/integrations/shop")
    if st == 404:
        expect(S.req("POST", "/v1/integrations", body=shop()), 201, "POST /v1/integrations")


@case("server/integrations/create-from-text")
def _():
    b = expect(S.req("POST", "/v1/integrations", body=shop()), 201, "POST /v1/integrations")
    check(b["id"] == "shop" and b["revision"] >= 1 and b["version"] == "1.0.0", str(b)[:400])
    check(b["flows"] == ["shop.orders", "shop.archive"] and b["exports"] == ["shop.orders.orders", "shop.archive.orders"], str(b)[:600])
    check(b["source"] == shop(), "the source differs from what was posted")
    expect(S.req("POST", "/v1/integrations", body=shop()), 409, "the same integration again")
    lst = expect(S.req("GET", "/v1/integrations"), 200, "GET /v1/integrations")
    check([i["id"] for i in lst] == ["shop"] and "source" not in lst[0], str(lst)[:300])


@case("server/integrations/422-with-the-diagnostics")
def _():
    bad = shop().replace('integration "shop"', 'integration "broken"').replace("record.total > 0", "record.totl > 0")
    b = expect(S.req("POST", "/v1/integrations", body=bad), 422, "a misspelt field")
    e = b["errors"][0]
    line = bad[:bad.index("record.totl")].count("\n") + 1
    check(e["code"] == "invalid_flow" and e["line"] == line and e["column"] > 1 and "totl" in e["message"] and "total" in e["message"],
          "the diagnostic: %s (expected line %d)" % (e, line))
    b = expect(S.req("POST", "/v1/integrations", body="flow {"), 422, "a syntax error")
    check(b["errors"][0]["line"] == 1, str(b))
    b = expect(S.req("POST", "/v1/integrations", body=shop().replace('integration "shop" version "1.0.0"\n', "")), 422, "no integration name")
    check(b["errors"][0]["field"] == "integration", str(b))
    st, hd, b = S.req("GET", "/v1/integrations/broken")
    check(st == 404, "a broken integration was stored: %s" % st)
    expect(S.req("POST", "/v1/integrations", body=b"\xff\xfe", ctype="text/plain"), 400, "not UTF-8")
    expect(S.req("POST", "/v1/integrations", body=b"x", ctype="image/png"), 415, "image/png")


@case("server/integrations/create-from-a-package")
def _():
    d = os.path.join(WORK, "pkg")
    os.makedirs(d, exist_ok=True)
    src = shop().replace('integration "shop"', 'integration "pkgshop"')
    open(os.path.join(d, "pkgshop.flow"), "w").write(src)
    r = subprocess.run([FLOWC, "package", os.path.join(d, "pkgshop.flow"), "-o", os.path.join(d, "p.flowpkg")], capture_output=True, text=True)
    check(r.returncode == 0, "flowc package: " + r.stderr)
    data = open(os.path.join(d, "p.flowpkg"), "rb").read()
    b = expect(S.req("POST", "/v1/integrations", body=data, ctype="application/gzip"), 201, "POST a package")
    check(b["id"] == "pkgshop" and b["source"] == src, str(b)[:300])
    tampered = bytearray(data)
    tampered[len(tampered) // 2] ^= 0xff
    b = expect(S.req("POST", "/v1/integrations", body=bytes(tampered), ctype="application/gzip"), 422, "a tampered package")
    check(b["errors"][0]["code"] == "invalid_package", str(b))
    expect(S.req("DELETE", "/v1/integrations/pkgshop"), 204, "DELETE")


def wait_job(jid, secs=120):
    for _ in range(secs * 10):
        b = expect(S.req("GET", "/v1/jobs/" + jid), 200, "GET /v1/jobs/" + jid)
        if b["status"] not in ("queued", "running"):
            return b
        time.sleep(0.1)
    raise AssertionError("job %s did not end in %d s" % (jid, secs))


@case("server/integrations/a-package-with-hook-and-data-files")
def _():
    d = os.path.join(HERE, "pkghooks")
    pkg = os.path.join(WORK, "pkghooks.flowpkg")
    r = subprocess.run([FLOWC, "package", os.path.join(d, "pkghooks.flow"), "-o", pkg], capture_output=True, text=True)
    check(r.returncode == 0, "flowc package: " + r.stderr)
    b = expect(S.req("POST", "/v1/integrations", body=open(pkg, "rb").read(), ctype="application/gzip"), 201, "POST the package")
    want = [{"path": "fixtures/items.json", "role": "data"}, {"path": "hooks/odd.c", "role": "hook"}]
    check([{k: f[k] for k in ("path", "role")} for f in b.get("files", [])] == want, "files: %s" % b.get("files"))
    hook = open(os.path.join(d, "hooks/odd.c"), "rb").read()
    check(b["files"][1]["size"] == len(hook) and b["files"][1]["sha256"] == hashlib.sha256(hook).hexdigest(), str(b["files"]))
    data = os.path.join(S.dir, "work/pkghooks/data")
    os.makedirs(data, exist_ok=True)
    open(os.path.join(data, "items.ndjson"), "w").write("".join('{"id": %d, "name": "n%d"}\n' % (i, i) for i in range(1, 6)))

    def run_copy():
        j = wait_job(expect(S.req("POST", "/v1/flows/pkghooks.copy/run"), 201, "run")["id"])
        check(j["status"] == "completed" and (j["exported"], j["ignored"]) == (5, 3) and j["imported"] == {"out": 2}, "the hook did not run: %s" % j)
    run_copy()
    # the text alone changes: the files stay
    text = open(os.path.join(d, "pkghooks.flow")).read()
    b = expect(S.req("PUT", "/v1/integrations/pkghooks", body=text.replace('"out.ndjson"', '"out2.ndjson"')), 200, "PUT the text")
    check([f["path"] for f in b["files"]] == ["fixtures/items.json", "hooks/odd.c"], "after PUT: %s" % b["files"])
    run_copy()
    check(os.path.exists(os.path.join(data, "out2.ndjson")), "the changed text did not run")
    # without the hook file the text does not check: a package that leaves it out is refused by its own manifest
    b = expect(S.req("PUT", "/v1/integrations/pkghooks", body=text.replace("hooks/odd.c", "hooks/gone.c")), 422, "a hook that is not there")
    check("gone.c" in b["errors"][0]["message"] and b["errors"][0]["file"] == "pkghooks.flow", str(b))
    c = expect(S.req("POST", "/v1/integrations/pkghooks/clone", body={"name": "pkghooks2"}), 201, "clone")
    check([f["path"] for f in c["files"]] == ["fixtures/items.json", "hooks/odd.c"], "the clone's files: %s" % c["files"])
    b = expect(S.req("POST", "/v1/integrations/pkghooks/revert", body={"revision": 1}), 200, "revert")
    check(len(b["files"]) == 2, "after revert: %s" % b["files"])
    b = expect(S.req("PUT", "/v1/integrations/pkghooks", body=open(pkg, "rb").read(), ctype="application/gzip"), 200, "PUT the package again")
    check(len(b["files"]) == 2, str(b.get("files")))
    for i in ("pkghooks", "pkghooks2"):
        expect(S.req("DELETE", "/v1/integrations/" + i), 204, "DELETE " + i)
    check(not os.path.exists(os.path.join(S.dir, "files/pkghooks")), "the deleted integration's files stay on disk")


@case("server/integrations/get-put-delete")
def _():
    ensure_shop()
    b = expect(S.req("GET", "/v1/integrations/shop"), 200, "GET")
    rev = b["revision"]
    changed = shop().replace('path = "/deals"', 'path = "/v2/deals"')
    b = expect(S.req("PUT", "/v1/integrations/shop", body=changed), 200, "PUT")
    check(b["revision"] == rev + 1 and '"/v2/deals"' in b["source"], "revision %s" % b["revision"])
    b = expect(S.req("PUT", "/v1/integrations/shop", body=changed), 200, "PUT the same text")
    check(b["revision"] == rev + 1, "an unchanged PUT made a revision: %s" % b["revision"])
    b = expect(S.req("PUT", "/v1/integrations/shop", body=changed.replace("record.total", "record.nope")), 422, "PUT a broken text")
    b = expect(S.req("PUT", "/v1/integrations/shop", body=changed.replace('"shop"', '"other"', 1)), 422, "PUT under another name")
    check(b["errors"][0]["field"] == "integration", str(b))
    check(expect(S.req("GET", "/v1/integrations/shop"), 200, "GET")["revision"] == rev + 1, "a refused PUT moved the revision")
    ups = [a for a in expect(S.req("GET", "/v1/integrations/shop/audit"), 200, "audit") if a["action"] == "update"]
    check(ups and any(c["address"].endswith("path") and '"/v2/deals"' in (c["after"] or "") for c in ups[-1]["detail"]["changes"]),
          "the audit entry's diff: %s" % (ups[-1]["detail"] if ups else None))
    expect(S.req("PUT", "/v1/integrations/shop", body=shop()), 200, "PUT back")
    expect(S.req("PUT", "/v1/integrations/nope", body=shop()), 404, "PUT an unknown integration")
    expect(S.req("DELETE", "/v1/integrations/nope"), 404, "DELETE an unknown integration")
    expect(S.req("POST", "/v1/integrations", body=shop().replace('"shop"', '"gone"', 1)), 201, "POST gone")
    st, hd, b = S.req("DELETE", "/v1/integrations/gone")
    check(st == 204 and not b, "DELETE: %s %r" % (st, b))
    expect(S.req("GET", "/v1/integrations/gone"), 404, "GET after DELETE")
    expect(S.req("GET", "/v1/flows/gone.orders"), 404, "a flow of a deleted integration")


@case("server/integrations/clone")
def _():
    ensure_shop()
    b = expect(S.req("POST", "/v1/integrations/shop/clone", body={"name": "shop-copy"}), 201, "clone")
    check(b["id"] == "shop-copy" and b["cloned_from"] == "shop" and 'integration "shop-copy"' in b["source"], str(b)[:300])
    check(b["source"].replace('"shop-copy"', '"shop"', 1) == expect(S.req("GET", "/v1/integrations/shop"), 200, "GET")["source"],
          "the clone differs in more than its name")
    expect(S.req("POST", "/v1/integrations/shop/clone", body={"name": "shop-copy"}), 409, "clone onto an existing name")
    expect(S.req("POST", "/v1/integrations/shop/clone", body={"name": "bad name!"}), 400, "clone to a bad name")
    expect(S.req("POST", "/v1/integrations/nope/clone", body={"name": "x"}), 404, "clone of nothing")


@case("server/flows-exports-imports/json-views")
def _():
    ensure_shop()
    f = expect(S.req("GET", "/v1/flows/shop.orders"), 200, "GET flow")
    check(f["id"] == "shop.orders" and f["integration"] == "shop" and f["schedule"] == 'cron("*/15 * * * *")', str(f)[:400])
    check([s["kind"] for s in f["steps"]] == ["export", "filter", "import"] and f["steps"][2]["id"] == "shop.orders.deals", str(f["steps"]))
    check(f["source"].startswith("flow orders {") and f["source"].endswith("}"), f["source"][:100])
    e = expect(S.req("GET", "/v1/exports/shop.orders.orders"), 200, "GET export")
    check(e["type"] == "Order" and e["connection"] == "shop.files" and e["settings"] == {"file": '"orders.ndjson"', "format": "ndjson"}, str(e))
    check(e["record_type"], str(e))
    i = expect(S.req("GET", "/v1/imports/shop.orders.deals"), 200, "GET import")
    check(i["connection"] == "shop.crm" and i["settings"]["path"] == '"/deals"' and i["map"]["email"] == "record.email", str(i))
    flows = expect(S.req("GET", "/v1/flows"), 200, "GET /v1/flows")
    ids = [x["id"] for x in flows]
    check("shop.orders" in ids and "shop.archive" in ids and ids == sorted(ids), str(ids))
    ex = [x["id"] for x in expect(S.req("GET", "/v1/exports"), 200, "GET /v1/exports")]
    im = [x["id"] for x in expect(S.req("GET", "/v1/imports"), 200, "GET /v1/imports")]
    check("shop.orders.orders" in ex and "shop.archive.copy" in im and "shop.orders.deals" in im, "%s %s" % (ex, im))
    for p in ("/v1/flows/shop.nope", "/v1/flows/nope.orders", "/v1/flows/shop", "/v1/exports/shop.orders.deals", "/v1/imports/shop.orders",
              "/v1/imports/shop.orders.deals.x"):
        expect(S.req("GET", p), 404, "GET " + p)


@case("server/secrets-never-in-a-view")
def _():
    ensure_shop()
    src = shop().replace('integration "shop"', 'integration "secretive"').replace('bearer(env("CRM_TOKEN"))', 'bearer("s3cr3t-literal")')
    b = expect(S.req("POST", "/v1/integrations", body=src), 201, "POST")
    check("s3cr3t-literal" not in json.dumps(b), "the secret in the integration's view")
    for p in ("/v1/integrations/secretive", "/v1/imports/secretive.orders.deals", "/v1/flows/secretive.orders", "/v1/audit"):
        check("s3cr3t-literal" not in json.dumps(expect(S.req("GET", p), 200, p)), "the secret in GET " + p)
    expect(S.req("DELETE", "/v1/integrations/secretive"), 204, "DELETE")


@case("server/scope/read-matrix")
def _():
    ensure_shop()
    expect(S.req("GET", "/v1/integrations/shop-copy"), 200, "the clone exists")
    tok = {}
    for name, scope in (("flow", {"flows": ["shop.orders"]}), ("integ", {"integrations": ["shop-copy"]}),
                        ("import", {"imports": ["shop.archive.copy"]})):
        tok[name] = expect(S.req("POST", "/v1/tokens", body={"name": name, "scope": scope}), 201, "POST /v1/tokens")["token"]
    matrix = [
        ("flow", "/v1/flows/shop.orders", 200), ("flow", "/v1/exports/shop.orders.orders", 200), ("flow", "/v1/imports/shop.orders.deals", 200),
        ("flow", "/v1/flows/shop.archive", 403), ("flow", "/v1/imports/shop.archive.copy", 403), ("flow", "/v1/integrations/shop", 403),
        ("flow", "/v1/flows/shop-copy.orders", 403),
        ("integ", "/v1/integrations/shop-copy", 200), ("integ", "/v1/flows/shop-copy.orders", 200),
        ("integ", "/v1/imports/shop-copy.archive.copy", 200), ("integ", "/v1/integrations/shop", 403), ("integ", "/v1/flows/shop.orders", 403),
        ("import", "/v1/imports/shop.archive.copy", 200), ("import", "/v1/flows/shop.archive", 403), ("import", "/v1/exports/shop.archive.orders", 403),
    ]
    bad = []
    for who, path, want in matrix:
        st, hd, b = S.req("GET", path, token=tok[who])
        if st != want:
            bad.append("%s GET %s: %s, expected %s" % (who, path, st, want))
    lists = {"flow": (["shop.orders"], ["shop.orders.deals"]), "integ": (["shop-copy.archive", "shop-copy.orders"],
             ["shop-copy.archive.copy", "shop-copy.orders.deals"]), "import": ([], ["shop.archive.copy"])}
    for who, (fl, im) in lists.items():
        got = [x["id"] for x in expect(S.req("GET", "/v1/flows", token=tok[who]), 200, "flows")]
        if got != fl:
            bad.append("%s GET /v1/flows: %s, expected %s" % (who, got, fl))
        got = [x["id"] for x in expect(S.req("GET", "/v1/imports", token=tok[who]), 200, "imports")]
        if got != im:
            bad.append("%s GET /v1/imports: %s, expected %s" % (who, got, im))
    got = [x["id"] for x in expect(S.req("GET", "/v1/integrations", token=tok["integ"]), 200, "integrations")]
    if got != ["shop-copy"]:
        bad.append("integ GET /v1/integrations: %s" % got)
    # writes need a full token, even inside the scope
    for m, p, body in (("PUT", "/v1/integrations/shop-copy", shop()), ("DELETE", "/v1/integrations/shop-copy", None),
                       ("POST", "/v1/integrations", shop()), ("POST", "/v1/integrations/shop-copy/clone", {"name": "zz"})):
        st, hd, b = S.req(m, p, body=body, token=tok["integ"])
        if st != 403:
            bad.append("integ %s %s: %s, expected 403" % (m, p, st))
    check(not bad, "\n".join(bad))


# ---------------------------------------------------------------------------------------------------
# 5. splicing a flow or an import, PATCH, DELETE and clone of a flow

def fresh(name):
    src = shop().replace('integration "shop"', 'integration "%s"' % name)
    expect(S.req("POST", "/v1/integrations", body=src), 201, "POST " + name)
    return src


@case("server/splice/put-an-import-and-a-flow")
def _():
    src = fresh("splice")
    imp = 'import deals into crm {\n  method = PUT\n  path = "/deals/v2"\n  map {\n    external_id = "order-{{record.id}}"\n  }\n}\n'
    b = expect(S.req("PUT", "/v1/imports/splice.orders.deals", body=imp), 200, "PUT import")
    check(b["settings"] == {"method": "PUT", "path": '"/deals/v2"'} and list(b["map"]) == ["external_id"], str(b))
    whole = expect(S.req("GET", "/v1/integrations/splice"), 200, "GET")["source"]
    want = src.replace('    method = POST\n    path = "/deals"\n    map {\n      external_id = "order-{{record.id}}"\n      email = record.email\n    }',
                       '    method = PUT\n    path = "/deals/v2"\n    map {\n      external_id = "order-{{record.id}}"\n    }')
    check(whole == want, "the spliced text:\n" + whole)
    r = subprocess.run([FLOWC, "fmt", "--check", "-"], input=whole, capture_output=True, text=True)
    check(r.returncode == 0, "the spliced text is not in fmt layout: " + r.stdout + r.stderr)
    changes = [a for a in expect(S.req("GET", "/v1/imports/splice.orders.deals/audit"), 200, "audit")][-1]["detail"]["changes"]
    check(sorted(c["address"].split(" \u203a ")[-1] for c in changes) == ["email", "method", "path"], str(changes))
    fl = 'flow archive {\n  schedule = every(1h)\n  export orders: Order from files { file = "orders.ndjson", format = ndjson }\n  import copy into files {\n    file = "copy2.ndjson"\n    map {\n      id = record.id\n    }\n  }\n}'
    b = expect(S.req("PUT", "/v1/flows/splice.archive", body=fl), 200, "PUT flow")
    check(b["schedule"] == "every(1h)" and b["source"] == fl, str(b))
    b = expect(S.req("PUT", "/v1/imports/splice.orders.deals", body=imp.replace("record.id", "record.idd")), 422, "PUT a broken import")
    check("idd" in b["errors"][0]["message"] and b["errors"][0]["line"] > 1, str(b))
    b = expect(S.req("PUT", "/v1/imports/splice.orders.deals", body=imp.replace("import deals", "import offers")), 422, "PUT under another name")
    check(b["errors"][0]["field"] == "name", str(b))
    expect(S.req("PUT", "/v1/flows/splice.archive", body=fl + "\n\n" + fl.replace("flow archive", "flow other")), 422, "PUT two flows")
    expect(S.req("PUT", "/v1/imports/splice.orders.nope", body=imp), 404, "PUT an unknown import")
    check(expect(S.req("GET", "/v1/integrations/splice"), 200, "GET")["revision"] == 3, "a refused PUT made a revision")


@case("server/splice/patch-a-flow-and-an-import")
def _():
    fresh("patchy")
    b = expect(S.req("PATCH", "/v1/flows/patchy.orders", body={"schedule": 'every(30m)'}), 200, "PATCH schedule")
    check(b["schedule"] == "every(30m)", str(b))
    b = expect(S.req("PATCH", "/v1/flows/patchy.archive", body={"schedule": 'cron("0 3 * * *")'}), 200, "PATCH a schedule that was not there")
    check(b["schedule"] == 'cron("0 3 * * *")' and b["source"].startswith('flow archive {\n  schedule = cron("0 3 * * *")\n  export'), b["source"])
    b = expect(S.req("PATCH", "/v1/flows/patchy.archive", body={"schedule": None}), 200, "PATCH schedule null")
    check(b["schedule"] is None and "schedule" not in b["source"], b["source"])
    b = expect(S.req("PATCH", "/v1/imports/patchy.orders.deals", body={"settings": {"path": '"/v9/deals"', "concurrency": 4}}), 200, "PATCH settings")
    check(b["settings"].get("path") == '"/v9/deals"' and b["settings"].get("concurrency") == "4", str(b["settings"]))
    b = expect(S.req("PATCH", "/v1/exports/patchy.orders.orders", body={"settings": {"format": None}}), 200, "PATCH remove an inline setting")
    check(b["settings"] == {"file": '"orders.ndjson"'} and b["source"] == 'export orders: Order from files { file = "orders.ndjson" }', b["source"])
    b = expect(S.req("PATCH", "/v1/exports/patchy.orders.orders", body={"settings": {"format": "ndjson"}}), 200, "PATCH add an inline setting")
    check(b["source"] == 'export orders: Order from files { format = ndjson, file = "orders.ndjson" }', b["source"])
    expect(S.req("PATCH", "/v1/imports/patchy.orders.deals", body={"settings": {"path": "nope("}}), 422, "PATCH a bad value")
    b = expect(S.req("PATCH", "/v1/imports/patchy.orders.deals", body={"settings": {"colour": '"red"'}}), 422, "PATCH an unknown setting")
    check("colour" in b["errors"][0]["message"], str(b))
    expect(S.req("PATCH", "/v1/imports/patchy.orders.deals", body={"disabled": True}), 400, "PATCH disabled on an import")
    expect(S.req("PATCH", "/v1/flows/patchy.orders", body={"settings": {"x": [1]}}), 400, "PATCH a list")
    b = expect(S.req("PATCH", "/v1/flows/patchy.orders", body={"disabled": True}), 200, "PATCH disabled")
    check(b["disabled"] is True, str(b))
    check([f["disabled"] for f in expect(S.req("GET", "/v1/flows"), 200, "flows") if f["id"] == "patchy.orders"] == [True], "list")
    check(expect(S.req("PATCH", "/v1/flows/patchy.orders", body={"disabled": False}), 200, "enable")["disabled"] is False, "enable")
    acts = [a["action"] for a in expect(S.req("GET", "/v1/flows/patchy.orders/audit"), 200, "audit")]
    check(acts.count("disable") == 1 and acts.count("enable") == 1, str(acts))


@case("server/splice/delete-and-clone-a-flow")
def _():
    fresh("trim")
    b = expect(S.req("POST", "/v1/flows/trim.orders/clone", body={"name": "orders_eu"}), 201, "clone a flow")
    check(b["id"] == "trim.orders_eu" and b["schedule"] == "manual()" and b["notes"], str(b)[:400])
    expect(S.req("POST", "/v1/flows/trim.orders/clone", body={"name": "archive"}), 409, "clone onto an existing flow")
    expect(S.req("POST", "/v1/flows/trim.orders/clone", body={"name": "a-b"}), 400, "clone to a bad name")
    st, hd, body = S.req("DELETE", "/v1/flows/trim.orders_eu")
    check(st == 204, "DELETE a flow: %s %s" % (st, body))
    expect(S.req("GET", "/v1/flows/trim.orders_eu"), 404, "GET a deleted flow")
    expect(S.req("DELETE", "/v1/exports/trim.archive.orders"), 422, "DELETE an export its flow needs")
    expect(S.req("DELETE", "/v1/imports/trim.archive.copy"), 204, "DELETE an import")
    src = expect(S.req("GET", "/v1/integrations/trim"), 200, "GET")["source"]
    check("import copy " not in src and "flow orders_eu" not in src, src)
    r = subprocess.run([FLOWC, "fmt", "--check", "-"], input=src, capture_output=True, text=True)
    check(r.returncode == 0, "after the deletes the text is not in fmt layout:\n" + src)


# ---------------------------------------------------------------------------------------------------
# 4. revisions, snapshots, diff, revert, pull

@case("server/connections/put-and-delete-by-text")
def _():
    src = fresh("conns").replace("connection files = file", 'connection spare = file { dir = "spare" }\nconnection files = file')
    expect(S.req("PUT", "/v1/integrations/conns", body=src), 200, "add a spare connection")
    b = expect(S.req("DELETE", "/v1/connections/conns.crm"), 409, "delete a connection a step uses")
    check(b.get("used_by") == ["conns.orders.deals"] and "conns.orders.deals" in b["errors"][0]["message"], str(b))
    b = expect(S.req("DELETE", "/v1/connections/conns.files"), 409, "delete one both flows use")
    check(b["used_by"] == ["conns.orders.orders", "conns.archive.orders", "conns.archive.copy"], str(b))
    new = 'connection crm = http {\n  base_url = "http://127.0.0.1:10"\n  auth = bearer(env("CRM_TOKEN"))\n}'
    b = expect(S.req("PUT", "/v1/connections/conns.crm", body=new), 200, "PUT a connection's text")
    check(b["id"] == "conns.crm" and b["settings"]["base_url"] == '"http://127.0.0.1:10"' and b["settings"]["auth"] == "<redacted>", str(b))
    text = expect(S.req("GET", "/v1/integrations/conns"), 200, "GET")["source"]
    check(new in text and 'base_url = "http://127.0.0.1:9"' not in text and "flow orders {" in text, text[:800])
    expect(S.req("PUT", "/v1/connections/conns.crm", body=new.replace("crm", "crm2", 1)), 422, "another name")
    expect(S.req("PUT", "/v1/connections/conns.crm", body=new + '\nconnection more = file { dir = "m" }'), 422, "two connections")
    b = expect(S.req("PUT", "/v1/connections/conns.crm", body=new.replace("http {", "http { nope = 1")), 422, "a setting http does not take")
    check(b["errors"][0].get("line"), str(b))
    expect(S.req("DELETE", "/v1/connections/conns.spare"), 204, "delete an unused connection")
    text = expect(S.req("GET", "/v1/integrations/conns"), 200, "GET")["source"]
    check("spare" not in text and "connection files = file" in text, text[:600])
    expect(S.req("GET", "/v1/connections/conns.spare"), 404, "the deleted connection")
    expect(S.req("DELETE", "/v1/connections/conns.spare"), 404, "delete it again")
    expect(S.req("DELETE", "/v1/connections/nope.crm"), 404, "no integration")
    revs = expect(S.req("GET", "/v1/integrations/conns/revisions"), 200, "revisions")
    check([r["kind"] for r in revs] == ["create", "update", "update", "update"], str(revs))
    acts = [(e["action"], e["resource"]) for e in expect(S.req("GET", "/v1/audit?resource=conns.crm"), 200, "audit")]
    check(("update", "conns.crm") in acts, str(acts))


@case("server/revisions/snapshot-diff-revert")
def _():
    src = shop().replace('integration "shop"', 'integration "revs"')
    expect(S.req("POST", "/v1/integrations", body=src), 201, "POST")
    v2 = src.replace('path = "/deals"', 'path = "/v2/deals"')
    expect(S.req("PUT", "/v1/integrations/revs", body=v2), 200, "PUT v2")
    snap = expect(S.req("POST", "/v1/integrations/revs/snapshots", body={"message": "before the filter change"}), 201, "snapshot")
    check(snap["revision"] == 3 and snap["kind"] == "snapshot" and snap["message"] == "before the filter change", str(snap))
    expect(S.req("POST", "/v1/integrations/revs/snapshots", body={}), 400, "a snapshot without a message")
    v4 = v2.replace("record.total > 0", "record.total > 10")
    expect(S.req("PUT", "/v1/integrations/revs", body=v4), 200, "PUT v4")
    revs = expect(S.req("GET", "/v1/integrations/revs/revisions"), 200, "revisions")
    check([(r["revision"], r["kind"]) for r in revs] == [(1, "create"), (2, "update"), (3, "snapshot"), (4, "update")], str(revs))
    r2 = expect(S.req("GET", "/v1/integrations/revs/revisions/2"), 200, "revision 2")
    check(r2["previous"] == 1 and [c["address"] for c in r2["changes"]] == ["flow orders \u203a import deals \u203a path"] and
          r2["changes"][0]["action"] == "changed" and r2["changes"][0]["after"] == 'path = "/v2/deals"', str(r2))
    check(expect(S.req("GET", "/v1/integrations/revs/revisions/3"), 200, "revision 3")["changes"] == [], "a snapshot changes nothing")
    expect(S.req("GET", "/v1/integrations/revs/revisions/9"), 404, "revision 9")
    expect(S.req("GET", "/v1/integrations/revs/revisions/x"), 404, "revision x")
    d = expect(S.req("GET", "/v1/integrations/revs/diff?from=1&to=4"), 200, "diff 1..4")
    check(sorted(c["address"].split(" \u203a ")[-1] for c in d["changes"]) == ["filter", "path"], str(d))
    d = expect(S.req("GET", "/v1/integrations/revs/diff"), 200, "diff of the head")
    check(d["from_revision"] == 3 and d["to_revision"] == 4 and len(d["changes"]) == 1, str(d))
    expect(S.req("GET", "/v1/integrations/revs/diff?from=1&to=99"), 404, "diff to nothing")
    expect(S.req("GET", "/v1/integrations/revs/diff?from=x"), 400, "diff from=x")
    b = expect(S.req("POST", "/v1/integrations/revs/revert", body={"revision": 1}), 200, "revert to 1")
    check(b["revision"] == 5 and b["source"] == src, "revision %s" % b["revision"])
    check(expect(S.req("GET", "/v1/integrations/revs/diff?from=1&to=5"), 200, "diff 1..5")["changes"] == [], "revert is not equal to 1")
    expect(S.req("POST", "/v1/integrations/revs/revert", body={"revision": 77}), 404, "revert to nothing")
    expect(S.req("POST", "/v1/integrations/revs/revert", body={"revision": "1"}), 400, "revert to a string")
    acts = [a["action"] for a in expect(S.req("GET", "/v1/audit?resource=revs"), 200, "audit")]
    check(acts == ["create", "update", "snapshot", "update", "revert"], str(acts))
    expect(S.req("GET", "/v1/integrations/nope/revisions"), 404, "revisions of nothing")


@case("server/revisions/diff-against-a-clone-and-pull")
def _():
    src = shop().replace('integration "shop"', 'integration "up"')
    expect(S.req("POST", "/v1/integrations", body=src), 201, "POST")
    expect(S.req("POST", "/v1/integrations/up/clone", body={"name": "down"}), 201, "clone")
    down = expect(S.req("GET", "/v1/integrations/down"), 200, "GET down")["source"]
    down2 = down.replace('path = "/deals"', 'path = "/v3/deals"')
    expect(S.req("PUT", "/v1/integrations/down", body=down2), 200, "change the clone")
    d = expect(S.req("GET", "/v1/integrations/up/diff?other=down"), 200, "diff against the clone")
    addrs = sorted(c["address"] for c in d["changes"])
    check(d["from"] == "down" and "flow orders \u203a import deals \u203a path" in addrs, str(d)[:600])
    # the origin changes something else: the pull takes the clone's change and keeps the origin's
    up2 = src.replace("record.total > 0", "record.total >= 1")
    expect(S.req("PUT", "/v1/integrations/up", body=up2), 200, "change the origin")
    b = expect(S.req("POST", "/v1/integrations/up/pull", body={"from": "down"}), 200, "pull")
    check('path = "/v3/deals"' in b["source"] and "record.total >= 1" in b["source"] and 'integration "up"' in b["source"], b["source"])
    pulls = [a for a in expect(S.req("GET", "/v1/audit?resource=up"), 200, "audit") if a["action"] == "pull"]
    check(len(pulls) == 1 and pulls[0]["detail"]["from"] == "down", str(pulls))
    # the other way: the clone pulls the origin's filter
    b = expect(S.req("POST", "/v1/integrations/down/pull", body={"from": "up"}), 200, "pull into the clone")
    check("record.total >= 1" in b["source"] and 'integration "down"' in b["source"], b["source"])
    # both change the same setting: 409 and nothing changes
    head = expect(S.req("GET", "/v1/integrations/up"), 200, "GET up")
    expect(S.req("PUT", "/v1/integrations/up", body=head["source"].replace('"/v3/deals"', '"/up/deals"')), 200, "origin edits path")
    cur = expect(S.req("GET", "/v1/integrations/down"), 200, "GET down")["source"]
    expect(S.req("PUT", "/v1/integrations/down", body=cur.replace('"/v3/deals"', '"/down/deals"')), 200, "clone edits path")
    before = expect(S.req("GET", "/v1/integrations/up"), 200, "GET up")
    b = expect(S.req("POST", "/v1/integrations/up/pull", body={"from": "down"}), 409, "a conflicting pull")
    check(b.get("conflicts") and "path" in b["conflicts"][0]["address"], str(b))
    after = expect(S.req("GET", "/v1/integrations/up"), 200, "GET up")
    check(after["revision"] == before["revision"] and after["source"] == before["source"], "a conflicting pull changed the integration")
    expect(S.req("POST", "/v1/integrations", body=shop().replace('"shop"', '"stranger"', 1)), 201, "an unrelated integration")
    expect(S.req("POST", "/v1/integrations/up/pull", body={"from": "stranger"}), 409, "a pull from an unrelated integration")
    expect(S.req("POST", "/v1/integrations/up/pull", body={"from": "nope"}), 404, "a pull from nothing")
    expect(S.req("POST", "/v1/integrations/up/pull", body={}), 400, "a pull from no one")


# ---------------------------------------------------------------------------------------------------

def run_cases(cases):
    """Runs each (name, function) case and reports it: a failed check, or any other exception's trace."""
    for name, f in cases:
        try:
            f()
            report(name, None)
        except AssertionError as e:
            report(name, e)
        except Exception:
            report(name, traceback.format_exc())


def drive(prefix, start, prepare, cases, cleanup=None):
    """A driver's run: start() makes its server, prepare(server) what the cases need (either failing
    is PREFIX/starts); then the cases; then the server stopped by SIGTERM, which must be clean
    (PREFIX/stops-cleanly-on-sigterm); then cleanup()."""
    server = None
    try:
        server = start()
        prepare(server)
        ok = True
    except Exception as e:
        report(prefix + "/starts", e if isinstance(e, AssertionError) else traceback.format_exc())
        ok = False
    if ok:
        run_cases(cases)
    bad = server.stop() if server else []
    if ok:
        report(prefix + "/stops-cleanly-on-sigterm", "\n".join(bad) if bad else None)
    if cleanup:
        cleanup()


def report(name, err):
    if PG:   # the same case on a PostgreSQL store
        name = re.sub(r"^(server(-jobs)?)/", r"\1-pg/", name)
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
    last = [c for c in CASES if c[0].startswith(("server/audit/verify", "server/openapi/success-codes"))]
    run_cases([c for c in CASES if c not in last and (not ONLY or any(c[0].startswith(o) for o in ONLY))] +
              [c for c in last if not ONLY or any(c[0].startswith(o) for o in ONLY)])
    bad = S.stop()
    report("server/stops-cleanly-on-sigterm", "\n".join(bad) if bad else None)


if __name__ == "__main__":   # tests/server/jobs.py imports this driver's Server and helpers
    main()
