#!/usr/bin/env bash
# The mapping benchmark (issue: back end): 200k generated orders (NDJSON, ~280 bytes, nested
# customer and items) through bench/mapping/orders.flow built natively, against Debian's jq running
# the same program (orders.jq) and a hand-written C + cJSON program (handwritten.c), in the same run.
# Prints records/s, the ratios, and peak RSS at 200k and 1M records (it must stay flat).
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
out=build/bench/mapping
mkdir -p "$out"
n=${BENCH_RECORDS:-200000}
big=${BENCH_RSS_RECORDS:-1000000}
flowc=build/flowc
[ -x "$flowc" ] || { echo "bench: build/flowc missing (make first)" >&2; exit 2; }
command -v jq >/dev/null || { echo "bench: jq is not installed (apt-get install jq)" >&2; exit 2; }

[ -s "$out/orders-$n.ndjson" ] || bench/mapping/gen_orders.sh "$n" > "$out/orders-$n.ndjson"
[ -s "$out/orders-$big.ndjson" ] || bench/mapping/gen_orders.sh "$big" > "$out/orders-$big.ndjson"
"$flowc" build bench/mapping/orders.flow -o "$out/orders" || exit 1
cc -O2 -o "$out/handwritten" bench/mapping/handwritten.c -lcjson -lm || exit 1

# best3 NAME CMD...: best wall time of three runs, stdin from the 200k file, stdout discarded
best3() {
  local name=$1 best= t0 t1 t; shift
  for _ in 1 2 3; do
    t0=$(date +%s%N)
    "$@" < "$out/orders-$n.ndjson" > "$out/$name.out" 2>"$out/$name.err" || { echo "bench: $name failed:"; head -5 "$out/$name.err"; exit 1; }
    t1=$(date +%s%N)
    t=$(( (t1 - t0) / 1000000 ))
    if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
  done
  echo "$best"
}
flow_ms=$(best3 flowc "$out/orders" run)
hw_ms=$(best3 handwritten "$out/handwritten")
jq_ms=$(best3 jq jq -c -f bench/mapping/orders.jq)
lines_flow=$(wc -l < "$out/flowc.out"); lines_hw=$(wc -l < "$out/handwritten.out"); lines_jq=$(wc -l < "$out/jq.out")
rss_small=$( ( /usr/bin/time -f %M "$out/orders" run < "$out/orders-$n.ndjson" > /dev/null 2>"$out/rss1.err" ); tail -n 1 "$out/rss1.err")
rss_big=$( ( /usr/bin/time -f %M "$out/orders" run < "$out/orders-$big.ndjson" > /dev/null 2>"$out/rss2.err" ); tail -n 1 "$out/rss2.err")

awk -v n="$n" -v f="$flow_ms" -v h="$hw_ms" -v j="$jq_ms" -v lf="$lines_flow" -v lh="$lines_hw" -v lj="$lines_jq" \
    -v r1="$rss_small" -v r2="$rss_big" -v big="$big" 'BEGIN {
  printf "mapping benchmark: %d orders in, %d / %d / %d mapped out (flowc / hand-written C / jq)\n", n, lf, lh, lj
  printf "%-22s %10s %14s\n", "", "seconds", "records/s"
  printf "%-22s %10.3f %14.0f\n", "flowc (native)", f / 1000, n / (f / 1000)
  printf "%-22s %10.3f %14.0f\n", "hand-written C+cJSON", h / 1000, n / (h / 1000)
  printf "%-22s %10.3f %14.0f\n", "jq 1.6", j / 1000, n / (j / 1000)
  printf "flowc vs jq: %.1fx faster (target >= 5x)\n", j / f
  printf "flowc vs hand-written C: %.2fx its speed (target >= 0.8x)\n", h / f
  printf "peak RSS: %.1f MB at %d records, %.1f MB at %d records (target < 50 MB, flat)\n", r1 / 1024, n, r2 / 1024, big
}'
