#!/usr/bin/env bash
# Suite `json`: golden JSON diagnostics. tests/json/X.expected holds
#   (cd tests/json && flowc check --format json X.flow 2>/dev/null; echo "exit $?")
# (stderr is left out of the golden text but still scanned for sanitizer reports).
# Executed directly rather than sourced: run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" json
golden_suite json tests/json 0 check --format json
