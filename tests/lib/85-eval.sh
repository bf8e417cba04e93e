#!/usr/bin/env bash
# Suite `eval`: `flowc eval EXPR` — an expression against JSON data, compiled by the flow's own
# emitter and run by the JIT; exit 0 with the value as JSON (as a flow writes it), 1 for a bad
# expression, data or value. Without --data, an empty standard input (or a terminal) is no record.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" eval

ev_dir=$T_TMP/eval
mkdir -p "$ev_dir"
cat > "$ev_dir/data.json" <<'JSON'
{"id": 7, "email": " Anna@Example.COM ", "total": 1234.5, "note": null, "tags": ["a", "b"],
 "items": [{"sku": "A-1", "qty": 2, "price": 1.5}, {"sku": "B-2", "qty": 0, "price": 9}],
 "customer": {"first": "Anna", "last": "Berg", "vip": true}, "created_at": "2026-11-01T09:30:00Z"}
JSON
printf '{"broken": ' > "$ev_dir/bad.json"

# ev_ok NAME EXPR EXPECTED-STDOUT
ev_ok() {
  t_case "eval/$1"
  t_exec "$FLOWC" eval --data "$ev_dir/data.json" "$2"
  t_expect_rc 0
  [ "$(cat "$C_OUT")" = "$3" ] || t_note "printed $(cat "$C_OUT"), expected $3"
  t_done
}
# ev_err NAME EXPR STDERR-ERE [DATA]
ev_err() {
  t_case "eval/$1"
  t_exec "$FLOWC" eval --data "${4:-$ev_dir/data.json}" "$2"
  t_expect_rc 1
  t_expect_grep "$C_ERR" "$3"
  t_done
}

ev_ok lower-trim 'lower(trim(record.email))' '"anna@example.com"'
ev_ok concat 'record.customer.first + " " + record.customer.last' '"Anna Berg"'
ev_ok arithmetic 'floor(record.total * 100)' '123450'
# numbers print exactly: whole numbers with every digit (cJSON's own printer rounds 2^53-1), others
# in the shortest form that reads back the same
ev_ok big-int '[9007199254740991, 4503599627370497, 10000000000000000, -3]' '[9007199254740991,4503599627370497,10000000000000000,-3]'
ev_ok fractions '[0.1, 1 / 3, 1.5e300, 2.5]' '[0.1,0.3333333333333333,1.5e+300,2.5]'
ev_ok int-division 'record.id / 2' '3.5'
ev_ok nested-if 'if record.total > 1000 then "gold" else if record.customer.vip then "silver" else "bronze"' '"gold"'
ev_ok coalesce 'record.note ?? "none"' '"none"'
ev_ok each-where '(each i in record.items where i.qty > 0 => i.sku)' '["A-1"]'
ev_ok each-object '(each i in record.items { sku = i.sku, amount = i.qty * i.price })' '[{"sku":"A-1","amount":3},{"sku":"B-2","amount":0}]'
ev_ok template '"order-{{record.id}}: {{#each record.tags}}[{{this}}]{{/each}}"' '"order-7: [a][b]"'
ev_ok dates 'format_date(add(parse_date("2024-03-05"), 1d), "YYYY/MM/DD")' '"2024/03/06"'
ev_ok in-array '"b" in record.tags' 'true'
ev_ok object '{ a = 1, b = [1, 2] }' '{"a":1,"b":[1,2]}'
ev_ok len-utf8 'len("héllo")' '5'
ev_err syntax '1 +' '<expression>:1:3: error: unexpected end of file, expected a value'
ev_err unknown-function 'lowr(record.email)' "unknown function .lowr.; did you mean .lower."
ev_err bad-data 'record.id' 'invalid JSON data' "$ev_dir/bad.json"
ev_err runtime-value 'to_number("abc")' 'value error'
ev_err missing-file 'record.id' 'cannot read' "$ev_dir/nope.json"
ev_ok money '1500 + 47.92' '1547.92'
ev_ok money-field 'record.total + 313.42' '1547.92'
ev_ok unicode-upper 'upper(record.customer.first) + upper(" müller straße")' '"ANNA MÜLLER STRASSE"'
ev_ok regex-code-points 'regex_match("é", "^.$") and regex_match("7", "^\\d$")' 'true'
ev_ok to-json 'to_json(record.customer)' '"{\"first\":\"Anna\",\"last\":\"Berg\",\"vip\":true}"'
ev_ok template-helpers '"{{padLeft (toString record.id) 3 \"0\"}} {{dateFormat \"DD.MM.YYYY\" record.created_at}} {{substring record.customer.last 0 2}}"' '"007 01.11.2026 Be"'

# no data: the record is null, whatever standard input is
t_case eval/no-data-dev-null
t_exec "$FLOWC" eval '1+1'
t_expect_rc 0
[ "$(cat "$C_OUT")" = 2 ] || t_note "printed $(cat "$C_OUT"), expected 2"
t_done
t_case eval/no-data-empty-pipe
t_exec bash -c 'printf "" | "$0" eval "[1 + 1, record]"' "$FLOWC"
t_expect_rc 0
[ "$(cat "$C_OUT")" = '[2,null]' ] || t_note "printed $(cat "$C_OUT"), expected [2,null]"
t_done
t_case eval/data-on-stdin
t_exec bash -c 'printf "{\"a\": 2}" | "$0" eval "record.a * 21"' "$FLOWC"
t_expect_rc 0
[ "$(cat "$C_OUT")" = 42 ] || t_note "printed $(cat "$C_OUT"), expected 42"
t_done
t_case eval/template-no-data
t_exec "$FLOWC" eval --template 'x{{missing}}y'
t_expect_rc 0
[ "$(cat "$C_OUT")" = xy ] || t_note "printed $(cat "$C_OUT"), expected xy"
t_done
ev_err data-dash-needs-json 'record' 'invalid JSON data' /dev/null
ev_err caret-in-template '"{{lowercse record.email}}"' '<expression>:1:4: error: unknown template helper .lowercse.; did you mean .lowercase.'
# trim takes Unicode whitespace (White_Space: no-break, ideographic, em spaces, ...) off both ends,
# the same in an expression, the template helper and the conversions of text (one flow_str_trim)
ev_ok trim-unicode 'trim("\u00a0 a\u00a0b\u3000") + "|" + to_string(to_int("\u2003 42\u00a0")) + "|" + to_string(to_number(" 2.5\u202f"))' $'"a\xC2\xA0b|42|2.5"'
ev_ok trim-unicode-template '"[{{trim \"\u00a0 a\u00a0b\u3000\"}}]"' $'"[a\xC2\xA0b]"'
