#!/usr/bin/env python3
"""The connection test and debug routes (server/conns.c, server/conn_debug.c, the executable's `ping`,
runtime/probe.c) through a real `flowc server` (FLOWC, the sanitized build) on 127.0.0.1, against
servers this driver starts on 127.0.0.1: an HTTP server (python's http.server: /ping and /items
answer 200 to the right bearer token and 401 to others, /private always 401; /items echoes the token
in its body), a socket that accepts and never answers, and a port nobody listens on.
    POST /v1/connections/{id}/test: ok with its latency (http, sqlite, file, stdio); each failure with
    the class a run records (a refused port, a 401, a connection timeout, the test's own limit
    against a hung endpoint, a SQLite path that does not exist); the audit entry; a scoped token's
    200 and 403; on a PostgreSQL store also a postgres connection's SELECT 1, good and bad.
    POST|GET /v1/connections/{id}/debug: validation; a window recording a run's requests (redacted:
    the secret set through PUT /secrets appears in no answer, though the endpoint echoes it), paged
    with Link, the window's end in Flow-Debug-Until and the connection's view; an SQL connection's
    statements and row counts, a push's too; a window stopped (minutes 0) and one that expired
    recording nothing more.
Prints PASS NAME / FAIL NAME lines (server-jobs/conn-..., server-jobs-pg/conn-... on PostgreSQL).

    FLOWC=build/asan/flowc python3 tests/server/conns.py WORKDIR
"""
import json, os, socket, sqlite3, subprocess, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.argv = [sys.argv[0], sys.argv[1]]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api   # noqa: E402  the server suite's Server, check, expect, report, run_cases
from api import check, expect   # noqa: E402

WORK = sys.argv[1]
SECRET = "tok-Conn-Secret-5Qx8"
CASES = []
S = None
case = api.cases_into(CASES)
PORTS = {}


class Api(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        good = self.headers.get("Authorization") == "Bearer " + SECRET
        if self.path == "/ping" and good:
            self.answer(200, {"pong": True})
        elif self.path.startswith("/items") and good:
            self.answer(200, {"items": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}], "echo": SECRET})
        else:
            self.answer(401, {"error": "unauthorized"})


def integration():
    pg = ""
    if api.PG:
        pg = """
connection pg = postgres { dsn = "%s dbname=postgres" }
connection pgbad = postgres { dsn = "host=127.0.0.1 port=%d user=flowtest dbname=postgres connect_timeout=2" }

flow pgs {
  export rows: Item from pg { sql = "SELECT 1 AS id, 'a' AS name" }
  import c into files { file = "pgs.ndjson" }
}

flow pgbads {
  export rows: Item from pgbad { sql = "SELECT 1 AS id, 'a' AS name" }
  import c into files { file = "pgbads.ndjson" }
}
""" % (api.PG, PORTS["refused"])
    return """integration "conns" version "1.0.0"

type Item = { id: int, name: string }

connection api = http { base_url = "http://127.0.0.1:%(ok)d", ping = "/ping", auth = bearer(env("API_TOKEN")), timeout = 5s, retries = 0 }
connection denied = http { base_url = "http://127.0.0.1:%(ok)d", ping = "/private", timeout = 5s }
connection refused = http { base_url = "http://127.0.0.1:%(refused)d", timeout = 5s }
connection hung = http { base_url = "http://127.0.0.1:%(hung)d", timeout = 1s }
connection stuck = http { base_url = "http://127.0.0.1:%(hung)d", timeout = 50s }
connection db = sqlite { path = "data/app.db" }
connection nodb = sqlite { path = "missing/none.db" }
connection files = file { dir = "data" }
connection io = stdio {}

flow pull {
  export items: Item from api { path = "/items", records = "$.items" }
  import copy into files { file = "items.ndjson" }
}

flow others {
  export items: Item from denied { path = "/items", records = "$.items" }
  import a into refused { path = "/a" }
  import b into hung { path = "/b" }
  import c into stuck { path = "/c" }
}

flow rows {
  export rows: Item from db { sql = "SELECT id, name FROM items WHERE id >= ?", args = [1] }
  import d into files { file = "rows.ndjson" }
}

flow tosql {
  export items: Item from api { path = "/items", records = "$.items" }
  import copied into db { table = "copied" }
}

flow missing {
  export rows: Item from nodb { sql = "SELECT id, name FROM items" }
  import o into io {}
}
%(pg)s""" % dict(PORTS, pg=pg)


def test(conn, query="", status=200, token=""):
    return expect(S.req("POST", "/v1/connections/conns.%s/test%s" % (conn, query), token=token), status, "test " + conn)


def failed(b, cls, *words):
    check(b["ok"] is False and b.get("class") == cls, "expected a failure of class %s: %s" % (cls, b))
    for w in words:
        check(w in b.get("message", ""), "%r not in the message: %s" % (w, b))
    check(SECRET not in json.dumps(b), "the secret is in the answer: %s" % b)


def run_pull():
    j = expect(S.req("POST", "/v1/flows/conns.pull/run", {}), 201, "run pull")
    b = api.wait_job(j["id"])
    check(b["status"] == "completed" and b["exported"] == 2, "the run: %s" % b)
    return b


def debug_entries():
    st, hd, b = S.req("GET", "/v1/connections/conns.api/debug?limit=1000")
    check(st == 200 and isinstance(b, list), "GET debug: %s %s" % (st, b))
    return b, hd.get("Flow-Debug-Until")


# ---- POST /v1/connections/{id}/test ----------------------------------------------------------------

@case("server-jobs/conn-test/http-ok-with-its-latency")
def _():
    b = test("api")
    check(b["ok"] is True and isinstance(b["latency_ms"], int) and b["latency_ms"] >= 0, str(b))
    check(b["status"] == 200 and b["url"].endswith("/ping") and b["id"] == "conns.api" and b["kind"] == "http", str(b))
    check(SECRET not in json.dumps(b), "the secret is in the answer")


@case("server-jobs/conn-test/http-refused-port-is-connection")
def _():
    failed(test("refused"), "connection", "127.0.0.1:%d" % PORTS["refused"])


@case("server-jobs/conn-test/http-401-is-the-class-a-run-records")
def _():
    b = test("denied")
    failed(b, "value", "HTTP 401", "/private")
    check(b.get("status") == 401, str(b))


@case("server-jobs/conn-test/http-timeout-is-connection")
def _():
    t0 = time.time()
    failed(test("hung"), "connection", "no answer", "1000 ms")
    check(time.time() - t0 < 8, "took %.1f s" % (time.time() - t0))


@case("server-jobs/conn-test/a-hung-endpoint-is-stopped-at-the-test-limit")
def _():
    t0 = time.time()
    failed(test("stuck", "?timeout=2"), "connection", "within 2 s", "the test was stopped")
    took = time.time() - t0
    check(took < 8, "the answer took %.1f s" % took)
    check(expect(S.req("GET", "/healthz", token=None), 200, "healthz") is not None, "the server answers")
    expect(S.req("POST", "/v1/connections/conns.stuck/test?timeout=0"), 400, "timeout 0")
    expect(S.req("POST", "/v1/connections/conns.stuck/test?timeout=61"), 400, "timeout 61")
    expect(S.req("POST", "/v1/connections/conns.stuck/test", {"x": 1}), 400, "a body")


@case("server-jobs/conn-test/sqlite-select-1-and-a-missing-path")
def _():
    b = test("db")
    check(b["ok"] is True and b["exists"] is True and b["access"] == "read and write", str(b))
    failed(test("nodb"), "connection", "missing/none.db", "No such file")


@case("server-jobs/conn-test/file-and-stdio")
def _():
    b = test("files")
    check(b["ok"] is True and b["access"] == "write" and b["exists"] is True, str(b))
    b = test("io")
    check(b["ok"] is True and "nothing to open" in b["note"], str(b))
    expect(S.req("POST", "/v1/connections/conns.nope/test"), 404, "no such connection")


def pg_case():
    b = test("pg")
    check(b["ok"] is True and b["kind"] == "postgres", str(b))
    failed(test("pgbad"), "connection", "cannot connect to PostgreSQL")


if api.PG:   # a postgres connection needs a server: the server-pg suite's
    case("server-jobs/conn-test/postgres-select-1")(pg_case)


@case("server-jobs/conn-test/audited")
def _():
    a = expect(S.req("GET", "/v1/audit?resource=conns.refused&limit=1000"), 200, "audit")
    t = [e for e in a if e["action"] == "test"]
    check(t and t[-1]["detail"] == {"ok": False, "class": "connection"}, "no audit entry: %s" % a[-3:])


@case("server-jobs/conn-test/a-scoped-token-needs-the-connection")
def _():
    tok = expect(S.req("POST", "/v1/tokens", {"name": "db-only", "scope": {"connections": ["conns.db"]}}), 201, "a scoped token")["token"]
    check(test("db", token=tok)["ok"] is True, "in scope")
    expect(S.req("POST", "/v1/connections/conns.api/test", token=tok), 403, "outside its scope")
    expect(S.req("POST", "/v1/connections/conns.api/debug", {"minutes": 1}, token=tok), 403, "debug outside its scope")
    expect(S.req("GET", "/v1/connections/conns.api/debug", token=tok), 403, "debug entries outside its scope")
    a = expect(S.req("GET", "/v1/audit?resource=conns.api&limit=1000"), 200, "audit")
    check([e for e in a if e["action"] == "scope.denied"], "the denial is not audited")


# ---- POST|GET /v1/connections/{id}/debug -----------------------------------------------------------

@case("server-jobs/conn-debug/minutes-validated")
def _():
    for body in ({"minutes": -1}, {"minutes": 61}, {"minutes": 1.5}, {"minutes": "5"}, {}, {"minutes": 5, "x": 1}):
        b = expect(S.req("POST", "/v1/connections/conns.api/debug", body), 400, "debug %s" % body)
        check("minutes" in json.dumps(b) or "x" in json.dumps(b), str(b))
    b, until = debug_entries()
    check(b == [] and until == "none", "before any window: %s %s" % (b, until))


@case("server-jobs/conn-debug/a-window-records-a-runs-requests-redacted")
def _():
    b = expect(S.req("POST", "/v1/connections/conns.api/debug", {"minutes": 15}), 200, "open a window")
    check(b["debugging"] is True and b["until"] and b["minutes"] == 15, str(b))
    c = expect(S.req("GET", "/v1/connections/conns.api"), 200, "the connection")
    check(c["debug"] == {"debugging": True, "until": b["until"]}, "the connection's view: %s" % c.get("debug"))
    run_pull()
    e, until = debug_entries()
    check(until == b["until"], "Flow-Debug-Until %s, the window ends %s" % (until, b["until"]))
    check(len(e) >= 1, "nothing recorded")
    x = e[-1]
    check(x["flow"] == "pull" and x["step"].endswith("items") and x["job"].startswith("job-"), str(x)[:600])
    check(x["request"]["url"].endswith("/items") and x["request"]["headers"].get("Authorization") == "<redacted>", str(x["request"]))
    check(x["response"]["status"] == 200 and "<redacted>" in x["response"]["body"], str(x["response"]))
    st, hd, raw = S.req("GET", "/v1/connections/conns.api/debug", raw=True)
    check(SECRET.encode() not in raw, "the secret is in a debug answer")
    check(SECRET.encode() not in S.store_bytes(), "the secret is in the store in clear")
    # the other connections of the run are not recorded
    f, _ = (expect(S.req("GET", "/v1/connections/conns.files/debug"), 200, "files' entries"), None)
    check(f == [], "files recorded without a window: %s" % f)


@case("server-jobs/conn-debug/paged-with-link")
def _():
    run_pull()
    e, _ = debug_entries()
    check(len(e) >= 2, "two runs recorded: %d" % len(e))
    st, hd, b = S.req("GET", "/v1/connections/conns.api/debug?limit=1")
    check(st == 200 and len(b) == 1 and 'rel="next"' in (hd.get("Link") or ""), "%s %s" % (hd.get("Link"), b))
    nxt = hd["Link"].split(">")[0].lstrip("<")
    st, hd, b2 = S.req("GET", nxt)
    check(st == 200 and b2[0]["id"] == e[1]["id"], "the next page: %s" % b2)


@case("server-jobs/conn-debug/sql-statements-and-row-counts")
def _():
    expect(S.req("POST", "/v1/connections/conns.db/debug", {"minutes": 5}), 200, "open a window on the sqlite connection")
    for flow in ("rows", "tosql"):
        j = expect(S.req("POST", "/v1/flows/conns.%s/run" % flow, {}), 201, "run " + flow)
        b = api.wait_job(j["id"])
        check(b["status"] == "completed", "the run of %s: %s" % (flow, b))
    e = expect(S.req("GET", "/v1/connections/conns.db/debug"), 200, "the sqlite connection's entries")
    got = [{k: x.get(k) for k in ("flow", "step", "sql", "args", "table", "rows", "failed") if k in x} for x in e]
    want = [{"flow": "rows", "step": "export rows", "sql": "SELECT id, name FROM items WHERE id >= ?", "args": [1], "rows": 1},
            {"flow": "tosql", "step": "import copied", "table": "copied", "rows": 2, "failed": 0}]
    check(got == want, "entries: %s" % got)
    # records pushed through an import are recorded as a run's
    b = expect(S.req("POST", "/v1/imports/conns.tosql.copied/run", [{"id": 7, "name": "seven"}]), 200, "push one record")
    check(b["ok"] == 1, str(b))
    e = expect(S.req("GET", "/v1/connections/conns.db/debug"), 200, "the sqlite connection's entries")
    check(len(e) == 3 and e[-1]["job"] == b["run_id"] and e[-1]["table"] == "copied" and e[-1]["rows"] == 1, "the push: %s" % e[-1:])
    expect(S.req("POST", "/v1/connections/conns.db/debug", {"minutes": 0}), 200, "stop")


@case("server-jobs/conn-debug/stopped-and-expired-windows-record-nothing")
def _():
    b = expect(S.req("POST", "/v1/connections/conns.api/debug", {"minutes": 0}), 200, "stop")
    check(b["debugging"] is False and b["until"] is None, str(b))
    c = expect(S.req("GET", "/v1/connections/conns.api"), 200, "the connection")
    check(c["debug"] == {"debugging": False, "until": None}, "the connection's view: %s" % c.get("debug"))
    n = len(debug_entries()[0])
    run_pull()
    e, until = debug_entries()
    check(len(e) == n and until == "none", "after the stop: %d entries (was %d), until %s" % (len(e), n, until))
    # a window that ran out (its end moved into the past in the store, as time would)
    expect(S.req("POST", "/v1/connections/conns.api/debug", {"minutes": 5}), 200, "open again")
    S.sql("UPDATE conn_debug_windows SET until_ms = ? WHERE conn = ?", int(time.time() * 1000) - 1000, "conns.api")
    run_pull()
    e, until = debug_entries()
    check(len(e) == n and until == "none", "after it expired: %d entries (was %d), until %s" % (len(e), n, until))
    a = expect(S.req("GET", "/v1/audit?resource=conns.api&limit=1000"), 200, "audit")
    acts = [x["action"] for x in a]
    check("debug.start" in acts and "debug.stop" in acts, str(acts))


@case("server-jobs/conn-remote/connections-test-and-debug")
def _():
    def remote(*args):
        return subprocess.run([api.FLOWC, "remote", S.base, "--token", S.token, "connections", *args], capture_output=True, text=True,
                              timeout=120)
    r = remote("list")
    check(r.returncode == 0 and "conns.api" in [c["id"] for c in json.loads(r.stdout)], r.stdout + r.stderr)
    r = remote("test", "conns.api")
    check(r.returncode == 0 and json.loads(r.stdout)["ok"] is True, r.stdout + r.stderr)
    r = remote("test", "conns.refused", "--timeout", "5")
    check(r.returncode == 1 and json.loads(r.stdout)["class"] == "connection", "a failed test exits 1: %s" % (r.stdout + r.stderr))
    r = remote("debug", "conns.api", "--minutes", "2")
    check(r.returncode == 0 and json.loads(r.stdout)["debugging"] is True, r.stdout + r.stderr)
    r = remote("debug", "conns.api")
    check(r.returncode == 0 and isinstance(json.loads(r.stdout), list), r.stdout + r.stderr)
    r = remote("debug", "conns.api", "--minutes", "0")
    check(r.returncode == 0 and json.loads(r.stdout)["debugging"] is False, r.stdout + r.stderr)
    r = remote("debug", "conns.api", "--minutes", "99")
    check(r.returncode == 1 and "minutes" in r.stderr, r.stderr)
    r = remote("test")
    check(r.returncode == 2, "no id: %s" % r.stderr)


@case("server-jobs/conn-debug/secret-nowhere-in-the-workspace")
def _():
    hits = api.files_holding(S.dir, (SECRET,))
    check(not hits, "the secret's value is in: %s" % hits)


@case("server-jobs/conn-openapi/success-codes-as-answered")
def _():
    api.check_success_codes(S, 6)


# ---------------------------------------------------------------------------------------------------

def start():
    global S
    os.makedirs(WORK, exist_ok=True)
    os.environ.pop("API_TOKEN", None)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    PORTS["ok"] = httpd.server_address[1]
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(16)   # connections complete in the backlog; nothing is ever read or answered
    PORTS["hung"] = hung.getsockname()[1]
    PORTS["_hung"] = hung
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    PORTS["refused"] = free.getsockname()[1]
    free.close()
    S = api.S = api.Server("conns")   # api.wait_job asks api.S
    return S


def prepare(server):
    data = os.path.join(server.dir, "work/conns/data")
    os.makedirs(data, exist_ok=True)
    db = sqlite3.connect(os.path.join(data, "app.db"))
    db.execute("CREATE TABLE items (id INTEGER, name TEXT)")
    db.execute("INSERT INTO items VALUES (1, 'a')")
    db.commit()
    db.close()
    expect(server.req("POST", "/v1/integrations", integration()), 201, "POST /v1/integrations")
    b = expect(server.req("PUT", "/v1/connections/conns.api/secrets", {"API_TOKEN": SECRET}), 200, "the token through PUT /secrets")
    check(SECRET not in json.dumps(b), "the secret in the answer")


api.drive("server-jobs/conn", start, prepare, CASES)
