#!/usr/bin/env bash
# Suite `ops`: the unit tests of runtime/ops.c (the operators and record access of generated code),
# tests/unit/ops.c, built sanitized against libflowrt.a by `make build/tests/unit_ops`; every one of
# its assertions must pass with no sanitizer report. Executed directly rather than sourced: run this
# suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" ops

ops_bin=build/tests/unit_ops

t_build_unit ops "$ops_bin"

t_case ops/unit
if [ -n "$T_BUILT" ]; then
  t_exec "$ops_bin"
  t_expect_rc 0
  t_expect_grep "$C_OUT" '^ops: [0-9]+ passed, 0 failed$' "not every assertion passed"
else
  t_note "not run: $ops_bin was not built"
fi
t_done
