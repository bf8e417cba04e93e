#!/usr/bin/env bash
# Suite `lsp`: the language server (`flowc lsp`) driven over pipes by tests/lsp/driver.py with each
# recorded exchange tests/lsp/NAME/session, compared with tests/lsp/NAME/expected (every message the
# server wrote, its stderr and its exit code; UPDATE=1 rewrites them). Run against FLOWC (the sanitized
# build under make test: a sanitizer report or a leak shows in stderr and the exit code, so it fails
# the case). Also: the server reports the same diagnostics as `flowc check` for every .flow file of
# tests/check (lsp/same-as-check).
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" lsp

lsp_dir=$T_TMP/lsp
rm -rf "$lsp_dir"
mkdir -p "$lsp_dir"
if ! command -v python3 >/dev/null; then
  skip lsp "python3 is not installed (scripts/deps.sh installs it)"
else
  for case_dir in tests/lsp/*/; do
    name=${case_dir%/}; name=${name##*/}
    [ -f "$case_dir/session" ] || continue
    if python3 tests/lsp/driver.py "$FLOWC" "$case_dir" >"$lsp_dir/$name.diff" 2>&1; then
      pass "lsp/$name"
    else
      fail "lsp/$name" "$(cat "$lsp_dir/$name.diff")"
    fi
  done
  # the diagnostics of every golden check case, through the server and through `flowc check --format json`
  if python3 tests/lsp/same_as_check.py "$FLOWC" "${FLOWC_REL:-$FLOWC}" tests/check/*/*.flow tests/check/*/*/*.flow >"$lsp_dir/same.out" 2>&1; then
    pass "lsp/same-as-check $(tail -n 1 "$lsp_dir/same.out")"
  else
    fail "lsp/same-as-check" "$(cat "$lsp_dir/same.out")"
  fi
fi
