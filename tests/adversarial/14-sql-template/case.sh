# Item 14: SQL built from a template is refused at compile time, with the fix (placeholders, args)
# in the message; the fixed flow binds hostile names as values (native and JIT agree).

t_case adversarial/14-sql-template/check-refuses
t_exec "$FLOWC" check injectable.flow
t_expect_rc 1
t_expect_grep "$C_ERR" "^injectable\.flow:11:51: error: \`sql\` cannot hold a template: .*SQL injection.*\`args = \[record\.name\]\`"
t_done

t_case adversarial/14-sql-template/build-refuses
t_exec "$FLOWC" build injectable.flow -o injectable
t_expect_rc 1
t_expect_grep "$C_ERR" 'cannot hold a template'
[ ! -e injectable ] || t_note "an executable was built from the injectable flow"
t_done

t_case adversarial/14-sql-template/run-refuses
sqlite3 users.db <users.sql
t_exec "$FLOWC" run injectable.flow
t_expect_rc 1
[ ! -e out/found.ndjson ] || t_note "the injectable flow ran: $(cat out/found.ndjson)"
t_done

# the placeholder form: each hostile name is one value that matches no user
adv_src=$ADV_SRC
adv_copy "$ADV_WORK/src"
sqlite3 "$ADV_WORK/src/users.db" <"$ADV_WORK/src/users.sql"
ADV_SRC=$ADV_WORK/src
adv_both adversarial/14-sql-template/args-bind-values
ADV_SRC=$adv_src
t_expect_rc 0
adv_want='{"name":"x'"'"' OR '"'"'1'"'"'='"'"'1","secret":"none"}
{"name":"'"'"'; DROP TABLE users; --","secret":"none"}
{"name":"ann","secret":"ann-secret"}'
[ "$(cat "$ADV_NATIVE/out/found.ndjson" 2>/dev/null)" = "$adv_want" ] ||
  t_note "out/found.ndjson is not what the bound values find:" "$(cat "$ADV_NATIVE/out/found.ndjson" 2>&1)"
[ "$(sqlite3 "$ADV_NATIVE/users.db" 'select count(*) from users')" = 2 ] || t_note "the users table changed"
t_done
