# Issue 10, item 6: numbers that are not finite, NUL bytes (raw or \u0000) and invalid UTF-8 are record
# errors naming the line or field, in NDJSON, SQLite and HTTP bodies, never null, a cut string or
# bytes written through; the good records around them are imported; previews stay valid JSON.
adv_server
ADV_NORM='s/"date":"[^"]*"/"date":"-"/g; s/"ms":[0-9]*/"ms":0/g'
adv_both adversarial/06-bad-values/records --json --param "base=$ADV_BASE" from_ndjson from_sqlite from_csv lookups
t_expect_rc 3
t_expect_grep "$C_OUT" '"flow":"from_ndjson","exported":6,"ignored":0,"errors":4,"imported":\{"o":2\}' "from_ndjson: 2 imported, 4 errors"
t_expect_grep "$C_OUT" '"flow":"from_sqlite","exported":5,"ignored":0,"errors":3,"imported":\{"o":2\}' "from_sqlite: 2 imported, 3 errors"
t_expect_grep "$C_OUT" '"flow":"from_csv","exported":4,"ignored":0,"errors":2,"imported":\{"o":2\}' "from_csv: 2 imported, 2 errors"
t_expect_grep "$C_ERR" 'step rows \[value\] line 3 of data/in.csv: column `name` holds a NUL byte' "a NUL in a CSV cell"
t_expect_grep "$C_ERR" 'step rows \[value\] record.name is not valid UTF-8 text \(byte 0xFF at offset 1\): "c\\xFFd"' "invalid UTF-8 in a CSV cell"
t_expect_grep "$C_OUT" '"flow":"lookups","exported":5,"ignored":0,"errors":4,"imported":\{"o":1\}' "lookups: 1 imported, 4 errors"
t_expect_grep "$C_ERR" '\[parse\] line 2 of data/in.ndjson: malformed JSON at column 17: number out of range: 1e400' "1e400 in NDJSON"
t_expect_grep "$C_ERR" '\[parse\] line 3 of data/in.ndjson: malformed JSON at column 18: \\u0000 in a string' "\\u0000 in NDJSON"
t_expect_grep "$C_ERR" '\[parse\] line 4 of data/in.ndjson: malformed JSON at column 18: control character U\+0000' "a raw NUL in NDJSON"
t_expect_grep "$C_ERR" '\[parse\] line 5 of data/in.ndjson: malformed JSON at column 18: invalid UTF-8 \(byte 0xFF\)' "invalid UTF-8 in NDJSON"
t_expect_grep "$C_ERR" 'step rows \[value\] record.total is Infinity, which is not a finite number' "an infinite REAL in SQLite"
t_expect_grep "$C_ERR" 'step rows \[value\] column name holds a NUL byte \(at byte 1 of 3\)' "a TEXT with a NUL in SQLite"
t_expect_grep "$C_ERR" 'step rows \[value\] record.name is not valid UTF-8 text \(byte 0xFF at offset 1\)' "invalid UTF-8 in SQLite"
t_expect_grep "$C_ERR" 'step info \[parse\] .* column 11: \\u0000 in a string' "\\u0000 in a lookup's body"
t_expect_grep "$C_ERR" 'step info \[parse\] .* column 11: control character U\+0000' "a raw NUL in a lookup's body"
t_expect_grep "$C_ERR" 'step info \[parse\] .* column 11: invalid UTF-8' "invalid UTF-8 in a lookup's body"
t_expect_grep "$C_ERR" 'step info \[parse\] .* column 9: number out of range: 1e400' "1e400 in a lookup's body"
o=$ADV_NATIVE/out
[ "$(cat "$o/ndjson.ndjson")" = '{"id":1,"total":1.5,"name":"ok"}
{"id":6,"total":null,"name":"café é"}' ] || t_note "out/ndjson.ndjson:" "$(cat "$o/ndjson.ndjson")"
[ "$(cat "$o/sqlite.ndjson")" = '{"id":1,"total":1.5,"name":"ok"}
{"id":5,"total":4,"name":"fine é"}' ] || t_note "out/sqlite.ndjson:" "$(cat "$o/sqlite.ndjson")"
[ "$(cat "$o/csv.ndjson")" = '{"id":1,"name":"ok"}
{"id":4,"name":"fine"}' ] || t_note "out/csv.ndjson:" "$(cat "$o/csv.ndjson")"
[ "$(cat "$o/lookups.ndjson")" = '{"id":1,"tier":"gold"}' ] || t_note "out/lookups.ndjson:" "$(cat "$o/lookups.ndjson")"
for f in "$C_OUT" "$C_ERR" "$o"/*; do
  iconv -f UTF-8 -t UTF-8 "$f" >/dev/null 2>&1 || t_note "$(basename "$f") is not valid UTF-8"
done
t_done

# an HTTP export body that is not valid JSON (invalid UTF-8 inside a record) fails the run and says where
adv_both adversarial/06-bad-values/http-body --json --param "base=$ADV_BASE" \
  --param "hex=5b7b226964223a312c226e616d65223a2261ff62227d5d" from_http
t_expect_rc 1
t_expect_grep "$C_OUT" '"failed":"export rows: GET .* answered with a body that is not JSON \(.*line 1, column 19: invalid UTF-8 \(byte 0xFF\) in a string\)' "the run fails and says where"
[ -e "$ADV_NATIVE/out/http.ndjson" ] && t_note "a failed run wrote out/http.ndjson"
t_done

# previews of the bad records are valid JSON (jq reads them; every byte is UTF-8)
for f in from_ndjson from_sqlite from_csv lookups; do
  t_case "adversarial/06-bad-values/preview-$f"
  t_exec -C "$ADV_NATIVE" "$FLOWC" preview flow.flow --flow "$f" --format json --param "base=$ADV_BASE"
  jq -e . "$C_OUT" >/dev/null 2>&1 || t_note "preview --format json is not JSON (jq)"
  iconv -f UTF-8 -t UTF-8 "$C_OUT" >/dev/null 2>&1 || t_note "preview --format json is not valid UTF-8"
  t_expect_grep "$C_OUT" '"class":[[:space:]]*"(parse|value)"' "the preview shows the record errors"
  t_done
done
ADV_NORM=

# a CSV cell that is a number too large for a double is "not a finite number", as in every source
# (it said "must be a number, got a string"); one past the int range in an int field is out of range
adv_both adversarial/06-bad-values/csv-not-finite --json csv_numbers
t_expect_rc 3
t_expect_grep "$C_OUT" '"flow":"csv_numbers","exported":5,"ignored":0,"errors":4,"imported":\{"o":1\}' "1 imported, 4 errors"
t_expect_grep "$C_ERR" 'step rows \[value\] record.total is 1e400, which is not a finite number' "1e400 in a number cell"
t_expect_grep "$C_ERR" 'step rows \[value\] record.total is -1e309, which is not a finite number' "-1e309 in a number cell"
t_expect_grep "$C_ERR" 'step rows \[value\] record.n is 1e400, which is not a finite number' "1e400 in an int cell"
t_expect_grep "$C_ERR" 'step rows \[value\] record.n is out of the int range, got 99999999999999999999' "past int64 in an int cell"
t_expect_nogrep "$C_ERR" 'got a string' "a number cell is never called a string"
[ "$(cat "$ADV_NATIVE/out/nums.ndjson")" = '{"id":1,"total":1.5,"n":7}' ] || t_note "out/nums.ndjson:" "$(cat "$ADV_NATIVE/out/nums.ndjson")"
t_done
