#!/usr/bin/env bash
# flowc fmt. Sourced by tests/run.sh (suite `fmt`); alone: `FLOWC=build/asan/flowc tests/run.sh fmt`.
#  - fmt/golden/X: tests/fmt/golden/X.flow formatted (`flowc fmt - <X.flow`, stdout and stderr, then
#    `exit N`) is X.expected; and X.expected's layout is its own fixed point.
#  - fmt/property: EVERY .flow file of the repository (tests, examples, bench, docs) and every ```flow
#    block of LANGUAGE.md, copied to build/test/fmt/: formatted in place in one run; a file with a
#    syntax error is left byte for byte as it was (exit 2); every other file is formatted again
#    without a change (`--check`), and its IR (`flowc dump ir`, stdout and exit status) is the one of
#    the original.
#  - fmt/keep-formatted: the project's own .flow files are in the canonical layout (`fmt --check`),
#    except those whose golden output quotes line:col positions (FMT_KEEP_EXCLUDE below) and the
#    deliberately unformatted inputs of fmt/golden.
#  - the command: `-`, --check, --diff (compared with diff -u), in-place writes keeping the mode,
#    and the failures: a file that does not parse, an unreadable file, a read-only directory.
# The IR dumps use FLOWC_REL when set (one dump per file: the sanitized build is slow to start);
# every fmt run uses FLOWC.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" fmt

fmt_dir=$T_TMP/fmt
rm -rf "$fmt_dir"
mkdir -p "$fmt_dir"
FMT_IR=${FLOWC_REL:-$FLOWC}

# ---- goldens ----
for f in tests/fmt/golden/*.flow; do
  [ -f "$f" ] || continue
  stem=${f%.flow}; name=fmt/golden/${stem##*/}
  out=$fmt_dir/${stem##*/}.out
  (timeout -k 5 "$T_TIMEOUT" "$FLOWC" fmt - <"$f" >"$out" 2>&1; echo "exit $?" >>"$out")
  if ! golden_cmp "$ROOT/$stem.expected" "$out"; then fail "$name" "${G_MSGS[@]}"; continue; fi
  # the expected text (less its exit line) formats to itself
  if tail -n 1 "$stem.expected" | grep -qx 'exit 0'; then
    sed '$d' "$stem.expected" >"$fmt_dir/${stem##*/}.fixed.flow"
    if ! "$FLOWC" fmt --check "$fmt_dir/${stem##*/}.fixed.flow" >"$out.fix" 2>&1; then
      fail "$name" "its formatted text is not a fixed point of fmt:" "$(cat "$out.fix")"; continue
    fi
  fi
  pass "$name$G_NOTE"
done

# ---- the property over every .flow file ----
t_case fmt/property
prop=$fmt_dir/prop
mkdir -p "$prop/lang"
lang_md=$(t_find_suite design/LANGUAGE.md)
if [ -n "$lang_md" ]; then
  awk -v dir="$prop/lang" '
    !inb && /^```flow[ \t]*$/ { inb = 1; n++; f = sprintf("%s/language-md-%02d.flow", dir, n); printf "" > f; next }
    inb && /^```[ \t]*$/      { inb = 0; close(f); next }
    inb                       { print > f }' "$lang_md"
fi   # without it (a plain clone) that part is reported as skipped below, never as passed or failed
{ find . \( -path ./build -o -path ./.git \) -prune -o -type f -name '*.flow' -print | sort
  find "$prop/lang" -type f -name '*.flow' | sort; } >"$prop/list"
i=0; copies=()
while IFS= read -r f; do
  i=$((i + 1)); d=$(printf '%04d' "$i")
  mkdir -p "$prop/orig/$d" "$prop/new/$d"
  cp "$f" "$prop/orig/$d/"; cp "$f" "$prop/new/$d/"
  copies+=("$prop/new/$d/${f##*/}")
done <"$prop/list"
t_exec "$FLOWC" fmt "${copies[@]}"
[ "$C_RC" = 0 ] || [ "$C_RC" = 2 ] || t_note "fmt of every file: exit $C_RC"
t_exec "$FLOWC" fmt --check "${copies[@]}"
[ "$C_RC" = 0 ] || [ "$C_RC" = 2 ] || t_note "fmt --check of the formatted files: exit $C_RC, not idempotent"
[ -s "$C_OUT" ] && t_note "formatting twice changes:" "$(head -n 10 "$C_OUT")"
formatted=0 refused=0
while IFS= read -r f; do
  n=${f#"$prop/new/"}; d=${n%%/*}; base=${n#*/}
  if grep -aqF -- "\`$f\` is not formatted: it does not parse" "$C_ERR"; then
    refused=$((refused + 1))
    cmp -s "$f" "$prop/orig/$d/$base" || t_note "$(sed -n "$((10#$d))p" "$prop/list"): refused but changed"
    (cd "$prop/orig/$d" && "$FMT_IR" dump ast "$base" >/dev/null 2>&1) &&
      t_note "$(sed -n "$((10#$d))p" "$prop/list"): parses, but fmt refused it"
    continue
  fi
  formatted=$((formatted + 1))
  (cd "$prop/orig/$d" && timeout -k 5 "$T_TIMEOUT" "$FMT_IR" dump ir "$base" 2>/dev/null; echo "exit $?") >"$prop/orig/$d/ir"
  (cd "$prop/new/$d" && timeout -k 5 "$T_TIMEOUT" "$FMT_IR" dump ir "$base" 2>/dev/null; echo "exit $?") >"$prop/new/$d/ir"
  cmp -s "$prop/orig/$d/ir" "$prop/new/$d/ir" ||
    t_note "$(sed -n "$((10#$d))p" "$prop/list"): the IR changed:" "$(diff "$prop/orig/$d/ir" "$prop/new/$d/ir" | head -n 8)"
done < <(printf '%s\n' "${copies[@]}")
[ "$formatted" -gt 400 ] || t_note "only $formatted files formatted"
C_NAME="fmt/property ($formatted files formatted: same IR, idempotent; $refused with syntax errors left as they were)"
t_done
[ -n "$lang_md" ] || skip fmt/property/language-md "no ${SHARED_DIR:-../shared}/design/LANGUAGE.md beside this checkout: its examples are not covered"

# ---- the project's own .flow files stay formatted ----
# Left out: goldens that quote line:col or line numbers of their .flow (diagnostics with carets, AST
# dumps, JSON diagnostics, test-run failures, preview step names), the syntax errors (the lexical
# ones of tests/vscode/errors too), the deliberately unformatted inputs of fmt/golden, fuzz seeds, and
# the versions diff and merge compare (their
# layout is under test: a reformatting is no change, a merge keeps untouched text byte for byte).
# They are in fmt/property all the same.
FMT_KEEP_EXCLUDE='^tests/(check/errors|fmt/golden|ast|json|flowtest|preview|diff|fuzz/seeds|vscode/errors)/|^tests/adversarial/14-sql-template/injectable\.flow$'
t_case fmt/keep-formatted
find . \( -path ./build -o -path ./.git \) -prune -o -type f -name '*.flow' -print | sed 's|^\./||' |
  grep -vE "$FMT_KEEP_EXCLUDE" | sort >"$fmt_dir/keep.list"
mapfile -t keep <"$fmt_dir/keep.list"
t_exec "$FLOWC" fmt --check "${keep[@]}"
t_expect_rc 0
[ -s "$C_OUT" ] && t_note "not formatted (run: build/flowc fmt FILE):" "$(head -n 20 "$C_OUT")"
[ "${#keep[@]}" -gt 150 ] || t_note "only ${#keep[@]} files kept formatted"
C_NAME="fmt/keep-formatted (${#keep[@]} files)"
t_done

# ---- the command ----
cmd=$fmt_dir/cmd
mkdir -p "$cmd"
fmt_expected() { sed '$d' "tests/fmt/golden/$1.expected"; }   # the golden's text without its exit line

t_case fmt/in-place
cp tests/fmt/golden/spacing.flow "$cmd/a.flow"; chmod 640 "$cmd/a.flow"
ino=$(stat -c %i "$cmd/a.flow")
t_exec "$FLOWC" fmt "$cmd/a.flow"
t_expect_rc 0
fmt_expected spacing | cmp -s - "$cmd/a.flow" || t_note "the file is not the formatted text"
[ "$(stat -c %a "$cmd/a.flow")" = 640 ] || t_note "mode $(stat -c %a "$cmd/a.flow"), expected 640 kept"
[ "$(stat -c %i "$cmd/a.flow")" != "$ino" ] || t_note "written in place, not renamed over (same inode)"
ls -A "$cmd" | grep -q fmt- && t_note "a temporary file is left: $(ls -A "$cmd")"
ino=$(stat -c %i "$cmd/a.flow")
t_exec "$FLOWC" fmt "$cmd/a.flow"
t_expect_rc 0
[ "$(stat -c %i "$cmd/a.flow")" = "$ino" ] || t_note "a formatted file was written again"
t_done

t_case fmt/symlink
cp tests/fmt/golden/spacing.flow "$cmd/target.flow"; ln -sf target.flow "$cmd/link.flow"
t_exec "$FLOWC" fmt "$cmd/link.flow"
t_expect_rc 0
[ -L "$cmd/link.flow" ] || t_note "the symbolic link was replaced by a file"
fmt_expected spacing | cmp -s - "$cmd/target.flow" || t_note "the link's target is not formatted"
t_done

t_case fmt/stdin
t_exec sh -c '"$0" fmt - <"$1"' "$FLOWC" tests/fmt/golden/wrap.flow
t_expect_rc 0
fmt_expected wrap | cmp -s - "$C_OUT" || t_note "stdout is not the formatted text"
t_exec sh -c '"$0" fmt --check - <"$1"' "$FLOWC" tests/fmt/golden/wrap.flow
t_expect_rc 1
t_expect_grep "$C_OUT" '^<stdin>$' "--check lists <stdin>"
t_done

t_case fmt/check
cp tests/fmt/golden/blocks.flow "$cmd/unformatted.flow"
fmt_expected blocks >"$cmd/formatted.flow"
cp "$cmd/unformatted.flow" "$cmd/unformatted.orig"
t_exec "$FLOWC" fmt --check "$cmd/formatted.flow" "$cmd/unformatted.flow"
t_expect_rc 1
[ "$(cat "$C_OUT")" = "$cmd/unformatted.flow" ] || t_note "--check lists exactly the file that would change"
cmp -s "$cmd/unformatted.flow" "$cmd/unformatted.orig" || t_note "--check changed the file"
t_exec "$FLOWC" fmt --check "$cmd/formatted.flow"
t_expect_rc 0
[ -s "$C_OUT" ] && t_note "--check of a formatted file prints something"
t_done

t_case fmt/diff
# fmt_patch DIR FILE DIFF EXPECTED: patch -p1 applies DIFF to DIR/FILE and gives EXPECTED
fmt_patch() {
  rm -rf "$1/p"; mkdir -p "$1/p"; cp "$1/$2" "$1/p/"
  (cd "$1/p" && patch -s -p1 <"$3") >"$1/patch.log" 2>&1 || { t_note "patch -p1 does not apply the diff of $2:" "$(cat "$1/patch.log")"; return; }
  cmp -s "$1/p/$2" "$4" || t_note "$2 patched with the diff is not the formatted text"
}
t_exec -C "$cmd" "$FLOWC" fmt --diff unformatted.flow
t_expect_rc 0
cmp -s "$cmd/unformatted.flow" "$cmd/unformatted.orig" || t_note "--diff changed the file"
[ "$(head -n 2 "$C_OUT" | tr '\n' ' ')" = "--- a/unformatted.flow +++ b/unformatted.flow " ] ||
  t_note "the diff's header names the file as a/ and b/"
t_expect_grep "$C_OUT" '^@@ -1,[0-9]+ \+1,[0-9]+ @@$' "a first hunk header as diff -u writes it"
command -v patch >/dev/null && fmt_patch "$cmd" unformatted.flow "$C_OUT" "$cmd/formatted.flow"
t_exec "$FLOWC" fmt --check --diff "$cmd/unformatted.flow" "$cmd/formatted.flow"
t_expect_rc 1
t_exec "$FLOWC" fmt --diff "$cmd/formatted.flow"
t_expect_rc 0
[ -s "$C_OUT" ] && t_note "--diff of a formatted file prints something"
# every golden (no newline at the end, CRLF, empty files included): patch applies the diff
if command -v patch >/dev/null; then
  mkdir -p "$cmd/g"
  for g in tests/fmt/golden/*.flow; do
    tail -n 1 "${g%.flow}.expected" | grep -qx 'exit 0' || continue
    cp "$g" "$cmd/g/"; b=${g##*/}
    sed '$d' "${g%.flow}.expected" >"$cmd/g/$b.out"
    (cd "$cmd/g" && "$FLOWC" fmt --diff "$b" >"$b.diff" 2>&1)
    if cmp -s "$cmd/g/$b" "$cmd/g/$b.out"; then
      [ -s "$cmd/g/$b.diff" ] && t_note "$b: a diff for a formatted file"
    else
      fmt_patch "$cmd/g" "$b" "$cmd/g/$b.diff" "$cmd/g/$b.out"
    fi
  done
fi
t_done

t_case fmt/does-not-parse
cp tests/fmt/golden/syntax-error.flow "$cmd/bad.flow"; touch -d '2020-01-01' "$cmd/bad.flow"
cp tests/fmt/golden/spacing.flow "$cmd/good.flow"
t_exec "$FLOWC" fmt "$cmd/bad.flow" "$cmd/good.flow"
t_expect_rc 2
t_expect_grep "$C_ERR" "^$cmd/bad.flow:3:35: error: unexpected" "the syntax error, at its place"
t_expect_grep "$C_ERR" "is not formatted: it does not parse; the file is left as it is"
cmp -s "$cmd/bad.flow" tests/fmt/golden/syntax-error.flow || t_note "the file that does not parse was changed"
[ "$(stat -c %Y "$cmd/bad.flow")" = "$(date -d 2020-01-01 +%s)" ] || t_note "the file that does not parse was written"
fmt_expected spacing | cmp -s - "$cmd/good.flow" || t_note "the other file was not formatted"
t_done

t_case fmt/unreadable
t_exec "$FLOWC" fmt "$cmd/missing.flow" "$cmd"
t_expect_rc 2
t_expect_grep "$C_ERR" "cannot read \`$cmd/missing.flow\`: No such file"
t_expect_grep "$C_ERR" "cannot read \`$cmd\`: it is a directory"
t_done

t_case fmt/read-only-directory
mkdir -p "$cmd/ro"; cp tests/fmt/golden/spacing.flow "$cmd/ro/a.flow"; chmod 644 "$cmd/ro/a.flow"; chmod 555 "$cmd/ro"
if [ "$(id -u)" = 0 ]; then
  # root writes anywhere: run as nobody, who may read the file but not write the directory
  t_exec setpriv --reuid=65534 --regid=65534 --clear-groups "$FLOWC" fmt "$cmd/ro/a.flow"
else
  t_exec "$FLOWC" fmt "$cmd/ro/a.flow"
fi
t_expect_rc 2
t_expect_grep "$C_ERR" "cannot write \`$cmd/ro/a.flow\`: Permission denied; the file is left as it is"
cmp -s "$cmd/ro/a.flow" tests/fmt/golden/spacing.flow || t_note "the file was changed"
[ "$(ls -A "$cmd/ro")" = a.flow ] || t_note "something was left in the directory: $(ls -A "$cmd/ro")"
chmod 755 "$cmd/ro"
t_done

t_case fmt/usage
t_exec "$FLOWC" fmt
t_expect_rc 2
t_expect_grep "$C_ERR" "fmt needs FILE"
t_exec "$FLOWC" fmt --width=80 "$cmd/a.flow"
t_expect_rc 2
t_expect_grep "$C_ERR" "unknown option \`--width=80\`"
t_done
