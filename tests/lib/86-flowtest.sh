#!/usr/bin/env bash
# Suite `flowtest`: `flowc test` runs test blocks in memory with mocks (inline and file data, a
# mocked lookup, an existing record for upserts), checks expectations, prints expected against
# actual with the location, and ends with `N passed, N failed` (exit 1 when any failed).
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" flowtest

t_case "flowtest/passing"
t_exec "$FLOWC" test tests/flowtest/pass.flow
t_expect_rc 0
t_expect_grep "$C_OUT" '^PASS tests/flowtest/pass\.flow:18: test "big orders go to the crm"$'
t_expect_grep "$C_OUT" '^PASS tests/flowtest/pass\.flow:29: test "orders from a file, no customer found"$'
t_expect_grep "$C_OUT" '^2 passed, 0 failed$'
t_done

t_case "flowtest/failing"
t_exec "$FLOWC" test tests/flowtest/fail.flow
t_expect_rc 1
t_expect_grep "$C_OUT" '^FAIL tests/flowtest/fail\.flow:11: test "counts"$'
t_expect_grep "$C_OUT" '^  tests/flowtest/fail\.flow:13:10: expect out\.count == 2$'
t_expect_grep "$C_OUT" '^      actual  : 1$'
t_expect_grep "$C_OUT" '^      expected: 2$'
t_expect_grep "$C_OUT" 'record error in step out \[value\]: cents: floor: '
t_expect_grep "$C_OUT" '^PASS tests/flowtest/fail\.flow:16: test "passes"$'
t_expect_grep "$C_OUT" '^1 passed, 1 failed$'
t_done

# the mock checks settings by the table of the kind it stands in for: an http export's `stop` is an
# expression over each response (never evaluated up front), not a setting that "depends on the record"
t_case "flowtest/http-settings"
t_exec "$FLOWC" test tests/flowtest/http_stop.flow
t_expect_rc 0
t_expect_grep "$C_OUT" '^PASS tests/flowtest/http_stop\.flow:24: test "an http export with stop runs under the mock"$'
t_expect_grep "$C_OUT" '^1 passed, 0 failed$'
t_done

# given existing: every upsert finds that record at the destination, so `when updating` / `existing`
# take the update path (http by(...) and sqlite upsert(...)); without it every upsert creates
t_case "flowtest/given-existing"
t_exec "$FLOWC" test tests/flowtest/existing.flow
t_expect_rc 0
t_expect_grep "$C_OUT" '^PASS tests/flowtest/existing\.flow:30: test "an existing record takes the update path"$'
t_expect_grep "$C_OUT" '^PASS tests/flowtest/existing\.flow:38: test "without one, every upsert creates"$'
t_expect_grep "$C_OUT" '^2 passed, 0 failed$'
t_done

t_case "flowtest/two-files"
t_exec "$FLOWC" test tests/flowtest/pass.flow tests/flowtest/fail.flow
t_expect_rc 1
t_expect_grep "$C_OUT" '^3 passed, 1 failed$'
t_done

t_case "flowtest/writes-nothing"
rm -rf tests/flowtest/out
t_exec "$FLOWC" test tests/flowtest/pass.flow
[ ! -e tests/flowtest/out ] && [ ! -e out ] || t_note "a test wrote output files"
t_done

t_case "flowtest/missing-file"
t_exec "$FLOWC" test tests/flowtest/nope.flow
t_expect_rc 2
t_done
