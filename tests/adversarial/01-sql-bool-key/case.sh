# Issue 10, item 1: SQL 0/1 into declared bool fields keeps the field's name (required and nullable).
adv_both adversarial/01-sql-bool-key/mapped --json
t_expect_rc 0
t_expect_grep "$C_OUT" '"exported":3,"ignored":0,"errors":0,"imported":\{"copy":3\}' "all three rows imported"
out=$ADV_NATIVE/out/customers.ndjson
[ "$(cat "$out" 2>/dev/null)" = '{"id":1,"vip":true,"opted":true}
{"id":2,"vip":false,"opted":false}
{"id":3,"vip":true,"opted":null}' ] || t_note "out/customers.ndjson is not the three rows with vip and opted:" "$(cat "$out" 2>/dev/null)"
t_done
