# A test block's data file, given x = file("..."), is read only when it is a regular file inside the
# flow's directory tree (the rule of item 16's hook files, compiler/hooks.c): a FIFO never hangs
# `flowc test` or `flowc check`, /etc/passwd (named directly or through a symlink) is never read and
# its lines never printed; both commands say so at the file's string.

# adv16t NAME WANT: check and test exit 1 at once, WANT at the fixture's string (line 11), the
# absolute path refused at line 15, nothing of /etc/passwd printed
adv16t() {
  adv_refused "adversarial/16-test-data-files/$1" "check test" \
    "^flow\\.flow:11:23: error: test data file \"fixtures/target\\.ndjson\" $2" \
    '^flow\.flow:15:23: error: test data file "/etc/passwd" is outside the directory of flow\.flow'
}

mkfifo fixtures/target.ndjson
adv16t fifo 'is a FIFO, not a data file'
rm -f fixtures/target.ndjson

ln -s /etc/passwd fixtures/target.ndjson
adv16t symlink-outside 'is outside the directory of flow\.flow: test data files must be inside'
rm -f fixtures/target.ndjson

adv16t missing 'not found'

# good data at the same place and the absolute path made relative: both tests pass
cp fixtures/orders.ndjson fixtures/target.ndjson
sed -i 's|file("/etc/passwd")|file("fixtures/orders.ndjson")|; s|copies.count == 0|copies.count == 2|' flow.flow
t_case adversarial/16-test-data-files/good-check
t_exec "$FLOWC" check flow.flow
t_expect_rc 0
t_done
t_case adversarial/16-test-data-files/good-test
t_exec timeout 60 "$FLOWC" test flow.flow
t_expect_rc 0
t_expect_grep "$C_OUT" '^2 passed, 0 failed$'
t_done
