# 22: a record that fails its type but lies outside the delta window is ignored (counted), not raised
# again as a new error on every run.

mkdir -p data
sqlite3 data/src.db "create table items (id integer primary key, qty, updated_at text not null);
  insert into items values (1, 5, '2024-01-01T00:00:00Z'), (2, 'x', '2024-01-01T00:00:00Z');"

t_case adversarial/22-invalid-outside-window/not-raised-again
adv_build
t_exec ./prog run --json
t_expect_rc 3
t_expect_grep "$C_OUT" '"errors":1'
t_exec ./prog run --json
t_expect_rc 0
t_expect_grep "$C_OUT" '^\{"flow":"items","exported":2,"ignored":2,"errors":0,'
t_exec "$FLOWC" run flow.flow --json
t_expect_rc 0
t_expect_grep "$C_OUT" '"errors":0'
t_exec ./prog errors list --all --json
[ "$(jq -c '[.[] | [.id, .status, .record.id]]' "$C_OUT")" = '[[1,"open",2]]' ] || t_note "errors: $(jq -c '[.[] | [.id, .status, .record.id]]' "$C_OUT")"
# inside the window it is an error again
sqlite3 data/src.db "update items set updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') where id = 2"
sleep 0.01
t_exec ./prog run --json
t_expect_rc 3
t_expect_grep "$C_OUT" '"errors":1'
t_done
