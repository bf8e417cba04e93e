# 22: a valid state store on a read-only file system is reported as read-only, not as "not a flowc
# state store": `state show` and `errors list` read it; `run` says it cannot record its state there.
# The file system is a read-only bind mount in a private mount namespace (unshare -m, as root).

mkdir -p data
sqlite3 data/src.db "create table items (id integer primary key, qty, updated_at text not null);
  insert into items values (1, 5, '2024-01-01T00:00:00Z'), (2, 'x', '2024-01-01T00:00:00Z');"
adv_build
# adv22_ro CMD...: CMD with .flowstate mounted read-only; stdout, stderr, status as t_exec leaves them
adv22_ro() {
  t_exec unshare -m sh -c 'mount --bind .flowstate .flowstate && mount -o remount,ro,bind .flowstate && exec "$@"' sh "$@"
}
if ! unshare -m sh -c 'mount --bind . . && mount -o remount,ro,bind .' 2>/dev/null; then
  skip adversarial/22-readonly-state/reads-and-refuses "a read-only bind mount needs unshare -m as root"
else
  t_case adversarial/22-readonly-state/reads-and-refuses
  t_exec ./prog run --json
  t_expect_rc 3
  cp .flowstate/adv-readonly.state.db before.db
  adv22_ro ./prog state show --json
  t_expect_rc 0
  [ "$(jq -c '[.[] | [.flow, .last_status, .open_errors]]' "$C_OUT")" = '[["items","record_errors",1]]' ] || t_note "state show --json: $(head -c 300 "$C_OUT")"
  adv22_ro ./prog errors list --json
  t_expect_rc 0
  [ "$(jq -c '[.[] | [.id, .class, .record.id]]' "$C_OUT")" = '[[1,"value",2]]' ] || t_note "errors list --json: $(head -c 300 "$C_OUT")"
  adv22_ro "$FLOWC" state flow.flow show
  t_expect_rc 0
  t_expect_grep "$C_OUT" '^items: delta from '
  adv22_ro ./prog run --json
  t_expect_rc 1
  t_expect_grep "$C_ERR" 'state store \.flowstate/adv-readonly\.state\.db is on a read-only file system'
  t_expect_nogrep "$C_ERR" 'not a flowc state store'
  adv22_ro ./prog errors resolve 1
  t_expect_rc 1
  t_expect_grep "$C_ERR" 'read-only file system'
  cmp -s before.db .flowstate/adv-readonly.state.db || t_note "the state store changed"
  [ "$(sqlite3 data/dst.db 'select count(*) from items')" = 1 ] || t_note "the refused run wrote to the destination"
  t_done
fi
