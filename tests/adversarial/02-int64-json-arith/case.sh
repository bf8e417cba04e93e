# Issue 10, item 2: arithmetic on a json record's whole numbers is int arithmetic, exact past 2^53
# and to the ends of the int64 range, with overflow a `value` error naming the entry.
adv_both adversarial/02-int64-json-arith/arith --json
t_expect_rc 3
t_expect_grep "$C_OUT" '"flow":"arith","exported":7,"ignored":0,"errors":2,"imported":\{"o":5\}' "5 imported, 2 errors"
t_expect_grep "$C_ERR" 'step o \[value\] prod: integer overflow in 4611686018427387904 \* 2' "2^62 * 2 overflows"
t_expect_grep "$C_ERR" 'step o \[value\] neg: integer overflow in -\(-9223372036854775808\)' "-(-2^63) overflows"
want='{"id":1,"lo":-9223372036854775808,"sum":9007199254740993,"diff":9007199254740991,"prod":9007199254740992}
{"id":2,"lo":-9223372036854775808,"sum":9007199254740993,"diff":9007199254740989,"prod":18014398509481982}
{"id":3,"lo":-9223372036854775808,"sum":-9223372036854775807,"prod":-9223372036854775808}
{"id":4,"lo":-9223372036854775808,"sum":6074000998,"diff":0,"prod":9223372030926249001}
{"id":7,"lo":-9223372036854775808,"sum":3.5,"diff":-0.5,"prod":3}'
[ "$(cat "$ADV_NATIVE/out/out.ndjson")" = "$want" ] || t_note "out/out.ndjson:" "$(diff <(echo "$want") "$ADV_NATIVE/out/out.ndjson")"
t_done
