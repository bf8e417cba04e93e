# 21: the error workflow. `errors list --step`; `errors resolve --all` narrowed by --flow/--class/
# --step; an unknown --flow/--class/--step value is a usage error (exit 2), not "0 open errors";
# `errors edit ID` (through $EDITOR: the JSON is checked, the old record kept in the store's history)
# and `errors retry ID --data FILE` fix a kept record before it runs again.

adv21_db() {
  rm -rf data .flowstate; mkdir -p data
  sqlite3 data/src.db "create table items (id integer primary key, name text, qty integer);
    insert into items values (1, 'a', 5), (2, 'b', -1), (3, 'c', 2), (4, 'd', -3), (5, 'e', 0);"
  sqlite3 data/dst.db "create table items (id integer primary key, name text, qty integer check (qty >= 0));
    create table audit (id integer primary key, name text check (name <> 'e'));
    create table tags (id integer primary key, name text); insert into tags values (3, 'taken');"
}
adv21_db
adv_build
# adv21_ids FILTER...: the ids `errors list --json FILTER...` prints, as [a,b]
adv21_ids() { (./prog errors list --json "$@" 2>/dev/null) | jq -c '[.[].id]'; }

t_case adversarial/21-errors-workflow/list-by-step-and-unknown-filters
t_exec ./prog run --json
t_expect_rc 3
[ "$(adv21_ids)" = '[1,2,3,4]' ] || t_note "open errors: $(adv21_ids)"
t_exec ./prog errors list --json --step audit
t_expect_rc 0
[ "$(jq -c '[.[] | [.id, .step, .record.id]]' "$C_OUT")" = '[[3,"audit",5]]' ] || t_note "--step audit: $(head -c 300 "$C_OUT")"
t_exec ./prog errors list --step copy
t_expect_rc 0
t_expect_grep "$C_ERR" '^2 open errors$'
t_exec "$FLOWC" errors flow.flow list --json --flow items --step copy
t_expect_rc 0
[ "$(jq -c '[.[].id]' "$C_OUT")" = '[1,2]' ] || t_note "flowc errors --flow items --step copy: $(head -c 300 "$C_OUT")"
t_exec ./prog errors list --class nosuch
t_expect_rc 2
t_expect_grep "$C_ERR" 'unknown class `nosuch` \(classes: parse, value, missing, duplicate, connection, intermittent, rate_limit, too_large\)'
t_exec ./prog errors list --flow nosuch
t_expect_rc 2
t_expect_grep "$C_ERR" 'unknown flow `nosuch` \(flows: items, tags\)'
t_exec ./prog errors list --step nosuch
t_expect_rc 2
t_expect_grep "$C_ERR" 'unknown step `nosuch` \(steps: rows, copy, audit, tag\)'
t_exec ./prog errors list --flow tags --step copy
t_expect_rc 2
t_expect_grep "$C_ERR" 'unknown step `copy` in flow tags \(steps: rows, tag\)'
t_exec ./prog errors retry --all --class nosuch
t_expect_rc 2
t_exec ./prog errors resolve --all --flow nosuch
t_expect_rc 2
[ "$(adv21_ids)" = '[1,2,3,4]' ] || t_note "open errors after the refused commands: $(adv21_ids)"
t_done

t_case adversarial/21-errors-workflow/resolve-all-with-filters
t_exec ./prog errors resolve --all --flow tags
t_expect_rc 0
t_expect_grep "$C_ERR" '^resolved 4$'
[ "$(adv21_ids)" = '[1,2,3]' ] || t_note "open errors after resolve --all --flow tags: $(adv21_ids)"
t_exec ./prog errors resolve --all --step audit
t_expect_rc 0
[ "$(adv21_ids)" = '[1,2]' ] || t_note "open errors after resolve --all --step audit: $(adv21_ids)"
t_exec ./prog errors resolve --all --class duplicate
t_expect_rc 0
t_expect_grep "$C_ERR" '^no open errors to resolve$'
t_exec ./prog errors resolve 1 --flow items
t_expect_rc 2
t_exec ./prog errors resolve --all
t_expect_rc 0
t_expect_grep "$C_ERR" '^resolved 1$'
t_expect_grep "$C_ERR" '^resolved 2$'
[ "$(adv21_ids)" = '[]' ] || t_note "open errors after resolve --all: $(adv21_ids)"
t_exec ./prog errors list --all --json
[ "$(jq -c '[.[] | [.id, .status, .resolved_by]]' "$C_OUT")" = '[[1,"resolved","errors resolve"],[2,"resolved","errors resolve"],[3,"resolved","errors resolve"],[4,"resolved","errors resolve"]]' ] ||
  t_note "every error: $(jq -c '[.[] | [.id, .status, .resolved_by]]' "$C_OUT")"
t_done

t_case adversarial/21-errors-workflow/edit-then-retry
adv21_db
t_exec ./prog run --json
t_expect_rc 3
# an editor that makes record 2's qty valid
t_exec env TMPDIR="$PWD" EDITOR='sed -i s/-1/1/' ./prog errors edit 1
t_expect_rc 0
t_exec ./prog errors list --json
[ "$(jq -c '.[0] | [.id, .record, .history[0].record, .history[0].by]' "$C_OUT")" = '[1,{"id":2,"name":"b","qty":1},{"id":2,"name":"b","qty":-1},"errors edit"]' ] ||
  t_note "error 1 after the edit: $(jq -c '.[0]' "$C_OUT" | head -c 400)"
t_exec ./prog errors retry 1 --json
t_expect_rc 0
t_expect_grep "$C_OUT" '"imported":\{"copy":1,"audit":1\}'
[ "$(sqlite3 data/dst.db 'select qty from items where id = 2')" = 1 ] || t_note "row 2 was not written with qty 1"
# an edit that is not JSON changes nothing and keeps the text
printf '#!/bin/sh\nprintf "{oops" > "$1"\n' > bad-editor; chmod +x bad-editor
t_exec env TMPDIR="$PWD" EDITOR="$PWD/bad-editor" ./prog errors edit 2
t_expect_rc 1
t_expect_grep "$C_ERR" 'not valid JSON'
t_expect_grep "$C_ERR" 'error 2 keeps its record; the edit is in '
adv21_kept=$(grep -oE 'the edit is in [^ ]+' "$C_ERR" | sed 's/^the edit is in //')
[ -f "$adv21_kept" ] && [ "$(cat "$adv21_kept")" = '{oops' ] || t_note "the edit was not kept in $adv21_kept"
rm -f "$adv21_kept"
t_exec ./prog errors list --json
[ "$(jq -c '[.[] | select(.id == 2) | [.record, (.history | length)]]' "$C_OUT")" = '[[{"id":4,"name":"d","qty":-3},0]]' ] ||
  t_note "error 2 after the refused edit: $(jq -c '.[] | select(.id == 2)' "$C_OUT" | head -c 300)"
# a record that is not an object is refused as well
t_exec env TMPDIR="$PWD" EDITOR='sh -c "echo [1] > \$0"' ./prog errors edit 2
t_expect_rc 1
t_expect_grep "$C_ERR" 'must be a JSON object'
t_exec ./prog errors edit 99
t_expect_rc 1
t_expect_grep "$C_ERR" 'no open error 99'
t_done

t_case adversarial/21-errors-workflow/retry-with-data
printf '{"id":4,"name":"d","qty":3}\n' > fixed.json
t_exec ./prog errors retry 2 --data fixed.json --json
t_expect_rc 0
t_expect_grep "$C_OUT" '"imported":\{"copy":1,"audit":1\}'
[ "$(sqlite3 data/dst.db 'select qty from items where id = 4')" = 3 ] || t_note "row 4 was not written with qty 3"
t_exec ./prog errors list --all --json
[ "$(jq -c '[.[] | select(.id == 2) | [.status, .record.qty, .history[0].record.qty, .history[0].by]]' "$C_OUT")" = '[["resolved",3,-3,"errors retry --data"]]' ] ||
  t_note "error 2 after retry --data: $(jq -c '.[] | select(.id == 2)' "$C_OUT" | head -c 300)"
printf '[1,2' > broken.json
t_exec ./prog errors retry 3 --data broken.json
t_expect_rc 1
t_expect_grep "$C_ERR" 'broken.json.*not valid JSON'
t_exec ./prog errors retry 3 4 --data fixed.json
t_expect_rc 2
t_done
