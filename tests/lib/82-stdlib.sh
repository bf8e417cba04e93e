#!/usr/bin/env bash
# Suite `stdlib`: the unit tests of the built-in functions (tests/unit/stdlib.c, built with ASan+UBSan
# and linked with build/asan/libflowrt.a by `make build/tests/unit_stdlib`). One case builds the test
# program, then one case per assertion group (`unit_stdlib --list`) runs it; a group passes when it
# exits 0, prints `stdlib: N passed, 0 failed` and no sanitizer report. A failing group lists its
# failed assertions (`FAIL group: file:line: call: expected ..., got ...`).
# Executed directly rather than sourced: run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" stdlib

stdlib_bin=$ROOT/build/tests/unit_stdlib

t_case stdlib/build
t_exec make -s build/tests/unit_stdlib
t_expect_rc 0
[ -x "$stdlib_bin" ] || t_note "no test program at ${stdlib_bin#"$ROOT"/}"
stdlib_built=$([ "$C_RC" = 0 ] && [ -x "$stdlib_bin" ] && echo 1)
t_done

if [ -n "$stdlib_built" ]; then
  stdlib_groups=$("$stdlib_bin" --list 2>/dev/null)
  [ -n "$stdlib_groups" ] || fail stdlib/groups "\`${stdlib_bin#"$ROOT"/} --list\` printed no group"
  for stdlib_group in $stdlib_groups; do
    t_case "stdlib/$stdlib_group"
    t_exec "$stdlib_bin" "$stdlib_group"
    t_expect_rc 0
    t_expect_grep "$C_OUT" '^stdlib: [0-9]+ passed, 0 failed$' 'no line `stdlib: N passed, 0 failed`'
    grep -aq '^FAIL ' "$C_OUT" && t_note "$(grep -a '^FAIL ' "$C_OUT")"
    t_done
  done
fi
