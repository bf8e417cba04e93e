#!/usr/bin/env bash
# The JIT benchmarks (issue: libtcc): preview of a 10-step flow on 20 records (target 50 ms wall),
# the JIT compile of the emitted C (target 10 ms: `flowc run` of a flow with no records minus
# `flowc emit-c`), `flowc build` against preview, and the mapping benchmark run through the JIT
# against the native build. Best of 5 for the short ones.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
flowc=$PWD/build/flowc
out=build/bench/preview
rm -rf "$out"; mkdir -p "$out/data"
bench/mapping/gen_orders.sh 20 > "$out/data/orders.ndjson"
: > "$out/data/empty.ndjson"
cp bench/preview/ten_steps.flow "$out/flow.flow"
sed 's/file = "orders.ndjson"/file = "empty.ndjson"/' bench/preview/ten_steps.flow > "$out/empty.flow"
ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000 )); }   # µs
best() { local b= t; for _ in 1 2 3 4 5; do t=$(ms "$@"); if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; fi; done; echo "$b"; }
cd "$out" || exit 2
preview=$(best "$flowc" preview flow.flow)
emit=$(best "$flowc" emit-c empty.flow)
run_empty=$(best "$flowc" run empty.flow)
build=$(best "$flowc" build flow.flow -o prog)
cd - >/dev/null || exit 2
m=build/bench/mapping
if [ -x "$m/orders" ] && [ -s "$m/orders-200000.ndjson" ]; then
  t0=$(date +%s%N); "$m/orders" run < "$m/orders-200000.ndjson" > /dev/null 2>&1; t1=$(date +%s%N); native=$(( (t1 - t0) / 1000000 ))
  t0=$(date +%s%N); "$flowc" run bench/mapping/orders.flow < "$m/orders-200000.ndjson" > /dev/null 2>&1; t1=$(date +%s%N); jit=$(( (t1 - t0) / 1000000 ))
else native=0; jit=0; fi
awk -v p="$preview" -v e="$emit" -v r="$run_empty" -v b="$build" -v n="$native" -v j="$jit" 'BEGIN {
  printf "preview, 10 steps, 20 records: %.1f ms (target <= 50 ms)\n", p / 1000
  printf "JIT compile of the emitted C: %.1f ms (flowc run with no records %.1f ms - emit-c %.1f ms; target <= 10 ms)\n", (r - e) / 1000, r / 1000, e / 1000
  printf "flowc build: %.1f ms = %.0fx the preview\n", b / 1000, b / p
  if (n > 0) printf "mapping benchmark, 200k orders: native %.2f s, JIT (flowc run) %.2f s: the JIT is %.2fx slower\n", n / 1000, j / 1000, j / n
  else print "mapping benchmark: run bench/mapping.sh first for the JIT/native comparison"
}'
