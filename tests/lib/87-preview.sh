#!/usr/bin/env bash
# Suite `preview`: `flowc preview` — the JSON form is compared with golden files (first page, every
# step's input and output, lookup results, what imports would write); --limit, --mock STEP=FILE
# (refused for a name that is not the export, a lookup or `existing`), -P / --param (refused for an
# undeclared param), --live (which shows what it wrote); an http import with a body shows the
# rendered body; a preview writes nothing (no file, no database) unless --live.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" preview

pv=$T_TMP/preview
rm -rf "$pv"; mkdir -p "$pv"
cp -r tests/preview/flow.flow tests/preview/body.flow tests/preview/data tests/preview/mocks "$pv/"
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
# it says what it wrote: the record now in out/big.ndjson
t_expect_grep "$C_OUT" '^    wrote:   1 record$' "the live preview does not report the record it wrote"
t_expect_grep "$C_OUT" '^      \{"id":1,"owner":"ann"\}$'
[ "$(cat "$pv/out/big.ndjson" 2>/dev/null)" = '{"id":1,"owner":"ann"}' ] || t_note "out/big.ndjson: $(cat "$pv/out/big.ndjson" 2>&1)"
t_exec -C "$pv" "$FLOWC" preview flow.flow --live --limit 2 --format json
t_expect_grep "$C_OUT" '"wrote":'
t_expect_nogrep "$C_OUT" '"would_write":' "a live preview's JSON says would_write"
t_done

# an http import with a `body` template: the preview shows the body it would send, rendered
t_case "preview/http-body"
t_exec -C "$pv" "$FLOWC" preview body.flow
t_expect_rc 0
t_expect_grep "$C_OUT" '^      \{"deal":"order-1","contact":"a@x"\}$' "the rendered body is not shown"
t_expect_grep "$C_OUT" '^      \{"deal":"order-4","contact":"d@x"\}$'
t_expect_nogrep "$C_OUT" '^    would write: 4 records$' "the filter's param was not applied"
t_done

# -P (and --param) set a declared param; an undeclared one is refused with the closest name
t_case "preview/params"
t_exec -C "$pv" "$FLOWC" preview body.flow -P min_total=0
t_expect_rc 0
t_expect_grep "$C_OUT" '^    would write: 4 records$' "-P min_total=0 did not reach the filter"
t_exec -C "$pv" "$FLOWC" preview body.flow --param min_total=0
t_expect_rc 0
t_expect_grep "$C_OUT" '^    would write: 4 records$' "--param min_total=0 did not reach the filter"
t_exec -C "$pv" "$FLOWC" preview body.flow -P min_totl=s3cr3tvalue
t_expect_rc 2
t_expect_grep "$C_ERR" 'declares no param `min_totl`; did you mean `min_total`\?'
t_expect_nogrep "$C_ERR" 's3cr3tvalue' "the refused value was printed"
[ ! -s "$C_OUT" ] || t_note "a preview ran with an undeclared param"
t_done

# --mock names the export, a lookup or `existing`; anything else is refused before the run
t_case "preview/mock-unknown-step"
t_exec -C "$pv" "$FLOWC" preview flow.flow --mock order=mocks/orders.json
t_expect_rc 2
t_expect_grep "$C_ERR" 'flow orders in flow\.flow has no export or lookup `order`; did you mean `orders`\?'
[ ! -s "$C_OUT" ] || t_note "the preview ran"
t_exec -C "$pv" "$FLOWC" preview flow.flow --mock big=mocks/orders.json
t_expect_rc 2
t_expect_grep "$C_ERR" '`big` is an import of flow orders; only the export and lookups are mocked'
t_done

# --mock existing=FILE: the record every upsert finds, so the map takes its update path
t_case "preview/mock-existing"
t_exec -C "$pv" "$FLOWC" preview body.flow --mock existing=mocks/existing.json
t_expect_rc 0
t_expect_grep "$C_OUT" '^      \{"id":1,"seen":42\}$' "the upsert did not update the given existing record"
t_exec -C "$pv" "$FLOWC" preview body.flow --mock existing=data/orders.ndjson
t_expect_rc 2
t_expect_grep "$C_ERR" '--mock existing: data/orders\.ndjson must hold one record'
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
