# 22: `state show` says "delta from" only for delta flows (an all() flow has no delta window; a once()
# flow shows its flags, a limit() flow keeps no time); `--now` is in both --help texts.

mkdir -p data
sqlite3 data/src.db "create table items (id integer primary key, updated_at text not null, done integer not null default 0);
  insert into items (id, updated_at) values (1, '2024-01-01T00:00:00Z'), (2, '2024-01-02T00:00:00Z');"
adv_build

t_case adversarial/22-state-show-and-help/state-show-by-mode
t_exec ./prog run --json
t_expect_rc 0
t_exec ./prog state show
t_expect_rc 0
t_expect_grep "$C_OUT" '^changes: delta from 20[0-9-]+T[0-9:.]+Z \(updated_at written as YYYY-MM-DDTHH:MM:SSZ\); last run [0-9]{8}T[0-9]{6}Z-[0-9a-f]{8} \(ok\); 0 open errors$'
t_expect_grep "$C_OUT" '^plain: last run [0-9]{8}T[0-9]{6}Z-[0-9a-f]{8} \(ok\); 0 open errors$'
t_expect_grep "$C_OUT" '^marked: once\(\) flags set: 2; last run [0-9]{8}T[0-9]{6}Z-[0-9a-f]{8} \(ok\); 0 open errors$'
t_expect_grep "$C_OUT" '^sample: last run [0-9]{8}T[0-9]{6}Z-[0-9a-f]{8} \(ok\); 0 open errors$'
t_expect_nogrep "$C_OUT" '^(plain|marked|sample):.*delta' "a flow that is not a delta flow shows a delta time"
t_exec ./prog state show --json
t_expect_rc 0
[ "$(jq -c '[.[] | [.flow, .mode, (.delta_since != null)]]' "$C_OUT")" = '[["changes","delta",true],["marked","once",true],["plain","all",true],["sample","limit",false]]' ] ||
  t_note "state show --json: $(jq -c '[.[] | [.flow, .mode, (.delta_since != null)]]' "$C_OUT")"
t_exec "$FLOWC" state flow.flow show
t_expect_rc 0
t_expect_grep "$C_OUT" '^plain: last run '
t_done

t_case adversarial/22-state-show-and-help/now-in-help
t_exec ./prog --help
t_expect_rc 0
t_expect_grep "$C_OUT" 'run .*\[--now T\]'
t_exec "$FLOWC" --help
t_expect_rc 0
t_expect_grep "$C_OUT" '\[--now T\]'
t_expect_grep "$C_OUT" '\[--since T\]'
t_done
