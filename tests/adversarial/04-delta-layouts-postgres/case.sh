# 04 (postgres): the same rule for a text column in PostgreSQL, which compares text as SQLite does
# (`2026-12-05 22:03:55` < `2026-12-05T...`), and for a timestamptz column, compared as a time (the
# window bound in the layout the connector exports it in, ISO 8601, which PostgreSQL reads).
# Runs a throwaway server (scripts/pg.sh), skipped when PostgreSQL 15 is not installed.

adv04p=$PWD
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$PG_BIN/initdb" ]; then
  skip adversarial/04-delta-layouts-postgres/text-and-timestamptz "PostgreSQL 15 is not installed ($PG_BIN)"
elif ! adv04p_port=$(cd "$ROOT" && PG_BIN=$PG_BIN scripts/pg.sh start "$adv04p/pg" 2>"$adv04p/pg.err"); then
  skip adversarial/04-delta-layouts-postgres/text-and-timestamptz "the server did not start: $(head -c 300 "$adv04p/pg.err")"
else
  adv04p_sql() { "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$adv04p_port" -U flowtest -d flowtest -c "$1" 2>&1; }
  adv04p_run() { t_exec env FLOW_TEST_CLOCK=1 PG_DSN="host=127.0.0.1 port=$adv04p_port user=flowtest dbname=flowtest" ./prog run --json "$@"; }
  adv04p_log() { adv04p_sql "select string_agg(id || ':' || name || '@' || substr(at, 12, 12), ' ' order by n) from $1"; }
  t_case adversarial/04-delta-layouts-postgres/text-and-timestamptz
  adv_build "$adv04p"
  adv04p_sql "create table t_items (id int primary key, name text, updated_at text not null);
    create table z_items (id int primary key, name text, updated_at timestamptz not null);
    create table log_text (n serial, id int, name text, at text); create table log_ts (n serial, id int, name text, at text);
    insert into t_items values (1, 'a', '2026-12-04 23:59:59'), (2, 'b', '2026-12-05 10:00:00'), (3, 'c', '2026-12-05 22:03:49'),
      (4, 'd', '2026-12-05 22:03:50'), (5, 'e', '2026-12-05 22:03:51');
    insert into z_items select id, name, (updated_at || '+00')::timestamptz from t_items;" >/dev/null
  adv04p_run --now 2026-12-05T22:03:50.559Z
  t_expect_rc 0
  adv04p_sql "update t_items set name = 'c2', updated_at = '2026-12-05 22:03:50' where id = 3; insert into t_items values (6, 'f', '2026-12-05 22:03:55');
    update z_items set name = 'c2', updated_at = '2026-12-05 22:03:50.8+00' where id = 3; insert into z_items values (6, 'f', '2026-12-05 22:03:55+00');" >/dev/null
  adv04p_run --now 2026-12-05T22:04:00Z
  t_expect_rc 0
  adv04p_exp="1:a@22:03:50.559 2:b@22:03:50.559 3:c@22:03:50.559 3:c2@22:04:00.000 4:d@22:04:00.000 5:e@22:04:00.000 6:f@22:04:00.000"
  [ "$(adv04p_log log_text)" = "$adv04p_exp" ] || t_note "text column: $(adv04p_log log_text)"
  [ "$(adv04p_log log_ts)" = "$adv04p_exp" ] || t_note "timestamptz column: $(adv04p_log log_ts)"
  t_exec ./prog state show --json
  [ "$(jq -c '[.[] | .delta_layout]' "$C_OUT")" = '["YYYY-MM-DD HH:MM:SS","YYYY-MM-DDTHH:MM:SS[.f]Z"]' ] || t_note "layouts: $(jq -c '[.[] | .delta_layout]' "$C_OUT")"
  t_done
  (cd "$ROOT" && scripts/pg.sh stop "$adv04p/pg" >/dev/null 2>&1)
fi
