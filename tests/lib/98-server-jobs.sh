#!/usr/bin/env bash
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" server-jobs
# Runs killed and canceled while they go on: tests/run.sh runs this suite in its timing lane (see
# there).
# lane: timing
# Suite `server-jobs`: the control plane's runs and secrets (issue 14, server/secrets.c, build_cache.c,
# jobs.c), first as a unit program over a real store and real child processes
# (tests/server/jobs.c), then through a real `flowc server` on 127.0.0.1 driven with curl:
#   server-jobs/unit           key file (0600, refused when readable by others), secrets encrypted
#                              (names listed, values never; another key does not decrypt), the build
#                              cache (one build per content hash, a failed build named), jobs (a run
#                              with the secret in its environment, a window refused, one job of a flow
#                              at a time, a kill -9 of the run = a failed job, cancel, 404/409, paging)
#   server-jobs/no-secret-at-rest   the secret's value is nowhere in the workspace (store, logs, cache)
#   server-jobs/conn-...       POST /v1/connections/{id}/test and /debug (tests/server/conns.py)
#   server-jobs/pool/...       the runs' state stores kept open between requests (tests/server/pool.py)
# Runs are built against the sanitized runtime, as every end-to-end suite builds its flows.

sj_root=$T_TMP/server-jobs
rm -rf "$sj_root"; mkdir -p "$sj_root"
export FLOWC_RUNTIME_LIB=$ROOT/build/asan/libflowrt.a FLOWC_CFLAGS=$T_SAN_CFLAGS
SJ_SECRET='s3cr3t-Value-9f2Kq'

# the HTTP test server (slow pages for the runs that get killed and canceled)
sj_http_start() {
  rm -f "$sj_root/http.port"
  build/tests/http_server --port 0 --ready "$sj_root/http.port" >"$sj_root/http.log" 2>&1 &
  SJ_HTTP_PID=$!
  local i
  for i in $(seq 100); do [ -s "$sj_root/http.port" ] && break; sleep 0.05; done
  SJ_HTTP=http://127.0.0.1:$(cat "$sj_root/http.port" 2>/dev/null)
}
sj_http_stop() { [ -n "${SJ_HTTP_PID:-}" ] && kill "$SJ_HTTP_PID" 2>/dev/null && wait "$SJ_HTTP_PID" 2>/dev/null; SJ_HTTP_PID=; }

t_build_unit server-jobs build/tests/server_jobs
make -s build/tests/http_server build/asan/libflowrt.a >/dev/null 2>&1
if [ "$T_BUILT" = 1 ]; then
  sj_http_start
  t_case server-jobs/unit
  mkdir -p "$sj_root/unit"
  t_exec build/tests/server_jobs "$sj_root/unit" "$FLOWC" "$SJ_SECRET" "$SJ_HTTP"
  t_expect_rc 0
  t_expect_grep "$C_OUT" ' 0 failed' "the unit program did not pass"
  t_done
  sj_http_stop

  t_case server-jobs/no-secret-at-rest
  # the test's own input file holds the secret as data (the flow compares records with it); nothing else may
  sj_hits=$(grep -rlaF -- "$SJ_SECRET" "$sj_root/unit" | grep -v '/work/shop/data/in\.ndjson$')
  [ -z "$sj_hits" ] || t_note "the secret's value is in: $sj_hits"
  [ -s "$sj_root/unit/store.db" ] || t_note "no store was written"
  sqlite3 "$sj_root/unit/store.db" 'SELECT count(*) FROM secrets' 2>/dev/null | grep -qx 1 || t_note "the secret is not in the store's secrets table"
  t_done
fi

# ---- through a real flowc server (tests/server/jobs.py: runs; tests/server/hooks.py: schedules and
# webhooks; tests/server/conns.py: connection tests and debug windows; each of their lines a case) ----
sj_out=$sj_root/driver.out
FLOWC="$FLOWC" timeout -k 5 900 python3 tests/server/jobs.py "$sj_root/server" >"$sj_out" 2>"$sj_root/driver.err"
t_driver server-jobs/driver server-jobs/stops-cleanly-on-sigterm "$sj_out" $? "$sj_root/driver.err"
sj_out=$sj_root/hooks.out
FLOWC="$FLOWC" timeout -k 5 900 python3 tests/server/hooks.py "$sj_root/hooks" >"$sj_out" 2>"$sj_root/hooks.err"
t_driver server-jobs/driver-hooks server-hooks/stops-cleanly-on-sigterm "$sj_out" $? "$sj_root/hooks.err"
sj_out=$sj_root/conns.out
FLOWC="$FLOWC" timeout -k 5 900 python3 tests/server/conns.py "$sj_root/conns" >"$sj_out" 2>"$sj_root/conns.err"
t_driver server-jobs/driver-conns server-jobs/conn/stops-cleanly-on-sigterm "$sj_out" $? "$sj_root/conns.err"
sj_out=$sj_root/pool.out
FLOWC="$FLOWC" timeout -k 5 900 python3 tests/server/pool.py "$sj_root/pool" >"$sj_out" 2>"$sj_root/pool.err"
t_driver server-jobs/driver-pool server-jobs/pool/stops-cleanly-on-sigterm "$sj_out" $? "$sj_root/pool.err"
