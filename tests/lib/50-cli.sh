#!/usr/bin/env bash
# Suite `cli`: the command-line contract; the cases live in tests/cli/cli.sh.
# Executed directly rather than sourced: run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" cli
. tests/cli/cli.sh
