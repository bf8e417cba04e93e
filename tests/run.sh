#!/usr/bin/env bash
# The single test runner: sources tests/lib/common.bash (helpers), then every suite tests/lib/*.sh in
# name order. Each case prints `PASS name`, `FAIL name` (plus a short indented excerpt) or `SKIP name`
# (with the reason: something it needs is not here); the last line is `N passed, N failed`, followed by
# `, N skipped` when any case was skipped; the exit status is 1 when any case failed.
#
#   FLOWC=build/asan/flowc [FLOWC_REL=build/flowc] [UPDATE=1] tests/run.sh [SUITE...]
#
# FLOWC      the compiler under test (required; `make test` passes the ASan+UBSan build)
# FLOWC_REL  the release build (optional): golden outputs must agree with FLOWC's, and the hostile
#            inputs of the badinput suite also go through it
# UPDATE=1   rewrite golden .expected files from FLOWC's output instead of comparing
# SUITE      run only these suites: tests/lib/NN-NAME.sh is suite NAME (e.g. `tests/run.sh cli lang`)
# T_TIMEOUT  seconds per compiler invocation (default 60; T_BAD_TIMEOUT for the badinput suite)
# Scratch files go to build/test/. Sanitizer options are fixed in tests/lib/common.bash.
set -u

# Resolve the compilers before leaving the caller's directory.
abspath() {
  case $1 in
    */*) case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac ;;
    *) command -v -- "$1" || printf '%s\n' "$PWD/$1" ;;
  esac
}
if [ -z "${FLOWC:-}" ]; then
  echo "tests/run.sh: FLOWC is not set (e.g. FLOWC=build/asan/flowc tests/run.sh)" >&2
  exit 2
fi
FLOWC=$(abspath "$FLOWC")
if [ ! -x "$FLOWC" ]; then
  echo "tests/run.sh: FLOWC=$FLOWC is not an executable (run make first)" >&2
  exit 2
fi
if [ -n "${FLOWC_REL:-}" ]; then
  FLOWC_REL=$(abspath "$FLOWC_REL")
  if [ ! -x "$FLOWC_REL" ]; then
    echo "tests/run.sh: FLOWC_REL=$FLOWC_REL is not an executable; ignoring it" >&2
    FLOWC_REL=
  fi
else
  FLOWC_REL=
fi
export FLOWC FLOWC_REL

cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD

for s in "$@"; do
  if ! ls tests/lib/[0-9][0-9]-"$s".sh >/dev/null 2>&1; then
    echo "tests/run.sh: no suite '$s' (suites: $(cd tests/lib && ls [0-9][0-9]-*.sh | sed 's/^[0-9][0-9]-//; s/\.sh$//' | tr '\n' ' '))" >&2
    exit 2
  fi
done

# shellcheck source=tests/lib/common.bash
. tests/lib/common.bash

for suite_file in tests/lib/*.sh; do
  [ -f "$suite_file" ] || continue
  suite=${suite_file##*/}; suite=${suite%.sh}; suite=${suite#[0-9][0-9]-}
  if [ $# -gt 0 ]; then
    want=0
    for s in "$@"; do [ "$s" = "$suite" ] && want=1; done
    [ $want = 1 ] || continue
  fi
  cd "$ROOT" || exit 2
  # shellcheck disable=SC1090
  . "$suite_file"
done
cd "$ROOT" || exit 2

if [ "$T_SKIP" -gt 0 ]; then
  echo "$T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
else
  echo "$T_PASS passed, $T_FAIL failed"
fi
[ "$T_FAIL" -eq 0 ]
