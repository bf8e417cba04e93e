#!/usr/bin/env bash
# pg.sh — a throwaway PostgreSQL 15 server for the tests and benchmarks: its data directory, socket
# and log live under DIR; it listens on 127.0.0.1 only, on a free port, with trust authentication
# (superuser `flowtest`, database `flowtest`) and fsync off. PostgreSQL refuses to run as root: as
# root the server runs as the `postgres` user (or `flowtest`, created once when that is missing).
#
#   scripts/pg.sh start DIR   starts it (a fresh cluster when DIR/data is missing); prints the port
#   scripts/pg.sh stop DIR    stops it (fast), if it runs
#   scripts/pg.sh restart DIR stops it (fast: every session is ended) and starts it again on its port
#   scripts/pg.sh dsn DIR     prints a dsn for it
# PG_BIN (default /usr/lib/postgresql/15/bin) holds initdb, pg_ctl and postgres.
set -u
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then echo "usage: scripts/pg.sh start|stop|restart|dsn DIR" >&2; exit 2; fi
mkdir -p "$dir" && dir=$(cd "$dir" && pwd -P) || exit 2   # -P: a link made below is followed

# as_pg CMD...: CMD as the unprivileged user when we are root
pg_user=
if [ "$(id -u)" = 0 ]; then
  if id postgres >/dev/null 2>&1; then
    pg_user=postgres
  else
    id flowtest >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin flowtest 2>/dev/null ||
      id flowtest >/dev/null 2>&1 || { echo "pg.sh: cannot create the user flowtest" >&2; exit 1; }
    pg_user=flowtest
  fi
fi
as_pg() {
  if [ -n "$pg_user" ]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi
}

case $cmd in
  start)
    for b in initdb pg_ctl postgres; do
      [ -x "$PG_BIN/$b" ] || { echo "pg.sh: $PG_BIN/$b is missing: install PostgreSQL 15 (scripts/deps.sh test installs the postgresql package)" >&2; exit 1; }
    done
    if [ -s "$dir/port" ] && as_pg "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      cat "$dir/port"; exit 0
    fi
    # a DIR the server's user cannot reach (a checkout under /root) becomes a link to a directory
    # under $TMPDIR (or /tmp) that it can
    if [ -n "$pg_user" ] && ! as_pg test -x "$dir" 2>/dev/null; then
      tmp=$(mktemp -d "${TMPDIR:-/tmp}/flowc-pg.XXXXXX") || exit 1
      chmod 755 "$tmp"
      rm -rf "$dir" && ln -s "$tmp" "$dir" || exit 1
      dir=$tmp
    fi
    mkdir -p "$dir/sock"
    if [ -n "$pg_user" ]; then
      chown "$pg_user" "$dir" "$dir/sock"
      as_pg test -w "$dir" -a -x "$dir" ||
        { echo "pg.sh: the user $pg_user cannot reach $dir (a parent directory is not searchable by others?)" >&2; exit 1; }
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      rm -rf "$dir/data"
      as_pg "$PG_BIN/initdb" -D "$dir/data" -U flowtest --auth=trust -E UTF8 --no-locale -N >"$dir/initdb.log" 2>&1 ||
        { echo "pg.sh: initdb failed:" >&2; tail -n 20 "$dir/initdb.log" >&2; exit 1; }
    fi
    # a free port: nothing answers on it (a race with other programs is caught by the retry)
    for _ in 1 2 3 4 5 6 7 8; do
      port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
      rm -f "$dir/server.log"
      if as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o \
           "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=40" \
           start >/dev/null 2>&1; then
        echo "$port" >"$dir/port"
        "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$port" -U flowtest -d postgres -c "CREATE DATABASE flowtest" >/dev/null 2>&1 || true
        echo "$port"
        exit 0
      fi
      grep -q 'already in use' "$dir/server.log" 2>/dev/null || break
    done
    echo "pg.sh: the server did not start:" >&2
    tail -n 20 "$dir/server.log" >&2 2>/dev/null
    exit 1
    ;;
  stop)
    [ -f "$dir/data/postmaster.pid" ] || exit 0
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || {
      # the last resort: the postmaster's pid, from its own file
      pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null)
      [ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null
    }
    rm -f "$dir/port"
    case $dir in */flowc-pg.*) rm -rf "$dir" ;; esac   # the stand-in made by start under $TMPDIR
    ;;
  restart)
    [ -s "$dir/port" ] || { echo "pg.sh: no server runs in $dir" >&2; exit 1; }
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 30 restart >/dev/null 2>&1 ||
      { echo "pg.sh: the restart failed:" >&2; tail -n 20 "$dir/server.log" >&2 2>/dev/null; exit 1; }
    ;;
  dsn)
    [ -s "$dir/port" ] || { echo "pg.sh: no server runs in $dir" >&2; exit 1; }
    echo "host=127.0.0.1 port=$(cat "$dir/port") user=flowtest dbname=flowtest"
    ;;
  *) echo "usage: scripts/pg.sh start|stop|restart|dsn DIR" >&2; exit 2 ;;
esac
