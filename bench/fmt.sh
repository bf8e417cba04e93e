#!/usr/bin/env bash
# The flowc fmt benchmark: a generated 5 MB .flow file (bench/genflow.sh 5), in the canonical layout
# and with its layout flattened (indentation removed, blank lines doubled), is formatted from standard
# input to standard output (best of 3), beside two peers on the same file: `flowc check` (the front
# end fmt runs once on the input and once more on its own output, to verify it) and `cat`. Prints
# the times, MB/s and the ratios fmt/check and fmt/cat.
# Builds nothing (`make bench` builds build/flowc first). Inputs are written to build/bench/fmt/.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
flowc=$PWD/build/flowc
out=build/bench/fmt
[ -x "$flowc" ] || { echo "bench/fmt.sh: $flowc not found: run make first" >&2; exit 2; }
rm -rf "$out"; mkdir -p "$out"
bench/genflow.sh 5 >"$out/gen.flow"
"$flowc" fmt - <"$out/gen.flow" >"$out/formatted.flow" || { echo "bench/fmt.sh: fmt refused the generated file" >&2; exit 1; }
sed 's/^ *//; s/^$/\n/' "$out/formatted.flow" >"$out/flat.flow"
"$flowc" fmt - <"$out/flat.flow" | cmp -s - "$out/formatted.flow" ||
  { echo "bench/fmt.sh: the flattened file does not format back to the formatted one" >&2; exit 1; }
us() { local t0 t1; t0=$(date +%s%N); "$@"; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000 )); }
best() { local b= t; for _ in 1 2 3; do t=$(us "$@"); if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; fi; done; echo "$b"; }
run_fmt() { "$flowc" fmt - <"$1" >/dev/null; }
run_check() { "$flowc" check "$1" >/dev/null 2>&1; }
run_cat() { cat "$1" >/dev/null; }
for f in formatted flat; do
  file=$out/$f.flow
  bytes=$(wc -c <"$file")
  tf=$(best run_fmt "$file"); tc=$(best run_check "$file"); tk=$(best run_cat "$file")
  awk -v f="$f" -v b="$bytes" -v tf="$tf" -v tc="$tc" -v tk="$tk" 'BEGIN {
    printf "fmt of a %.1f MB file (%s): %.3f s (%.1f MB/s); flowc check %.3f s: fmt/check %.2fx; cat %.4f s: fmt/cat %.0fx\n",
      b / 1048576, f, tf / 1e6, b / 1048576 / (tf / 1e6), tc / 1e6, tf / tc, tk / 1e6, tf / (tk > 0 ? tk : 1)
  }'
done
