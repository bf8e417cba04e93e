# Item 20: one regex engine. regex_match and JSONPath's match() agree; the built flow and the JIT
# agree on code-point matching, \d, \p{..} and groups; `(a+)+$` on 50,000 characters finishes at once.
t_case adversarial/20-regex-one-engine/eval-agrees-with-jsonpath
printf '{}' > empty.json
t_exec "$FLOWC" eval --data empty.json 'regex_match("é", "^.$")'
t_expect_rc 0
[ "$(cat "$C_OUT")" = true ] || t_note "regex_match(\"é\", \"^.$\") printed $(cat "$C_OUT"), expected true"
printf '["é", "ab", "1"]' > values.json
t_exec "$FLOWC" eval --data values.json --path '$[?match(@, "^.$")]'
t_expect_rc 0
[ "$(cat "$C_OUT")" = '["é","1"]' ] || t_note "match() printed $(cat "$C_OUT")"
t_exec "$FLOWC" eval --data empty.json 'regex_match("7", "^\\d$")'
[ "$(cat "$C_OUT")" = true ] || t_note "regex_match(\"7\", \"^\\\\d$\") printed $(cat "$C_OUT") $(cat "$C_ERR")"
t_done

adv_started=$SECONDS
adv_both adversarial/20-regex-one-engine/flow --json
t_expect_rc 0
# both runs, the build included: `(a+)+$` over 50,000 characters must not backtrack
[ $((SECONDS - adv_started)) -lt 40 ] || t_note "took $((SECONDS - adv_started)) s: catastrophic backtracking?"
[ -f "$ADV_NATIVE/out/checked.ndjson" ] || t_note "no out/checked.ndjson"
got=$(cat "$ADV_NATIVE/out/checked.ndjson" 2>/dev/null)
want=$(printf '%s\n' \
  '{"id":1,"one_char":true,"capitalised":true,"digits":"330612345678","swapped":"lodieÉ","pathological":false}' \
  '{"id":2,"one_char":false,"capitalised":false,"digits":"00491701234567","swapped":"üllerm","pathological":true}' \
  '{"id":3,"one_char":true,"capitalised":true,"digits":"","swapped":"rstedØ","pathological":false}')
[ "$got" = "$want" ] || t_note "out/checked.ndjson differs:" "$(diff <(echo "$want") <(echo "$got"))"
t_done
