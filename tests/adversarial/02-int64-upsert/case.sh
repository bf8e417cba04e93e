# Issue 10, item 2: two ids past 2^53 that one double would share stay two rows through a SQLite
# upsert (run twice: the second run updates each row in place); 2^63 - 1 and -2^63 are kept; 2^63 is
# a `value` error naming the field, not a different number.
adv_both adversarial/02-int64-upsert/upsert --json
t_expect_rc 3
t_expect_grep "$C_OUT" '"exported":5,"ignored":0,"errors":1,"imported":\{"t":4\}' "four rows imported, one error"
t_expect_grep "$C_ERR" '\[value\] record.id is out of the int range, got 9223372036854775808' "2^63 named as out of the int range"
rows=$(sqlite3 "$ADV_NATIVE/data/db.db" "select id, name from t order by id" 2>&1)
[ "$rows" = "-9223372036854775808|min
9007199254740992|a
9007199254740993|b
9223372036854775807|max" ] || t_note "table t holds:" "$rows"
(cd "$ADV_NATIVE" && ./prog run --json >/dev/null 2>&1)
rows=$(sqlite3 "$ADV_NATIVE/data/db.db" "select count(*), count(again) from t" 2>&1)
[ "$rows" = "4|4" ] || t_note "after a second run, count and updated rows: $rows (want 4|4)"
t_done
