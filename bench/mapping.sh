#!/usr/bin/env bash
# The mapping benchmark (issues: back end, speed): 1M generated orders (NDJSON, ~280 bytes, nested
# customer and items; the issue's size) through bench/mapping/orders.flow built natively (typed
# records), the same through the JIT (`flowc run`) and the generic way (FLOW_TYPED=off), against
# Debian's jq running the same program (orders.jq) and a hand-written C + cJSON program
# (handwritten.c), in the same run, and the native flow again with pages of 1000 (pipelined writes:
# docs/language.md, "Flows"). Prints records/s by wall clock and by CPU time (user+sys: fair
# on a loaded machine), the ratios, and peak RSS at 100k and 1M records (it must stay flat). The
# four flowc outputs must be identical, and identical to jq's (both print shortest round-trip
# numbers; the hand-written program prints cJSON's %.15g, so only its line count is compared).
# BENCH_RECORDS (1000000) and BENCH_RSS_RECORDS (100000) change the sizes; each program runs
# BENCH_RUNS times (3; the best counts), jq BENCH_JQ_RUNS times (1: ~40 s at 1M).
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
out=build/bench/mapping
mkdir -p "$out"
n=${BENCH_RECORDS:-1000000}
small=${BENCH_RSS_RECORDS:-100000}
runs=${BENCH_RUNS:-3}
jq_runs=${BENCH_JQ_RUNS:-1}
flowc=build/flowc
[ -x "$flowc" ] || { echo "bench: build/flowc missing (make first)" >&2; exit 2; }
command -v jq >/dev/null || { echo "bench: jq is not installed (apt-get install jq)" >&2; exit 2; }

[ -s "$out/orders-$n.ndjson" ] || bench/mapping/gen_orders.sh "$n" > "$out/orders-$n.ndjson"
[ -s "$out/orders-$small.ndjson" ] || head -n "$small" "$out/orders-$n.ndjson" > "$out/orders-$small.ndjson"
"$flowc" build bench/mapping/orders.flow -o "$out/orders" || exit 1
# the same flow with pages of 1000 (a user's page_size for a bulk run): each page's ~200 KB of
# output is written by the stdio import's writer thread while the next page is read and mapped
# (pipelined writes; pages of 20, ~4 KB, are written at once)
sed 's/export orders: Order from input {}/export orders: Order from input { page_size = 1000 }/' bench/mapping/orders.flow > "$out/orders-1000.flow"
grep -q 'page_size = 1000' "$out/orders-1000.flow" || { echo "bench: cannot set page_size in bench/mapping/orders.flow" >&2; exit 1; }
"$flowc" build "$out/orders-1000.flow" -o "$out/orders-1000" || exit 1
cc -O2 -o "$out/handwritten" bench/mapping/handwritten.c -lcjson -lm || exit 1

# best K NAME CMD...: the best of K runs, stdin from the n-record file, stdout kept in NAME.out (or
# written to $BEST_OUT):
# prints "WALL_MS CPU_MS" (each the best of its K)
best() {
  local k=$1 name=$2 bw= bc= t0 t1 w c; shift 2
  for _ in $(seq "$k"); do
    t0=$(date +%s%N)
    /usr/bin/time -f '%U %S' -o "$out/$name.time" "$@" < "$out/orders-$n.ndjson" > "${BEST_OUT:-$out/$name.out}" 2>"$out/$name.err" \
      || { echo "bench: $name failed:"; head -5 "$out/$name.err"; exit 1; }
    t1=$(date +%s%N)
    w=$(( (t1 - t0) / 1000000 ))
    c=$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$out/$name.time")
    if [ -z "$bw" ] || [ "$w" -lt "$bw" ]; then bw=$w; fi
    if [ -z "$bc" ] || [ "$c" -lt "$bc" ]; then bc=$c; fi
  done
  echo "$bw $bc"
}
read -r flow_ms flow_cpu < <(best "$runs" flowc "$out/orders" run)
read -r p1k_ms p1k_cpu < <(best "$runs" pages1000 "$out/orders-1000" run)
read -r gen_ms gen_cpu < <(best "$runs" generic env FLOW_TYPED=off "$out/orders" run)
read -r jit_ms jit_cpu < <(best "$runs" jit "$flowc" run bench/mapping/orders.flow)
read -r hw_ms hw_cpu < <(best "$runs" handwritten "$out/handwritten")
read -r jq_ms jq_cpu < <(best "$jq_runs" jq jq -c -f bench/mapping/orders.jq)
# the same two again writing to /dev/null: what is left of the wall clock without the page cache's
# writeback of ~200 MB of output (which holds back the faster writer more)
read -r flow0_ms flow0_cpu < <(BEST_OUT=/dev/null best "$runs" null-flowc "$out/orders" run)
read -r hw0_ms hw0_cpu < <(BEST_OUT=/dev/null best "$runs" null-handwritten "$out/handwritten")
for v in pages1000 generic jit jq; do
  cmp -s "$out/flowc.out" "$out/$v.out" || { echo "bench: the $v run's output differs from the native typed run's"; exit 1; }
done
lines_flow=$(wc -l < "$out/flowc.out"); lines_hw=$(wc -l < "$out/handwritten.out"); lines_jq=$(wc -l < "$out/jq.out")
rss_small=$( ( /usr/bin/time -f %M "$out/orders" run < "$out/orders-$small.ndjson" > /dev/null 2>"$out/rss1.err" ); tail -n 1 "$out/rss1.err")
rss_big=$( ( /usr/bin/time -f %M "$out/orders" run < "$out/orders-$n.ndjson" > /dev/null 2>"$out/rss2.err" ); tail -n 1 "$out/rss2.err")
rss_1000=$( ( /usr/bin/time -f %M "$out/orders-1000" run < "$out/orders-$n.ndjson" > /dev/null 2>"$out/rss3.err" ); tail -n 1 "$out/rss3.err")

awk -v n="$n" -v f="$flow_ms" -v fc="$flow_cpu" -v g="$gen_ms" -v gc="$gen_cpu" -v jt="$jit_ms" -v jc="$jit_cpu" \
    -v h="$hw_ms" -v hc="$hw_cpu" -v j="$jq_ms" -v jqc="$jq_cpu" -v lf="$lines_flow" -v lh="$lines_hw" -v lj="$lines_jq" \
    -v r1="$rss_small" -v r2="$rss_big" -v r3="$rss_1000" -v small="$small" \
    -v f0="$flow0_ms" -v f0c="$flow0_cpu" -v h0="$hw0_ms" -v h0c="$hw0_cpu" -v p="$p1k_ms" -v pc="$p1k_cpu" 'function rate(ms) { return ms > 0 ? n / (ms / 1000) : 0 }
function ratio(a, b) { return b > 0 ? a / b : 0 }
BEGIN {
  printf "mapping benchmark: %d orders in, %d / %d / %d mapped out (flowc / hand-written C / jq)\n", n, lf, lh, lj
  printf "%-30s %9s %12s %9s %12s\n", "", "wall s", "records/s", "cpu s", "records/s"
  printf "%-30s %9.3f %12.0f %9.3f %12.0f\n", "flowc native (typed)", f / 1000, rate(f), fc / 1000, rate(fc)
  printf "%-30s %9.3f %12.0f %9.3f %12.0f\n", "flowc native, pages of 1000", p / 1000, rate(p), pc / 1000, rate(pc)
  printf "%-30s %9.3f %12.0f %9.3f %12.0f\n", "flowc native (FLOW_TYPED=off)", g / 1000, rate(g), gc / 1000, rate(gc)
  printf "%-30s %9.3f %12.0f %9.3f %12.0f\n", "flowc run (JIT)", jt / 1000, rate(jt), jc / 1000, rate(jc)
  printf "%-30s %9.3f %12.0f %9.3f %12.0f\n", "hand-written C+cJSON", h / 1000, rate(h), hc / 1000, rate(hc)
  printf "%-30s %9.3f %12.0f %9.3f %12.0f\n", "jq 1.6", j / 1000, rate(j), jqc / 1000, rate(jqc)
  printf "flowc vs hand-written C: %.2fx its speed by wall clock, %.2fx by CPU time (target >= 4x)\n", ratio(h, f), ratio(hc, fc)
  printf "...with pages of 1000 (the output written while the next page is mapped): %.2fx by wall clock, %.2fx by CPU time\n", ratio(h, p), ratio(hc, pc)
  printf "...the two writing to /dev/null: %.2fx by wall clock (%.3f s against %.3f s), %.2fx by CPU time\n", ratio(h0, f0), f0 / 1000, h0 / 1000, ratio(h0c, f0c)
  printf "flowc vs jq: %.1fx faster by wall clock, %.1fx by CPU time (target >= 25x)\n", ratio(j, f), ratio(jqc, fc)
  printf "JIT vs native: %.2fx its speed by wall clock, %.2fx by CPU time (target >= 0.67x)\n", ratio(f, jt), ratio(fc, jc)
  printf "typed vs generic: %.2fx by wall clock, %.2fx by CPU time\n", ratio(g, f), ratio(gc, fc)
  printf "peak RSS: %.1f MB at %d records, %.1f MB at %d records (target < 20 MB, flat); pages of 1000: %.1f MB at %d records\n", r1 / 1024, small, r2 / 1024, n, r3 / 1024, n
}'
