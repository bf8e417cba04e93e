# 05: delta windows. An inverted window (--since later than --until, or than the run's start, or an
# --until before the saved delta time) is refused with exit 2 and moves nothing; `run --now T` (a
# testing aid) moves no saved state, so a real run after `--now 2027-...` still exports what changed;
# a saved delta time later than the run's start (a store written by an older flowc's --now) fails the
# run with a message instead of exporting nothing.

adv05=$PWD
mkdir -p data
sqlite3 data/src.db "create table items (id integer primary key, name text, updated_at text not null);
  insert into items values (1, 'a', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 hour')), (2, 'b', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 hour'));"
adv_build "$adv05"
# adv05_delta: the saved delta time of items (state show --json)
adv05_delta() { (cd "$adv05" && ./prog state show --json 2>/dev/null) | jq -r '.[0].delta_since'; }

t_case adversarial/05-delta-windows/first-run
t_exec ./prog run --json
t_expect_rc 0
t_expect_grep "$C_OUT" '"imported":\{"copy":2\}'
adv05_t1=$(adv05_delta)
[ "$adv05_t1" != null ] || t_note "no delta time saved"
t_done

t_case adversarial/05-delta-windows/since-after-until-refused
t_exec ./prog run --json --since 2024-01-02T00:00:00Z --until 2024-01-01T00:00:00Z
t_expect_rc 2
t_expect_grep "$C_ERR" '--since 2024-01-02T00:00:00Z is later than --until 2024-01-01T00:00:00Z'
t_exec ./prog run --json --since 2999-01-01T00:00:00Z
t_expect_rc 2
t_expect_grep "$C_ERR" '--since 2999-01-01T00:00:00Z is later than the run.s start'
t_exec "$FLOWC" run flow.flow --json --since 2024-01-02T00:00:00Z --until 2024-01-01T00:00:00Z
t_expect_rc 2
# an --until before the saved delta time: the window (saved, until] is inverted too
t_exec ./prog run --json --until 2024-01-01T00:00:00Z
t_expect_rc 2
t_expect_grep "$C_ERR" 'flow items: the delta window is empty: its start .* is later than --until 2024-01-01T00:00:00.000Z'
[ "$(adv05_delta)" = "$adv05_t1" ] || t_note "the delta time moved: $(adv05_delta), was $adv05_t1"
t_done

t_case adversarial/05-delta-windows/now-moves-no-state
t_exec ./prog run --json --now 2027-01-01T00:00:00Z
t_expect_rc 0
[ "$(adv05_delta)" = "$adv05_t1" ] || t_note "run --now 2027 moved the delta time to $(adv05_delta) (was $adv05_t1)"
t_exec "$FLOWC" run flow.flow --json --now 2027-01-01T00:00:00Z
t_expect_rc 0
[ "$(adv05_delta)" = "$adv05_t1" ] || t_note "flowc run --now 2027 moved the delta time to $(adv05_delta) (was $adv05_t1)"
# a change after that: the next real run exports it
sleep 0.01
sqlite3 data/src.db "update items set name = 'b2', updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') where id = 2"
sleep 0.01
t_exec ./prog run --json
t_expect_rc 0
t_expect_grep "$C_OUT" '"imported":\{"copy":1\}' "the real run after --now 2027 did not export the changed row"
[ "$(sqlite3 data/dst.db "select name from items where id = 2")" = b2 ] || t_note "row 2 is not b2 in the destination"
t_done

# A store whose delta time lies in the future (FLOW_TEST_CLOCK=1 lets --now save its time, as the
# state suite's fixed-time runs need; an older flowc saved it always): the run fails and says why.
t_case adversarial/05-delta-windows/saved-time-in-the-future
t_exec env FLOW_TEST_CLOCK=1 ./prog run --json --now 2999-01-01T00:00:00Z
t_expect_rc 0
[ "$(adv05_delta)" = "2999-01-01T00:00:00.000Z" ] || t_note "FLOW_TEST_CLOCK=1 --now did not save its time: $(adv05_delta)"
t_exec ./prog run --json
t_expect_rc 1
t_expect_grep "$C_ERR" 'flow items: the saved delta time 2999-01-01T00:00:00.000Z is later than this run.s start'
t_expect_grep "$C_ERR" 'state reset items'
[ "$(adv05_delta)" = "2999-01-01T00:00:00.000Z" ] || t_note "the failed run moved the delta time"
t_exec ./prog state reset items
t_expect_rc 0
t_exec ./prog run --json
t_expect_rc 0
t_expect_grep "$C_OUT" '"imported":\{"copy":2\}'
t_done
