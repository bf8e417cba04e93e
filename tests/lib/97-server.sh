[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" server
# Tokens expire on the clock: tests/run.sh runs this suite in its timing lane (see there).
# lane: timing
# Suite `server`: `flowc server` (the sanitized build) as real processes on 127.0.0.1, over
# workspaces made by `flowc server init`, driven with real HTTP by tests/server/api.py (python3's
# urllib, curl for bodies over the cap): init, the listener's conventions (401/403/404/405/413/400,
# the error shape, Link paging), tokens (scope, expiry, revocation), the audit log and `audit verify`,
# the OpenAPI document against routes.def, metrics, and a clean stop on SIGTERM (no leak, exit 0).
# Each line of the driver is a case: PASS NAME, or FAIL NAME with indented details. First the unit
# program of the store's statement API (tests/server/db.c) on a SQLite file.

srv_tmp=$T_TMP/server
rm -rf "$srv_tmp"; mkdir -p "$srv_tmp"

# the store's statement API (server/db.h) on SQLite: tests/server/db.c (the server-pg suite runs it on PostgreSQL too)
t_build_unit server/db build/tests/server_db
if [ "$T_BUILT" = 1 ]; then
  t_case server/db/sqlite
  t_exec build/tests/server_db "$srv_tmp/unit.db"
  t_expect_rc 0
  t_expect_grep "$C_OUT" ' 0 failed' "the unit program did not pass"
  t_done
fi
srv_out=$srv_tmp/driver.out
FLOWC="$FLOWC" timeout -k 5 900 python3 tests/server/api.py "$srv_tmp/work" >"$srv_out" 2>"$srv_tmp/driver.err"
t_driver server/driver server/stops-cleanly-on-sigterm "$srv_out" $? "$srv_tmp/driver.err"
