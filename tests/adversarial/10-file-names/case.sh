# 10: a run that failed claimed every record of its file imports as imported, though they were
# never renamed into place. Now a failed run's summary counts none of a file import's records as
# imported: they are `not written`.

adv_both adversarial/10-file-names/a-failed-run-counts-nothing-unwritten late_failure --json
t_expect_rc 1
t_expect_grep "$C_OUT" '^\{"flow":"late_failure","exported":2,"ignored":0,"errors":0,"imported":\{"copy":0\},"not_written":2,"failed":"export rows: cannot read data/in/zz-dir: Is a directory","class":"connection"\}$'
t_expect_grep "$C_ERR" '^flow late_failure: failed; exported 2, ignored 0, imported copy=0, not written 2, errors 0$'
[ ! -e "$ADV_NATIVE/out/copy.ndjson" ] || t_note "out/copy.ndjson was written by a failed run"
[ -z "$(cd "$ADV_NATIVE/out" 2>/dev/null && ls -A | grep '^\.c')" ] || t_note "a temporary file was left in out/"
t_done
