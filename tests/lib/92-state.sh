[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" state
# Suite `state`: the durable state store and the error store (runtime/state.c), end to end against
# real SQLite files: delta times across runs (lag, records in the future, --since/--until, state
# reset, failed runs), errors list/retry/resolve, auto-resolve by trace key, supersede, foreign or
# corrupt state files, --state DIR and $FLOW_STATE_DIR, secrets kept out of the state file, a run
# killed with SIGKILL part-way, limit(n). Data: tests/state/ (see its README.md). Flows are built
# with `flowc build` against the sanitized runtime (as the e2e suite does); the delta scenario, and
# the error listing, also go through the JIT (`flowc run|errors|state FILE ...`), which must print
# and store the same. Run times are fixed with the executable's `--now T` option, under
# FLOW_TEST_CLOCK=1 (which lets a --now run save its time as a real run would: a sequence of runs at
# fixed times).

st_root=$T_TMP/state
rm -rf "$st_root"; mkdir -p "$st_root"

make -s build/asan/libflowrt.a >/dev/null 2>&1

# st_setup NAME WORK: a fresh copy of tests/state/NAME in WORK, its SQL loaded into WORK/data/*.db
st_setup() {
  local src=tests/state/$1 work=$2 f
  rm -rf "$work"; mkdir -p "$work/data"
  cp "$src"/*.flow "$work/"
  for f in src dst; do
    [ -f "$src/$f.sql" ] && sqlite3 "$work/data/$f.db" <"$src/$f.sql"
  done
  return 0
}

# st_build WORK: (inside a case) flowc build WORK/flow.flow -o WORK/prog, sanitized runtime
st_build() {
  t_exec -C "$1" env FLOWC_RUNTIME_LIB="$ROOT/build/asan/libflowrt.a" FLOWC_CFLAGS="$T_SAN_CFLAGS" \
    "$FLOWC" build flow.flow -o prog
  t_expect_rc 0
}

# st_x WORK CMD ARGS...: (inside a case) the executable's CMD in WORK: ./prog CMD ARGS natively,
# `flowc CMD flow.flow ARGS` when ST_MODE=jit. Appends what it printed to WORK/transcript (run ids
# and wall-clock times replaced). Resolved errors are purged after $FLOW_ERROR_RETENTION_DAYS, counted
# from the real clock, while --now dates them in 2024: the retention is 100 years here, unless
# ST_RETENTION says otherwise (the purge case).
ST_MODE=native
ST_RUNID_RE='[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}'
st_x() {
  local work=$1; shift
  local ret=(env FLOW_TEST_CLOCK=1 FLOW_ERROR_RETENTION_DAYS="${ST_RETENTION:-36500}")
  [ "${ST_RETENTION:-}" = default ] && ret=(env -u FLOW_ERROR_RETENTION_DAYS FLOW_TEST_CLOCK=1)
  if [ "$ST_MODE" = jit ]; then t_exec -C "$work" "${ret[@]}" "$FLOWC" "$1" flow.flow "${@:2}"
  else t_exec -C "$work" "${ret[@]}" ./prog "$@"; fi
  { echo "== $*"; cat "$C_OUT"; sed 's/^prog: /PROG: /; s/^flowc: /PROG: /' "$C_ERR"; echo "exit $C_RC"; } |
    sed -E "s/$ST_RUNID_RE/RUNID/g; s/\"(last_run_at|resolved_at)\":\"[^\"]*\"/\"\1\":\"T\"/g" >>"$work/transcript"
}

# st_eq WHAT ACTUAL EXPECTED
st_eq() {
  [ "$2" = "$3" ] || t_note "$1:
  expected: $3
  actual:   $2"
}
# st_out EXPECTED: the last command's whole stdout
st_out() { st_eq "stdout of \`${C_CMD##*/}\`" "$(cat "$C_OUT")" "$1"; }
# st_jq WHAT FILE FILTER EXPECTED: jq -c FILTER FILE must print EXPECTED
st_jq() { st_eq "$1" "$(jq -c "$3" "$2" 2>&1 | paste -sd ' ' -)" "$4"; }
# st_sql WHAT DB SQL EXPECTED: the rows (a|b), joined by `;`
st_sql() { st_eq "$1" "$(sqlite3 "$2" "$3" 2>&1 | paste -sd ';' -)" "$4"; }
# st_state_filter: `state show --json` without run ids and wall-clock times
st_state_filter='[.[] | {flow, delta_since, last_status, open_errors}]'

# ===================================================================================================
# 1. delta across runs (native, then the JIT in its own copy; both must print and store the same)

# st_delta WORK: the scenario, with ST_MODE deciding how commands run; cases named .../NAME[ (jit)]
st_delta() {
  local w=$1 sfx=
  [ "$ST_MODE" = jit ] && sfx=" (jit)"
  : >"$w/transcript"

  t_case "state/delta/run1-exports-all$sfx"
  st_x "$w" run --json --now 2024-01-02T00:00:00Z
  t_expect_rc 0
  # row 4 is dated after the run's start: dropped client-side, counted as ignored
  st_out '{"flow":"items","exported":4,"ignored":1,"errors":0,"imported":{"copy":3}}'
  st_sql "destination after run 1" "$w/data/dst.db" "select id, name from items order by id" "1|a;2|b;3|c"
  st_x "$w" state show --json
  t_expect_rc 0
  st_jq "state after run 1" "$C_OUT" "$st_state_filter" \
    '[{"flow":"items","delta_since":"2024-01-02T00:00:00.000Z","last_status":"ok","open_errors":0}]'
  st_jq "last_run_id of run 1" "$C_OUT" '.[0].last_run_id | test("^20240102T000000Z-[0-9a-f]{8}$")' true
  t_done

  t_case "state/delta/run2-exports-new-and-changed$sfx"
  sqlite3 "$w/data/src.db" <tests/state/delta/change.sql
  st_x "$w" run --json --now 2024-01-03T00:00:00Z
  t_expect_rc 0
  # window (2024-01-01T23:50, 2024-01-03T00:00]: 2 (changed), 5 (new), 6 (within the lag) come;
  # 1, 3 (unchanged), 4 (future) and 7 (before since - lag) are ignored
  st_out '{"flow":"items","exported":7,"ignored":4,"errors":0,"imported":{"copy":3}}'
  st_sql "destination after run 2" "$w/data/dst.db" "select id, name, updated_at from items order by id" \
    "1|a|2024-01-01T10:00:00Z;2|b2|2024-01-02T06:00:00Z;3|c|2024-01-01T12:00:00Z;5|e|2024-01-02T12:00:00Z;6|f|2024-01-01T23:55:00Z"
  st_x "$w" state show items --json
  st_jq "state after run 2" "$C_OUT" "$st_state_filter" \
    '[{"flow":"items","delta_since":"2024-01-03T00:00:00.000Z","last_status":"ok","open_errors":0}]'
  t_done

  t_case "state/delta/window-override-keeps-saved-time$sfx"
  sqlite3 "$w/data/dst.db" "update items set name = 'stale' where id in (1, 3)"
  # (since, until]: a value names its second (10:00:00 is 10:00:00 to 10:00:01) and belongs to the
  # window that holds the second's end: row 1, written on since, is in; row 3, on until, is out
  st_x "$w" run --json --since 2024-01-01T10:00:00Z --until 2024-01-01T12:00:00Z --now 2024-01-04T00:00:00Z
  t_expect_rc 0
  st_out '{"flow":"items","exported":7,"ignored":6,"errors":0,"imported":{"copy":1}}'
  st_sql "rows 1 and 3 after --since/--until" "$w/data/dst.db" "select id, name from items where id in (1, 3) order by id" "1|a;3|stale"
  st_x "$w" run --json --since 2024-01-02T10:00:00Z --now 2024-01-04T00:00:00Z
  t_expect_rc 0
  st_out '{"flow":"items","exported":7,"ignored":6,"errors":0,"imported":{"copy":1}}'
  st_x "$w" state show --json
  st_jq "state after --since/--until runs (unchanged)" "$C_OUT" "$st_state_filter" \
    '[{"flow":"items","delta_since":"2024-01-03T00:00:00.000Z","last_status":"ok","open_errors":0}]'
  st_x "$w" run --json --since yesterday
  t_expect_rc 1
  # shellcheck disable=SC2016
  t_expect_grep "$C_ERR" '--since `yesterday` is not an ISO-8601 date-time'
  t_done

  t_case "state/delta/failed-runs-keep-saved-time$sfx"
  # the export fails on row 6 after the pages [1,2] [3,4] [5] went through; row 8 is never reached
  # (row 4, written in the second the run starts in, belongs to the next run)
  sqlite3 "$w/data/src.db" "update items set extra = 'not json' where id = 6;
    insert into items (id, name, updated_at) values (8, 'h', '2024-01-04T12:00:00Z')"
  st_x "$w" run --json --now 2024-01-05T00:00:00Z
  t_expect_rc 1
  st_out '{"flow":"items","exported":5,"ignored":5,"errors":0,"imported":{"copy":0},"failed":"export rows: data/src.db: malformed JSON","class":"connection"}'
  st_x "$w" state show --json
  st_jq "state after a run that failed part-way" "$C_OUT" "$st_state_filter" \
    '[{"flow":"items","delta_since":"2024-01-03T00:00:00.000Z","last_status":"failed","open_errors":0}]'
  sqlite3 "$w/data/src.db" "update items set extra = null where id = 6"
  # the destination cannot be opened (its directory is a file)
  st_x "$w" run --json --now 2024-01-05T00:00:00Z --param dst=data/src.db/dst.db
  t_expect_rc 1
  st_jq "failed run summary" "$C_OUT" '[.exported, .imported.copy, (.failed | test("^connection dst: .*data/src\\.db"))]' '[0,0,true]'
  st_x "$w" state show --json
  st_jq "state after a run that could not open its destination" "$C_OUT" "$st_state_filter" \
    '[{"flow":"items","delta_since":"2024-01-03T00:00:00.000Z","last_status":"failed","open_errors":0}]'
  # so the next run still starts from run 2's start - lag: rows 4 and 8 (had the failed run moved the
  # time to its start, row 8, dated before it, would not come)
  st_x "$w" run --json --now 2024-01-06T00:00:00Z
  t_expect_rc 0
  st_out '{"flow":"items","exported":8,"ignored":6,"errors":0,"imported":{"copy":2}}'
  st_sql "rows 4 and 8" "$w/data/dst.db" "select id, name from items where id in (4, 8) order by id" "4|d;8|h"
  st_x "$w" state show --json
  st_jq "state after the next good run" "$C_OUT" "$st_state_filter" \
    '[{"flow":"items","delta_since":"2024-01-06T00:00:00.000Z","last_status":"ok","open_errors":0}]'
  t_done

  t_case "state/delta/reset-exports-everything$sfx"
  st_x "$w" state reset nosuch
  t_expect_rc 1
  # shellcheck disable=SC2016
  t_expect_grep "$C_ERR" 'unknown flow `nosuch`'
  st_x "$w" state reset items
  t_expect_rc 0
  t_expect_grep "$C_ERR" '^reset the delta time of items$'
  st_x "$w" state show --json
  st_jq "state after reset" "$C_OUT" "$st_state_filter" \
    '[{"flow":"items","delta_since":null,"last_status":"ok","open_errors":0}]'
  st_x "$w" state show
  t_expect_rc 0
  # (the text form is free; it names the store, the flow, the delta time, the last run and its status)
  t_expect_grep "$C_OUT" '^state store \.flowstate/state-delta\.state\.db$'
  t_expect_grep "$C_OUT" "^items: .*never succeeded.*; last run $ST_RUNID_RE \\(ok\\); 0 open errors"
  sqlite3 "$w/data/dst.db" "update items set name = 'stale'"
  st_x "$w" run --json --now 2024-01-07T00:00:00Z
  t_expect_rc 0
  st_out '{"flow":"items","exported":8,"ignored":0,"errors":0,"imported":{"copy":8}}'
  st_sql "destination after reset + run" "$w/data/dst.db" \
    "select id, name from items order by id; select count(*), count(distinct id) from items" \
    "1|a;2|b2;3|c;4|d;5|e;6|f;7|g;8|h;8|8"
  st_x "$w" state show --json
  st_jq "state after reset + run" "$C_OUT" "$st_state_filter" \
    '[{"flow":"items","delta_since":"2024-01-07T00:00:00.000Z","last_status":"ok","open_errors":0}]'
  st_x "$w" state show items
  t_expect_grep "$C_OUT" '^items: delta [a-z]+ 2024-01-07T00:00:00\.000Z \(updated_at written as YYYY-MM-DDTHH:MM:SSZ\); last run 20240107T000000Z-[0-9a-f]{8} \(ok\); 0 open errors'
  t_done

  # everything kept in the state store (runs, delta times), without run ids and wall-clock times
  sqlite3 "$w/.flowstate/state-delta.state.db" \
    "select flow, started_ms, status, exported, ignored, imported, errors from runs order by started_ms, status; select flow, last_success_ms, last_status from flows" \
    >"$w/state.dump" 2>&1
}

st_dn=$st_root/delta
st_setup delta "$st_dn"
t_case "state/delta/build"
st_build "$st_dn"
t_done
if [ -x "$st_dn/prog" ]; then
  ST_MODE=native st_delta "$st_dn"
  st_dj=$st_root/delta.jit
  st_setup delta "$st_dj"
  ST_MODE=jit st_delta "$st_dj"
  t_case "state/delta/jit-matches-native"
  cmp -s "$st_dn/transcript" "$st_dj/transcript" ||
    t_note "the JIT printed something else:
$(diff -u --label native --label jit "$st_dn/transcript" "$st_dj/transcript" | head -n 20)"
  cmp -s <(sqlite3 "$st_dn/data/dst.db" .dump) <(sqlite3 "$st_dj/data/dst.db" .dump) ||
    t_note "the destinations differ"
  cmp -s "$st_dn/state.dump" "$st_dj/state.dump" ||
    t_note "the state stores differ:
$(diff -u --label native --label jit "$st_dn/state.dump" "$st_dj/state.dump" | head -n 20)"
  t_done
fi

# ===================================================================================================
# 2. errors: list, filters, resolve, retry

st_ew=$st_root/errors
st_setup errors "$st_ew"
t_case "state/errors/run-records-errors"
st_build "$st_ew"
st_x "$st_ew" run --json --now 2024-03-01T00:00:00Z
t_expect_rc 3
st_out '{"flow":"items","exported":5,"ignored":0,"errors":2,"imported":{"copy":3}}
{"flow":"tags","exported":3,"ignored":0,"errors":1,"imported":{"tag":2}}'
t_expect_grep "$C_ERR" '^flow items: exported 5, ignored 0, imported copy=3, errors 2 \(value=2\)$'
t_expect_grep "$C_ERR" '^flow tags: exported 3, ignored 0, imported tag=2, errors 1 \(duplicate=1\)$'
st_sql "destination after the run" "$st_ew/data/dst.db" "select * from items order by id; select * from tags order by id" \
  "1|a|5;3|c|2;5|e|0;1|a;2|b;3|taken"
t_done

t_case "state/errors/list-text"
st_x "$st_ew" errors list
t_expect_rc 0
st_out '1  items  copy  [value]  table items: CHECK constraint failed: qty >= 0  (2024-03-01T00:00:00.000Z, open)
  record: {"id":2,"name":"b","qty":-1}
2  items  copy  [value]  table items: CHECK constraint failed: qty >= 0  (2024-03-01T00:00:00.000Z, open)
  record: {"id":4,"name":"d","qty":-3}
3  tags  tag  [duplicate]  table tags: UNIQUE constraint failed: tags.id  (2024-03-01T00:00:00.000Z, open)
  record: {"id":3,"name":"c"}'
t_expect_grep "$C_ERR" '^3 open errors$'
t_done

t_case "state/errors/list-json-and-filters"
st_x "$st_ew" errors list --json
t_expect_rc 0
st_jq "errors list --json" "$C_OUT" '[.[] | [.id, .flow, .step, .class, .record, .trace_key, .status, (.run_id | test("^20240301T000000Z-[0-9a-f]{8}$")), .at]]' \
  '[[1,"items","copy","value",{"id":2,"name":"b","qty":-1},"id:2","open",true,"2024-03-01T00:00:00.000Z"],[2,"items","copy","value",{"id":4,"name":"d","qty":-3},"id:4","open",true,"2024-03-01T00:00:00.000Z"],[3,"tags","tag","duplicate",{"id":3,"name":"c"},"id:3","open",true,"2024-03-01T00:00:00.000Z"]]'
st_jq "messages" "$C_OUT" '[.[].message]' '["table items: CHECK constraint failed: qty >= 0","table items: CHECK constraint failed: qty >= 0","table tags: UNIQUE constraint failed: tags.id"]'
st_x "$st_ew" errors list --json --class value
st_jq "--class value" "$C_OUT" '[.[].id]' '[1,2]'
st_x "$st_ew" errors list --json --class duplicate
st_jq "--class duplicate" "$C_OUT" '[.[].id]' '[3]'
st_x "$st_ew" errors list --json --flow tags
st_jq "--flow tags" "$C_OUT" '[.[].id]' '[3]'
st_x "$st_ew" errors list --json --flow items --class duplicate
st_jq "--flow items --class duplicate" "$C_OUT" '.' '[]'
st_x "$st_ew" errors list --flow items
t_expect_grep "$C_ERR" '^2 open errors$'
st_x "$st_ew" state show --json
st_jq "state show" "$C_OUT" "$st_state_filter" \
  '[{"flow":"items","delta_since":"2024-03-01T00:00:00.000Z","last_status":"record_errors","open_errors":2},{"flow":"tags","delta_since":"2024-03-01T00:00:00.000Z","last_status":"record_errors","open_errors":1}]'
t_done

# the same store read through the JIT: the same listing, the same filters
t_case "state/errors/jit-list"
ST_MODE=jit st_x "$st_ew" errors list --json
t_expect_rc 0
ST_MODE=native st_x "$st_ew" errors list --json
cp "$C_OUT" "$st_ew/list.native"
ST_MODE=jit st_x "$st_ew" errors list --json
cmp -s "$C_OUT" "$st_ew/list.native" || t_note "flowc errors FILE list --json differs from ./prog errors list --json"
ST_MODE=jit st_x "$st_ew" errors list --json --flow tags
t_expect_rc 0
st_jq "flowc errors FILE list --flow tags" "$C_OUT" '[.[].id]' '[3]'
ST_MODE=jit st_x "$st_ew" errors list --json --class duplicate
t_expect_rc 0
st_jq "flowc errors FILE list --class duplicate" "$C_OUT" '[.[].id]' '[3]'
t_done

t_case "state/errors/resolve"
st_x "$st_ew" errors resolve 3
t_expect_rc 0
t_expect_grep "$C_ERR" '^resolved 3$'
st_x "$st_ew" errors list --json
st_jq "open errors after resolving 3" "$C_OUT" '[.[].id]' '[1,2]'
st_x "$st_ew" errors resolve 3
t_expect_rc 1
t_expect_grep "$C_ERR" 'no open error 3$'
st_x "$st_ew" errors resolve 999
t_expect_rc 1
t_expect_grep "$C_ERR" 'no open error 999$'
t_done

t_case "state/errors/bad-ids"
for bad in abc 0 1x 2.5; do
  st_x "$st_ew" errors resolve "$bad"
  t_expect_rc 2
  t_expect_grep "$C_ERR" "\`$bad\` is not an error id"
  st_x "$st_ew" errors retry "$bad"
  t_expect_rc 2
done
st_x "$st_ew" errors resolve
t_expect_rc 2
st_x "$st_ew" errors retry
t_expect_rc 2
st_x "$st_ew" errors list 1
t_expect_rc 2
st_x "$st_ew" errors retry 3
t_expect_rc 1
t_expect_grep "$C_ERR" 'not open errors'
st_x "$st_ew" errors list --json
st_jq "open errors after the bad commands" "$C_OUT" '[.[].id]' '[1,2]'
t_done

t_case "state/errors/retry-all-after-fix"
sqlite3 "$st_ew/data/dst.db" <tests/state/errors/fix.sql
st_x "$st_ew" errors retry --all --json
t_expect_rc 0
st_out '{"flow":"items","exported":2,"ignored":0,"errors":0,"imported":{"copy":2}}'
st_sql "destination after the retry" "$st_ew/data/dst.db" \
  "select * from items order by id; select count(*), count(distinct id) from items" "1|a|5;2|b|-1;3|c|2;4|d|-3;5|e|0;5|5"
st_x "$st_ew" errors list --json
st_jq "open errors after the retry" "$C_OUT" '.' '[]'
st_x "$st_ew" errors list
t_expect_grep "$C_ERR" '^0 open errors$'
st_x "$st_ew" errors list --all --json
# (the contract: resolved by "retry RUNID" or "run RUNID")
st_jq "every error after the retry" "$C_OUT" '[.[] | [.id, .status, (.resolved_by | sub("^(retry|run) [0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$"; "RETRY")), (.resolved_at != null)]]' \
  '[[1,"resolved","RETRY",true],[2,"resolved","RETRY",true],[3,"resolved","errors resolve",true]]'
st_jq "one retry run resolved both" "$C_OUT" '[.[0].resolved_by == .[1].resolved_by]' '[true]'
st_x "$st_ew" errors list --all
t_expect_grep "$C_OUT" '^1  items  copy  \[value\]  .*, resolved by (retry|run) [0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}\)$'
t_expect_grep "$C_ERR" '^3 errors$'
st_x "$st_ew" state show --json
st_jq "delta time not moved by the retry" "$C_OUT" "[.[] | [.flow, .delta_since, .open_errors]]" \
  '[["items","2024-03-01T00:00:00.000Z",0],["tags","2024-03-01T00:00:00.000Z",0]]'
st_x "$st_ew" errors retry --all --json
t_expect_rc 0
t_expect_grep "$C_ERR" 'no open errors to retry'
st_out ''
t_done

# ===================================================================================================
# 3. a later run that brings the same record through resolves its open error (by trace key)

st_rw=$st_root/resolve
st_setup resolve "$st_rw"
t_case "state/resolve/run-records-errors"
st_build "$st_rw"
st_x "$st_rw" run --json --now 2024-02-01T00:00:00Z
t_expect_rc 3
st_out '{"flow":"by_id","exported":8,"ignored":0,"errors":1,"imported":{"copy":7}}
{"flow":"by_hash","exported":3,"ignored":0,"errors":1,"imported":{"copy":2}}'
st_x "$st_rw" errors list --json
st_jq "errors (a record without an id has the trace key h:HASH)" "$C_OUT" '[.[] | [.id, .flow, .record, (.trace_key | sub("^h:[0-9a-f]{16}$"; "h:HASH")), .status]]' \
  '[[1,"by_id",{"id":7,"qty":-7,"updated_at":"2024-01-15T00:00:00Z"},"id:7","open"],[2,"by_hash",{"code":"B","qty":-2},"h:HASH","open"]]'
t_done

t_case "state/resolve/record-errors-still-move-delta"
st_x "$st_rw" state show by_id --json
st_jq "state after a run with record errors" "$C_OUT" "$st_state_filter" \
  '[{"flow":"by_id","delta_since":"2024-02-01T00:00:00.000Z","last_status":"record_errors","open_errors":1}]'
t_done

t_case "state/resolve/later-run-resolves"
sqlite3 "$st_rw/data/dst.db" <tests/state/resolve/fix.sql
# nothing new since run 1: record 7 does not come again, its error stays open
st_x "$st_rw" run by_id --json --now 2024-02-02T00:00:00Z
t_expect_rc 0
st_out '{"flow":"by_id","exported":8,"ignored":8,"errors":0,"imported":{"copy":0}}'
st_x "$st_rw" errors list --json --flow by_id
st_jq "open errors of by_id after a run without record 7" "$C_OUT" '[.[] | [.id, .status]]' '[[1,"open"]]'
# a window that holds record 7 again (a run given --since moves no flow's delta time)
st_x "$st_rw" run --json --since 2024-01-01T00:00:00Z --now 2024-02-03T00:00:00Z
t_expect_rc 0
st_out '{"flow":"by_id","exported":8,"ignored":0,"errors":0,"imported":{"copy":8}}
{"flow":"by_hash","exported":3,"ignored":0,"errors":0,"imported":{"copy":3}}'
st_x "$st_rw" state show --json
cp "$C_OUT" "$st_rw/show.json"
st_jq "state after the resolving run" "$C_OUT" "$st_state_filter" \
  '[{"flow":"by_hash","delta_since":"2024-02-01T00:00:00.000Z","last_status":"ok","open_errors":0},{"flow":"by_id","delta_since":"2024-02-02T00:00:00.000Z","last_status":"ok","open_errors":0}]'
st_x "$st_rw" errors list --json
st_jq "open errors after the resolving run" "$C_OUT" '.' '[]'
st_x "$st_rw" errors list --all --json
st_jq "resolved by the run" "$C_OUT" '[.[] | [.id, .status, .resolved_at]]' \
  '[[1,"resolved","2024-02-03T00:00:00.000Z"],[2,"resolved","2024-02-03T00:00:00.000Z"]]'
st_eq "resolved_by of error 1" "$(jq -r '.[0].resolved_by' "$C_OUT")" "run $(jq -r '.[] | select(.flow == "by_id") | .last_run_id' "$st_rw/show.json")"
st_eq "resolved_by of error 2" "$(jq -r '.[1].resolved_by' "$C_OUT")" "run $(jq -r '.[] | select(.flow == "by_hash") | .last_run_id' "$st_rw/show.json")"
st_sql "destination" "$st_rw/data/dst.db" "select count(*), count(distinct id), sum(qty) from items; select * from codes order by code" "8|8|22;A|1;B|-2;C|3"
t_done

# ===================================================================================================
# 4. retrying while the destination is still broken: the old entry superseded, one new open entry

st_sw=$st_root/supersede
st_setup errors "$st_sw"
t_case "state/supersede/retry-still-broken"
st_build "$st_sw"
st_x "$st_sw" run --json --now 2024-03-01T00:00:00Z
t_expect_rc 3
st_x "$st_sw" errors retry 1 --json
t_expect_rc 3
st_out '{"flow":"items","exported":1,"ignored":0,"errors":1,"imported":{"copy":0}}'
st_x "$st_sw" errors list --all --json
st_jq "errors after the failed retry" "$C_OUT" '[.[] | [.id, .flow, .trace_key, .status, .resolved_by, .record.id]]' \
  '[[1,"items","id:2","superseded","error 4",2],[2,"items","id:4","open",null,4],[3,"tags","id:3","open",null,3],[4,"items","id:2","open",null,2]]'
st_x "$st_sw" state show --json
st_jq "state after the failed retry" "$C_OUT" '[.[] | [.flow, .delta_since, .open_errors]]' \
  '[["items","2024-03-01T00:00:00.000Z",2],["tags","2024-03-01T00:00:00.000Z",1]]'
t_done

t_case "state/supersede/run-still-broken"
st_x "$st_sw" run --json --now 2024-03-02T00:00:00Z
t_expect_rc 3
st_x "$st_sw" errors list --all --json
# (tags inserts rows 1 and 2 again: duplicates now)
st_jq "open entries" "$C_OUT" '[.[] | select(.status == "open") | [.id, .flow, .trace_key]]' \
  '[[5,"items","id:2"],[6,"items","id:4"],[7,"tags","id:1"],[8,"tags","id:2"],[9,"tags","id:3"]]'
st_jq "one open entry per record" "$C_OUT" '[.[] | select(.status == "open") | .flow + " " + .trace_key] | length == (unique | length)' true
st_jq "the older entries superseded" "$C_OUT" '[.[] | select(.status == "superseded") | [.id, .resolved_by]]' \
  '[[1,"error 4"],[2,"error 6"],[3,"error 9"],[4,"error 5"]]'
t_done

# Resolved and superseded errors older than $FLOW_ERROR_RETENTION_DAYS (default 30) days before the
# run's start are purged at the end of a run; open ones never. This run starts (--now) 45 days after
# entries 2-4 were superseded (2024-03-01..02): they go. Entry 1 was superseded by `errors retry` (no
# --now), at the real time, and entries 5-9 by this run itself: they stay.
t_case "state/supersede/purge-after-retention"
ST_RETENTION=default st_x "$st_sw" run --json --now 2024-04-15T00:00:00Z
t_expect_rc 3
st_x "$st_sw" errors list --all --json
st_jq "errors kept after a run with the default retention" "$C_OUT" '[.[] | [.id, .status, .trace_key]]' \
  '[[1,"superseded","id:2"],[5,"superseded","id:2"],[6,"superseded","id:4"],[7,"superseded","id:1"],[8,"superseded","id:2"],[9,"superseded","id:3"],[10,"open","id:2"],[11,"open","id:4"],[12,"open","id:1"],[13,"open","id:2"],[14,"open","id:3"]]'
t_done

# ===================================================================================================
# 5. a foreign or corrupt state file is refused and left as it was; --state and $FLOW_STATE_DIR

st_fw=$st_root/foreign
st_setup delta "$st_fw"
t_case "state/foreign/build"
st_build "$st_fw"
t_done
st_fpath=$st_fw/.flowstate/state-delta.state.db
# st_refused WHAT: every command refuses the file at st_fpath and leaves it byte for byte
st_refused() {
  t_case "state/foreign/$1"
  cp "$st_fpath" "$st_fw/before"
  local cmd
  for cmd in "run --json --now 2024-01-02T00:00:00Z" "state show" "state reset" "errors list" "errors resolve 1"; do
    # shellcheck disable=SC2086
    st_x "$st_fw" $cmd
    t_expect_rc 1
    t_expect_grep "$C_ERR" 'not a flowc state store.*move it away, it is not reset' "\`$cmd\`: no \"not a flowc state store ... move it away\" message"
  done
  cmp -s "$st_fpath" "$st_fw/before" || t_note "the state file was changed"
  [ -e "$st_fpath-wal" ] && [ -s "$st_fpath-wal" ] && t_note "a -wal file was written beside it"
  st_sql "the destination was not written" "$st_fw/data/dst.db" "select count(*) from items" 0
  t_done
  rm -f "$st_fpath" "$st_fpath-wal" "$st_fpath-shm" "$st_fpath-journal"
}
mkdir -p "$st_fw/.flowstate"
printf 'delta times, by hand\nitems 2024-01-01\n' >"$st_fpath"
st_refused text-file
sqlite3 "$st_fpath" "create table notes (n text); insert into notes values ('mine');"
st_refused other-sqlite-db
sqlite3 "$st_fpath" "pragma application_id = 12345; create table flows (flow text);"
st_refused other-application-id
# a real state store whose header was overwritten
(cd "$st_fw" && ./prog state show >/dev/null 2>&1)
[ -f "$st_fpath" ] && printf 'GARBAGE-GARBAGE-GARBAGE!' | dd of="$st_fpath" bs=1 seek=0 conv=notrunc 2>/dev/null
st_refused damaged-header

t_case "state/foreign/state-dir-options"
rm -rf "$st_fw/.flowstate" "$st_fw/optdir" "$st_fw/envdir"
st_x "$st_fw" run --json --now 2024-01-02T00:00:00Z --state optdir
t_expect_rc 0
[ -f "$st_fw/optdir/state-delta.state.db" ] || t_note "--state optdir: no optdir/state-delta.state.db"
[ -e "$st_fw/.flowstate" ] && t_note "--state optdir: .flowstate was created as well"
t_exec -C "$st_fw" env FLOW_TEST_CLOCK=1 FLOW_STATE_DIR=envdir ./prog run --json --now 2024-01-03T00:00:00Z
t_expect_rc 0
[ -f "$st_fw/envdir/state-delta.state.db" ] || t_note "FLOW_STATE_DIR=envdir: no envdir/state-delta.state.db"
[ -e "$st_fw/.flowstate" ] && t_note "FLOW_STATE_DIR=envdir: .flowstate was created as well"
t_exec -C "$st_fw" env FLOW_STATE_DIR=envdir ./prog state show --json --state optdir
st_jq "--state wins over FLOW_STATE_DIR" "$C_OUT" '[.[].delta_since]' '["2024-01-02T00:00:00.000Z"]'
t_exec -C "$st_fw" env FLOW_STATE_DIR=envdir ./prog state show --json
st_jq "FLOW_STATE_DIR" "$C_OUT" '[.[].delta_since]' '["2024-01-03T00:00:00.000Z"]'
t_exec -C "$st_fw" env FLOW_STATE_DIR=envdir "$FLOWC" state flow.flow show --json
st_jq "FLOW_STATE_DIR through the JIT" "$C_OUT" '[.[].delta_since]' '["2024-01-03T00:00:00.000Z"]'
t_exec -C "$st_fw" "$FLOWC" state flow.flow show --json --state optdir
st_jq "--state through the JIT" "$C_OUT" '[.[].delta_since]' '["2024-01-02T00:00:00.000Z"]'
t_exec -C "$st_fw" ./prog state show --json
st_jq "the default directory is still empty" "$C_OUT" '.' '[]'
st_sql "application_id and journal mode of a new store" "$st_fw/optdir/state-delta.state.db" \
  "pragma application_id; pragma journal_mode" "1179406167;wal"
t_done

t_case "state/foreign/file-name-and-no-state-in-preview"
st_nw=$st_root/names
st_setup names "$st_nw"
t_exec -C "$st_nw" "$FLOWC" preview flow.flow
t_expect_rc 0
[ -e "$st_nw/.flowstate" ] && t_note "a preview created .flowstate"
t_exec -C "$st_nw" "$FLOWC" run flow.flow --json
t_expect_rc 0
st_eq "state file names" "$(cd "$st_nw/.flowstate" 2>&1 && find . -mindepth 1 | sed 's|^\./||' | sort | paste -sd ' ' -)" "odd_name___.1.create.lock odd_name___.1.one.lock odd_name___.1.state.db"
t_done

# ===================================================================================================
# 6. secrets never reach the state file

st_xw=$st_root/secret
st_setup secret "$st_xw"
st_sx=tokS3CRETq7x1
st_sy=keyS3CRETz9w4
t_case "state/secret/not-in-state-file"
st_build "$st_xw"
t_exec -C "$st_xw" env SECRET_X=$st_sx SECRET_Y=$st_sy ./prog run --json
t_expect_rc 3
st_out '{"flow":"push","exported":3,"ignored":0,"errors":3,"imported":{"send":0}}'
t_expect_nogrep "$C_OUT" 'S3CRET' "a secret on stdout"
t_expect_nogrep "$C_ERR" 'S3CRET' "a secret on stderr"
st_hits=$(grep -alE "$st_sx|$st_sy|S3CRET" "$st_xw"/.flowstate/* 2>&1)
[ -z "$st_hits" ] || t_note "a secret is in: $st_hits"
[ -f "$st_xw/.flowstate/state-secret.state.db" ] || t_note "no state file"
t_exec -C "$st_xw" env SECRET_X=$st_sx SECRET_Y=$st_sy ./prog errors list --json
t_expect_rc 0
t_expect_nogrep "$C_OUT" 'S3CRET' "a secret in errors list --json"
st_jq "kept errors" "$C_OUT" '[.[] | [.class, .record.sig, .http.request.headers.Authorization, .http.request.headers["X-Key"], .http.request.method, .http.request.url, (.http.request.body | fromjson | .sig)]] | unique' \
  '[["connection","sig-<redacted>","<redacted>","<redacted>","POST","http://127.0.0.1:9/items","sig-<redacted>"]]'
st_jq "records" "$C_OUT" '[.[].record.id]' '[1,2,3]'
# a retry while another connection holds the store open: the write-ahead log is left behind (not
# checkpointed away), holding the new errors; it must not hold a secret either
st_db=$st_xw/.flowstate/state-secret.state.db
# (the holder keeps its connection until the retry is done: it has answered its query, so it has the
# store open, before the retry starts)
rm -f "$st_xw/holder.out" "$st_xw/holder.done"
( echo 'select count(*) from errors;'
  for _ in $(seq 600); do [ -e "$st_xw/holder.done" ] && break; sleep 0.05; done ) | sqlite3 "$st_db" >"$st_xw/holder.out" 2>&1 &
st_holder=$!
for _ in $(seq 200); do [ -s "$st_xw/holder.out" ] && break; sleep 0.05; done
[ -s "$st_xw/holder.out" ] || t_note "the other connection did not answer its query within 10 s"
t_exec -C "$st_xw" env SECRET_X=$st_sx SECRET_Y=$st_sy ./prog errors retry --all
t_expect_rc 3
if [ -s "$st_db-wal" ]; then
  grep -aq 'sig-<redacted>' "$st_db-wal" || t_note "the -wal file does not hold the retried errors"
else
  t_note "no -wal file beside the state file while another connection had it open"
fi
st_hits=$(grep -alE "$st_sx|$st_sy|S3CRET" "$st_xw"/.flowstate/* 2>&1)
[ -z "$st_hits" ] || t_note "after a retry, a secret is in: $st_hits"
touch "$st_xw/holder.done"
wait "$st_holder" 2>/dev/null
t_exec -C "$st_xw" ./prog errors list --all --json
st_jq "entries after the retry" "$C_OUT" '[.[] | [.id, .status]]' \
  '[[1,"superseded"],[2,"superseded"],[3,"superseded"],[4,"open"],[5,"open"],[6,"open"]]'
t_done

# ===================================================================================================
# 7. a run killed with SIGKILL part-way: the destination and the state store stay consistent

if [ -n "${FLOWC_REL:-}" ]; then
  st_cw=$st_root/crash
  st_setup crash "$st_cw"
  t_case "state/crash/kill-9-then-rerun"
  sqlite3 "$st_cw/data/src.db" "create table items (id integer primary key, name text not null, updated_at text not null);
    with recursive n(i) as (select 1 union all select i + 1 from n where i < 300000)
    insert into items select i, 'name-' || i, '2024-03-01T00:00:00Z' from n;"
  t_exec -C "$st_cw" "$FLOWC_REL" build flow.flow -o prog
  t_expect_rc 0
  # run 0: every row lies after its start, so nothing is written, but the delta time is saved
  t_exec -C "$st_cw" env FLOW_TEST_CLOCK=1 ./prog run --json --now 2024-02-01T00:00:00Z
  t_expect_rc 0
  st_out '{"flow":"bulk","exported":300000,"ignored":300000,"errors":0,"imported":{"copy":0}}'
  (cd "$st_cw" && FLOW_TEST_CLOCK=1 exec ./prog run --json --now 2024-06-01T00:00:00Z) </dev/null >"$st_cw/killed.out" 2>"$st_cw/killed.err" &
  st_pid=$!
  st_n=0
  for _ in $(seq 600); do
    st_n=$(sqlite3 -cmd '.timeout 2000' "$st_cw/data/dst.db" "select count(*) from items" 2>/dev/null || echo 0)
    [ "${st_n:-0}" -ge 20000 ] 2>/dev/null && break
    kill -0 "$st_pid" 2>/dev/null || break
    sleep 0.02
  done
  if kill -0 "$st_pid" 2>/dev/null; then
    kill -9 "$st_pid"
    wait "$st_pid" 2>/dev/null
    st_n=$(sqlite3 -cmd '.timeout 2000' "$st_cw/data/dst.db" "select count(*) from items")
    echo "$st_n" >"$st_cw/killed.count"
    if [ "$st_n" -le 0 ] || [ "$st_n" -ge 300000 ]; then t_note "the killed run left $st_n rows (expected some, not all)"; fi
  else
    wait "$st_pid" 2>/dev/null
    t_note "the run finished (or died) before it could be killed; it left $st_n rows: $(head -c 300 "$st_cw/killed.err")"
  fi
  st_sp=$st_cw/.flowstate/state-crash.state.db
  t_exec -C "$st_cw" ./prog state show --json
  t_expect_rc 0
  st_jq "the delta time after the killed run (run 0's start)" "$C_OUT" '[.[] | [.flow, .delta_since, .last_status]]' \
    '[["bulk","2024-02-01T00:00:00.000Z","ok"]]'
  st_sql "integrity of the state store after the kill" "$st_sp" "pragma integrity_check" ok
  t_exec -C "$st_cw" env FLOW_TEST_CLOCK=1 ./prog run --json --now 2024-06-01T00:00:00Z
  t_expect_rc 0
  st_out '{"flow":"bulk","exported":300000,"ignored":0,"errors":0,"imported":{"copy":300000}}'
  t_expect_grep "$C_ERR" '^prog: flow bulk: 1 earlier run was left running by a process that ended without recording it: marked crashed$' "the rerun says so"
  st_sql "destination after the rerun" "$st_cw/data/dst.db" \
    "attach '$st_cw/data/src.db' as s; select count(*), count(distinct id), min(id), max(id) from items; select count(*) from items d join s.items x using (id) where d.name = x.name" \
    "300000|300000|1|300000;300000"
  st_sql "integrity of the destination" "$st_cw/data/dst.db" "pragma integrity_check" ok
  t_exec -C "$st_cw" ./prog state show --json
  t_expect_rc 0
  st_jq "the delta time after the rerun" "$C_OUT" '[.[] | [.flow, .delta_since, .last_status]]' \
    '[["bulk","2024-06-01T00:00:00.000Z","ok"]]'
  st_sql "integrity of the state store after the rerun" "$st_sp" "pragma integrity_check" ok
  # the killed run never recorded its end: the next run of the flow, holding its lock, marks it crashed;
  # the first run (2024-02-01) is over 90 days ($FLOW_RUN_RETENTION_DAYS) before the rerun: purged
  st_sql "runs kept" "$st_sp" "select started_ms, status from runs order by rowid" \
    "1717200000000|crashed;1717200000000|ok"
  t_done
fi

# ===================================================================================================
# 8. limit(n): at most n records, no state, delta.since unused; delta.since reaches the source

st_lw=$st_root/limit
st_setup limit "$st_lw"
t_case "state/limit/at-most-n"
st_build "$st_lw"
st_x "$st_lw" run --json --now 2024-01-05T00:00:00Z
t_expect_rc 0
st_out '{"flow":"lim","exported":3,"ignored":0,"errors":0,"imported":{"copy":3}}
{"flow":"del","exported":8,"ignored":3,"errors":0,"imported":{"copy":5}}'
st_x "$st_lw" run --json --now 2024-01-08T00:00:00Z
t_expect_rc 0
# the limit flow starts from the beginning again; the delta flow from run 1's start - 1h
st_out '{"flow":"lim","exported":3,"ignored":0,"errors":0,"imported":{"copy":3}}
{"flow":"del","exported":4,"ignored":1,"errors":0,"imported":{"copy":3}}'
st_sql "limit rows (delta.since is not used: the epoch)" "$st_lw/data/dst.db" "select id, since from lim order by rowid" \
  "1|1970-01-01T00:00:00.000Z;2|1970-01-01T00:00:00.000Z;3|1970-01-01T00:00:00.000Z;1|1970-01-01T00:00:00.000Z;2|1970-01-01T00:00:00.000Z;3|1970-01-01T00:00:00.000Z"
# (an SQL export sees delta.since as the source compares it: the first run, the field's layout not
# known yet, two days before the epoch; then in the layout learned, the second before the one holding
# last start - lag)
st_sql "delta rows (delta.since = last start - lag, as bound)" "$st_lw/data/dst.db" "select id, since from del order by rowid" \
  "1|1969-12-30T00:00:00.000Z;2|1969-12-30T00:00:00.000Z;3|1969-12-30T00:00:00.000Z;4|1969-12-30T00:00:00.000Z;5|1969-12-30T00:00:00.000Z;5|2024-01-04T22:59:59Z;6|2024-01-04T22:59:59Z;7|2024-01-04T22:59:59Z"
t_done

t_case "state/limit/keeps-no-delta-time"
st_x "$st_lw" state show --json
t_expect_rc 0
st_jq "delta times" "$C_OUT" '[.[] | [.flow, .delta_since]]' '[["del","2024-01-08T00:00:00.000Z"],["lim",null]]'
t_done

# ===================================================================================================
# 9. once(flag, key): never exported twice; flags set page by page; flagged rows skipped; state show
#    counts the flags set

st_ow=$st_root/once
st_setup once "$st_ow"
t_case "state/once/never-twice"
ST_MODE=native
st_build "$st_ow"
st_x "$st_ow" run --json
t_expect_rc 0
st_out '{"flow":"items","exported":5,"ignored":1,"errors":0,"imported":{"copy":4}}'
st_sql "source flags after run 1" "$st_ow/data/src.db" "select group_concat(done, ',') from (select done from items order by id)" "1,1,1,1,1,1"
st_x "$st_ow" run --json
t_expect_rc 0
st_out '{"flow":"items","exported":0,"ignored":0,"errors":0,"imported":{"copy":0}}'
sqlite3 "$st_ow/data/src.db" "INSERT INTO items (id, qty) VALUES (7, 3)"
st_x "$st_ow" run --json
t_expect_rc 0
st_out '{"flow":"items","exported":1,"ignored":0,"errors":0,"imported":{"copy":1}}'
st_sql "destination" "$st_ow/data/dst.db" "select count(*), group_concat(id, ',') from (select id from copy order by id)" "5|1,3,4,5,7"
st_x "$st_ow" state show --json
st_jq "once progress" "$C_OUT" '[.[] | [.flow, .once_marked]]' '[["items",6]]'
t_done

# ===================================================================================================
# 10. file imports and `errors retry`: the retry adds the retried records to what the run wrote
#     (ndjson appending by default, a json array written with write = replace, a csv file keeping
#     its header); the next run appends (default) or replaces (write = replace)

st_fw=$st_root/files-retry
st_setup files-retry "$st_fw"
t_case "state/files-retry/run-then-retry-adds"
st_build "$st_fw"
st_x "$st_fw" run --json --now 2024-03-01T00:00:00Z
t_expect_rc 3
st_out '{"flow":"daily","exported":3,"ignored":0,"errors":1,"imported":{"day":2}}
{"flow":"snapshot","exported":3,"ignored":0,"errors":1,"imported":{"snap":2}}
{"flow":"table","exported":3,"ignored":0,"errors":1,"imported":{"rows":2}}'
sqlite3 "$st_fw/data/src.db" <tests/state/files-retry/fix.sql
st_x "$st_fw" errors retry --all --json --now 2024-03-01T08:00:00Z
t_expect_rc 0
st_out '{"flow":"daily","exported":1,"ignored":0,"errors":0,"imported":{"day":1}}
{"flow":"snapshot","exported":1,"ignored":0,"errors":0,"imported":{"snap":1}}
{"flow":"table","exported":1,"ignored":0,"errors":0,"imported":{"rows":1}}'
st_eq "the day's file after the retry" "$(cat "$st_fw/out/orders-2024-03-01.ndjson")" '{"id":10,"name":"ann"}
{"id":12,"name":"bob"}
{"id":11,"name":"cy"}'
st_eq "the json array (write = replace) after the retry" "$(cat "$st_fw/out/snapshot.json")" '[
{"id":10,"name":"ann"},
{"id":12,"name":"bob"},
{"id":11,"name":"cy"}
]'
st_eq "the csv file after the retry" "$(cat "$st_fw/out/orders.csv")" 'id,name
10,ann
12,bob
11,cy'
st_eq "temporary files left" "$(cd "$st_fw/out" && ls -A | grep '^\.' | paste -sd ' ' -)" ''
t_done

t_case "state/files-retry/next-run-appends-or-replaces"
st_x "$st_fw" run --json --now 2024-03-01T12:00:00Z
t_expect_rc 0
st_eq "the day's file after a second run that day (write = append)" "$(jq -c .id "$st_fw/out/orders-2024-03-01.ndjson" | paste -sd ' ' -)" \
  '10 12 11 10 11 12'
st_eq "the json array after a second run (write = replace)" "$(jq -c '[.[].id]' "$st_fw/out/snapshot.json")" '[10,11,12]'
st_eq "the csv file after a second run (one header)" "$(paste -sd ' ' "$st_fw/out/orders.csv")" 'id,name 10,ann 12,bob 11,cy 10,ann 11,cy 12,bob'
t_done
