#!/usr/bin/env bash
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" server-pg
# Suite `server-pg`: `flowc server --db` on a real PostgreSQL 15 server started for the suite
# (scripts/pg.sh: a cluster under build/test/server-pg, 127.0.0.1 on a free port, trust
# authentication) and stopped at its end, even when a case fails. Every workspace is `init --db` on a
# database of its own, with a DSN whose password (pw-S3CRET-...) must never show.
#   server-pg/db/...     tests/server/db.c, the store's statement API, on SQLite and on PostgreSQL
#   server-pg/...        tests/server/api.py's cases, the same as the server suite's, on a PostgreSQL store
#   server-jobs-pg/...   tests/server/jobs.py's (runs, secrets, jobs, the client), conns.py's (connection
#                        tests, a postgres connection's too, and debug windows) and pool.py's (the runs'
#                        state stores kept open between requests; the cluster restarted between two)
#                        on a PostgreSQL store
#   server-pg/state/...  `flowc run`, `state show` and `errors list` with FLOW_STATE_DB: the runs' state in
#                        a schema of the database (no state file), the password never shown; serve refuses
#                        it; a value that is not a DSN is refused
#   server-pg/two/...    tests/server/two.py: two servers, two workspace directories, one store: a
#                        change seen through both, schedules and webhooks made, changed and deleted
#                        through one served (and stopped) by both without a restart, a package's
#                        files taken through one used by both servers' checks and runs, the runs' state
#                        shared in the store (a delta flow, an error listed/resolved/retried through the other
#                        server, a webhook request run once, a killed run's lock released, no secret in
#                        it), 40 jobs queued through both run exactly once (each
#                        run writes a row into PostgreSQL: the rows are counted), concurrent changes
#                        keep one audit chain, a killed server's job failed when its lease runs out
# SKIP when the PostgreSQL binaries are not installed (scripts/deps.sh test installs them).

spg=$T_TMP/server-pg
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
[ -f "$spg/pg/data/postmaster.pid" ] && scripts/pg.sh stop "$spg/pg" >/dev/null 2>&1   # left by a killed run
rm -rf "$spg"; mkdir -p "$spg"

spg_port=
if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ] || [ ! -x "$PG_BIN/postgres" ] || [ ! -x "$PG_BIN/psql" ] ||
   [ ! -x "$PG_BIN/pg_dump" ]; then
  skip server-pg "PostgreSQL 15 is not installed: $PG_BIN/{initdb,pg_ctl,postgres,psql,pg_dump} are missing (scripts/deps.sh test installs it)"
else
  trap 'scripts/pg.sh stop "$spg/pg" >/dev/null 2>&1' EXIT
  if ! spg_port=$(PG_BIN=$PG_BIN scripts/pg.sh start "$spg/pg" 2>"$spg/start.err"); then
    fail server-pg/postgres "the test server did not start:" "$(cat "$spg/start.err")"
    spg_port=
  fi
fi

if [ -n "$spg_port" ]; then
  make -s build/tests/http_server build/asan/libflowrt.a >/dev/null 2>&1
  export FLOWC_TEST_PG="host=127.0.0.1 port=$spg_port user=flowtest" PG_BIN
  # runs are built against the sanitized runtime, as every end-to-end suite builds its flows
  export FLOWC_RUNTIME_LIB=$ROOT/build/asan/libflowrt.a FLOWC_CFLAGS=$T_SAN_CFLAGS

  t_build_unit server-pg/db build/tests/server_db
  if [ "$T_BUILT" = 1 ]; then
    t_case server-pg/db/sqlite-and-postgres
    psql_ok=$("$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$spg_port" -U flowtest -d postgres -c "CREATE DATABASE unit_db" 2>&1)
    [ -z "$psql_ok" ] || t_note "CREATE DATABASE unit_db: $psql_ok"
    t_exec build/tests/server_db "$spg/unit.db" "$FLOWC_TEST_PG dbname=unit_db password=pw-S3CRET-unit"
    t_expect_rc 0
    t_expect_grep "$C_OUT" ' 0 failed' "the unit program did not pass"
    t_expect_nogrep "$C_ERR" 'S3CRET' "a password was printed"
    t_done
  fi

  FLOWC="$FLOWC" timeout -k 5 900 python3 tests/server/api.py "$spg/api" >"$spg/api.out" 2>"$spg/api.err"
  t_driver server-pg/driver server-pg/stops-cleanly-on-sigterm "$spg/api.out" $? "$spg/api.err"

  FLOWC="$FLOWC" timeout -k 5 900 python3 tests/server/jobs.py "$spg/jobs" >"$spg/jobs.out" 2>"$spg/jobs.err"
  t_driver server-jobs-pg/driver server-jobs-pg/stops-cleanly-on-sigterm "$spg/jobs.out" $? "$spg/jobs.err"

  FLOWC="$FLOWC" timeout -k 5 900 python3 tests/server/conns.py "$spg/conns" >"$spg/conns.out" 2>"$spg/conns.err"
  t_driver server-jobs-pg/driver-conns server-jobs-pg/conn/stops-cleanly-on-sigterm "$spg/conns.out" $? "$spg/conns.err"

  # the state stores kept open between requests; pool/postgresql-restart restarts the cluster
  FLOWC="$FLOWC" FLOWC_TEST_PG_DIR="$spg/pg" timeout -k 5 900 python3 tests/server/pool.py "$spg/pool" >"$spg/pool.out" 2>"$spg/pool.err"
  t_driver server-jobs-pg/driver-pool server-jobs-pg/pool/stops-cleanly-on-sigterm "$spg/pool.out" $? "$spg/pool.err"

  # the runs' state in PostgreSQL for a plain `flowc run` (tests/state/delta's flow)
  sd=$spg/state-cli
  mkdir -p "$sd/data"
  cp tests/state/delta/flow.flow "$sd/"
  sqlite3 "$sd/data/src.db" <tests/state/delta/src.sql && sqlite3 "$sd/data/dst.db" <tests/state/delta/dst.sql
  "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$spg_port" -U flowtest -d postgres -c "CREATE DATABASE state_cli" >/dev/null 2>&1
  sdb="$FLOWC_TEST_PG dbname=state_cli password=pw-S3CRET-state"
  t_case server-pg/state/run-keeps-its-state-in-postgresql
  t_exec -C "$sd" env FLOW_STATE_DB="$sdb" "$FLOWC" run flow.flow
  t_expect_rc 0
  t_expect_grep "$C_ERR" 'exported 4, ignored 0, imported copy=4' "the first run"
  t_exec -C "$sd" env FLOW_STATE_DB="$sdb" "$FLOWC" run flow.flow
  t_expect_rc 0
  t_exec -C "$sd" env FLOW_STATE_DB="$sdb" "$FLOWC" state flow.flow show
  t_expect_rc 0
  t_expect_grep "$C_OUT" 'state store host=127.0.0.1 .*password=<redacted> \(schema "flowstate_state-delta"\)' "the store named, password redacted"
  t_expect_grep "$C_OUT" 'items: delta from 20' "the delta time kept there"
  t_exec -C "$sd" env FLOW_STATE_DB="$sdb" "$FLOWC" runs flow.flow --json
  t_expect_rc 0
  t_expect_grep "$C_OUT" '"status":"ok"' "the run history"
  [ ! -e "$sd/.flowstate" ] || t_note "a state directory was made: $(ls -A "$sd/.flowstate")"
  n=$("$PG_BIN/psql" -X -q -A -t -h 127.0.0.1 -p "$spg_port" -U flowtest -d state_cli -c 'SELECT count(*) FROM "flowstate_state-delta".runs' 2>&1)
  [ "$n" = 2 ] || t_note "runs in the schema: $n (expected 2)"
  for f in "${C_FILES[@]}"; do t_expect_nogrep "$f" 'S3CRET' "the password was printed"; done
  t_done

  # a store made by an older flowc (no errors_run or errors_page index, an older `tables` revision or
  # none) is given what it lacks
  t_case server-pg/state/an-older-store-gets-the-new-index
  for old in none 3; do
    "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$spg_port" -U flowtest -d state_cli \
      -c 'DROP INDEX "flowstate_state-delta".errors_run' -c 'DROP INDEX "flowstate_state-delta".errors_page' \
      -c "DELETE FROM \"flowstate_state-delta\".meta WHERE key = 'tables'" >/dev/null 2>&1
    [ "$old" = none ] || "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$spg_port" -U flowtest -d state_cli \
      -c "INSERT INTO \"flowstate_state-delta\".meta VALUES ('tables', '$old')" >/dev/null 2>&1
    n=$("$PG_BIN/psql" -X -q -A -t -h 127.0.0.1 -p "$spg_port" -U flowtest -d state_cli -c "SELECT count(*) FROM pg_indexes WHERE indexname IN ('errors_run', 'errors_page')" 2>&1)
    [ "$n" = 0 ] || t_note "the indexes were not dropped: $n"
    t_exec -C "$sd" env FLOW_STATE_DB="$sdb" "$FLOWC" run flow.flow
    t_expect_rc 0
    n=$("$PG_BIN/psql" -X -q -A -t -h 127.0.0.1 -p "$spg_port" -U flowtest -d state_cli -c "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE indexname IN ('errors_run', 'errors_page')" 2>&1)
    [ "$n" = errors_page,errors_run ] || t_note "tables' revision $old: the indexes after the run: $n (expected errors_page,errors_run)"
    n=$("$PG_BIN/psql" -X -q -A -t -h 127.0.0.1 -p "$spg_port" -U flowtest -d state_cli -c "SELECT value FROM \"flowstate_state-delta\".meta WHERE key = 'tables'" 2>&1)
    [ "$n" = 4 ] || t_note "tables' revision $old: the revision after the run: $n (expected 4)"
  done
  t_done

  t_case server-pg/state/serve-refuses-it-and-a-path-is-not-a-dsn
  t_exec -C "$sd" env FLOW_STATE_DB="$sdb" "$FLOWC" serve flow.flow --listen 127.0.0.1:0
  t_expect_rc 2
  t_expect_grep "$C_ERR" 'serve: keeps its runs. state in the SQLite store of --state .*unset FLOW_STATE_DB' "serve's refusal"
  t_expect_nogrep "$C_ERR" 'S3CRET' "the password was printed"
  t_exec -C "$sd" env FLOW_STATE_DB="$sd/x.db" "$FLOWC" run flow.flow
  t_expect_rc 1
  t_expect_grep "$C_ERR" 'is not a PostgreSQL DSN' "a path refused"
  t_exec -C "$sd" env FLOW_STATE_DB="host=127.0.0.1 port=1 user=flowtest password=pw-S3CRET-state" "$FLOWC" errors flow.flow list
  t_expect_rc 1
  t_expect_grep "$C_ERR" 'cannot connect to the store host=127.0.0.1 port=1 user=flowtest password=<redacted>' "an unreachable database named"
  t_expect_nogrep "$C_ERR" 'S3CRET' "the password was printed"
  t_done

  FLOWC="$FLOWC" timeout -k 5 900 python3 tests/server/two.py "$spg/two" >"$spg/two.out" 2>"$spg/two.err"
  t_driver server-pg/two/driver server-pg/two/stops-cleanly-on-sigterm "$spg/two.out" $? "$spg/two.err"
  unset FLOWC_TEST_PG

  t_case server-pg/postgres-stops
  t_exec scripts/pg.sh stop "$spg/pg"
  t_expect_rc 0
  t_done
  trap - EXIT
fi
