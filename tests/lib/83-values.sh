#!/usr/bin/env bash
# Suite `values`: the unit tests of the runtime's values (runtime/json_read.c, json_print.c, value.c),
# tests/unit/values.c, built sanitized against libflowrt.a by `make build/tests/unit_values`; every one of
# its assertions must pass with no sanitizer report. Executed directly rather than sourced: run this
# suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" values

values_bin=build/tests/unit_values

t_build_unit values "$values_bin"

t_case values/unit
if [ -n "$T_BUILT" ]; then
  t_exec "$values_bin"
  t_expect_rc 0
  t_expect_grep "$C_OUT" '^values: [0-9]+ passed, 0 failed$' "not every assertion passed"
else
  t_note "not run: $values_bin was not built"
fi
t_done
