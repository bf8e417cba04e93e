# 22: an absolute import file name was one error per record; an export could read any path (absolute
# or with `..`). Now one rule holds for both (a path relative to the connection's dir, no `..`, not
# absolute, not a directory; `.` parts dropped) and a name from a param breaking it fails the run
# once (a constant one is refused by `flowc check`, by the same rule: tests/check/errors/settings/
# file_name_invalid).

adv_fails_once() {   # NAME PARAM MESSAGE-ERE
  adv_both "adversarial/22-file-paths/$1" paths --json --param "$2"
  t_expect_rc 1
  t_expect_grep "$C_ERR" "^error: flow paths: $3\$"
  t_expect_nogrep "$C_ERR" '^error: flow [a-z_]+ step ' "a record error was reported"
  t_expect_grep "$C_OUT" "\"errors\":0,"
  [ ! -e /tmp/flowc-abs-import.ndjson ] && [ ! -e "$ADV_NATIVE/up.ndjson" ] || t_note "a file was written outside the connection's dir"
  t_done
}
adv_fails_once abs_import dst=/tmp/flowc-abs-import.ndjson 'import copy: file "/tmp/flowc-abs-import\.ndjson" is an absolute path: it must be relative to the connection.s dir'
adv_fails_once up_import dst=../up.ndjson 'import copy: file "\.\./up\.ndjson" has a `\.\.` part: it may not leave the connection.s dir'
adv_fails_once dir_import dst=sub 'import copy: cannot write out/sub: it is a directory'
adv_fails_once dot_import dst=./ 'import copy: file "\./" names the connection.s dir itself, not a file'
adv_fails_once abs_export src=/etc/hostname 'export rows: file "/etc/hostname" is an absolute path: it must be relative to the connection.s dir'
adv_fails_once up_export src=../outside.ndjson 'export rows: file "\.\./outside\.ndjson" has a `\.\.` part: it may not leave the connection.s dir'

adv_both adversarial/22-file-paths/dot-parts-are-dropped dot_export --json
t_expect_rc 0
t_expect_grep "$C_OUT" '"imported":\{"copy":3\}'
[ -f "$ADV_NATIVE/out/x/dot.ndjson" ] || t_note "out/x/dot.ndjson was not written"
t_done
