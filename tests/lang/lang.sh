#!/usr/bin/env bash
# The language contract: every ```flow block of LANGUAGE.md must keep compiling, and its test blocks
# must pass. Sourced by tests/run.sh (suite `lang`); alone: `FLOWC=build/asan/flowc tests/run.sh lang`.
#
# The blocks are extracted in order into build/test/lang/block-NN.flow, then:
#  - all.flow   = every block except the one whose first line is a `// error:` comment;
#                 `flowc check` must exit 0 and print no error (warnings are allowed);
#  - error.flow = the block declaring `type Order` (§2) + the one declaring `connection files` (§3)
#                 + the error block; `flowc check` must exit 1 with exactly one error, saying
#                 "may be null", at the line:col of `record.note` in `lower(record.note)` (computed
#                 from the generated file), its caret line underlining those 11 characters
#                 (`^` and ten `~`).
#  - the files all.flow names, written beside it: the hook file (hooks/orders.c, drop_test_orders:
#    skips orders from test accounts) and the test fixture (tests/fixtures/orders.json), made so
#    that §8's expectations hold for §4's flow: of five orders one is a test account's (the hook
#    drops it), one is cancelled (the filter drops it), two are over 1000 (the `deals` import, the
#    first order-1) and one is small (`archive`);
#  - `flowc test all.flow` runs every test block: all must pass;
#  - the same test against fixtures and a hook that make each expectation false must fail: a
#    third big order, the big orders in the other order, no small order, an order that is not an
#    Order (a record error), a hook that keeps test accounts.
# LANGUAGE.md is ${SHARED_DIR:-../shared}/design/LANGUAGE.md, relative to the repo root: the contract
# lives beside the repository, not in it, so a clone without it skips this suite (and says so).
# Executed directly rather than sourced: run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" lang

lang_md=$(t_find_suite design/LANGUAGE.md)
lang_dir=$T_TMP/lang
rm -rf "$lang_dir"
mkdir -p "$lang_dir"

if [ -z "$lang_md" ]; then
  skip lang "no ${SHARED_DIR:-../shared}/design/LANGUAGE.md beside this checkout (set SHARED_DIR to the folder holding design/)"
  return 0
fi
t_case lang/extract-blocks
# block-NN.flow per block; index: "N FIRST_LINE_IN_MD"
awk -v dir="$lang_dir" '
  !inb && /^```flow[ \t]*$/ { inb = 1; n++; f = sprintf("%s/block-%02d.flow", dir, n)
                              printf "" > f; print n, NR + 1 > (dir "/index"); next }
  inb && /^```[ \t]*$/      { inb = 0; close(f); next }
  inb                       { print > f }
  END { if (inb) { print "unterminated ```flow block starting at line " NR > "/dev/stderr"; exit 1 } }
' "$lang_md" 2>"$lang_dir/extract.err" || t_note "$(cat "$lang_dir/extract.err")"
# lang_orders DIR ORDER...: writes DIR/tests/fixtures/orders.json, one ORDER (id:email:status:total)
# each; the other fields are those §2's Order declares. A total that is not a number is written as
# a string (the record is then not an Order).
lang_orders() {
  local dir=$1; shift
  mkdir -p "$dir/tests/fixtures"
  local o sep='' id email status total
  {
    printf '[\n'
    for o in "$@"; do
      IFS=: read -r id email status total <<<"$o"
      case $total in *[!0-9.]*) total="\"$total\"" ;; esac
      printf '%s  {"id": %s, "email": "%s", "status": "%s", "total": %s, "created_at": "2024-05-01T10:00:00Z",\n' \
        "$sep" "$id" "$email" "$status" "$total"
      printf '   "customer": {"first": "Ann", "last": "Lee", "vip": true}, "items": [{"sku": "S-%s", "qty": 2, "price": 10.5}],\n' "$id"
      printf '   "region": "EU", "currency": "EUR", "note": null}\n'
      sep=','
    done
    printf ']\n'
  } >"$dir/tests/fixtures/orders.json"
}
# lang_hook DIR [keep]: DIR/hooks/orders.c with drop_test_orders (skips emails @test.example, or
# with `keep`, skips nothing)
lang_hook() {
  mkdir -p "$1/hooks"
  {
    printf '/* the hook §4 names: orders from test accounts are skipped */\n#include "flow.h"\n#include <string.h>\n'
    printf 'int drop_test_orders(FlowHookPage *page) {\n'
    if [ "${2:-}" != keep ]; then
      printf '    for (int i = 0; i < page->n; i++) {\n'
      printf '        const cJSON *e = cJSON_GetObjectItemCaseSensitive(page->records[i], "email");\n'
      printf '        if (cJSON_IsString(e) && strstr(e->valuestring, "@test.example")) page->verdict[i] = FLOW_HOOK_SKIP;\n'
      printf '    }\n'
    fi
    printf '    return 0;\n}\n'
  } >"$1/hooks/orders.c"
}
# the orders that make §8's expectations true: 2 deals (order-1 first), 1 archive, 0 errors
lang_good=(1:anna@shop.example:paid:1500.5 2:qa@test.example:paid:5000 3:bo@shop.example:cancelled:3000
           4:cy@shop.example:open:2000 5:di@shop.example:paid:20)
lang_hook "$lang_dir"
lang_orders "$lang_dir" "${lang_good[@]}"

lang_blocks=()   # every block file, in order
lang_err=''      # the `// error:` block
lang_decl2=''    # the block declaring `type Order`
lang_decl3=''    # the block declaring `connection files`
for b in "$lang_dir"/block-*.flow; do
  [ -f "$b" ] || continue
  lang_blocks+=("$b")
  if awk 'NF { print; exit }' "$b" | grep -Eq '^[[:space:]]*//[[:space:]]*error:'; then
    [ -n "$lang_err" ] && t_note "more than one \`// error:\` block: ${lang_err##*/} and ${b##*/}"
    lang_err=$b
  fi
  grep -Eq '^[[:space:]]*type[[:space:]]+Order[[:space:]]*=' "$b" && [ -z "$lang_decl2" ] && lang_decl2=$b
  grep -Eq '^[[:space:]]*connection[[:space:]]+files[[:space:]]*=' "$b" && [ -z "$lang_decl3" ] && lang_decl3=$b
done
[ ${#lang_blocks[@]} -gt 0 ] || t_note "no \`\`\`flow blocks in $lang_md"
[ -n "$lang_err" ] || t_note "no block starting with a \`// error:\` line in $lang_md"
[ -n "$lang_decl2" ] || t_note "no block declaring \`type Order\` in $lang_md"
[ -n "$lang_decl3" ] || t_note "no block declaring \`connection files\` in $lang_md"
t_done

# lang_append BLOCK OUT: appends BLOCK to OUT after a comment naming its place in LANGUAGE.md.
lang_append() {
  local n=${1##*/block-}; n=${n%.flow}; n=$((10#$n))
  printf '// ---- LANGUAGE.md block %d (line %s) ----\n' "$n" \
    "$(awk -v n="$n" '$1 == n { print $2 }' "$lang_dir/index")" >>"$2"
  cat "$1" >>"$2"
}

: >"$lang_dir/all.flow"
for b in "${lang_blocks[@]}"; do
  [ "$b" = "$lang_err" ] || lang_append "$b" "$lang_dir/all.flow"
done

t_case lang/all-blocks-check
if [ ${#lang_blocks[@]} -eq 0 ]; then
  t_note "nothing extracted"
else
  t_exec -C "$lang_dir" "$FLOWC" check all.flow
  t_expect_rc 0
  t_expect_nogrep "$C_ERR" '(^|: )error:' "errors reported for the LANGUAGE.md examples (see $lang_dir/all.flow)"
  t_expect_nogrep "$C_OUT" '(^|: )error:' "errors reported for the LANGUAGE.md examples (see $lang_dir/all.flow)"
  if [ -n "$FLOWC_REL" ]; then
    lang_asan_out=$C_ERR
    t_exec -C "$lang_dir" "$FLOWC_REL" check all.flow
    t_expect_rc 0
    cmp -s "$lang_asan_out" "$C_ERR" || t_note "the release build prints other diagnostics than $FLOWC"
  fi
fi
t_done

for lang_stage in ast ir; do
  t_case lang/all-blocks-dump-$lang_stage
  if [ ${#lang_blocks[@]} -eq 0 ]; then
    t_note "nothing extracted"
  else
    t_exec -C "$lang_dir" "$FLOWC" dump "$lang_stage" all.flow
    t_expect_rc 0
    [ -s "$C_OUT" ] || t_note "dump $lang_stage printed nothing"
  fi
  t_done
done

t_case lang/error-block
if [ -z "$lang_err" ] || [ -z "$lang_decl2" ] || [ -z "$lang_decl3" ]; then
  t_note "the blocks it needs were not found (see lang/extract-blocks)"
else
  : >"$lang_dir/error.flow"
  lang_append "$lang_decl2" "$lang_dir/error.flow"
  [ "$lang_decl3" = "$lang_decl2" ] || lang_append "$lang_decl3" "$lang_dir/error.flow"
  lang_append "$lang_err" "$lang_dir/error.flow"
  # expected position: the `record.note` inside `lower(record.note)`
  lang_pos=$(awk 'i = index($0, "lower(record.note)") { print NR, i + length("lower("); exit }' "$lang_dir/error.flow")
  if [ -z "$lang_pos" ]; then
    t_note "the error block has no \`lower(record.note)\`: $lang_err"
  else
    lang_line=${lang_pos% *}; lang_col=${lang_pos#* }
    t_exec -C "$lang_dir" "$FLOWC" check error.flow
    t_expect_rc 1
    lang_nerr=$(cat "$C_OUT" "$C_ERR" | grep -cE '(^|: )error:')
    [ "$lang_nerr" = 1 ] || t_note "$lang_nerr errors reported, expected exactly 1"
    # the diagnostic line, then the source line, then the caret line
    awk -v want="error.flow:$lang_line:$lang_col: error: " -v col="$lang_col" \
        -v srcline="$(sed -n "${lang_line}p" "$lang_dir/error.flow")" '
      /(^|: )error:/ && !seen { seen = 1; n = NR; diag = $0 }
      seen && NR == n + 1 { src = $0 }
      seen && NR == n + 2 { car = $0 }
      END {
        if (!seen) { print "no error line"; exit }
        if (index(diag, want) != 1) print "the error is not at " want "...: " diag
        if (diag !~ /may be null/) print "the message does not say \"may be null\": " diag
        if (length(src) < length(srcline) || substr(src, length(src) - length(srcline) + 1) != srcline) {
          print "the line after the error is not the source line " substr(srcline, 1, 60) "...: [" src "]"; exit
        }
        off = length(src) - length(srcline)      # width of any gutter printed before the source text
        at = off + col
        want_mark = "^"; while (length(want_mark) < length("record.note")) want_mark = want_mark "~"
        pre = substr(car, 1, at - 1); mark = substr(car, at, 11); post = substr(car, at + 11, 1)
        if (pre ~ /[\^~]/ || mark != want_mark || post == "~")
          print "the caret line does not underline `record.note` (" want_mark " from column " col "): [" car "]"
      }' "$C_ERR" >"$lang_dir/caret.txt"
    while IFS= read -r lang_msg; do t_note "$lang_msg"; done <"$lang_dir/caret.txt"
  fi
fi
t_done

# every test block of LANGUAGE.md passes against the flows it names
t_case lang/test-blocks
lang_ntests=$(grep -cE '^[[:space:]]*test[[:space:]]+"' "$lang_dir/all.flow")
if [ "$lang_ntests" -eq 0 ]; then
  t_note "no test blocks in $lang_md"
else
  t_exec -C "$lang_dir" "$FLOWC" test all.flow
  t_expect_rc 0
  t_expect_grep "$C_OUT" "^$lang_ntests passed, 0 failed\$" "not all $lang_ntests test blocks passed (see $lang_dir/all.flow)"
fi
t_done

# ...and they can fail: each fixture (or hook) below makes one of §8's expectations false
# lang_must_fail NAME [keep] -- ORDER...: the test in a copy whose fixture holds ORDERs must fail
lang_must_fail() {
  local name=$1 hook=; shift
  [ "$1" = keep ] && { hook=keep; shift; }
  [ "$1" = -- ] && shift
  local d=$lang_dir/neg-$name
  rm -rf "$d"; mkdir -p "$d"
  cp "$lang_dir/all.flow" "$d/"
  lang_hook "$d" $hook
  lang_orders "$d" "$@"
  t_case "lang/test-blocks-fail-$name"
  t_exec -C "$d" "$FLOWC" test all.flow
  t_expect_rc 1
  t_expect_grep "$C_OUT" '^FAIL ' "the test passed although $name"
  t_expect_grep "$C_OUT" "^0 passed, $lang_ntests failed\$"
  t_done
}
if [ "$lang_ntests" -gt 0 ]; then
  lang_must_fail three-deals -- "${lang_good[@]}" 6:ed@shop.example:paid:1200
  lang_must_fail deals-order -- 4:cy@shop.example:open:2000 "${lang_good[@]:0:3}" 5:di@shop.example:paid:20
  lang_must_fail no-archive -- "${lang_good[@]:0:4}"
  lang_must_fail record-error -- "${lang_good[@]}" 6:fe@shop.example:paid:lots
  lang_must_fail hook-keeps keep -- "${lang_good[@]}"
fi
