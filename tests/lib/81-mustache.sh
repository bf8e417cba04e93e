#!/usr/bin/env bash
# Suite `mustache`: template rendering by `flowc eval --template` (the flow's own template code,
# emitted and run by the JIT, with the data as the root context) — the Mustache spec files
# (interpolation, sections, inverted, comments) through build/tests/mustache_spec with --escape html,
# every one of their cases required to pass, then the Handlebars helpers, the escaping modes and the
# errors of eval. The spec files are ${SHARED_DIR:-../shared}/conformance/mustache-*.json when they
# exist, else the repository's copies in tests/conformance/suites/. Executed directly rather than sourced: run this suite through tests/run.sh.
# shellcheck disable=SC2016  # the backquotes in expected messages are literal text
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" mustache

mu_dir=$T_TMP/mustache
mu_runner=build/tests/mustache_spec
mkdir -p "$mu_dir"

# ---- the conformance runner ----
t_case mustache/runner
if [ ! -x "$mu_runner" ] || [ tests/conformance/mustache_spec.c -nt "$mu_runner" ]; then
  t_exec make -s "$mu_runner"
  t_expect_rc 0
fi
[ -x "$mu_runner" ] || t_note "no $mu_runner (make $mu_runner failed)"
t_done

for mu_part in interpolation sections inverted comments; do
  mu_file=$(t_find_suite "conformance/mustache-$mu_part.json")
  if [ -z "$mu_file" ]; then
    skip "mustache/spec-$mu_part" "no mustache-$mu_part.json in ${SHARED_DIR:-../shared}/conformance/ or tests/conformance/suites/"
    continue
  fi
  for mu_which in FLOWC FLOWC_REL; do
    mu_flowc=${!mu_which}
    [ -n "$mu_flowc" ] || continue
    mu_name=mustache/spec-$mu_part
    [ "$mu_which" = FLOWC_REL ] && mu_name=$mu_name-release
    t_case "$mu_name"
    if [ -x "$mu_runner" ]; then
      t_exec "$mu_runner" "$mu_flowc" "$mu_file"
      t_expect_rc 0
      t_expect_grep "$C_OUT" '^mustache: [0-9]+ passed, 0 failed, 0 skipped$' "not every case passed"
    fi
    t_done
  done
done

# ---- eval --template beyond the spec ----

# mu_eval NAME DATA_JSON EXPECTED_STDOUT FLOWC_EVAL_ARGS...: exit 0 and exactly that output.
mu_eval() {
  local name=$1 data=$2 want=$3; shift 3
  local df
  df=$mu_dir/$(slug "$name").json
  printf '%s' "$data" >"$df"
  printf '%s' "$want" >"$df.want"
  t_case "mustache/$name"
  t_exec "$FLOWC" eval --data "$df" "$@"
  t_expect_rc 0
  cmp -s "$df.want" "$C_OUT" || t_note "output differs: expected [$want], got [$(cat "$C_OUT")]"
  t_done
}

# mu_eval_err NAME DATA_JSON ERE FLOWC_EVAL_ARGS...: exit 1, nothing on stdout, stderr matching ERE.
mu_eval_err() {
  local name=$1 data=$2 re=$3; shift 3
  local df
  df=$mu_dir/$(slug "$name").json
  printf '%s' "$data" >"$df"
  t_case "mustache/$name"
  t_exec "$FLOWC" eval --data "$df" "$@"
  t_expect_rc 1
  [ -s "$C_OUT" ] && t_note "printed output despite the error: $(head -c 200 "$C_OUT")"
  t_expect_grep "$C_ERR" "$re"
  t_done
}

mu_data='{"name":"Ada <L>","q":"say \"hi\"\n'"'"'x'"'"'","items":[{"sku":"a","qty":2},{"sku":"b","qty":0}],"tags":["x","y"],"o":{"k":1,"j":"two"},"n":null,"z":0,"e":"","big":1e21,"r":1.210}'

mu_eval escape-none "$mu_data" 'Ada <L>' --template '{{name}}'
mu_eval escape-html "$mu_data" 'say &quot;hi&quot;
&#x27;x&#x27; | Ada <L>' --template '{{q}} | {{{name}}}' --escape html
mu_eval escape-json "$mu_data" '{"q":"say \"hi\"\n'"'"'x'"'"'","n":"Ada <L>"}' --template '{"q":"{{q}}","n":"{{&name}}"}' --escape json
mu_eval numbers "$mu_data" '1.21 0 1e+21 3' --template '{{r}} {{z}} {{big}} {{add 1 2}}'
mu_eval values-as-text "$mu_data" '[x,y] {"k":1,"j":"two"} () true' --template '[{{join tags}}] {{o}} ({{n}}) {{eq z 0}}'
mu_eval each-loop-vars "$mu_data" '0:a*2(first);1:b*0(last);' \
  --template '{{#each items}}{{@index}}:{{sku}}*{{qty}}{{#if @first}}(first){{/if}}{{#if @last}}(last){{/if}};{{/each}}'
mu_eval each-object "$mu_data" 'k=1,j=two,' --template '{{#each o}}{{@key}}={{this}},{{/each}}'
mu_eval each-else "$mu_data" 'none' --template '{{#each missing}}x{{else}}none{{/each}}'
mu_eval if-handlebars-truthiness "$mu_data" 'no-z no-e sec-z sec-e' \
  --template '{{#if z}}z{{else}}no-z{{/if}} {{#if e}}e{{else}}no-e{{/if}} {{#z}}sec-z{{/z}} {{#e}}sec-e{{/e}}'
mu_eval else-if-chain "$mu_data" 'b' --template '{{#if z}}a{{else if name}}b{{else}}c{{/if}}'
mu_eval with-unless "$mu_data" '1two [0] none' \
  --template '{{#with o}}{{k}}{{j}}{{/with}} {{#with z}}[{{.}}]{{/with}}{{#unless z}} none{{/unless}}'
mu_eval block-helpers "$mu_data" 'eq lt nand or' \
  --template '{{#eq z 0}}eq{{/eq}} {{#compare z "<" 1}}lt{{/compare}} {{#and name z}}and{{else}}nand{{/and}} {{#or name z}}or{{/or}}'
mu_eval text-helpers "$mu_data" 'ada <l>|ADA <L>|a b|x-y|n/a|"two"' \
  --template '{{lowercase name}}|{{uppercase name}}|{{trim "  a b  "}}|{{join tags "-"}}|{{default n "n/a"}}|{{{jsonSerialize o.j}}}'
mu_eval subexpressions "$mu_data" 'yes' --template '{{#if (and (eq (add z 1) 1) (not e))}}yes{{/if}}'
# every helper a flow has, eval has: it runs the flow's own code
mu_eval all-helpers '{"d":"2024-03-05T10:30:00Z","s":"a,b,c","x":2.567,"name":"Jörg"}' \
  '2024-03-05|a;b;c|ör|__Jörg|a+b+c|2.57|true|J-rg|JÖRG|"Jörg"' \
  --template '{{dateFormat "YYYY-MM-DD" d}}|{{replace s "," ";"}}|{{substring name 1 2}}|{{padLeft name 6 "_"}}|{{join (split s ",") "+"}}|{{round x 2}}|{{regexMatch name "^\p{Lu}"}}|{{regexReplace name "[^a-zA-Z]" "-"}}|{{uppercase name}}|{{{jsonSerialize name}}}'

mu_eval_err syntax-error "$mu_data" '^<template>:1:3: error: unclosed `\{\{#x\}\}` section' --template 'a {{#x}} b'
mu_eval_err unknown-helper "$mu_data" 'unknown template helper `lowercse`; did you mean `lowercase`\?' --template '{{lowercse name}}'
mu_eval_err date-format-null "$mu_data" 'value error: format_date: expected a datetime, got null' --template '{{dateFormat "YYYY" n}}'
mu_eval_err helper-arity "$mu_data" 'template helper `add` takes 2 arguments' --template '{{add 1}}'
mu_eval_err parent-path "$mu_data" 'parent paths \(`\.\./x`\) are not supported' --template '{{#each items}}{{../name}}{{/each}}'
mu_eval_err type-error "$mu_data" 'value error: cannot use `\+` on a string and an int' --template '{{add name 1}}'
mu_eval_err bad-data '{"a": ' 'invalid JSON data' --template '{{a}}'

# sections nested over a large list multiply: stopped with an error, not a hang
mu_big=$mu_dir/big.json
awk 'BEGIN { printf "{\"a\":["; for (i = 0; i < 1000; i++) printf "%s%d", (i ? "," : ""), i; printf "]}" }' >"$mu_big"
t_case mustache/work-limit
t_exec "$FLOWC" eval --data "$mu_big" --template '{{#a}}{{#a}}{{#a}}{{/a}}{{/a}}{{/a}}'
t_expect_rc 1
t_expect_grep "$C_ERR" 'template rendering stopped after [0-9]+ steps'
t_done
