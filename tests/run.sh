#!/usr/bin/env bash
# The single test runner: runs every suite tests/lib/NN-NAME.sh, each in a process of its own that
# sources tests/lib/common.bash (helpers) and then the suite; several at once (see "The schedule"
# below), each suite's output printed whole when it ends. Each case prints `PASS name`, `FAIL name` (plus a short indented excerpt) or `SKIP name`
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
# T_JOBS     suites run at once besides the timing lane (default: the number of CPUs; 1: one by one)
# T_NICE     the niceness of the suites outside the timing lane (default 5)
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

# ---------------------------------------------------------------------------------------------------
# The schedule. Each suite runs in a process of its own (a subshell that sources common.bash, then the
# suite), its output buffered in build/test/run/NAME/out and printed whole, in the order the suites
# finish, followed by the line `== NAME: N passed, N failed (W s, cpu C s)`; its counts come back in
# NAME/counts (a suite that ends before its last line is a failure named `NAME/suite-ended-early`).
# Suites are independent (each has its own directory under build/test/, servers on ports the kernel
# picks, no variable or trap of one reaches another), so T_JOBS of them run at once (default: the
# number of CPUs; T_JOBS=1 runs them one after another in name order, each in its own process too).
# A suite whose file has the line `# lane: timing` (its cases wait on the clock: schedules, timeouts,
# servers timed) runs in a lane of its own besides those, one such suite at a time, at normal
# priority, while the others run under `nice -n T_NICE` (default 5): whenever a timing suite wants
# the CPU, it gets it. A suite with the line `# lane: heavy` (a long CPU-bound one) starts before the
# others, so the longest work does not come last. A new suite needs neither line.
export LC_ALL=C
T_JOBS=${T_JOBS:-$(nproc 2>/dev/null || echo 2)}
case $T_JOBS in '' | *[!0-9]* | 0) T_JOBS=1 ;; esac
T_NICE=${T_NICE:-5}
# `wait -n -p` (bash 5.1) tells which suite ended; an older bash runs them one at a time
if [ "${BASH_VERSINFO[0]}" -lt 5 ] || { [ "${BASH_VERSINFO[0]}" = 5 ] && [ "${BASH_VERSINFO[1]}" -lt 1 ]; }; then
  T_JOBS=1
fi
T_RUN=$ROOT/build/test/run
mkdir -p "$T_RUN"

heavy=() timing=() rest=()
for suite_file in tests/lib/[0-9][0-9]-*.sh; do
  [ -f "$suite_file" ] || continue
  suite=${suite_file##*/}; suite=${suite%.sh}; suite=${suite#[0-9][0-9]-}
  if [ $# -gt 0 ]; then
    want=0
    for s in "$@"; do [ "$s" = "$suite" ] && want=1; done
    [ $want = 1 ] || continue
  fi
  if [ "$T_JOBS" = 1 ]; then rest+=("$suite_file")
  elif grep -qx '# lane: timing' "$suite_file"; then timing+=("$suite_file")
  elif grep -qx '# lane: heavy' "$suite_file"; then heavy+=("$suite_file")
  else rest+=("$suite_file"); fi
done
general=("${heavy[@]}" "${rest[@]}")

# suite_run FILE NICE: runs the suite FILE in this (background) process, at niceness NICE
suite_run() {
  local file=$1 name d t0 t1
  name=${file##*/}; name=${name%.sh}; name=${name#[0-9][0-9]-}
  d=$T_RUN/$name
  rm -rf "$d"; mkdir -p "$d"
  [ "$2" = 0 ] || renice -n "$2" -p "$BASHPID" >/dev/null 2>&1
  t0=$(date +%s%N)
  T_RUN_COUNTS=$d/counts   # (a suite may use any short name for its own variables)
  (
    cd "$ROOT" || exit 2
    # shellcheck source=tests/lib/common.bash
    . tests/lib/common.bash
    # shellcheck disable=SC1090
    . "$file"
    printf '%s %s %s\n' "$T_PASS" "$T_FAIL" "$T_SKIP" >"$T_RUN_COUNTS"
  ) </dev/null >"$d/out" 2>&1
  echo $? >"$d/rc"
  t1=$(date +%s%N)
  # the wall time, and the CPU time of the suite and every process it waited for
  times >"$d/times"   # (not in a pipe: that would be another process's)
  awk -v w=$(((t1 - t0) / 1000000)) 'NR == 2 {
      split($1, u, "m"); split($2, s, "m")
      printf "%.1f %.1f\n", w / 1000, u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$d/times" >"$d/time"
}

T_PASS=0 T_FAIL=0 T_SKIP=0
failed=()
# suite_report NAME: prints the suite's output whole and adds its counts
suite_report() {
  local d=$T_RUN/$1 p=0 f=0 k=0 wall=? cpu=? rc
  cat "$d/out"
  rc=$(cat "$d/rc" 2>/dev/null)
  mapfile -t -O "${#failed[@]}" failed < <(sed -n 's/^FAIL //p' "$d/out")
  if [ -s "$d/counts" ]; then
    read -r p f k <"$d/counts"
  else
    p=$(grep -c '^PASS ' "$d/out"); f=$(grep -c '^FAIL ' "$d/out"); k=$(grep -c '^SKIP ' "$d/out")
    f=$((f + 1))
    printf 'FAIL %s\n' "$1/suite-ended-early"
    printf '    the suite ended (exit %s) before its last line; its cases so far are counted\n' "${rc:-?}"
    failed+=("$1/suite-ended-early")
  fi
  [ -s "$d/time" ] && read -r wall cpu <"$d/time"
  T_PASS=$((T_PASS + p)); T_FAIL=$((T_FAIL + f)); T_SKIP=$((T_SKIP + k))
  printf '== %s: %s passed, %s failed%s (%s s, cpu %s s)\n' "$1" "$p" "$f" "$([ "$k" = 0 ] || echo ", $k skipped")" "$wall" "$cpu"
}

if [ "$T_JOBS" = 1 ]; then
  for suite_file in "${general[@]}"; do
    suite=${suite_file##*/}; suite=${suite%.sh}; suite=${suite#[0-9][0-9]-}
    suite_run "$suite_file" 0
    suite_report "$suite"
  done
else
  # T_JOBS suites of the general queue at once, and besides them one timing suite
  declare -A lane_of=() name_of=()
  gi=0 ti=0 n_general=0 n_timing=0 slots=$T_JOBS
  while :; do
    while [ "$n_timing" = 0 ] && [ "$ti" -lt ${#timing[@]} ]; do
      suite_run "${timing[$ti]}" 0 &
      lane_of[$!]=timing; name_of[$!]=${timing[$ti]}; n_timing=1; ti=$((ti + 1))
    done
    while [ "$n_general" -lt "$slots" ] && [ "$gi" -lt ${#general[@]} ]; do
      suite_run "${general[$gi]}" "$T_NICE" &
      lane_of[$!]=general; name_of[$!]=${general[$gi]}; n_general=$((n_general + 1)); gi=$((gi + 1))
    done
    [ $((n_general + n_timing)) -gt 0 ] || break
    done_pid=
    wait -n -p done_pid
    [ -n "$done_pid" ] && [ -n "${lane_of[$done_pid]:-}" ] || continue
    if [ "${lane_of[$done_pid]}" = timing ]; then n_timing=0; else n_general=$((n_general - 1)); fi
    suite=${name_of[$done_pid]##*/}; suite=${suite%.sh}; suite=${suite#[0-9][0-9]-}
    unset "lane_of[$done_pid]" "name_of[$done_pid]"
    suite_report "$suite"
  done
fi
cd "$ROOT" || exit 2

if [ ${#failed[@]} -gt 0 ]; then
  echo "failed:"
  printf '  %s\n' "${failed[@]}"
fi
if [ "$T_SKIP" -gt 0 ]; then
  echo "$T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
else
  echo "$T_PASS passed, $T_FAIL failed"
fi
[ "$T_FAIL" -eq 0 ]
