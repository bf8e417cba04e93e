#!/usr/bin/env bash
# The auto-map report: flowc automap on every pair of tests/automap/pairs/ (tests/automap/pairs.bash),
# its precision and recall against the hand-written expected mappings as a table (all suggestions, and
# the confident ones --write inserts; held-out pairs, written after the matcher was tuned, in a row of
# their own), and the time one suggestion run takes per pair (best of 5, against `flowc check` of the
# same file: automap checks the file, then checks it again with the suggestions in place). The
# PostgreSQL pair runs against a throwaway server (scripts/pg.sh) when PostgreSQL 15 is installed.
# Builds nothing (`make bench` builds build/flowc first). Work files go to build/bench/automap/.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
FLOWC=$PWD/build/flowc
out=$PWD/build/bench/automap
[ -x "$FLOWC" ] || { echo "bench/automap.sh: $FLOWC not found: run make first" >&2; exit 2; }
command -v jq >/dev/null && command -v sqlite3 >/dev/null || { echo "bench/automap.sh: needs jq and sqlite3 (scripts/deps.sh bench)" >&2; exit 2; }
rm -rf "$out"; mkdir -p "$out"
# shellcheck source=tests/automap/pairs.bash
. tests/automap/pairs.bash
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
AM_PG_PORT=; AM_PSQL=$PG_BIN/psql
if [ -x "$PG_BIN/initdb" ] && [ -x "$AM_PSQL" ]; then
  trap 'scripts/pg.sh stop "$out/pg" >/dev/null 2>&1' EXIT
  AM_PG_PORT=$(PG_BIN=$PG_BIN scripts/pg.sh start "$out/pg" 2>"$out/pg-start.err") || AM_PG_PORT=
fi

echo "auto-map: precision and recall against tests/automap/pairs/*/expected.map"
am_table "$out/pairs"
[ ${#AM_SKIPPED[@]} -eq 0 ] || printf 'skipped: %s\n' "${AM_SKIPPED[@]}"

us() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000 )); }
best() { local b= t; for _ in 1 2 3 4 5; do t=$(us "$@"); if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; fi; done; echo "$b"; }
echo
printf '%-28s %10s %10s\n' pair automap check
for d in tests/automap/pairs/*/; do
  d=${d%/}; name=${d##*/}; work=$out/pairs/$name
  [ -f "$work/out.json" ] || continue
  read -ra args < <(am_args "$d")
  ta=$(cd "$work" && best env "${AM_ENV[@]}" "$FLOWC" automap flow.flow "${args[@]}")
  tc=$(cd "$work" && best "$FLOWC" check flow.flow)
  printf '%-28s %8.2fms %8.2fms\n' "$name" "$(awk -v t="$ta" 'BEGIN { print t / 1000 }')" "$(awk -v t="$tc" 'BEGIN { print t / 1000 }')"
done
