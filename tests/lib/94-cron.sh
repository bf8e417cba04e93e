#!/usr/bin/env bash
# Suite `cron`: schedules as data (runtime/cron.c, runtime/tz.c) and `flowc cron`.
#   cron/tz/ZONE       the TZif reader against `zdump -v -c 1800,2200 ZONE` (tests/unit/tz.c, built
#                      sanitized): every offset zdump prints, every change and its way back
#   cron/cli/NAME      `flowc cron` with the arguments of tests/cron/cli/NAME.args (one per line): its
#                      output and errors, then `exit N`, against NAME.expected; the release build must
#                      print the same (UPDATE=1 rewrites them)
#   cron/conformance   tests/cron/conformance.js: 2,400 (expression, zone, start) triples from a fixed
#                      seed against the npm package cron-parser 5 (installed into build/npm by
#                      `scripts/deps.sh test`), through `flowc cron --batch`; SKIP without node or the
#                      package. The case prints the pass rate and each class of difference.
# Executed directly rather than sourced: run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" cron

cron_tz_bin=$ROOT/build/tests/unit_tz
t_build_unit cron/tz/build build/tests/unit_tz
if [ -n "$T_BUILT" ]; then
  if ! command -v zdump >/dev/null 2>&1; then
    skip cron/tz "no zdump on this machine (Debian: libc-bin)"
  else
    for cron_zone in America/New_York Europe/Berlin Australia/Lord_Howe Europe/London America/Sao_Paulo Asia/Tehran \
                     Pacific/Chatham America/St_Johns Europe/Dublin Asia/Kathmandu Pacific/Apia Antarctica/Troll \
                     America/Santiago Africa/Casablanca Etc/GMT-14; do
      t_case "cron/tz/$cron_zone"
      if [ ! -f "/usr/share/zoneinfo/$cron_zone" ]; then
        skip "cron/tz/$cron_zone" "no /usr/share/zoneinfo/$cron_zone (the tzdata package)"
        continue
      fi
      zdump -v -c 1800,2200 "$cron_zone" >"$T_TMP/cases/zdump.txt" 2>/dev/null
      t_exec sh -c '"$1" "$2" <"$3"' sh "$cron_tz_bin" "$cron_zone" "$T_TMP/cases/zdump.txt"
      t_expect_rc 0
      t_expect_grep "$C_OUT" "^tz $cron_zone: [0-9]+ lines, [0-9]+ changes, 0 failed$" "no line \`tz ZONE: N lines, N changes, 0 failed\`"
      grep -aq '^FAIL ' "$C_OUT" && t_note "$(grep -a '^FAIL ' "$C_OUT" | head -n 5)"
      t_done
    done
  fi
fi

# ---- flowc cron, golden ----
for cron_args in tests/cron/cli/*.args; do
  cron_name=$(basename "$cron_args" .args)
  cron_exp=$ROOT/tests/cron/cli/$cron_name.expected
  cron_out=$T_TMP/cron/$cron_name.out
  mkdir -p "$T_TMP/cron"
  mapfile -t cron_argv <"$cron_args"
  golden_run 1 "$cron_out" "$cron_out.err" "$ROOT" "$FLOWC" cron "${cron_argv[@]}"
  if ! golden_cmp "$cron_exp" "$cron_out"; then fail "cron/cli/$cron_name" "${G_MSGS[@]}"; continue; fi
  case $cron_name in
    error_*) grep -q '^exit 1$' "$cron_out" || { fail "cron/cli/$cron_name" "an error must exit 1:" "$(cat "$cron_out")"; continue; } ;;
    usage_*) grep -q '^exit 2$' "$cron_out" || { fail "cron/cli/$cron_name" "a usage error must exit 2:" "$(cat "$cron_out")"; continue; } ;;
    *) grep -q '^exit 0$' "$cron_out" || { fail "cron/cli/$cron_name" "must exit 0:" "$(cat "$cron_out")"; continue; } ;;
  esac
  if [ -n "$FLOWC_REL" ]; then
    golden_run 1 "$cron_out.rel" "$cron_out.rel.err" "$ROOT" "$FLOWC_REL" cron "${cron_argv[@]}"
    if ! cmp -s "$cron_out" "$cron_out.rel"; then
      fail "cron/cli/$cron_name" "the release build prints something else:" "$(diff -u "$cron_out" "$cron_out.rel" | head -n 20)"
      continue
    fi
  fi
  pass "cron/cli/$cron_name$G_NOTE"
done

# ---- the oracle: cron-parser 5 ----
if ! command -v node >/dev/null 2>&1; then
  skip cron/conformance "no node: scripts/deps.sh test installs nodejs and npm"
elif [ ! -f "$ROOT/build/npm/node_modules/cron-parser/package.json" ]; then
  skip cron/conformance "cron-parser is not in build/npm: npm could not reach its registry when scripts/deps.sh test ran (see build/npm/npm.log)"
else
  t_case cron/conformance
  T_TIMEOUT_SAVED=$T_TIMEOUT
  T_TIMEOUT=600
  t_exec node tests/cron/conformance.js "$FLOWC" build/npm --cases 2400 --show 4
  T_TIMEOUT=$T_TIMEOUT_SAVED
  t_expect_rc 0
  t_expect_grep "$C_OUT" '^cron conformance: 2400 cases .* 0 unexplained$' 'no line `cron conformance: 2400 cases ... 0 unexplained`'
  if [ ${#C_MSGS[@]} -eq 0 ]; then
    pass "cron/conformance"
    grep -a '^cron conformance:\|^cron differences:' "$C_OUT" | fold -s -w 190 | t_clip
  else
    t_done
  fi
fi
