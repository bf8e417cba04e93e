# Item 19: `flowc eval` and `flowc eval --template` print exactly what a flow writes for the same
# expressions (they are compiled by the same emitter and run by the JIT): the map's entries below
# are given to eval as one object, with the exported record as data.
adv_both adversarial/19-eval-drift/flow --json
t_expect_rc 0
head -n 1 "$ADV_NATIVE/data/orders.ndjson" > record.json
t_exec "$FLOWC" eval --data record.json '{
  sum = record.total + record.extra,
  third = record.total / 3,
  tax = round(record.total * 0.19, 2),
  label = "{{padLeft (toString record.id) 5 \"0\"}}-{{uppercase record.name}}",
  day = "{{dateFormat \"DD.MM.YYYY\" record.created_at}}",
  lines = "{{#each record.items}}{{sku}}x{{qty}}={{multiply qty price}}{{#unless @last}};{{/unless}}{{/each}}",
  short = "{{substring record.name 0 4}}|{{replace record.name \" \" \"_\"}}|{{join (split record.name \" \") \"+\"}}",
  checks = "{{regexMatch record.name \"^\\p{Lu}\"}}/{{regexReplace record.name \"[aeiou]\" \"*\"}}/{{round record.extra 1}}",
  json = "{{jsonSerialize record.name}}",
  upper = upper(record.name) }'
t_expect_rc 0
flow_line=$(cat "$ADV_NATIVE/out/orders.ndjson" 2>/dev/null)
[ "$(cat "$C_OUT")" = "$flow_line" ] || t_note "eval and the flow differ:" "flow: $flow_line" "eval: $(cat "$C_OUT")"
case $flow_line in *'"sum":1547.92,'*) ;; *) t_note "the flow wrote $flow_line";; esac
# the template form: the data is the root context, so `id` is `record.id`
t_exec "$FLOWC" eval --data record.json --template '{{padLeft (toString id) 5 "0"}}-{{uppercase name}}|{{dateFormat "DD.MM.YYYY" created_at}}'
t_expect_rc 0
[ "$(cat "$C_OUT")" = '00007-JÖRG STRASSE|01.11.2026' ] || t_note "eval --template printed $(cat "$C_OUT")"
t_done
