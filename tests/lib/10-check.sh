#!/usr/bin/env bash
# Suite `check`: golden diagnostics. For every tests/check/**/X.flow (tests/check/ok and
# tests/check/errors), X.expected holds exactly
#   (cd DIR-of-X && flowc check X.flow 2>&1; echo "exit $?")
# Files under ok/ must exit 0, files under errors/ must exit 1.
# Executed directly rather than sourced: run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" check
# A long CPU-bound suite: tests/run.sh starts it before the others (see there).
# lane: heavy
golden_suite check tests/check 1 check
