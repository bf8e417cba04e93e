#!/usr/bin/env bash
# Suite `engine`: the unit tests of the engine, the file/stdio/sqlite connectors and the built
# executable's CLI (tests/unit/engine.c: hand-written program tables run through flow_main on real
# files and a real SQLite database in a temporary directory), built with ASan+UBSan against
# build/asan/libflowrt.a by `make build/tests/unit_engine`; every assertion must pass with no
# sanitizer report. Executed directly rather than sourced: run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" engine

engine_bin=build/tests/unit_engine

t_build_unit engine "$engine_bin"

t_case engine/unit
if [ -n "$T_BUILT" ]; then
  mkdir -p "$T_TMP/engine"
  t_exec env TMPDIR="$T_TMP/engine" "$engine_bin"
  t_expect_rc 0
  t_expect_grep "$C_OUT" '^engine: [0-9]+ passed, 0 failed$' "not every assertion passed"
else
  t_note "not run: $engine_bin was not built"
fi
t_done
