#!/usr/bin/env bash
# Runs one libFuzzer target built by `make fuzz` (build/fuzz/fuzz_NAME from tests/fuzz/fuzz_NAME.c)
# for SECONDS seconds. Its corpus is build/fuzz/NAME/corpus, seeded with the files under
# tests/fuzz/seeds/NAME/ and, for the `check`, `fmt` and `graph` targets (the .flow front end), every .flow under tests/
# and examples/ (and the LANGUAGE.md blocks extracted by the lang suite into build/test/lang/, when
# present) with a keyword dictionary; tests/fuzz/NAME.dict, when present, is the target's dictionary.
# Logs to build/fuzz/NAME/fuzz.log and puts crashing inputs in build/fuzz/NAME/artifacts/.
# Ends with one summary line: executions, and whether crashes were found. Exit 1 on a crash, hang,
# leak or out-of-memory; 2 on a usage error.
# Usage: tests/fuzz/run.sh FUZZ_BINARY SECONDS
# Reproduce a finding: FUZZ_BINARY build/fuzz/artifacts/crash-...
set -u
export LC_ALL=C
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: tests/fuzz/run.sh FUZZ_BINARY SECONDS" >&2
  exit 2
fi
bin=$1
secs=${2:-60}
case $secs in *[!0-9]* | '') echo "tests/fuzz/run.sh: SECONDS must be a whole number" >&2; exit 2 ;; esac
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
if [ ! -x "$bin" ]; then
  echo "tests/fuzz/run.sh: $bin is not an executable (make fuzz builds it)" >&2
  exit 2
fi
cd "$(dirname "$0")/../.." || exit 2

name=${bin##*/fuzz_}
fz=build/fuzz/$name
corpus=$fz/corpus
art=$fz/artifacts
log=$fz/fuzz.log
dict=$fz/target.dict
mkdir -p "$corpus" "$art"

# --- seed corpus: inputs larger than -max_len would be truncated anyway, so they are skipped ---
nseed=0
while IFS= read -r f; do
  [ "$(wc -c <"$f")" -le 65536 ] || continue
  cp "$f" "$corpus/seed-$(printf '%s' "$f" | tr -c 'A-Za-z0-9._-' '_')"
  nseed=$((nseed + 1))
done < <({ [ -d "tests/fuzz/seeds/$name" ] && find "tests/fuzz/seeds/$name" -type f
           if [ "$name" = check ] || [ "$name" = fmt ] || [ "$name" = graph ]; then
             find tests examples -type f -name '*.flow' 2>/dev/null
             [ -d build/test/lang ] && find build/test/lang -type f -name '*.flow'
           fi; } | sort)

# --- dictionary: the target's own, or for `check` the language's words and punctuation ---
if [ -f "tests/fuzz/$name.dict" ]; then
  cp "tests/fuzz/$name.dict" "$dict"
elif [ "$name" = check ] || [ "$name" = fmt ] || [ "$name" = graph ]; then
{
  for w in integration version param env table type connection flow export from lookup transform \
           filter branch when rest import into map each in where 'if' 'then' 'else' and or not remove \
           response test given expect for hook schedule trigger first_match all_matching string int \
           number bool datetime json true false null record delta page run http file sqlite postgres \
           stdio ndjson csv path query records paginate stop mode page_size batch upsert method \
           '{{' '}}' '{{{' '}}}' '{{#if' '{{/if}}' '{{#each' '{{/each}}' '{{else}}' '{{#unless' \
           '=>' '??' '==' '!=' '<=' '>=' '/*' '*/' '//' '250ms' '30s' '5MB' '1e6' '3.14' '\u00e9'; do
    printf '"%s"\n' "$(printf '%s' "$w" | sed 's/\\/\\\\/g; s/"/\\"/g')"
  done
} >"$dict"
else
  : >"$dict"
fi

before=$(ls "$art" | LC_ALL=C sort)
ncorp=$(ls "$corpus" | wc -l)
echo "fuzz $name: $nseed seed files, corpus $corpus ($ncorp files), $secs s; log: $log"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
"$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$art/" $([ -s "$dict" ] && echo "-dict=$dict") -print_final_stats=1 "$corpus" >"$log" 2>&1
rc=$?

new=$(comm -13 <(printf '%s\n' "$before") <(ls "$art" | LC_ALL=C sort) | grep -v '^slow-unit-' | grep -v '^$')
runs=$(awk '/^Done [0-9]+ runs/ { n = $2 } END { if (n != "") print n }' "$log")
if [ -z "$runs" ]; then   # no "Done" line (a crash stops the run): the final stats, or the last status line
  runs=$(awk '/^stat::number_of_executed_units:/ { s = $2 } /^#[0-9]+[ \t]/ { n = substr($1, 2) }
              END { print (s != "") ? s : n + 0 }' "$log")
fi

if [ $rc = 0 ] && [ -z "$new" ]; then
  echo "fuzz $name: $runs executions in ${secs}s, corpus $(ls "$corpus" | wc -l) files, crashes: none"
  exit 0
fi
echo "---- end of $log ----"
grep -aE -A40 '^==[0-9]+==ERROR|runtime error:|^ALARM|out-of-memory|Deadly signal|LeakSanitizer' "$log" | head -n 60
echo "----"
for a in $new; do echo "artifact: $art/$a (reproduce: $bin $art/$a)"; done
echo "fuzz $name: $runs executions, crashes: FOUND (libFuzzer exit $rc, $(printf '%s\n' "$new" | grep -c .) new artifacts in $art/)"
exit 1
