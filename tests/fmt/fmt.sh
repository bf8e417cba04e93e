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
else
  t_note "no ${SHARED_DIR:-../shared}/design/LANGUAGE.md beside this checkout: its examples are not covered"
fi
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
