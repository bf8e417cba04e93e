#!/usr/bin/env bash
# Suite `fmt`: flowc fmt; the cases live in tests/fmt/fmt.sh.
# Executed directly rather than sourced: run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" fmt
# A long CPU-bound suite: tests/run.sh starts it before the others (see there).
# lane: heavy
. tests/fmt/fmt.sh
