# 10: a file name that rendered to `.` or clashed with a directory failed the whole run at its end
# and left part of the output, while the summary claimed every record imported. Now an unusable
# per-record name is that record's `value` error; and a failed run counts none of a file import's
# records as imported (they were never renamed into place): they are `not written`.

adv_both adversarial/10-file-names/bad-names-are-record-errors names --json
t_expect_rc 3
t_expect_grep "$C_OUT" '^\{"flow":"names","exported":11,"ignored":0,"errors":6,"imported":\{"by_name":5\}\}$'
t_expect_grep "$C_ERR" '\[value\] file "\." names the connection.s dir itself, not a file; record: \{"id":2,'
t_expect_grep "$C_ERR" '\[value\] cannot write out/sub: it is a directory; record: \{"id":3,'
t_expect_grep "$C_ERR" '\[value\] file "x/" ends with `/`: it names a directory, not a file; record: \{"id":6,'
t_expect_grep "$C_ERR" '\[value\] file "\.\./escape\.ndjson" has a `\.\.` part: it may not leave the connection.s dir; record: \{"id":7,'
t_expect_grep "$C_ERR" '\[value\] file "/tmp/abs\.ndjson" is an absolute path: it must be relative to the connection.s dir; record: \{"id":8,'
t_expect_grep "$C_ERR" '\[value\] file "sub/\." ends with `/`: it names a directory, not a file; record: \{"id":11,'
adv_files=$(cd "$ADV_NATIVE/out" && find . -type f ! -name .keep | sort | paste -sd ' ' -)
[ "$adv_files" = "./a.ndjson ./b.ndjson ./c.ndjson ./d/e.ndjson" ] || t_note "files written: $adv_files"
[ "$(paste -sd ' ' "$ADV_NATIVE/out/a.ndjson")" = '{"id":1} {"id":10}' ] || t_note "out/a.ndjson: $(cat "$ADV_NATIVE/out/a.ndjson")"
[ ! -e "$ADV_WORK/escape.ndjson" ] && [ ! -e /tmp/abs.ndjson ] || t_note "a file was written outside the connection's dir"
t_done

adv_both adversarial/10-file-names/a-failed-run-counts-nothing-unwritten late_failure --json
t_expect_rc 1
t_expect_grep "$C_OUT" '^\{"flow":"late_failure","exported":2,"ignored":0,"errors":0,"imported":\{"copy":0\},"not_written":2,"failed":"export rows: cannot read data/in/zz-dir: Is a directory","class":"connection"\}$'
t_expect_grep "$C_ERR" '^flow late_failure: failed; exported 2, ignored 0, imported copy=0, not written 2, errors 0$'
[ ! -e "$ADV_NATIVE/out/copy.ndjson" ] || t_note "out/copy.ndjson was written by a failed run"
[ -z "$(cd "$ADV_NATIVE/out" && ls -A | grep '^\.c')" ] || t_note "a temporary file was left in out/"
t_done
