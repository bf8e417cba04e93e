#!/usr/bin/env bash
# Suite `decimal`: the unit tests of runtime/decimal.c (numbers to and from decimal text), tests/unit/decimal.c,
# built sanitized against libflowrt.a by `make build/tests/unit_decimal`: shortest digits, parsing and the
# %g layout against glibc's strtod and printf over random doubles. Executed directly rather than sourced:
# run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" decimal

dec_bin=build/tests/unit_decimal

t_build_unit decimal "$dec_bin"

t_case decimal/unit
if [ -n "$T_BUILT" ]; then
  t_exec "$dec_bin"
  t_expect_rc 0
  t_expect_grep "$C_OUT" '^decimal: [0-9]+ passed, 0 failed$' "not every assertion passed"
else
  t_note "not run: $dec_bin was not built"
fi
t_done
