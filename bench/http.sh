#!/usr/bin/env bash
# The http connector benchmark (issue 5): the test server answers every request after 10 ms;
# 1,000 records are imported one request each by the native build with concurrency 8 and 1
# (targets: <= 1.6 s at 8, and at least 5x faster than at 1), and the same 1,000 POSTs are driven by
# `curl --parallel` (the peer) at the same concurrencies. Prints requests/s and flowc's overhead per
# request against curl. Best of 3 at concurrency 8, one run each of the 10-second sequential ones.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
make -s build/flowc build/tests/http_server >/dev/null || exit 2
flowc=$PWD/build/flowc
out=build/bench/http
rm -rf "$out"; mkdir -p "$out/data"
N=1000
awk -v n=$N 'BEGIN { for (i = 1; i <= n; i++) printf "{\"id\":%d,\"email\":\"user%d@example.com\",\"total\":%d.25}\n", i, i, i }' > "$out/data/records.ndjson"
cp bench/http/import.flow "$out/flow.flow"
(cd "$out" && "$flowc" build flow.flow -o prog) || exit 2

build/tests/http_server --port 0 --ready "$out/port" --delay-ms 10 >"$out/server.log" 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s "$out/port" ] && break; sleep 0.05; done
base=http://127.0.0.1:$(cat "$out/port")

# the peer: curl's own parallel mode, the same bodies to the same sink
awk -v n=$N -v base="$base" 'BEGIN { for (i = 1; i <= n; i++) {
  printf "url = \"%s/sink/peer\"\nheader = \"Content-Type: application/json\"\nheader = \"Accept: application/json\"\n", base
  printf "data = \"{\\\"external_id\\\":\\\"rec-%d\\\",\\\"email\\\":\\\"user%d@example.com\\\",\\\"cents\\\":%d25}\"\n", i, i, i
  printf "output = \"/dev/null\"\n"
  if (i < n) print "next" } }' > "$out/curl.cfg"

ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1 || echo "failed: $*" >&2; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
reset() { curl -s -X POST "$base/stats/reset" >/dev/null; }
stored() { curl -s "$base/sink/$1" | jq length; }
best() {   # best of $TRIES; every run must have stored all N records
  local b= t
  for _ in $(seq "$TRIES"); do
    reset
    t=$(ms "$@")
    local sink=bench; [ "$1" = curl ] && sink=peer
    local got; got=$(stored $sink)
    if [ "$got" != "$N" ]; then echo "a run stored $got of $N records" >&2; echo 999999; return; fi
    if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; fi
  done
  echo "$b"
}
TRIES=3
f8=$(cd "$out" && best ./prog run --param base="$base" --param conc=8)
reset; (cd "$out" && ./prog run --param base="$base" --param conc=8 >/dev/null 2>&1); inflight=$(curl -s "$base/stats" | jq .max_in_flight)
TRIES=1   # the sequential runs take 10 s each
f1=$(cd "$out" && best ./prog run --param base="$base" --param conc=1)
TRIES=3 c8=$(best curl -s -Z --parallel-max 8 -K "$out/curl.cfg")
TRIES=1
c1=$(best curl -s -K "$out/curl.cfg")
awk -v n=$N -v f8="$f8" -v f1="$f1" -v c8="$c8" -v c1="$c1" -v inf="$inflight" 'BEGIN {
  printf "http import, %d records, server delay 10 ms, one request each (concurrency 8: best of 3):\n", n
  printf "  flowc concurrency 8: %.2f s = %.0f requests/s (target <= 1.6 s; max in flight seen by the server: %d)\n", f8 / 1000, n * 1000 / f8, inf
  printf "  flowc concurrency 1: %.2f s = %.0f requests/s; concurrency 8 is %.1fx faster (target >= 5x)\n", f1 / 1000, n * 1000 / f1, f1 / f8
  printf "  curl --parallel 8:   %.2f s = %.0f requests/s; flowc/curl = %.2f, flowc overhead %.3f ms per request\n", c8 / 1000, n * 1000 / c8, f8 / c8, (f8 - c8) / n
  printf "  curl sequential:     %.2f s = %.0f requests/s; flowc/curl = %.2f, flowc overhead %.3f ms per request\n", c1 / 1000, n * 1000 / c1, f1 / c1, (f1 - c1) / n
}'
