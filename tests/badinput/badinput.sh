#!/usr/bin/env bash
# Hostile inputs: flowc must neither crash nor hang on any of them. Sourced by tests/run.sh (suite
# `badinput`); alone: `FLOWC=build/asan/flowc tests/run.sh badinput`. tests/badinput/gen.sh writes the
# inputs into build/test/badinput/ (deterministic; see it for what each NAME.flow holds).
# For each input and each of `flowc check F` and `flowc dump ast F` (and `check` with FLOWC_REL):
#  - exit 0 or 1 (2 is wrong too: the file is readable; 124 = hang after T_BAD_TIMEOUT=60s,
#    >= 128 = crash);
#  - no sanitizer report;
#  - at most 1001 output lines containing `error:` (diagnostics must be capped).
# Executed directly rather than sourced: run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" badinput

bad_dir=$T_TMP/badinput
bad_timeout=${T_BAD_TIMEOUT:-60}
bad_max_errors=1001

t_case badinput/generate
if ! tests/badinput/gen.sh "$bad_dir" >"$T_TMP/cases/badinput-gen.log" 2>&1; then
  t_note "tests/badinput/gen.sh failed:" "$(cat "$T_TMP/cases/badinput-gen.log")"
fi
t_done

# bad_case NAME BIN ARGS...: one case; stdout and stderr are summarised by awk as they stream (the
# dump of a 10 MB file is large) into: line 1 the number of lines with `error:`, line 2 the line
# number of the first sanitizer report (0: none), then the first lines of output, then the report.
bad_case() {
  local name=$1 sum rc nerr san; shift
  sum=$T_TMP/cases/$(slug "$name").sum
  timeout -k 5 "$bad_timeout" "$@" </dev/null 2>&1 | awk -v sum="$sum" '
    { if (length($0) > 300) $0 = substr($0, 1, 300) "..." }
    NR <= 8 { first[NR] = $0 }
    /error:/ { nerr++ }
    /AddressSanitizer|LeakSanitizer|runtime error:/ && !san { san = NR }
    san && NR < san + 24 { rep[++nrep] = $0 }
    END {
      print nerr + 0 > sum; print san + 0 > sum
      for (i = 1; i <= 8 && i <= NR; i++) print "  | " first[i] > sum
      for (i = 1; i <= nrep; i++) print rep[i] > sum
    }'
  rc=${PIPESTATUS[0]}
  nerr=$(sed -n 1p "$sum"); san=$(sed -n 2p "$sum")
  local msgs=()
  case $rc in
    0 | 1) ;;
    2) msgs+=("exit 2 on a readable file") ;;
    124) msgs+=("hang: no answer within ${bad_timeout}s") ;;
    137) msgs+=("killed (SIGKILL after the ${bad_timeout}s timeout, or out of memory)") ;;
    1[3-9][0-9] | 2[0-9][0-9]) msgs+=("crash: killed by signal $((rc - 128))") ;;
    *) msgs+=("unexpected exit $rc") ;;
  esac
  [ "${san:-0}" = 0 ] || msgs+=("sanitizer report")
  [ "${nerr:-0}" -le $bad_max_errors ] || msgs+=("$nerr lines with error: (at most $bad_max_errors allowed)")
  if [ ${#msgs[@]} -eq 0 ]; then
    pass "$name"
  else
    if [ "${san:-0}" = 0 ]; then
      fail "$name" "${msgs[*]}; command: ${*#"$ROOT"/}" "$(tail -n +3 "$sum")"
    else
      fail "$name" "${msgs[*]}; command: ${*#"$ROOT"/}" "$(tail -n +3 "$sum" | grep -v '^  | ')"
    fi
  fi
}

for bad_f in "$bad_dir"/*.flow; do
  [ -f "$bad_f" ] || continue
  bad_n=${bad_f##*/}; bad_n=${bad_n%.flow}
  bad_case "badinput/check/$bad_n" "$FLOWC" check "$bad_f"
  bad_case "badinput/dump-ast/$bad_n" "$FLOWC" dump ast "$bad_f"
  [ -n "$FLOWC_REL" ] && bad_case "badinput/check-release/$bad_n" "$FLOWC_REL" check "$bad_f"
done
