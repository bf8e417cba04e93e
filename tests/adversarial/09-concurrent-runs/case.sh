# 09: two runs of one flow on one state directory, started at once (native + native, native + JIT)
# and after a kill -9: one run of a flow at a time per state directory, in every process; a second
# start says `flow F is already running (pid N)` and exits 1; a killed run's lock is taken over.

# adv09_src DIR: DIR/data/src.db with 50,000 unflagged rows; an empty DIR/data/dst.db, which
# refuses id 7 (one record error, for `errors retry`)
adv09_src() {
  rm -rf "$1/data" "$1/.flowstate"; mkdir -p "$1/data"
  sqlite3 "$1/data/src.db" "create table items (id integer primary key, name text not null, done integer not null default 0);
    with recursive n(i) as (select 1 union all select i + 1 from n where i < 50000) insert into items (id, name) select i, 'n' || i from n;"
  sqlite3 "$1/data/dst.db" "create table items (id integer check (id <> 7), name text)"
}
# adv09_rows DIR: "rows|distinct ids" of the destination
adv09_rows() { sqlite3 -cmd '.timeout 5000' "$1/data/dst.db" "select count(*) || '|' || count(distinct id) from items"; }
# adv09_wait_rows DIR PID: waits until the run PID has written some rows (or ended)
adv09_wait_rows() {
  local n
  for _ in $(seq 1500); do
    n=$(sqlite3 -cmd '.timeout 2000' "$1/data/dst.db" "select count(*) from items" 2>/dev/null || echo 0)
    [ "${n:-0}" -gt 0 ] 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.02
  done
  return 1
}

adv09=$PWD
adv_build "$adv09"

# 1. two native runs started at the same instant
t_case adversarial/09-concurrent-runs/native-and-native-at-once
adv09_src "$adv09"
(cd "$adv09" && exec ./prog run --json) >"$adv09/a.out" 2>"$adv09/a.err" &
adv09_a=$!
(cd "$adv09" && exec ./prog run --json) >"$adv09/b.out" 2>"$adv09/b.err" &
adv09_b=$!
wait "$adv09_a"; adv09_ra=$?
wait "$adv09_b"; adv09_rb=$?
C_FILES+=("$adv09/a.err" "$adv09/b.err")
[ "$(adv09_rows "$adv09")" = "49999|49999" ] || t_note "the destination holds $(adv09_rows "$adv09") rows|ids, not 49999|49999"
# whichever lost the race was refused, naming the other's pid; if the first had finished before the
# second started, the second found every row flagged: both exit 0 then
case "$adv09_ra:$adv09_rb" in
  3:1) grep -aqE "flow items is already running \\(pid $adv09_a\\)" "$adv09/b.err" || t_note "the refused run did not name pid $adv09_a: $(head -c 300 "$adv09/b.err")" ;;
  1:3) grep -aqE "flow items is already running \\(pid $adv09_b\\)" "$adv09/a.err" || t_note "the refused run did not name pid $adv09_b: $(head -c 300 "$adv09/a.err")" ;;
  3:0 | 0:3) grep -q '"exported":0' "$adv09/b.out" "$adv09/a.out" || t_note "both runs exported records" ;;
  *) t_note "exit $adv09_ra and $adv09_rb: $(head -c 300 "$adv09/a.err") / $(head -c 300 "$adv09/b.err")" ;;
esac
t_done

# 2. a JIT run started while a native run is writing: refused, naming the native run's pid
t_case adversarial/09-concurrent-runs/native-then-jit
adv09_src "$adv09"
(cd "$adv09" && exec ./prog run --json) >"$adv09/a.out" 2>"$adv09/a.err" &
adv09_a=$!
if adv09_wait_rows "$adv09" "$adv09_a"; then
  t_exec -C "$adv09" "$FLOWC" run flow.flow --json
  t_expect_rc 1
  t_expect_grep "$C_ERR" "flow items is already running \\(pid $adv09_a\\)"
  # under --json the refused flow has its line, as every failed run has (scripts read one per flow)
  t_expect_grep "$C_OUT" "^\\{\"flow\":\"items\",\"exported\":0,\"ignored\":0,\"errors\":0,\"imported\":\\{\"copy\":0\\},\"failed\":\"flow items is already running \\(pid $adv09_a\\)\",\"class\":\"intermittent\"\\}$" "no JSON line for the refused flow"
  [ "$(wc -l < "$C_OUT")" = 1 ] || t_note "run --json printed $(wc -l < "$C_OUT") lines for one flow"
  # errors retry takes the same lock
  t_exec -C "$adv09" ./prog errors retry --all
  t_expect_rc 1
  t_expect_grep "$C_ERR" "flow items is already running \\(pid $adv09_a\\)"
  # so does state reset
  t_exec -C "$adv09" ./prog state reset items
  t_expect_rc 1
  t_expect_grep "$C_ERR" "flow items is already running \\(pid $adv09_a\\)"
else
  t_note "the native run wrote nothing before it ended: $(head -c 300 "$adv09/a.err")"
fi
wait "$adv09_a"; adv09_ra=$?
C_FILES+=("$adv09/a.err")
[ "$adv09_ra" = 3 ] || t_note "the native run exited $adv09_ra"
[ "$(adv09_rows "$adv09")" = "49999|49999" ] || t_note "the destination holds $(adv09_rows "$adv09") rows|ids, not 49999|49999"
t_done

# 3. a run killed with SIGKILL leaves its lock behind in the file system; the next run takes it over
t_case adversarial/09-concurrent-runs/killed-run-lock-taken-over
adv09_src "$adv09"
(cd "$adv09" && exec ./prog run --json) >"$adv09/a.out" 2>"$adv09/a.err" &
adv09_a=$!
if adv09_wait_rows "$adv09" "$adv09_a"; then
  kill -9 "$adv09_a"
  wait "$adv09_a" 2>/dev/null
  t_exec -C "$adv09" "$FLOWC" run flow.flow --json
  # (3 when the killed run died before it flagged the page holding id 7)
  [ "$C_RC" = 0 ] || [ "$C_RC" = 3 ] || t_note "exit $C_RC, expected 0 or 3: $C_CMD"
  t_expect_nogrep "$C_ERR" "already running"
  adv09_n=$(adv09_rows "$adv09")
  [ "${adv09_n#*|}" = 49999 ] || t_note "after the takeover the destination holds $adv09_n rows|ids"
  t_exec -C "$adv09" ./prog run --json
  t_expect_rc 0
  t_expect_grep "$C_OUT" '"exported":0'
else
  wait "$adv09_a" 2>/dev/null
  t_note "the native run wrote nothing before it ended: $(head -c 300 "$adv09/a.err")"
fi
t_done
