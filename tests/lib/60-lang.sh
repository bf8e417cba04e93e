#!/usr/bin/env bash
# Suite `lang`: every ```flow block of LANGUAGE.md checks; the cases live in tests/lang/lang.sh.
# Executed directly rather than sourced: run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" lang
. tests/lang/lang.sh
