#!/usr/bin/env bash
# Suite `postgres`: the postgres connector end to end, against a real PostgreSQL 15 server started
# for the suite (scripts/pg.sh: a cluster under build/test/postgres, 127.0.0.1 on a free port, trust
# authentication, fsync off) and stopped at its end, even when a case fails. Each case
# tests/postgres/cases/NAME/ runs twice, as a sanitized native executable (ASan+UBSan runtime) and
# through the JIT (`flowc run`), each in a fresh database; both must meet every expectation and
# print and store the same. The case format is in tests/postgres/cases/README.md. Every dsn holds a
# password with S3CRET in it: no output may show it. With UPDATE=1, expected.out, expected.err and
# expected.db are rewritten from the native run. PG_CASES="NAME ..." runs only those cases.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" postgres

pg=$T_TMP/postgres
PG_SECRET=pw-S3CRET-4d1e
PG_RUN_TIMEOUT=${PG_RUN_TIMEOUT:-60}   # seconds per run of a case
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# pg_sql DB [PSQL ARGS...]: psql on the suite's server, unaligned, no headers' decorations
pg_sql() {
  local db=$1; shift
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U flowtest -d "$db" "$@"
}

# pg_norm: stdin -> stdout with the server's port and the case's database replaced
pg_norm() { sed -e "s/\([^0-9]\)$PG_PORT\([^0-9]\|$\)/\1PORT\2/g" -e "s/\bc_[a-z0-9_]*_\(native\|jit\)\b/DB/g"; }

# pg_mode SRC WORK MODE: one mode of a case (native: WORK/prog; jit: flowc run) in a fresh database:
# setup.sql, the runs (between.sql before each one after the first), then WORK/stdout and
# WORK/stderr (normalized, `exit N` after each run) and WORK/db (check.sql's output).
pg_mode() {
  local src=$1 work=$2 mode=$3 runs=1 i db envs=() args=() cmd in=/dev/null line
  db=c_$(printf '%s' "${src##*/}" | tr -c 'a-z0-9' '_')_$mode
  [ -f "$src/runs" ] && runs=$(cat "$src/runs")
  [ -f "$src/args" ] && read -ra args < <(tr '\n' ' ' < "$src/args")
  [ -f "$src/stdin" ] && in=$src/stdin
  envs=("PG_DSN=host=127.0.0.1 port=$PG_PORT user=flowtest dbname=$db password=$PG_SECRET")
  if [ -f "$src/env" ]; then
    while IFS= read -r line; do
      case $line in '' | '#'*) continue ;; esac
      line=${line//@PORT@/$PG_PORT}; line=${line//@DB@/$db}; line=${line//@SECRET@/$PG_SECRET}
      envs+=("$line")
    done <"$src/env"
  fi
  : >"$work/setup.log"
  pg_sql postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >>"$work/setup.log" 2>&1
  [ -f "$src/setup.sql" ] && pg_sql "$db" -f "$src/setup.sql" >>"$work/setup.log" 2>&1
  : >"$work/stdout.raw"; : >"$work/stderr.raw"
  for ((i = 1; i <= runs; i++)); do
    [ "$i" -gt 1 ] && [ -f "$src/between.sql" ] && pg_sql "$db" -f "$src/between.sql" >>"$work/setup.log" 2>&1
    if [ "$mode" = native ]; then cmd=(./prog run --json "${args[@]}")
    else cmd=("$FLOWC" run flow.flow --json "${args[@]}"); fi
    (cd "$work" && exec env "${envs[@]}" timeout -k 5 "$PG_RUN_TIMEOUT" "${cmd[@]}") <"$in" >>"$work/stdout.raw" 2>>"$work/stderr.raw"
    echo "exit $?" >>"$work/stdout.raw"
  done
  pg_norm <"$work/stdout.raw" >"$work/stdout"
  pg_norm <"$work/stderr.raw" >"$work/stderr"
  if [ -f "$src/check.sql" ]; then
    pg_sql "$db" -A -F '|' -P footer=off -f "$src/check.sql" >"$work/db" 2>&1
  fi
  PG_DB=$db
}

# pg_again SRC NAME ENV...: for a case's check.sh (in the native run's directory): the native build
# run again as pg_mode runs it (setup.sql, the runs with between.sql before each one after the first,
# stdin, args) with ENV (NAME=value ...) into a database of its own, DB_NAME; prints how its stdout,
# stderr and check.sql's output differ from the case's run (nothing when they are the same).
pg_again() {
  local src=$1 name=$2 db=${DB}_$2 runs=1 i in=/dev/null f a args=()
  shift 2
  [ -f "$src/runs" ] && runs=$(cat "$src/runs")
  [ -f "$src/stdin" ] && in=$src/stdin
  [ -f "$src/args" ] && read -ra args < <(tr '\n' ' ' < "$src/args")
  pg_sql postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
  [ -f "$src/setup.sql" ] && pg_sql "$db" -f "$src/setup.sql" >/dev/null 2>&1
  : >"$name.out"; : >"$name.err"
  for ((i = 1; i <= runs; i++)); do
    [ "$i" -gt 1 ] && [ -f "$src/between.sql" ] && pg_sql "$db" -f "$src/between.sql" >/dev/null 2>&1
    (exec env "$@" "PG_DSN=host=127.0.0.1 port=$PG_PORT user=flowtest dbname=$db password=$PG_SECRET" \
       timeout -k 5 "$PG_RUN_TIMEOUT" ./prog run --json "${args[@]}") <"$in" >>"$name.out" 2>>"$name.err"
    echo "exit $?" >>"$name.out"
  done
  pg_sql "$db" -A -F '|' -P footer=off -f "$src/check.sql" >"$name.db" 2>&1
  for f in out err db; do
    a=$WORK/std$f; [ "$f" = db ] && a=$WORK/db
    sed "s/$db/DB/g" "$name.$f" | pg_norm | diff -u --label "$MODE" --label "$name" "$a" - | head -n 20
  done
  pg_sql postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
}

# pg_expect SRC WORK MODE: every expectation of the case for one mode; the problems go to PG_MSGS
pg_expect() {
  local src=$1 work=$2 mode=$3 upd=0 out f
  PG_MSGS=()
  [ "$mode" = native ] && upd=${UPDATE:-0}
  if grep -q 'ERROR' "$work/setup.log"; then PG_MSGS+=("setup.sql or between.sql failed:" "$(head -n 5 "$work/setup.log")"); fi
  case $(grep '^exit ' "$work/stdout" | sort -u | tr '\n' ' ') in
    *"exit 124"*) PG_MSGS+=("a run timed out after ${PG_RUN_TIMEOUT}s") ;;
    *"exit 1"[3-9][0-9]* | *"exit 2"[0-9][0-9]*) PG_MSGS+=("a run crashed:" "$(tail -n 12 "$work/stderr")") ;;
  esac
  if san_found "$work/stdout.raw" "$work/stderr.raw"; then
    PG_MSGS+=("sanitizer report:" "$(san_excerpt "$work/stdout.raw" "$work/stderr.raw")")
    return
  fi
  for f in out err db; do
    [ "$f" = db ] && [ ! -f "$src/check.sql" ] && continue
    local act=$work/std$f
    [ "$f" = db ] && act=$work/db
    if ! UPDATE=$upd golden_cmp "$src/expected.$f" "$act"; then PG_MSGS+=("expected.$f:" "${G_MSGS[@]}"); fi
    [ -z "$G_NOTE" ] || PG_NOTE=" (updated)"
  done
  if [ -f "$src/check.sh" ]; then
    # shellcheck disable=SC1091,SC2034  # the variables are for check.sh
    # (the case's directory may be relative: check.sh is found before the cd)
    out=$(chk=$(cd "$src" && pwd)/check.sh && cd "$work" && WORK=$work MODE=$mode DB=$PG_DB; . "$chk" 2>&1)
    [ -z "$out" ] || PG_MSGS+=("check.sh:" "$out")
  fi
  # the dsn's password appears nowhere: not on stdout, not on stderr, not in a written file
  local leaks=()
  mapfile -t leaks < <(grep -rlaE 'S3CRET' "$work" --exclude=flow.flow --exclude=env --exclude=prog --exclude=build.log 2>/dev/null)
  [ ${#leaks[@]} -eq 0 ] || PG_MSGS+=("the dsn's password appears in:" "${leaks[*]}" "$(grep -ahoE '.{0,60}S3CRET.{0,20}' "${leaks[@]}" | head -n 3)")
}

pg_case() {
  local src=$1 name work jit msgs=() f
  name=postgres/${src##*/}
  work=$pg/cases/${src##*/}
  jit=$work.jit
  rm -rf "$work" "$jit"; mkdir -p "$work" "$jit"
  cp "$src/flow.flow" "$work/"; cp "$src/flow.flow" "$jit/"
  PG_NOTE=
  if ! san_build "$work"; then
    fail "$name" "flowc build failed:" "$(head -n 20 "$work/build.log")"
  else
    pg_mode "$src" "$work" native
    pg_expect "$src" "$work" native
    if [ ${#PG_MSGS[@]} -eq 0 ]; then pass "$name$PG_NOTE"; else fail "$name" "${PG_MSGS[@]}"; fi
  fi

  # the JIT: the same expectations, and the same stdout, stderr and database as the native build
  pg_mode "$src" "$jit" jit
  pg_expect "$src" "$jit" jit
  msgs=("${PG_MSGS[@]}")
  if [ -f "$work/stdout" ]; then
    for f in stdout stderr db; do
      [ -f "$work/$f" ] || [ -f "$jit/$f" ] || continue
      cmp -s "$work/$f" "$jit/$f" || msgs+=("$f differs from the native build:" "$(diff -u --label native --label jit "$work/$f" "$jit/$f" 2>&1 | head -n 15)")
    done
  fi
  if [ ${#msgs[@]} -eq 0 ]; then pass "$name (jit)"; else fail "$name (jit)" "${msgs[@]}"; fi
}

[ -f "$pg/server/data/postmaster.pid" ] && scripts/pg.sh stop "$pg/server" >/dev/null 2>&1   # left by a killed run
rm -rf "$pg"; mkdir -p "$pg"
make -s build/asan/libflowrt.a >/dev/null 2>&1
PG_PORT=
if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ] || [ ! -x "$PG_BIN/postgres" ] || [ ! -x "$PG_BIN/psql" ]; then
  fail "postgres/server" "PostgreSQL 15 is not installed: $PG_BIN/{initdb,pg_ctl,postgres,psql} are missing" \
    "(scripts/deps.sh test installs the postgresql package)"
else
  trap 'scripts/pg.sh stop "$pg/server" >/dev/null 2>&1' EXIT
  if ! PG_PORT=$(PG_BIN=$PG_BIN scripts/pg.sh start "$pg/server" 2>"$pg/start.err"); then
    fail "postgres/server" "the test server did not start:" "$(cat "$pg/start.err")"
    PG_PORT=
  fi
fi

if [ -n "$PG_PORT" ]; then
  for d in tests/postgres/cases/*/; do
    [ -f "$d/flow.flow" ] || continue
    d=${d%/}
    [ -z "${PG_CASES:-}" ] || [[ " $PG_CASES " == *" ${d##*/} "* ]] || continue
    pg_case "$d"
  done

  # pg_rss NAME FLOW DB KB WANT [SQL]: FLOW built by the release build and run on a fresh database DB
  # (SQL run there first); the run's output must match WANT and its peak RSS stay under KB
  pg_rss() {
    local name=$1 flow=$2 db=$3 kb=$4 want=$5 sql=${6:-} rw=$pg/rss-$3
    t_case "postgres/$name"
    rm -rf "$rw"; mkdir -p "$rw"
    cp "$flow" "$rw/flow.flow"
    pg_sql postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
    [ -z "$sql" ] || pg_sql "$db" -c "$sql" >/dev/null 2>&1
    t_exec -C "$rw" "$FLOWC_REL" build flow.flow -o prog
    t_expect_rc 0
    t_exec -C "$rw" env "PG_DSN=host=127.0.0.1 port=$PG_PORT user=flowtest dbname=$db password=$PG_SECRET" \
      /usr/bin/time -f 'maxrss %M' ./prog run --json
    t_expect_rc 0
    t_expect_grep "$C_OUT" "$want" "not every row went through"
    rss=$(sed -n 's/^maxrss //p' "$C_ERR")
    if [ -z "$rss" ] || [ "$rss" -gt "$kb" ]; then t_note "peak RSS ${rss:-?} KB, expected under $((kb / 1024)) MB"; fi
    t_expect_nogrep "$C_ERR" 'S3CRET' "the dsn's password was printed"
    t_done
  }
  if [ -n "${FLOWC_REL:-}" ] && [ -x /usr/bin/time ]; then
    # Peak memory of a 100k-row export through the release build stays small: rows are streamed
    # through the cursor, not held...
    pg_rss export-100k-rss tests/postgres/cases/export-100k/flow.flow c_rss 61440 '"exported":100000,'
    # ...and so does a 100k-row import written in pipelined pages of 1000, up to 8 of them in flight in
    # one COPY (a stream): 24 MB; the buffers of pages finished at once spread over every slot, or
    # items of 1 KB each, took it past 40 MB
    pg_rss import-100k-rss tests/postgres/import-rss.flow c_rss_import 32768 '"imported":\{"copied":100000\}' \
      "CREATE TABLE copied (id bigint PRIMARY KEY, name text, amount numeric, pad text)"
  fi

  # SIGTERM while streams of pages are under way (the release build, 1M rows in pages of 20): the run
  # ends interrupted (143) or, had it finished, well (0); the rows it counts imported are exactly the
  # rows in the table, none lost and none more (the pages in flight finished, or none of their rows
  # committed)
  if [ -n "${FLOWC_REL:-}" ]; then
    t_case postgres/stream-interrupted
    si=$pg/stream-interrupt
    rm -rf "$si"; mkdir -p "$si"
    cp tests/postgres/stream-interrupt.flow "$si/flow.flow"
    pg_sql postgres -c "DROP DATABASE IF EXISTS c_si" -c "CREATE DATABASE c_si" >/dev/null 2>&1
    pg_sql c_si -c "CREATE TABLE sink (id int PRIMARY KEY, name text)" >/dev/null 2>&1
    t_exec -C "$si" "$FLOWC_REL" build flow.flow -o prog
    t_expect_rc 0
    (cd "$si" && PG_DSN="host=127.0.0.1 port=$PG_PORT user=flowtest dbname=c_si password=$PG_SECRET" \
       exec timeout --foreground 120 ./prog run >out.txt 2>err.txt) &
    si_pid=$!
    sleep 0.8
    kill -TERM "$si_pid" 2>/dev/null
    wait "$si_pid"
    si_rc=$?
    C_FILES+=("$si/err.txt")
    [ "$si_rc" = 143 ] || [ "$si_rc" = 0 ] || t_note "exit $si_rc, expected 143 (or 0)"
    si_said=$(sed -n 's/^flow big: \(interrupted; \)\{0,1\}exported [0-9]*, ignored 0, imported sink=\([0-9]*\), errors 0$/\2/p' "$si/err.txt")
    si_rows=$(pg_sql c_si -At -c "SELECT count(*) FROM sink" 2>&1)
    [ -n "$si_said" ] && [ "$si_said" = "$si_rows" ] ||
      t_note "the run said: $(tail -n 1 "$si/err.txt"); the table holds $si_rows rows"
    [ "$si_rc" != 143 ] || [ "${si_rows:-0}" -lt 1000000 ] || t_note "interrupted, yet every row is in: the signal came too late to test anything"
    t_expect_nogrep "$si/err.txt" 'S3CRET' "the dsn's password was printed"
    t_done
  fi

  # Nothing stays behind: the server stops, and no postgres process of this cluster remains.
  t_case "postgres/server-stops"
  t_exec scripts/pg.sh stop "$pg/server"
  t_expect_rc 0
  if pgrep -f -- "-D $pg/server/data" >/dev/null 2>&1; then t_note "a postgres process of the test cluster still runs"; fi
  t_done
  trap - EXIT
fi
