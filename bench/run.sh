#!/usr/bin/env bash
# Benchmarks the front end: times `build/flowc check` (best of 3) on generated files of 1, 5 and
# 10 MB (bench/genflow.sh) and, as a peer, `gcc -fsyntax-only` on C files of the same sizes
# (bench/genc.sh). Prints a table (size, seconds, MB/s, flowc/gcc), the 10MB/1MB time ratio
# (ideal 10: linear) and whether `check` on 10 MB meets the target of one second.
# Builds nothing (`make bench` builds build/flowc first). Inputs are written to build/bench/.
# Exit: 0, or 1 when flowc rejects a generated file (the figures would mean nothing), 2 no build/flowc.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
flowc=build/flowc
out=build/bench
sizes="1 5 10"
target=1.00

if [ ! -x "$flowc" ]; then
  echo "bench: $flowc not found: run make first" >&2
  exit 2
fi
have_gcc=1
command -v gcc >/dev/null 2>&1 || have_gcc=0
mkdir -p "$out"

now_ns() { date +%s%N; }

# best3 CMD...: runs CMD three times (output discarded); sets B_TIME to the best time in seconds
# and B_RC to the exit status of the last run.
best3() {
  local _ t0 t1 best=''
  for _ in 1 2 3; do
    t0=$(now_ns)
    "$@" >/dev/null 2>&1
    B_RC=$?
    t1=$(now_ns)
    if [ -z "$best" ] || [ $((t1 - t0)) -lt "$best" ]; then best=$((t1 - t0)); fi
  done
  B_TIME=$(awk -v ns="$best" 'BEGIN { printf "%.3f\n", ns / 1e9 }')
}

status=0
echo "generating inputs in $out/ ..."
for mb in $sizes; do
  bench/genflow.sh "$mb" >"$out/bench-${mb}mb.flow" || exit 1
  [ $have_gcc = 1 ] && { bench/genc.sh "$mb" >"$out/bench-${mb}mb.c" || exit 1; }
  # the input must be valid, or the timing measures an error path
  "$flowc" check "$out/bench-${mb}mb.flow" >"$out/check-${mb}mb.log" 2>&1
  rc=$?
  if [ $rc != 0 ]; then
    echo "bench: flowc check $out/bench-${mb}mb.flow exited $rc (expected 0); first diagnostics:" >&2
    head -n 12 "$out/check-${mb}mb.log" >&2
    status=1
  fi
done

printf '\n%-6s %10s %10s %10s %10s %8s %10s\n' size flowc_s flowc_MB/s gcc_s gcc_MB/s units flowc/gcc
declare -A T
for mb in $sizes; do
  f=$out/bench-${mb}mb.flow
  bytes=$(wc -c <"$f")
  units=$(grep -c '^flow ' "$f")
  best3 "$flowc" check "$f"
  T[$mb]=$B_TIME
  [ "$B_RC" = 0 ] || status=1
  fmbs=$(awk -v b="$bytes" -v s="${T[$mb]}" 'BEGIN { if (s > 0) printf "%.1f", b / 1048576 / s; else print "inf" }')
  if [ $have_gcc = 1 ]; then
    c=$out/bench-${mb}mb.c
    cbytes=$(wc -c <"$c")
    best3 gcc -fsyntax-only "$c"
    g=$B_TIME
    [ "$B_RC" = 0 ] || echo "bench: gcc -fsyntax-only $c failed" >&2
    gmbs=$(awk -v b="$cbytes" -v s="$g" 'BEGIN { if (s > 0) printf "%.1f", b / 1048576 / s; else print "inf" }')
    ratio=$(awk -v a="${T[$mb]}" -v b="$g" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
  else
    g=- gmbs=- ratio=-
  fi
  printf '%-6s %10s %10s %10s %10s %8s %10s\n' "${mb}MB" "${T[$mb]}" "$fmbs" "$g" "$gmbs" "$units" "$ratio"
done

echo
awk -v a="${T[10]}" -v b="${T[1]}" 'BEGIN {
  if (b > 0) printf "linearity: check 10MB / check 1MB = %.1f (ideal 10)\n", a / b
  else print "linearity: check 1MB took no measurable time" }'
met=$(awk -v t="${T[10]}" -v g="$target" 'BEGIN { print (t < g) ? "met" : "NOT met" }')
printf 'check 10MB: %.2fs (target < 1s) %s\n' "${T[10]}" "$met"
[ $have_gcc = 1 ] || echo "(gcc not found: no C peer timings)"
exit $status
