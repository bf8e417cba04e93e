#!/usr/bin/env bash
# Suite `ast`: golden AST. tests/ast/X.expected holds (cd tests/ast && flowc dump ast X.flow 2>&1; echo "exit $?").
# Executed directly rather than sourced: run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" ast
golden_suite ast tests/ast 1 dump ast
