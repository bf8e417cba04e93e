[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" server
# Tokens expire on the clock: tests/run.sh runs this suite in its timing lane (see there).
# lane: timing
# Suite `server`: `flowc server` (the sanitized build) as real processes on 127.0.0.1, over
# workspaces made by `flowc server init`, driven with real HTTP by tests/server/api.py (python3's
# urllib, curl for bodies over the cap): init, the listener's conventions (401/403/404/405/413/400,
# the error shape, Link paging), tokens (scope, expiry, revocation), the audit log and `audit verify`,
# the OpenAPI document against routes.def, metrics, and a clean stop on SIGTERM (no leak, exit 0).
# Each line of the driver is a case: PASS NAME, or FAIL NAME with indented details.

srv_tmp=$T_TMP/server
rm -rf "$srv_tmp"; mkdir -p "$srv_tmp"
srv_out=$srv_tmp/driver.out
FLOWC="$FLOWC" timeout -k 5 900 python3 tests/server/api.py "$srv_tmp/work" >"$srv_out" 2>"$srv_tmp/driver.err"
srv_rc=$?
srv_name= srv_detail=()
srv_flush() {
  [ -n "$srv_name" ] || return 0
  if [ "$srv_state" = PASS ]; then pass "$srv_name"; else fail "$srv_name" "${srv_detail[@]}"; fi
  srv_name= srv_detail=()
}
while IFS= read -r line; do
  case $line in
    "PASS "* | "FAIL "*) srv_flush; srv_state=${line%% *}; srv_name=${line#* } ;;
    *) srv_detail+=("${line#    }") ;;
  esac
done <"$srv_out"
srv_flush
if [ "$srv_rc" != 0 ] || ! grep -q '^PASS server/stops-cleanly\|^FAIL server/stops-cleanly' "$srv_out"; then
  fail server/driver "tests/server/api.py exited $srv_rc before its last case" "$(tail -n 20 "$srv_tmp/driver.err")"
fi
