#!/usr/bin/env bash
# The control plane benchmark (issue 14): `flowc server` (release build) on 127.0.0.1 over a fresh
# workspace holding examples/quickstart.flow, loaded by wrk (-t2 -c16, as fast as the answers come,
# DURATION seconds each, default 10) with `GET /v1/flows/quickstart.orders` (a bearer token checked
# against the store, the integration's head looked up, the flow's JSON view built from its typed IR
# and resource model) and, as the peer, `GET /healthz` on the same server (no token, no store).
# Then `POST /v1/imports/quickstart.orders.big_orders/run` with 100 records (wrk -t2 -c4 with a Lua
# script posting the same JSON array: each request builds nothing — the revision's executable is
# cached — but starts it as a child process that upserts the 100 records into SQLite and answers per
# record). Then NERR (default 20000) records that fail pushed, and `GET .../big_orders/errors?limit=100`
# loaded like the first. Prints requests/s and latency (p50, p99) of each and their ratios, and the CPU
# time (user+sys) each load cost the server (with its children: a push's run) and PostgreSQL (every
# one of its processes, ended sessions too), per request. STORE=postgres: the same
# with the workspace's store in PostgreSQL (`--db`; a server scripts/pg.sh starts under build/bench,
# stopped at the end; fsync off as in the tests). FLOWC_BIN: another flowc to measure (default
# build/flowc). Exit 1 when a request was not answered 200 (the figures would mean nothing), 2 no wrk,
# no build or no PostgreSQL.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
command -v wrk >/dev/null || { echo "bench/server: wrk is not installed (scripts/deps.sh bench)" >&2; exit 2; }
flowc=${FLOWC_BIN:-$PWD/build/flowc}
[ -x "$flowc" ] || { echo "bench/server: $flowc is missing (make)" >&2; exit 2; }
dur=${DURATION:-10}
store=${STORE:-sqlite}
out=$PWD/build/bench/server-$store
[ -f "$out/pg/data/postmaster.pid" ] && scripts/pg.sh stop "$out/pg" >/dev/null 2>&1
rm -rf "$out"; mkdir -p "$out"
db=()
if [ "$store" = postgres ]; then
  port=$(scripts/pg.sh start "$out/pg") || { echo "bench/server: PostgreSQL did not start (scripts/deps.sh test installs it)" >&2; exit 2; }
  "${PG_BIN:-/usr/lib/postgresql/15/bin}/psql" -X -q -h 127.0.0.1 -p "$port" -U flowtest -d postgres -c "CREATE DATABASE bench" || exit 2
  db=(--db "host=127.0.0.1 port=$port user=flowtest dbname=bench")
elif [ "$store" != sqlite ]; then
  echo "bench/server: STORE is sqlite or postgres, not $store" >&2; exit 2
fi
pid=
trap '[ -n "$pid" ] && kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; [ "$store" = postgres ] && scripts/pg.sh stop "$out/pg" >/dev/null 2>&1' EXIT
token=$("$flowc" server init "$out/ws" "${db[@]}" | tail -n 1)
"$flowc" server "$out/ws" --listen 127.0.0.1:0 "${db[@]}" </dev/null >"$out/server.out" 2>"$out/server.err" &
pid=$!
for _ in $(seq 100); do grep -q 'listening on http://' "$out/server.err" && break; sleep 0.05; done
base=$(sed -n 's/.*listening on \(http:\/\/[0-9.:]*\).*/\1/p' "$out/server.err" | head -1)
[ -n "$base" ] || { echo "bench/server: the server did not start:" >&2; cat "$out/server.err" >&2; exit 2; }
code=$(curl -s -o "$out/created.json" -w '%{http_code}' -H "Authorization: Bearer $token" -H 'Content-Type: text/plain' \
       --data-binary @examples/quickstart.flow "$base/v1/integrations")
[ "$code" = 201 ] || { echo "bench/server: POST /v1/integrations answered $code" >&2; cat "$out/created.json" >&2; exit 2; }
code=$(curl -s -o "$out/flow.json" -w '%{http_code}' -H "Authorization: Bearer $token" "$base/v1/flows/quickstart.orders")
[ "$code" = 200 ] || { echo "bench/server: GET /v1/flows/quickstart.orders answered $code" >&2; exit 2; }

# cpu PID: its CPU ticks and its waited-for children's (user+sys, /proc/PID/stat)
cpu() { awk '{ sub(/.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# pg_cpu: PostgreSQL's ticks: the postmaster's (with the sessions it has reaped) and its live children's
pg_cpu() {
  [ "$store" = postgres ] || { echo 0; return; }
  local pm t=0 c
  pm=$(head -n 1 "$out/pg/data/postmaster.pid" 2>/dev/null) || { echo 0; return; }
  t=$(cpu "$pm")
  for c in $(cat "/proc/$pm/task/$pm/children" 2>/dev/null); do t=$((t + $(cpu "$c"))); done
  echo "$t"
}
hz=$(getconf CLK_TCK)
# measured NAME CMD...: runs CMD; NAME.cpu holds the server's and PostgreSQL's CPU seconds it cost
measured() {
  local name=$1 s0 g0; shift
  s0=$(cpu "$pid"); g0=$(pg_cpu)
  "$@"
  echo "$(( $(cpu "$pid") - s0 )) $(( $(pg_cpu) - g0 ))" | awk -v hz="$hz" '{ printf "%.2f %.2f\n", $1 / hz, $2 / hz }' >"$out/$name.cpu"
}
load() {   # load NAME PATH: wrk's report in NAME.txt, the CPU it cost in NAME.cpu
  measured "$1" wrk -t2 -c16 -d"${dur}s" --latency -H "Authorization: Bearer $token" "$base$2" >"$out/$1.txt" 2>&1
}
cpu_per() {   # cpu_per NAME: "server S s, PostgreSQL P s: U us a request"
  local sc gc n
  read -r sc gc <"$out/$1.cpu"
  n=$(awk '/ requests in / { print $1 }' "$out/$1.txt")
  awk -v s="$sc" -v g="$gc" -v n="${n:-0}" 'BEGIN { printf "CPU server %.2f s, PostgreSQL %.2f s: %.0f us a request", s, g, n ? (s + g) * 1e6 / n : 0 }'
}
field() {   # field NAME: requests/s, p50 ms, p99 ms, requests, non-2xx
  awk -f "$PWD/bench/wrk.awk" "$out/$1.txt"
}
load flow /v1/flows/quickstart.orders
load peer /healthz
read -r f_rps f_p50 f_p99 f_n f_bad < <(field flow)
read -r p_rps p_p50 p_p99 p_n p_bad < <(field peer)

# POST /v1/imports/{id}/run with 100 records, the records as big_orders' step sees them
mkdir -p "$out/ws/work/quickstart/out" "$out/ws/work/quickstart/data"   # a push opens the flow's connections, as a run does
python3 -c 'import json, sys
print(json.dumps([{"id": i, "email": "u%d@example.com" % i, "name": "User %d" % i, "total": 500.5 + i, "note": None,
                   "customer": {"first": "U", "last": str(i), "vip": i % 2 == 1}, "items": [{"sku": "A", "qty": 1, "price": 1}]}
                  for i in range(1, 101)], separators=(",", ":")))' >"$out/records.json"
imp=/v1/imports/quickstart.orders.big_orders/run
code=$(curl -s -o "$out/import.json" -w '%{http_code}' -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
       --data-binary @"$out/records.json" "$base$imp")
if [ "$code" != 200 ] || ! grep -q '"ok":100,"errors":0' "$out/import.json"; then
  echo "bench/server: POST $imp answered $code:" >&2; head -c 600 "$out/import.json" >&2; echo >&2; exit 2
fi
cat >"$out/import.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$out/records.json", "r")
wrk.body = f:read("*a")
f:close()
LUA
measured import wrk -t2 -c4 -d"${dur}s" --latency -s "$out/import.lua" -H "Authorization: Bearer $token" "$base$imp" >"$out/import.txt" 2>&1
read -r i_rps i_p50 i_p99 i_n i_bad < <(field import)
# GET .../errors?limit=100 (one page of the step's open errors) after NERR (default 20000) records
# that fail pushed in requests of 1000: a page must cost what it holds, not the whole store
nerr=${NERR:-20000}
python3 -c 'import json
print(json.dumps([{"id": i, "email": "bad%d@example.com" % i, "name": "Bad %d" % i, "total": "not a number", "note": None,
                   "customer": {"first": "B", "last": str(i), "vip": False}, "items": []} for i in range(1, 1001)], separators=(",", ":")))' >"$out/bad.json"
for ((k = 0; k < nerr / 1000; k++)); do
  curl -s -o "$out/bad-answer.json" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' --data-binary @"$out/bad.json" "$base$imp"
done
errs=/v1/flows/quickstart.orders/big_orders/errors
code=$(curl -s -o "$out/errors.json" -w '%{http_code}' -H "Authorization: Bearer $token" "$base$errs?limit=100")
n_page=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$out/errors.json" 2>/dev/null)
[ "$code" = 200 ] && [ "$n_page" = 100 ] || { echo "bench/server: GET $errs?limit=100 answered $code with ${n_page:-no} errors" >&2; exit 2; }
load errors "$errs?limit=100"
read -r e_rps e_p50 e_p99 e_n e_bad < <(field errors)
[ "${e_n:-0}" -gt 0 ] || echo "bench/server: no GET $errs was answered within wrk's 2 s timeout" >&2
f_cpu=$(cpu_per flow); p_cpu=$(cpu_per peer); i_cpu=$(cpu_per import); e_cpu=$(cpu_per errors)
kill -TERM $pid; wait $pid; rc=$?; pid=
[ "$store" = postgres ] && scripts/pg.sh stop "$out/pg" >/dev/null 2>&1
trap - EXIT
awk -v store="$store" -v d="$dur" -v f="$f_rps" -v f50="$f_p50" -v f99="$f_p99" -v p="$p_rps" -v p50="$p_p50" -v p99="$p_p99" -v bytes="$(wc -c <"$out/flow.json")" 'BEGIN {
  printf "flowc server (store: %s), wrk -t2 -c16, %d s each, as fast as the answers come:\n", store, d
  printf "  GET /v1/flows/quickstart.orders (token checked, %d-byte JSON view): %.0f requests/s, p50 %.2f ms, p99 %.2f ms\n", bytes, f, f50, f99
  printf "  peer GET /healthz: %.0f requests/s, p50 %.2f ms, p99 %.2f ms\n", p, p50, p99
  printf "  flow/peer: throughput %.2f, p99 %.1fx\n", f / p, f99 / p99 }'
echo "    flow: $f_cpu; peer: $p_cpu"
awk -v d="$dur" -v r="$i_rps" -v r50="$i_p50" -v r99="$i_p99" 'BEGIN {
  printf "  POST /v1/imports/quickstart.orders.big_orders/run, 100 records each (wrk -t2 -c4, %d s; a child process per request): %.1f requests/s (%.0f records/s), p50 %.1f ms, p99 %.1f ms\n", d, r, r * 100, r50, r99 }'
echo "    $i_cpu"
awk -v n="$nerr" -v r="$e_rps" -v r50="$e_p50" -v r99="$e_p99" 'BEGIN {
  printf "  GET /v1/flows/quickstart.orders/big_orders/errors?limit=100 with %d open errors kept: %.0f requests/s, p50 %.2f ms, p99 %.2f ms\n", n, r, r50, r99 }'
echo "    $e_cpu"
if [ "$f_bad" != 0 ] || [ "$p_bad" != 0 ] || [ "$i_bad" != 0 ] || [ "$e_bad" != 0 ] || [ "$rc" != 0 ]; then
  echo "bench/server: $f_bad + $p_bad + $i_bad + $e_bad answers were not 2xx, or the server exited $rc after SIGTERM; see $out" >&2
  exit 1
fi
