# 03: a file import overwrote its target on every run (undocumented), and `errors retry` replaced a
# run's output with the retried records only (tests/lib/92-state.sh covers the retry). Now
# `write = append` is the default and atomic: the target holds what it held before, or that and all
# of the run's records; a JSON array gains elements, a CSV file keeps its header (a different header
# is an error, not a corrupt file); `write = replace` overwrites.

# adv_file DIR NAME EXPECTED: the file's exact content
adv_file() { [ "$(cat "$1/out/$2"; echo .)" = "$3." ] || t_note "out/$2 is not as expected: $(cat -A "$1/out/$2" | head -n 8)"; }
# adv_no_temp DIR: no temporary file left in out/
adv_no_temp() { [ -z "$(cd "$1/out" && ls -A | grep '^\.')" ] || t_note "temporary files left: $(cd "$1/out" && ls -A | grep '^\.' | paste -sd ' ' -)"; }

adv_both adversarial/03-file-write/ndjson-appends log --json
t_expect_rc 0
adv_file "$ADV_NATIVE" log.ndjson '{"id":0}
{"id":1}
{"id":2}
'
adv_no_temp "$ADV_NATIVE"
t_done

adv_both adversarial/03-file-write/json-array-gains-elements arr --json
t_expect_rc 0
adv_file "$ADV_NATIVE" arr.json '[{"id":0},
{"id":1},
{"id":2}
]
'
adv_file "$ADV_NATIVE" empty.json '[
{"id":1},
{"id":2}
]
'
adv_file "$ADV_NATIVE" fresh.json '[
{"id":1},
{"id":2}
]
'
t_exec -C "$ADV_NATIVE" ./prog run arr
t_expect_rc 0
[ "$(jq -c '[.[].id]' "$ADV_NATIVE/out/arr.json")" = '[0,1,2,1,2]' ] || t_note "out/arr.json after a second run: $(cat "$ADV_NATIVE/out/arr.json")"
adv_no_temp "$ADV_NATIVE"
t_done

adv_both adversarial/03-file-write/not-an-array-fails-the-run obj --json
t_expect_rc 1
t_expect_grep "$C_ERR" '^error: flow obj: import copy: cannot append to out/obj\.json: it does not hold a JSON array \(write = replace overwrites it\)$'
t_expect_grep "$C_ERR" '^flow obj: failed; exported 2, ignored 0, imported copy=0, errors 0$'
adv_file "$ADV_NATIVE" obj.json '{"a":[1]}
'
adv_no_temp "$ADV_NATIVE"
t_done

adv_both adversarial/03-file-write/csv-keeps-its-header same_csv --json
t_expect_rc 0
adv_file "$ADV_NATIVE" same.csv 'id,name
0,zero
1,n1
2,n2
'
t_done

adv_both adversarial/03-file-write/csv-other-header-fails-the-run other_csv --json
t_expect_rc 1
t_expect_grep "$C_ERR" '^error: flow other_csv: import copy: cannot append to out/other\.csv: its header is `id,email`, but this run writes `id,name` \(write = replace overwrites it\)$'
adv_file "$ADV_NATIVE" other.csv 'id,email
0,z@x
'
adv_no_temp "$ADV_NATIVE"
t_done

adv_both adversarial/03-file-write/csv-open-quote-fails-the-run open_csv --json
t_expect_rc 1
t_expect_grep "$C_ERR" '^error: flow open_csv: import copy: cannot append to out/open\.csv: it ends inside a quoted field$'
adv_file "$ADV_NATIVE" open.csv 'id,name
0,"open quote
'
t_done

adv_both adversarial/03-file-write/replace-overwrites snap --json
t_expect_rc 0
adv_file "$ADV_NATIVE" snap.ndjson '{"id":1}
{"id":2}
'
t_done

# another writer appends to the target between the copy and the rename: the run fails, the target
# keeps what the other writer wrote
adv_both adversarial/03-file-write/target-changed-meanwhile race --json
t_expect_rc 1
t_expect_grep "$C_ERR" '^error: flow race: connection output: out/race\.ndjson changed while this run was appending to it: it was left as it was$'
t_expect_grep "$C_ERR" '^flow race: failed; exported 2, ignored 0, imported copy=0, not written 2, errors 0$'
adv_file "$ADV_NATIVE" race.ndjson '{"id":"before"}
{"id":"other writer"}
{"id":"other writer"}
'
adv_no_temp "$ADV_NATIVE"
t_done
