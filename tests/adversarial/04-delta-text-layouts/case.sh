# 04: `where updated_at > ?` with `args = [delta.since]` (and `> ? and <= ?` with delta.since,
# delta.until) over a text column must neither lose nor repeat a record, whether the column holds
# SQLite's own datetime() text or ISO 8601 with T and Z: the engine learns the field's layout, keeps
# it with the delta time, binds the window in it widened to whole units, and keeps the exact window
# client-side, where a value names its unit (22:03:55 is a second) and belongs to the window that
# holds the unit's end. A page mixing layouts is warned about; a changed layout keeps the delta time.

adv04=$PWD
mkdir -p data
sqlite3 data/src.db "create table s_items (id integer primary key, name text, updated_at text not null default (datetime('now')));
  create table i_items (id integer primary key, name text, updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
  create table m_items (id integer primary key, name text, updated_at text not null);
  create table c_items (id integer primary key, name text, updated_at text not null);"
adv_build "$adv04"
# adv04_log FLOW: what the flow exported, as id:name@run-start, in order
adv04_log() { sqlite3 data/dst.db "select group_concat(id || ':' || name || '@' || substr(at, 12, 12), ' ') from (select * from log_$1 order by rowid)" 2>&1; }
# adv04_once FLOW: "ok" when every (id, name) was exported exactly once, else the repeats
adv04_once() {
  local r
  r=$(sqlite3 data/dst.db "select group_concat(id || ':' || name || ' x' || n, ' ') from (select id, name, count(*) n from log_$1 group by id, name having n > 1)" 2>&1)
  echo "${r:-ok}"
}
adv04_eq() { [ "$2" = "$3" ] || t_note "$1:
  expected: $3
  actual:   $2"; }

# ---- 1. fixed times (FLOW_TEST_CLOCK=1 lets --now save its time): the same-second and same-day cases

t_case adversarial/04-delta-text-layouts/sqlite-datetime-layout
sqlite3 data/src.db "insert into s_items values (1, 'a', '2026-12-04 23:59:59'), (2, 'b', '2026-12-05 10:00:00'),
  (3, 'c', '2026-12-05 22:03:49'), (4, 'd', '2026-12-05 22:03:50'), (5, 'e', '2026-12-05 22:03:51');"
t_exec env FLOW_TEST_CLOCK=1 ./prog run s_gt --json --now 2026-12-05T22:03:50.559Z
t_expect_rc 0
t_exec env FLOW_TEST_CLOCK=1 "$FLOWC" run flow.flow s_win --json --now 2026-12-05T22:03:50.559Z
t_expect_rc 0
# row 4 was written during the second the run started in (22:03:50 is 22:03:50.000 to 22:03:51): it
# comes with the next run; row 5 lies after the start
adv04_eq "s_gt after run 1" "$(adv04_log s_gt)" "1:a@22:03:50.559 2:b@22:03:50.559 3:c@22:03:50.559"
# between the runs, within the second run 1 started in: row 3 changes; row 6 is new
sqlite3 data/src.db "update s_items set name = 'c2', updated_at = '2026-12-05 22:03:50' where id = 3;
  insert into s_items values (6, 'f', '2026-12-05 22:03:55');"
t_exec env FLOW_TEST_CLOCK=1 ./prog run s_gt --json --now 2026-12-05T22:04:00Z
t_expect_rc 0
t_exec env FLOW_TEST_CLOCK=1 "$FLOWC" run flow.flow s_win --json --now 2026-12-05T22:04:00Z
t_expect_rc 0
adv04_eq "s_gt after run 2" "$(adv04_log s_gt)" \
  "1:a@22:03:50.559 2:b@22:03:50.559 3:c@22:03:50.559 3:c2@22:04:00.000 4:d@22:04:00.000 5:e@22:04:00.000 6:f@22:04:00.000"
adv04_eq "s_win after run 2" "$(adv04_log s_win)" "$(adv04_log s_gt)"
adv04_eq "s_gt repeats" "$(adv04_once s_gt)" ok
t_exec env FLOW_TEST_CLOCK=1 ./prog run s_gt --json --now 2026-12-05T22:05:00Z
t_expect_rc 0
t_expect_grep "$C_OUT" '^\{"flow":"s_gt","exported":0,'
t_exec env FLOW_TEST_CLOCK=1 "$FLOWC" run flow.flow s_win --json --now 2026-12-05T22:05:00Z
t_expect_rc 0
t_expect_grep "$C_OUT" '^\{"flow":"s_win","exported":0,'
t_exec ./prog state show s_gt
t_expect_grep "$C_OUT" '^s_gt: delta from 2026-12-05T22:05:00.000Z \(updated_at written as YYYY-MM-DD HH:MM:SS\); '
t_exec ./prog state show --json
adv04_eq "layouts kept" "$(jq -c '[.[] | select(.flow | startswith("s_")) | .delta_layout]' "$C_OUT")" '["YYYY-MM-DD HH:MM:SS","YYYY-MM-DD HH:MM:SS"]'
t_done

t_case adversarial/04-delta-text-layouts/iso-layout
sqlite3 data/src.db "insert into i_items values (1, 'a', '2026-12-04T23:59:59.000Z'), (2, 'b', '2026-12-05T10:00:00.000Z'),
  (3, 'c', '2026-12-05T22:03:50.000Z'), (4, 'd', '2026-12-05T22:03:50.559Z'), (5, 'e', '2026-12-05T22:03:50.700Z');"
t_exec env FLOW_TEST_CLOCK=1 ./prog run i_gt --json --now 2026-12-05T22:03:50.559Z
t_expect_rc 0
t_exec env FLOW_TEST_CLOCK=1 "$FLOWC" run flow.flow i_win --json --now 2026-12-05T22:03:50.559Z
t_expect_rc 0
adv04_eq "i_gt after run 1" "$(adv04_log i_gt)" "1:a@22:03:50.559 2:b@22:03:50.559 3:c@22:03:50.559"
sqlite3 data/src.db "update i_items set name = 'b2', updated_at = '2026-12-05T22:03:50.800Z' where id = 2;
  insert into i_items values (6, 'f', '2026-12-05T22:03:59.999Z');"
t_exec env FLOW_TEST_CLOCK=1 ./prog run i_gt --json --now 2026-12-05T22:04:00Z
t_expect_rc 0
t_exec env FLOW_TEST_CLOCK=1 "$FLOWC" run flow.flow i_win --json --now 2026-12-05T22:04:00Z
t_expect_rc 0
adv04_eq "i_gt after run 2" "$(adv04_log i_gt)" \
  "1:a@22:03:50.559 2:b@22:03:50.559 3:c@22:03:50.559 2:b2@22:04:00.000 4:d@22:04:00.000 5:e@22:04:00.000 6:f@22:04:00.000"
adv04_eq "i_win after run 2" "$(adv04_log i_win)" "$(adv04_log i_gt)"
adv04_eq "i_gt repeats" "$(adv04_once i_gt)" ok
t_exec ./prog state show --json
adv04_eq "layouts kept" "$(jq -c '[.[] | select(.flow | startswith("i_")) | .delta_layout]' "$C_OUT")" '["YYYY-MM-DDTHH:MM:SS.fffZ","YYYY-MM-DDTHH:MM:SS.fffZ"]'
t_done

t_case adversarial/04-delta-text-layouts/mixed-layouts-warned
sqlite3 data/src.db "insert into m_items values (1, 'a', '2026-12-05 10:00:00'), (2, 'b', '2026-12-05T11:00:00.000Z');"
t_exec env FLOW_TEST_CLOCK=1 ./prog run m_gt --json --now 2026-12-05T12:00:00Z
t_expect_rc 0
t_expect_grep "$C_ERR" 'warning: flow m_gt export rows: the delta field updated_at mixes layouts on page 1 \(YYYY-MM-DD HH:MM:SS and YYYY-MM-DDTHH:MM:SS.fffZ'
sqlite3 data/src.db "update m_items set name = 'a2', updated_at = '2026-12-05 12:30:00' where id = 1"
t_exec env FLOW_TEST_CLOCK=1 ./prog run m_gt --json --now 2026-12-05T13:00:00Z
t_expect_rc 0
adv04_eq "m_gt" "$(adv04_log m_gt)" "1:a@12:00:00.000 2:b@12:00:00.000 1:a2@13:00:00.000"
t_done

t_case adversarial/04-delta-text-layouts/changed-layout-keeps-time
sqlite3 data/src.db "insert into c_items values (1, 'a', '2026-12-05 10:00:00');"
t_exec env FLOW_TEST_CLOCK=1 ./prog run c_gt --json --now 2026-12-05T12:00:00Z
t_exec env FLOW_TEST_CLOCK=1 ./prog run c_gt --json --now 2026-12-05T13:00:00Z
# the application now writes ISO 8601: the query was bound in SQLite's layout; the records say so, the
# time stays, and the next run reads the window again in the new layout (row 2 comes twice)
sqlite3 data/src.db "update c_items set updated_at = '2026-12-05T10:00:00.000Z'; insert into c_items values (2, 'b', '2026-12-05T13:30:00.000Z');"
t_exec env FLOW_TEST_CLOCK=1 ./prog run c_gt --json --now 2026-12-05T14:00:00Z
t_expect_rc 0
t_expect_grep "$C_ERR" 'warning: flow c_gt: the delta field updated_at is written as YYYY-MM-DDTHH:MM:SS.fffZ now, not YYYY-MM-DD HH:MM:SS as before'
t_exec ./prog state show c_gt --json
adv04_eq "c_gt state" "$(jq -c '[.[0].delta_since, .[0].delta_layout]' "$C_OUT")" '["2026-12-05T13:00:00.000Z","YYYY-MM-DDTHH:MM:SS.fffZ"]'
t_exec env FLOW_TEST_CLOCK=1 ./prog run c_gt --json --now 2026-12-05T15:00:00Z
t_expect_rc 0
t_expect_nogrep "$C_ERR" 'warning'
adv04_eq "c_gt" "$(adv04_log c_gt)" "1:a@12:00:00.000 2:b@14:00:00.000 2:b@15:00:00.000"
t_exec ./prog state show c_gt --json
adv04_eq "c_gt state after" "$(jq -c '[.[0].delta_since, .[0].delta_layout]' "$C_OUT")" '["2026-12-05T15:00:00.000Z","YYYY-MM-DDTHH:MM:SS.fffZ"]'
t_done

# ---- 2. the real clock: rows stamped by SQLite itself, runs a moment apart

# adv04_real FLOW... TABLE: run 1; a change stamped by SQLite right after it (the same second, mostly);
# run 2 at once and run 3 a second later: the change comes exactly once, and nothing else again
adv04_real() {
  local table=${*: -1} f
  local flows=("${@:1:$#-1}")
  sqlite3 data/src.db "delete from $table; insert into $table (id, name) values (1, 'a'), (2, 'b'), (3, 'c');"
  sleep 1.1   # (the rows' second is over: run 1 takes them)
  t_exec ./prog run "${flows[@]}" --json
  t_expect_rc 0
  sqlite3 data/src.db "update $table set name = 'b2', updated_at = default where id = 2" 2>/dev/null ||
    sqlite3 data/src.db "update $table set name = 'b2', updated_at = $([ "$table" = s_items ] && echo "datetime('now')" || echo "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')") where id = 2"
  t_exec ./prog run "${flows[@]}" --json
  t_expect_rc 0
  sleep 1.1
  t_exec ./prog run "${flows[@]}" --json
  t_expect_rc 0
  for f in "${flows[@]}"; do
    adv04_eq "$f: what the three runs exported (id:name)" "$(sqlite3 data/dst.db "select group_concat(id || ':' || name, ' ') from (select * from log_$f order by rowid)")" "1:a 2:b 3:c 2:b2"
  done
}

t_case adversarial/04-delta-text-layouts/real-clock-sqlite-datetime
rm -rf .flowstate; sqlite3 data/dst.db "drop table if exists log_s_gt; drop table if exists log_s_win"
adv04_real s_gt s_win s_items
t_done

t_case adversarial/04-delta-text-layouts/real-clock-iso
rm -rf .flowstate; sqlite3 data/dst.db "drop table if exists log_i_gt; drop table if exists log_i_win"
adv04_real i_gt i_win i_items
t_done
