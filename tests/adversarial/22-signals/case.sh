# 22: SIGTERM and SIGINT end a run cleanly: the page being read is dropped (its error-store writes
# rolled back), the SQLite import keeps only whole pages, the file import's temp file is removed and
# the destination file not written, the run is recorded as interrupted, the delta time does not move,
# the flows after it do not start (only `bulk` and the ones after it run); exit 143 (SIGTERM) or 130 (SIGINT). The JIT does the same. A write
# past RLIMIT_FSIZE fails the run instead of killing it with SIGXFSZ.

adv22s=$PWD
mkdir -p data out
sqlite3 data/src.db "create table items (id integer primary key, qty, updated_at text not null);"
adv_build "$adv22s"
# adv22s_delta: the saved delta time of bulk
adv22s_delta() { (cd "$adv22s" && ./prog state show bulk --json 2>/dev/null) | jq -r '.[0].delta_since'; }
# adv22s_fill: 40,000 rows stamped now (after the first run), every 1000th with a bad qty
adv22s_fill() {
  sqlite3 data/src.db "delete from items; with recursive n(i) as (select 1 union all select i + 1 from n where i < 40000)
    insert into items select i, case when i % 1000 = 0 then 'x' else i end, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') from n;"
}
# adv22s_interrupt SIG CMD...: starts CMD in the background, sends SIG once it has written 2,000 rows,
# leaves its exit status in adv22s_rc and its output in run.out / run.err
adv22s_interrupt() {
  local sig=$1 n; shift
  rm -f data/dst.db
  ("$@") </dev/null >run.out 2>run.err &
  local pid=$!
  for _ in $(seq 1500); do
    n=$(sqlite3 -cmd '.timeout 2000' data/dst.db "select count(*) from items" 2>/dev/null || echo 0)
    [ "${n:-0}" -ge 2000 ] 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  kill -s "$sig" "$pid" 2>/dev/null || t_note "the run ended before it could be interrupted: $(head -c 300 run.err)"
  wait "$pid"; adv22s_rc=$?
  C_FILES+=("$adv22s/run.out" "$adv22s/run.err")
}
# adv22s_check NAME: what an interrupted run must leave
adv22s_check() {
  grep -aq "error: flow bulk: interrupted by $1" run.err || t_note "no 'interrupted by $1' message: $(head -c 400 run.err)"
  grep -aqE 'flow after did not run' run.err || t_note "the flow after it was not reported as not run"
  [ -e out/after.ndjson ] && t_note "the flow after the interrupted one ran"
  [ -e out/items.ndjson ] && t_note "the file import wrote out/items.ndjson"
  local left
  left=$(find out -mindepth 1 | head -5)
  [ -z "$left" ] || t_note "files left in out/: $left"
  [ "$(adv22s_delta)" = "$adv22s_t0" ] || t_note "the delta time moved: $(adv22s_delta), was $adv22s_t0"
  [ "$(./prog state show bulk --json | jq -r '.[0].last_status')" = interrupted ] || t_note "last status: $(./prog state show bulk --json | jq -r '.[0].last_status')"
  [ "$(sqlite3 .flowstate/adv-signals.state.db 'pragma integrity_check')" = ok ] || t_note "the state store is damaged"
  # whole pages only: the table holds pages 1..k (200 ids each, the 1000th ones being errors), and
  # the error store exactly the errors of those pages from this run
  local c e max
  c=$(sqlite3 data/dst.db "select count(*) from items")
  max=$(sqlite3 data/dst.db "select coalesce(max(id), 0) from items")
  local end=$(( (max + 199) / 200 * 200 ))
  [ "$c" = $(( end - end / 1000 )) ] || t_note "the table holds $c rows up to id $max: not whole pages"
  local run
  run=$(./prog state show bulk --json | jq -r '.[0].last_run_id')
  e=$(./prog errors list --json | jq --arg r "$run" '[.[] | select(.flow == "bulk" and .run_id == $r)] | length')
  [ "$e" = $(( end / 1000 )) ] || t_note "$e open errors for $c rows in whole pages up to id $end (expected $(( end / 1000 )))"
}

t_case adversarial/22-signals/sigterm-native
t_exec ./prog run bulk --json
t_expect_rc 0
adv22s_t0=$(adv22s_delta)
rm -rf out; mkdir out
adv22s_fill
adv22s_interrupt TERM ./prog run bulk after --json
[ "$adv22s_rc" = 143 ] || t_note "exit $adv22s_rc, expected 143"
adv22s_check SIGTERM
grep -q '"interrupted":"SIGTERM"' run.out || t_note "the --json summary does not say interrupted: $(head -c 300 run.out)"
t_done

t_case adversarial/22-signals/sigint-jit
adv22s_interrupt INT "$FLOWC" run flow.flow bulk after --json
[ "$adv22s_rc" = 130 ] || t_note "exit $adv22s_rc, expected 130"
adv22s_check SIGINT
t_done

t_case adversarial/22-signals/rerun-after-interrupt
rm -f data/dst.db
t_exec ./prog run bulk --json
t_expect_rc 3
t_expect_grep "$C_OUT" '^\{"flow":"bulk","exported":40000,"ignored":0,"errors":40,"imported":\{"copy":39960,"dump":39960\}\}$'
[ "$(wc -l < out/items.ndjson)" = 39960 ] || t_note "out/items.ndjson has $(wc -l < out/items.ndjson) lines"
[ "$(sqlite3 data/dst.db 'select count(*), count(distinct id) from items')" = "39960|39960" ] || t_note "the table: $(sqlite3 data/dst.db 'select count(*), count(distinct id) from items')"
[ "$(./prog state show bulk --json | jq -r '.[0].last_status')" = record_errors ] || t_note "last status after the rerun"
t_done

t_case adversarial/22-signals/file-size-limit
rm -rf out; mkdir out
# (4,000 blocks of 512 bytes: the state store fits, the 4.6 MB file the flow writes does not)
t_exec sh -c 'ulimit -f 4000 && exec ./prog run big --json'
t_expect_rc 1
t_expect_grep "$C_ERR" '[Ff]ile too large'
[ -e out/wide.ndjson ] && t_note "a partial out/wide.ndjson was written"
[ -z "$(find out -mindepth 1 | head -3)" ] || t_note "files left in out/: $(find out -mindepth 1 | head -3)"
t_done
