#!/usr/bin/env bash
# Suite `badinput`: hostile inputs must neither crash nor hang; the cases live in tests/badinput/badinput.sh.
# Executed directly rather than sourced: run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" badinput
# A long CPU-bound suite: tests/run.sh starts it before the others (see there).
# lane: heavy
. tests/badinput/badinput.sh
