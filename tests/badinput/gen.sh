#!/usr/bin/env bash
# Writes the hostile inputs of the badinput suite into DIR (default build/test/badinput), one
# NAME.flow each, deterministically (awk + printf, a Park-Miller generator, no /dev/urandom), so a
# failure can be reproduced from its name. Prints nothing; the suite lists DIR/*.flow.
# Usage: tests/badinput/gen.sh [DIR]
set -eu
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/build/test/badinput}
rm -rf "$out"
mkdir -p "$out"
cd "$out"

# A valid frame around an expression: EXPR goes after `filter`.
head_txt='type T = { a: int, s: string, n: number, o: string?, items: [int] }
connection files = file { dir = "data" }
flow f {
  export r: T from files { file = "in.ndjson", format = ndjson }
  filter '
tail_txt='
  import o into files { file = "out.ndjson", format = ndjson, map { a = record.a } }
}
'
# frame NAME AWK-PROGRAM: NAME.flow = frame around what the awk program prints.
frame() {
  { printf '%s' "$head_txt"; awk "BEGIN { $2 }"; printf '%s' "$tail_txt"; } >"$1.flow"
}
# rep N TEXT: awk code printing TEXT N times
rep() { printf 'for (i = 0; i < %d; i++) printf "%%s", "%s";' "$1" "$2"; }

# --- random bytes, NULs included, 64KB per seed ---
for seed in 1 7 42 1234 99991; do
  awk -v seed="$seed" 'BEGIN { x = seed
    for (i = 0; i < 65536; i++) { x = (x * 16807) % 2147483647; printf "%c", int(x / 65536) % 256 } }' \
    >"random-bytes-$seed.flow"
done

# --- random tokens of the language (reaches deeper into the parser than random bytes) ---
for seed in 3 17 2024 31337; do
  awk -v seed="$seed" 'BEGIN { x = seed
    n = split("integration version param env table type connection flow export from lookup transform " \
      "filter branch when rest import into map each in where if then else and or not remove response " \
      "test given expect for hook schedule trigger record param. delta page run { } ( ) [ ] = : , ; . " \
      "? ?? => == != < <= > >= + - * / % => \"x\" \"{{record.a}}\" \"{{#if a}}\" \"{{/if}}\" 42 -7 3.14 " \
      "1e6 250ms 30s 5MB true false null string int number bool datetime json record.a x y lower( " \
      "floor( has( now() first_match all_matching http file sqlite postgres stdio ndjson \n // /* */", tok, " ")
    bytes = 0
    while (bytes < 65536) {
      x = (x * 16807) % 2147483647; t = tok[1 + int(x / 1024) % n]
      x = (x * 16807) % 2147483647; sep = (x % 7 == 0) ? "\n" : " "
      printf "%s%s", t, sep; bytes += length(t) + 1 } }' >"token-soup-$seed.flow"
done

# --- ten megabytes ---
"$root/bench/genflow.sh" 10 >valid-10mb.flow
# the same declaration over and over: every copy after the first is a duplicate
awk 'BEGIN { while (b < 10485760) { s = "type Same = { id: int, name: string, tags: [string], sub: { a: int?, b: bool } }\n"
  printf "%s", s; b += length(s) } }' >repeated-decl-10mb.flow
awk 'BEGIN { x = 5; n = split("@ # $ ^ & | ~ ! ` \\ }{ )( ][ ;; ,, :: .. ?? == => 12abc 0x1G 1e 9.9.9 \"ok\" ident -- ++", j, " ")
  while (b < 10485760) { x = (x * 16807) % 2147483647; t = j[1 + x % n]
    x = (x * 16807) % 2147483647; s = (x % 11 == 0) ? "\n" : " "; printf "%s%s", t, s; b += length(t) + 1 } }' \
  >junk-10mb.flow

# --- unterminated constructs ---
printf 'integration "abc' >unterminated-string-eof.flow
printf 'integration "abc\nversion "1.0.0"\ntype T = { a: int }\n' >unterminated-string-newline.flow
printf 'type T = { a: int }\n/* a comment that never ends\n type U = { b: int }\n' >unterminated-comment.flow
printf 'type T = { a: int }\n/* /* nested? */ */ type U = { b: int }\n/*' >unterminated-comment-eof.flow
printf '%s' "$head_txt" >unterminated-flow.flow
printf 'type T = { a: int, b: [string' >unterminated-type.flow
frame unterminated-template 'printf "record.s == \"{{record.a\""'
frame unterminated-template-block 'printf "record.s == \"{{#if record.a}}x{{#each record.items}}\""'

# --- deep nesting ---
frame nest-paren-open-100k "$(rep 100000 '(')"' printf "1";'
frame nest-paren-balanced-100k "$(rep 100000 '(')"' printf "1";'"$(rep 100000 ')')"' printf " > 0";'
frame nest-bracket-open-100k "$(rep 100000 '[')"' printf "1";'
frame nest-bracket-balanced-100k "$(rep 100000 '[')"' printf "1";'"$(rep 100000 ']')"' printf " == [1]";'
frame nest-brace-open-100k "$(rep 100000 '{ a = ')"' printf "1";'
frame nest-brace-balanced-100k "$(rep 100000 '{ a = ')"' printf "1";'"$(rep 100000 ' }')"' printf " == null";'
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "{"; printf "\n" }' >nest-brace-raw-100k.flow
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "{ [ ("; printf "\n" }' >nest-mixed-raw-100k.flow
{ printf '%s' "$head_txt"; printf 'true\n  import o into files { file = "o.ndjson", format = ndjson, map { '
  awk 'BEGIN { for (i = 0; i < 100000; i++) printf "a { "; printf "b = 1"; for (i = 0; i < 100000; i++) printf " }" }'
  printf ' } }\n}\n'; } >nest-map-objects-100k.flow
{ printf '%s' "$head_txt"; printf 'true\n  import o into files { file = "o.ndjson", format = ndjson, map { a = '
  awk 'BEGIN { for (i = 0; i < 100000; i++) printf "each x%d in record.items => ", i; printf "1" }'
  printf ' } }\n}\n'; } >nest-each-100k.flow
frame nest-calls-100k "$(rep 100000 'lower(')"' printf "record.s";'"$(rep 100000 ')')"' printf " == \"\"";'
frame nest-if-100k "$(rep 100000 'if true then true else ')"' printf "false";'
frame nest-template-if-10k 'printf "record.s == \"";'"$(rep 10000 '{{#if record.a}}')"' printf "x";'"$(rep 10000 '{{/if}}')"' printf "\"";'

# --- long chains ---
frame chain-plus-200k "$(rep 200000 '1 + ')"' printf "1 > 0";'
frame chain-minus-nospace-200k "$(rep 200000 '1-')"' printf "1 > 0";'
frame chain-and-200k "$(rep 200000 'true and ')"' printf "true";'
frame chain-coalesce-200k 'printf "(";'"$(rep 200000 'record.o ?? ')"' printf "\"\") == \"\"";'
frame chain-compare-100k "$(rep 100000 '1 < ')"' printf "1";'
frame chain-field-100k 'printf "record";'"$(rep 100000 '.a')"' printf " > 0";'
frame chain-index-100k 'printf "record.items";'"$(rep 100000 '[0]')"' printf " > 0";'
frame prefix-not-100k "$(rep 100000 'not ')"' printf "true";'
frame prefix-minus-100k "$(rep 100000 '- ')"' printf "1 > 0";'
frame prefix-minus-nospace-100k "$(rep 100000 '-')"' printf "1 > 0";'
frame prefix-not-minus-100k "$(rep 50000 'not - ')"' printf "1";'

# --- invalid UTF-8 (in strings, identifiers, comments, templates) ---
printf 'type T = { a: string }\nparam p: string = "bad \377\376 \300\257 \355\240\200 \303( \342\202"\n' >utf8-in-string.flow
printf 'type T\377 = { a\300\257b: string }\nparam q\355\240\200: int = 1\n' >utf8-in-identifier.flow
printf '// comment \377\376\375\n/* block \300\257 \355\240\200 \342\202 */\ntype T = { a: int }\n' >utf8-in-comment.flow
frame utf8-in-template 'printf "record.s == \"{{record.\377\376}} {{\300\257}}\""'
printf 'type T = { a: int }\n\342\200\256 \357\274\241 \360\237\230\200\n' >utf8-valid-but-unexpected.flow
printf 'type T = { a: int }\n\000type U = { b: int }\n\000' >nul-bytes.flow

# --- backslashes ---
printf 'param p: string = "\\' >backslash-eof-in-string.flow
printf 'param p: string = "abc\\"\n' >backslash-escapes-quote.flow
printf 'type T = { a: int }\n\\\n\\ type U = { b: int }\n' >backslash-outside-string.flow
printf 'param p: string = "\\q \\x41 \\0 \\u12 \\uZZZZ \\ud800 \\udfff \\u"\n' >backslash-bad-escapes.flow
printf 'param p: string = "\\u' >backslash-u-eof.flow

# --- huge numbers ---
d400=$(awk 'BEGIN { for (i = 0; i < 400; i++) printf "%d", (i * 7 + 9) % 10 }')
{
  printf 'param big: int = %s\n' "$d400"
  printf 'param big2: number = %s.%s\n' "$d400" "$d400"
  printf 'param big3: number = 1e999999999\n'
  printf 'param big4: number = %se%s\n' "$d400" "$d400"
  printf 'param neg: int = -%s\n' "$d400"
  printf 'param small: number = 1e-999999999\n'
  printf 'param max: int = 9223372036854775808\n'
  printf 'param min: int = -9223372036854775809\n'
  printf 'connection c = http { base_url = "http://x", timeout = %sms, retries = %s }\n' "$d400" "$d400"
  printf 'connection d = http { base_url = "http://x", timeout = %sd }\n' "$d400"
  printf 'table t = { "a": "b" }\n'
} >huge-numbers.flow
{
  for t in 1.5s 3.14ms 2.0MB 0.5KB 1e3s 1.5e2h 7.x 1.5 1.5e 1e+ 1e- 0x10 0b101 1_000 007 00.5 \
           9223372036854775807ms 9223372036854775807d 99999999999999999999s 1.7976931348623157e309 \
           4.9e-325 .5 5. 1..2 1.2.3 3.14abc 12abc 1ms5 1msms -1.5s -0ms; do
    printf 'param p_%s: int = %s\n' "$(printf '%s' "$t" | tr -c 'A-Za-z0-9' '_')" "$t"
  done
} >number-suffixes.flow
frame huge-number-in-filter "printf \"record.a > $d400 and record.n < $d400.5e$d400\""
printf 'flow f { export r: T from files { page_size = %sMB } }\n' "$d400" >huge-size.flow

# --- long tokens and lines ---
frame long-identifier-1m 'printf "record.";'"$(rep 100000 'abcdefghij')"' printf " > 0";'
frame long-string-1m 'printf "record.s == \"";'"$(rep 100000 'abcdefghij')"' printf "\"";'
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "type L%d = { a: int } ", i; printf "\n" }' >long-line.flow

# --- degenerate files ---
: >empty.flow
printf '\357\273\277' >bom-only.flow
printf '\357\273\277type T = { a: int }\n' >bom-then-valid.flow
printf '\357\273\277\357\273\277type T = { a: int }\n' >bom-twice.flow
printf '\n\n\n   \t\t\r\n\r\n' >whitespace-only.flow
printf 'type T = { a: int }\r\ntype U = { b: string? }\r\n' >crlf.flow
printf 'type T = { a: int }\rtype U = { b: string? }\r' >cr-only.flow
printf '// only a comment without a newline' >comment-no-newline.flow
