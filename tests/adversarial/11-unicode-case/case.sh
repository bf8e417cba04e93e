# Item 11 under hostile input: lower/upper of 300,000 combining marks out of canonical order (utf8proc
# alone reorders them in quadratic time: minutes per record) finish at once, native and JIT agree,
# and the mapping is Unicode's (final sigma, İ, NFC).
adv_started=$SECONDS
adv_both adversarial/11-unicode-case/flow --json
t_expect_rc 0
[ $((SECONDS - adv_started)) -lt 40 ] || t_note "took $((SECONDS - adv_started)) s: quadratic reordering?"
want=$(printf '%s\n' \
  '{"id":1,"lower_len":300006,"upper_len":300006,"head":"zalgo á̖","email":"müller@example.de"}' \
  '{"id":2,"lower_len":7,"upper_len":7,"head":"σίσυφος","email":"i̇lkay@örnek.tr"}')
got=$(cat "$ADV_NATIVE/out/cased.ndjson" 2>/dev/null)
[ "$got" = "$want" ] || t_note "out/cased.ndjson differs:" "$(diff <(echo "$want") <(echo "$got"))"
t_done
