#!/usr/bin/env bash
# The command-line contract of flowc (docs: /work/shared/design/CLI.md): help, version, usage errors,
# exit codes of check/dump, which file a diagnostic names. Sourced by tests/run.sh (suite `cli`);
# run it alone with `FLOWC=build/asan/flowc tests/run.sh cli`. Inputs: tests/cli/ok.flow (clean),
# tests/cli/bad.flow (one error: `record.emial`, line 14).
# Executed directly rather than sourced: run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" cli

cli_ok=tests/cli/ok.flow
cli_bad=tests/cli/bad.flow
cli_version=$(sed -n 's/^VERSION[[:space:]]*:=[[:space:]]*//p' Makefile 2>/dev/null | head -n 1)

t_case cli/help
t_exec "$FLOWC" --help
t_expect_rc 0
t_expect_grep "$C_OUT" 'check' "--help does not mention the check command on stdout"
t_done

t_case cli/version
t_exec "$FLOWC" --version
t_expect_rc 0
if [ -n "$cli_version" ]; then
  [ "$(head -n 1 "$C_OUT")" = "flowc $cli_version" ] ||
    t_note "stdout's first line is '$(head -n 1 "$C_OUT")', expected 'flowc $cli_version' (Makefile VERSION)"
else
  t_expect_grep "$C_OUT" '^flowc [0-9]+\.[0-9]+\.[0-9]+' "no 'flowc X.Y.Z' line"
fi
t_done

t_case cli/no-arguments
t_exec "$FLOWC"
t_expect_rc 2
[ -s "$C_ERR" ] || t_note "no usage message on stderr"
t_done

t_case cli/unknown-command
t_exec "$FLOWC" frobnicate "$cli_ok"
t_expect_rc 2
[ -s "$C_ERR" ] || t_note "no usage message on stderr"
t_done

t_case cli/unknown-option
t_exec "$FLOWC" --frobnicate
t_expect_rc 2
[ -s "$C_ERR" ] || t_note "no usage message on stderr"
t_exec "$FLOWC" check --frobnicate "$cli_ok"
t_expect_rc 2
[ -s "$C_ERR" ] || t_note "no usage message on stderr for 'check --frobnicate'"
t_done

t_case cli/check-clean
t_exec "$FLOWC" check "$cli_ok"
t_expect_rc 0
t_expect_nogrep "$C_ERR" 'error:' "an error was reported for a clean file"
t_done

t_case cli/check-no-file
t_exec "$FLOWC" check
t_expect_rc 2
t_done

# the executable's commands through the JIT each name themselves when FILE is missing (describe and
# serve said "flowc run FILE")
for c in run errors state runs serve describe; do
  t_case cli/$c-no-file
  t_exec "$FLOWC" $c
  t_expect_rc 2
  t_expect_grep "$C_ERR" "^flowc: $c needs a FILE: flowc $c FILE \\[options\\]"
  t_done
done

t_case cli/check-error-format
t_exec "$FLOWC" check "$cli_bad"
t_expect_rc 1
t_expect_grep "$C_ERR" "^tests/cli/bad\\.flow:14:[0-9]+: error: " \
  "no 'tests/cli/bad.flow:14:COL: error: ...' line"
t_expect_nogrep "$C_ERR" $'\033' "colour escapes although stderr is not a terminal"
# the line after the diagnostic is the source line, the one after that a caret under `record.emial`
# (or under `emial`)
awk -v re="^tests/cli/bad\\\\.flow:14:" '
  $0 ~ re && !seen { seen = 1; n = NR; split($0, p, ":"); col = p[3] }
  seen && NR == n + 1 { src = $0 }
  seen && NR == n + 2 { car = $0 }
  END {
    if (!seen) exit 0
    want = "      email = lower(record.emial)"
    if (length(src) < length(want) || substr(src, length(src) - length(want) + 1) != want) {
      print "the line after the diagnostic is not the source line: [" src "]"; exit 0
    }
    off = length(src) - length(want)            # width of any gutter before the source text
    # the span may be the whole path or just the field name
    if (col != index(want, "record.emial") && col != index(want, "emial"))
      print "column " col ", expected " index(want, "record.emial") " (record.emial) or " index(want, "emial") " (emial)"
    if (substr(car, off + col, 1) != "^") print "caret line [" car "] has no ^ under column " col
  }' "$C_ERR" >"$T_TMP/cases/cli-caret.txt"
[ -s "$T_TMP/cases/cli-caret.txt" ] && t_note "$(cat "$T_TMP/cases/cli-caret.txt")"
t_done

t_case cli/check-missing-file
t_exec "$FLOWC" check tests/cli/does-not-exist.flow
t_expect_rc 2
t_expect_grep "$C_ERR" 'does-not-exist\.flow' "the message does not name the missing file"
t_done

t_case cli/check-directory
t_exec "$FLOWC" check tests/cli
t_expect_rc 2
t_expect_grep "$C_ERR" 'tests/cli' "the message does not name the directory"
t_done

t_case cli/check-two-files
for order in "$cli_ok $cli_bad" "$cli_bad $cli_ok"; do
  # shellcheck disable=SC2086
  t_exec "$FLOWC" check $order
  t_expect_rc 1
  t_expect_grep "$C_ERR" "^tests/cli/bad\\.flow:[0-9]+:[0-9]+: error: " "no error names tests/cli/bad.flow ($order)"
  t_expect_nogrep "$C_ERR" "^tests/cli/ok\\.flow:[0-9]+:[0-9]+: error: " "an error names tests/cli/ok.flow ($order)"
done
t_done

t_case cli/dump-ast
t_exec "$FLOWC" dump ast "$cli_ok"
t_expect_rc 0
[ -s "$C_OUT" ] || t_note "dump ast printed nothing on stdout"
t_done

t_case cli/dump-ir
t_exec "$FLOWC" dump ir "$cli_ok"
t_expect_rc 0
[ -s "$C_OUT" ] || t_note "dump ir printed nothing on stdout"
t_done

t_case cli/dump-bad-stage
t_exec "$FLOWC" dump frobnicate "$cli_ok"
t_expect_rc 2
[ -s "$C_ERR" ] || t_note "no message on stderr"
t_done

t_case cli/dump-missing-file
t_exec "$FLOWC" dump ast tests/cli/does-not-exist.flow
t_expect_rc 2
t_expect_grep "$C_ERR" 'does-not-exist\.flow' "the message does not name the missing file"
t_done

# dump tokens: the lexer's tokens with byte spans and classes (the editor grammar's test reads them)
t_case cli/dump-tokens
mkdir -p "$T_TMP/cases/tokens"
printf 'table t = [1.5, 2, 5MB, 15m, "s", not null] /* c */\n' >"$T_TMP/cases/tokens/ok.flow"
printf 'table t = [15min]\n' >"$T_TMP/cases/tokens/bad.flow"
t_exec -C "$T_TMP/cases/tokens" "$FLOWC" dump tokens ok.flow
t_expect_rc 0
printf '%s\n' '# ok.flow 0' '0 5 keyword' '6 7 name' '8 9 symbol' '10 11 symbol' '11 14 number' '14 15 symbol' \
  '16 17 int' '17 18 symbol' '19 22 size' '22 23 symbol' '24 27 duration' '27 28 symbol' '29 32 string' '32 33 symbol' \
  '34 37 operator-word' '38 42 literal' '42 43 symbol' '44 51 comment' >"$T_TMP/cases/tokens/expected"
cmp -s "$C_OUT" "$T_TMP/cases/tokens/expected" ||
  t_note "dump tokens ok.flow:" "$(diff -u --label expected --label actual "$T_TMP/cases/tokens/expected" "$C_OUT")"
t_exec -C "$T_TMP/cases/tokens" "$FLOWC" dump tokens bad.flow ok.flow
t_expect_rc 1
t_expect_grep "$C_OUT" '^# bad\.flow 1$' 'no header `# bad.flow 1` (one syntax error)'
t_expect_grep "$C_OUT" '^# ok\.flow 0$' 'no header `# ok.flow 0` after the file with an error'
t_expect_grep "$C_ERR" '^bad\.flow:1:12: error: bad number suffix' 'the lexical error is not reported as check reports it'
t_exec -C "$T_TMP/cases/tokens" "$FLOWC" dump tokens ok.flow missing.flow
t_expect_rc 2
t_expect_grep "$C_ERR" 'missing\.flow' 'the message does not name the missing file'
t_done

t_case cli/format-bad-value
t_exec "$FLOWC" check --format xml "$cli_ok"
t_expect_rc 2
[ -s "$C_ERR" ] || t_note "no message on stderr"
t_done

t_case cli/format-json
t_exec "$FLOWC" check --format json "$cli_ok"
t_expect_rc 0
t_expect_grep "$C_OUT" '^[[:space:]]*\[' "stdout is not a JSON array (clean file)"
t_exec "$FLOWC" check --format json "$cli_bad"
t_expect_rc 1
t_expect_grep "$C_OUT" '^[[:space:]]*\[' "stdout is not a JSON array (file with an error)"
t_expect_grep "$C_OUT" 'emial' "the JSON diagnostics do not mention the bad field"
t_done
