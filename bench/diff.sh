#!/usr/bin/env bash
# Benchmarks `flowc diff`: two integrations of about 5 MB (bench/genflow.sh 5, and a copy with a few
# dozen edits spread through it: a mapping changed, a field narrowed, a flow renamed, a step added,
# comments and layout changed) compared by `build/flowc diff` (best of 3) and, beside it, by
# `git diff --no-index --stat` on the same two files. Target: flowc diff under one second.
# Inputs are written to build/bench/. Exit: 0, 1 when flowc fails on them, 2 no build/flowc.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
flowc=build/flowc
out=build/bench
target=1.00
[ -x "$flowc" ] || { echo "bench/diff: $flowc not found: run make first" >&2; exit 2; }
mkdir -p "$out"
old=$out/diff-old.flow new=$out/diff-new.flow
bench/genflow.sh 5 >"$old"
# every 200th unit edited: a mapping line changed, a field narrowed (number to int), a flow renamed,
# a step added, a comment and a layout change (no change by meaning)
awk '
  /^type I[0-9]+ = / { n = $2; sub("I", "", n); unit = n + 0 }
  unit % 200 == 7 && /^  transform \{/ { print "  // reviewed"; print "  transform   {"; next }
  unit % 200 == 17 && /^  total: number$/ { print "  total: int"; next }
  unit % 200 == 27 && /^flow flow_/ { sub("flow_", "flow_renamed_") }
  unit % 200 == 37 && /^  filter / { print; print "  filter record.total >= 0"; next }
  unit % 200 == 47 && /^ +[a-z_]+ = record\.email$/ { sub("record.email", "upper(record.email)") }
  { print }
' "$old" >"$new"
best() {   # best of 3 wall-clock seconds of CMD; B_RC the last status
  local b='' t0 t1 s
  for _ in 1 2 3; do
    t0=$(date +%s%N); "$@" >/dev/null 2>"$out/diff.err"; B_RC=$?; t1=$(date +%s%N)
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    if [ -z "$b" ] || awk -v x="$s" -v y="$b" 'BEGIN { exit !(x < y) }'; then b=$s; fi
  done
  B_TIME=$b
}
best "$flowc" diff "$old" "$new"
if [ "$B_RC" -ne 0 ]; then echo "bench/diff: flowc diff failed (exit $B_RC):"; head -n 5 "$out/diff.err"; exit 1; fi
ft=$B_TIME
# the CPU time beside the wall time: on a shared machine the wall clock also counts waiting for a core
cpu=
if [ -x /usr/bin/time ] && /usr/bin/time -o "$out/diff.time" -f '%U %S' "$flowc" diff "$old" "$new" >/dev/null 2>&1; then
  cpu=$(awk '{ printf "%.3f", $1 + $2 }' "$out/diff.time")
fi
changes=$("$flowc" diff --format json "$old" "$new" | jq '.changes | length')
gt=n/a gstat=''
if command -v git >/dev/null 2>&1; then
  best git diff --no-index --stat "$old" "$new"
  gt=$B_TIME
  gstat=$(git diff --no-index --stat "$old" "$new" | tail -n 1)
fi
printf 'diff of two integrations: %s and %s bytes\n' "$(wc -c <"$old")" "$(wc -c <"$new")"
printf '  flowc diff            %6ss   %s changes by resource (CPU %ss, load average %s)\n' "$ft" "$changes" "${cpu:-n/a}" "$(cut -d' ' -f1 /proc/loadavg 2>/dev/null)"
printf '  git diff --stat       %6ss  %s\n' "$gt" "$gstat"
if awk -v x="$ft" -v t="$target" 'BEGIN { exit !(x < t) }'; then echo "  target: flowc diff under ${target}s: met"
else echo "  target: flowc diff under ${target}s: MISSED"; fi
