#!/usr/bin/env bash
# Suite `preview`: `flowc preview` — the JSON form is compared with golden files (first page, every
# step's input and output, lookup results, what imports would write); --limit, --mock STEP=FILE,
# --live; a preview writes nothing (no file, no database) unless --live.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" preview

pv=$T_TMP/preview
rm -rf "$pv"; mkdir -p "$pv"
cp -r tests/preview/flow.flow tests/preview/data tests/preview/mocks "$pv/"
printf 'CREATE TABLE owners (email TEXT, name TEXT);\nINSERT INTO owners VALUES (%s, %s);\n' "'A@X'" "'ann'" | sqlite3 "$pv/data/crm.db"

# pv_golden NAME ARGS...: (cd scratch && flowc preview flow.flow ARGS) vs tests/preview/NAME.expected
pv_golden() {
  local name=$1; shift
  local out=$T_TMP/preview-$name.out
  (cd "$pv" && timeout 60 "$FLOWC" preview flow.flow "$@" 2>&1; echo "exit $?") >"$out"
  if golden_cmp "$ROOT/tests/preview/$name.expected" "$out"; then pass "preview/$name$G_NOTE"
  else fail "preview/$name" "${G_MSGS[@]}"; fi
}

pv_golden json-limit-3 --format json --limit 3
pv_golden json-mocks --format json --mock orders=mocks/orders.json --mock owner=mocks/owner.json

t_case "preview/writes-nothing"
t_exec -C "$pv" "$FLOWC" preview flow.flow
t_expect_rc 0
[ ! -e "$pv/out" ] || t_note "a preview created out/: $(ls -R "$pv/out")"
t_expect_grep "$C_OUT" '^preview of flow orders \(first page, at most 20 records, imports do not write\)$'
t_expect_grep "$C_OUT" '^import big  \(arm big\)$'
t_expect_grep "$C_OUT" 'would write: 2 records'
t_done

t_case "preview/live-writes"
t_exec -C "$pv" "$FLOWC" preview flow.flow --live --limit 2
t_expect_rc 0
[ -s "$pv/out/big.ndjson" ] || t_note "--live did not write out/big.ndjson"
t_done

t_case "preview/bad-limit"
t_exec -C "$pv" "$FLOWC" preview flow.flow --limit 101
t_expect_rc 2
t_done

t_case "preview/unknown-flow"
t_exec -C "$pv" "$FLOWC" preview flow.flow --flow nope
t_expect_rc 2
t_expect_grep "$C_ERR" 'no flow `nope`'
t_done

t_case "preview/secrets-redacted"
mkdir -p "$pv/sec/data"; echo '{"id":1}' > "$pv/sec/data/in.ndjson"; cp tests/preview/secret.flow "$pv/sec/"
t_exec -C "$pv/sec" env SEC_TOKEN_X=hunter2secret "$FLOWC" preview secret.flow --format json
t_expect_rc 0
t_expect_nogrep "$C_OUT" 'hunter2secret' "the secret appears in the preview"
t_expect_grep "$C_OUT" '"auth":[[:space:]]*"Bearer <redacted>"'
t_exec -C "$pv/sec" env SEC_TOKEN_X=hunter2secret "$FLOWC" preview secret.flow
t_expect_nogrep "$C_OUT" 'hunter2secret' "the secret appears in the text preview"
t_done
