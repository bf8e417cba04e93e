#!/usr/bin/env bash
# Suite `jsonpath`: the JSONPath Compliance Test Suite (RFC 9535) through `flowc eval --path`: one
# PASS/FAIL line per CTS case, as judged by build/tests/jsonpath_cts (tests/conformance/jsonpath_cts.c,
# built here with make when missing). The suite file is ${SHARED_DIR:-../shared}/conformance/
# jsonpath-cts.json when it exists, else the repository's copy in tests/conformance/suites/. With FLOWC_REL,
# the release build must pass every case too (one more case). Sourced by tests/run.sh (suite
# `jsonpath`); executed directly, it runs itself through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" jsonpath
# A long CPU-bound suite: tests/run.sh starts it before the others (see there).
# lane: heavy

jp_cts=$(t_find_suite conformance/jsonpath-cts.json)
jp_runner=build/tests/jsonpath_cts
jp_log=$T_TMP/jsonpath-cts.log

if [ -z "$jp_cts" ]; then
  skip jsonpath/cts "no jsonpath-cts.json in ${SHARED_DIR:-../shared}/conformance/ or tests/conformance/suites/"
  return 0
fi
t_case jsonpath/setup
if [ ! -x "$jp_runner" ] && ! make -s "$jp_runner" >"$T_TMP/jsonpath-build.log" 2>&1; then
  t_note "make $jp_runner failed:" "$(tail -n 20 "$T_TMP/jsonpath-build.log")"
fi
t_done
if [ ! -x "$jp_runner" ]; then
  return 0
fi

# The runner has its own 10 s timeout per case; the outer one only guards against the runner itself.
timeout -k 5 1800 "$jp_runner" -v "$FLOWC" "$jp_cts" >"$jp_log" 2>&1
jp_rc=$?

# jp_flush: reports the FAIL (or the runner's SKIP) being collected, if any.
jp_name=''
jp_detail=()
jp_skip=''
jp_flush() {
  [ -n "$jp_name" ] && fail "jsonpath/$jp_name" "${jp_detail[@]}"
  [ -n "$jp_skip" ] && skip "jsonpath/$jp_skip" "${jp_detail[0]:-the runner skips it}"
  jp_name=''
  jp_skip=''
  jp_detail=()
}
jp_summary=''
jp_failed=0
while IFS= read -r jp_line; do
  case $jp_line in
    'PASS '*) jp_flush; pass "jsonpath/${jp_line#PASS }" ;;
    'FAIL '*) jp_flush; jp_name=${jp_line#FAIL }; jp_failed=$((jp_failed + 1)) ;;
    'SKIP '*) jp_flush; jp_skip=${jp_line#SKIP } ;;
    '    '*) [ -n "$jp_name$jp_skip" ] && jp_detail+=("${jp_line#    }") ;;
    'jsonpath-cts: '*) jp_flush; jp_summary=$jp_line ;;
    *) [ -n "$jp_name" ] && jp_detail+=("$jp_line") ;;
  esac
done <"$jp_log"
jp_flush

# The run as a whole: the runner finished, printed its summary, and its status agrees with the cases.
t_case jsonpath/runner
case $jp_rc in
  0 | 1) ;;
  124) t_note "the runner timed out: $jp_runner -v $FLOWC $jp_cts" ;;
  *) t_note "the runner exited $jp_rc: $jp_runner -v $FLOWC $jp_cts" "$(tail -n 10 "$jp_log")" ;;
esac
[ -n "$jp_summary" ] || t_note "no summary line from the runner (see $jp_log)"
if [ "$jp_rc" = 1 ] && [ "$jp_failed" = 0 ]; then t_note "the runner exited 1 without a FAIL line (see $jp_log)"; fi
t_done

if [ -n "$FLOWC_REL" ]; then
  t_case jsonpath/release-build
  # 703 flowc processes: ~10 s of CPU, but a minute and more of wall clock on a loaded machine, so the
  # outer limit is the ASan run's (the runner times each case itself)
  T_TIMEOUT=1800 t_exec "$ROOT/$jp_runner" "$FLOWC_REL" "$jp_cts"
  t_expect_rc 0
  t_done
fi
