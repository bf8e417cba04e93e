# Issue 10, item 2: 2^63 - 1, -2^63 and 5000000000000001 keep their digits from every source to every
# destination; 2^63 (NDJSON, CSV) is a `value` error naming the field.
adv_server
body='[{"id":1,"n":9223372036854775807},{"id":2,"n":-9223372036854775808},{"id":3,"n":5000000000000001}]'
adv_both adversarial/02-int64-roundtrip/all --json --param "base=$ADV_BASE" --param "hex=$(adv_hex "$body")"
t_expect_rc 3
t_expect_grep "$C_OUT" '"flow":"from_ndjson","exported":4,"ignored":0,"errors":1,"imported":\{"nd":3,"js":3,"cs":3,"t":3,"h":3\}' "from_ndjson: 3 rows to every destination"
for f in json csv sqlite http; do
  t_expect_grep "$C_OUT" "\"flow\":\"from_$f\",\"exported\":[34],\"ignored\":0,\"errors\":[01],\"imported\":\{\"o\":3\}" "from_$f: 3 rows"
done
[ "$(grep -c "step rows \[value\] record.n is out of the int range, got 9223372036854775808" "$C_ERR")" = 3 ] || t_note "2^63 is not one error each from the NDJSON and CSV exports"
for f in json csv sqlite http; do
  for row in '"id":1,"n":9223372036854775807' '"id":2,"n":-9223372036854775808' '"id":3,"n":5000000000000001'; do
    t_expect_grep "$C_OUT" "^\{\"src\":\"$f\",$row\}$" "from_$f: no line with $row"
  done
done
o=$ADV_NATIVE/out
[ "$(cat "$o/out.ndjson")" = '{"id":1,"n":9223372036854775807,"t":"9223372036854775807","s":"n=9223372036854775807"}
{"id":2,"n":-9223372036854775808,"t":"-9223372036854775808","s":"n=-9223372036854775808"}
{"id":3,"n":5000000000000001,"t":"5000000000000001","s":"n=5000000000000001"}' ] || t_note "out/out.ndjson:" "$(cat "$o/out.ndjson")"
[ "$(jq -c . "$o/out.json" 2>&1)" = '[{"id":1,"n":9223372036854775807},{"id":2,"n":-9223372036854775808},{"id":3,"n":5000000000000001}]' ] ||
  grep -q '"n":9223372036854775807' "$o/out.json" || t_note "out/out.json:" "$(cat "$o/out.json")"
grep -q '^2,-9223372036854775808' "$o/out.csv" && grep -q '^1,9223372036854775807' "$o/out.csv" && grep -q '^3,5000000000000001' "$o/out.csv" ||
  t_note "out/out.csv:" "$(cat "$o/out.csv")"
rows=$(sqlite3 "$ADV_NATIVE/data/db.db" "select id, n, typeof(n) from t order by id" 2>&1)
[ "$rows" = "1|9223372036854775807|integer
2|-9223372036854775808|integer
3|5000000000000001|integer" ] || t_note "table t holds:" "$rows"
kept=$(curl -s "$ADV_BASE/keep")
for row in 'tag=9223372036854775807 {"id":1,"n":9223372036854775807}' 'tag=-9223372036854775808 {"id":2,"n":-9223372036854775808}' 'tag=5000000000000001 {"id":3,"n":5000000000000001}'; do
  [ "$(grep -cxF "$row" <<<"$kept")" = 2 ] || t_note "the server did not get \`$row\` from each run:" "$kept"
done
t_expect_grep "$C_OUT" '"flow":"overflow","exported":4,"ignored":0,"errors":3,"imported":\{"o":1\}' "overflow: 1 imported, 3 errors"
t_expect_grep "$C_ERR" 'flow overflow step o \[value\] up: integer overflow in 9223372036854775807 \+ 1;' "2^63 - 1 + 1 names the entry"
t_expect_grep "$C_ERR" 'flow overflow step o \[value\] big: to_int: 1e\+19 is out of the int range;' "to_int of 1e19 names the entry"
t_expect_grep "$C_OUT" '^\{"src":"overflow","id":2,"up":-9223372036854775807,"big":0\}$' "-2^63 + 1 and to_int(0)"
t_done
