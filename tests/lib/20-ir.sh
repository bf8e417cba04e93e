#!/usr/bin/env bash
# Suite `ir`: golden IR. tests/ir/X.expected holds (cd tests/ir && flowc dump ir X.flow 2>&1; echo "exit $?").
# Executed directly rather than sourced: run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" ir
golden_suite ir tests/ir 1 dump ir
