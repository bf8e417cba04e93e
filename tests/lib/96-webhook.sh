#!/usr/bin/env bash
# Suite `webhook`: everything behind a webhook path (runtime/webhook.c, conn_webhook.c, the queue
# in state.c). The unit tests (tests/unit/webhook.c: published HMAC vectors, tokens, basic,
# secret_url, bodies, challenges, redeliveries, threads and group commit); then real flows
# (tests/webhook/*/flow.flow) built against the sanitized runtime, each with the driver
# tests/webhook/driver.c, which hands a request to flow_webhooks_handle as the listener does (or
# many at once, from threads): signatures made by `openssl dgst -hmac` for every algorithm and
# encoding and by the npm package @octokit/webhooks-methods (build/npm/webhook, SKIP without it),
# tokens, basic, secret_url (describe --show-secrets), 400/404/405/413, the durable queue across a
# kill -9 right after the answer, in the middle of a run and in the middle of a load of 8 threads
# at once (group commit), redeliveries, and the secrets nowhere they must not be.
# Executed directly rather than sourced: run it through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" webhook
# Processes killed in the middle of loads, and waits on them: tests/run.sh runs this suite in its
# timing lane (see there).
# lane: timing

wh_unit=build/tests/unit_webhook
t_build_unit webhook "$wh_unit"
t_case webhook/unit
if [ -n "$T_BUILT" ]; then
  rm -rf "$T_TMP/webhook-unit"; mkdir -p "$T_TMP/webhook-unit"
  t_exec env TMPDIR="$T_TMP/webhook-unit" "$wh_unit"
  t_expect_rc 0
  t_expect_grep "$C_OUT" '^webhook: [0-9]+ passed, 0 failed$' "not every assertion passed"
else
  t_note "not run: $wh_unit was not built"
fi
t_done

WH=$T_TMP/webhook
rm -rf "$WH"; mkdir -p "$WH"
WH_LIBS=$(make -s --no-print-directory print-libs)   # the Makefile's link line, one list

# wh_build NAME: tests/webhook/NAME copied to $WH/NAME, its flow built (prog, sanitized) and the
# driver linked with the flow's table (driver); 0 when both are there
wh_build() {
  local d=$WH/$1
  rm -rf "$d"; mkdir -p "$d/out"
  cp -r "tests/webhook/$1/." "$d/"
  san_build "$d" || return 1
  (cd "$d" && "$FLOWC" emit-c flow.flow >flow.c &&
     cc -std=c11 -D_POSIX_C_SOURCE=200809L $T_SAN_CFLAGS -I"$ROOT/runtime" -Dmain=flow_generated_main -c flow.c -o flow.o &&
     cc -std=c11 -D_POSIX_C_SOURCE=200809L $T_SAN_CFLAGS -I"$ROOT/runtime" -o driver "$ROOT/tests/webhook/driver.c" flow.o \
       "$ROOT/build/asan/libflowrt.a" $WH_LIBS) >>"$d/build.log" 2>&1
}

# wh_post DIR METHOD TARGET BODYFILE [HEADER...]: one request through the driver in DIR (its state
# in DIR/.flowstate); WH_STATUS, WH_QUEUED (the flow index, -1 none) and WH_BODY (the answer's body)
wh_post() {
  local dir=$1 method=$2 target=$3 body=$4; shift 4
  local args=() h
  for h in "$@"; do args+=(-H "$h"); done
  [ -n "$body" ] && args+=(--body "$body")
  (cd "$dir" && exec timeout -k 5 "$T_TIMEOUT" ./driver "$method" "$target" "${args[@]}") </dev/null >"$dir/post.out" 2>"$dir/post.err"
  WH_RC=$?
  WH_STATUS=$(sed -n 's/^status //p' "$dir/post.out")
  WH_QUEUED=$(sed -n 's/^queued //p' "$dir/post.out")
  WH_BODY=$(sed -n '/^type /,$p' "$dir/post.out" | tail -n +2)
  C_FILES+=("$dir/post.out" "$dir/post.err")
}

# wh_expect WHAT STATUS: the last answer's status
wh_expect() {
  [ "$WH_STATUS" = "$2" ] || t_note "$1: status ${WH_STATUS:-none} (exit $WH_RC), expected $2: $WH_BODY"
}

# ---- verification: oracles sign, the flow verifies ----

V=$WH/verify
t_case webhook/build-flows
if wh_build verify && wh_build queue; then :; else t_note "build failed: $(tail -n 20 "$V/build.log" "$WH/queue/build.log" 2>/dev/null)"; fi
t_done
export GH_SECRET="gh-secret It's a Secret to Everybody" SHOP_SECRET="shpss_0123456789abcdef" HOOK_SECRET="hook s3cret ünïcode"
export HOOK_TOKEN="tok-9f8e7d6c5b4a" HOOK_PASSWORD="pa:ss wörd" Q_TOKEN="q-token-5d41402abc4b2a76"

# a body with non-ASCII text, a newline and spaces: the raw bytes are what is signed
printf '{"id": 1, "note": "café — ok"}\n' >"$V/body.json"
printf '{"id": 1, "note": "café — ok" }\n' >"$V/tampered.json"

t_case webhook/openssl
for alg in sha1 sha256 sha384 sha512; do
  for enc in hex base64; do
    case $alg-$enc in
      sha1-hex) prefix=sha1= ;; sha256-base64) prefix=v1, ;; sha384-hex) prefix=sha384= ;; sha512-base64) prefix=sha512= ;; *) prefix= ;;
    esac
    if [ $enc = hex ]; then sig=$(openssl dgst -"$alg" -hmac "$HOOK_SECRET" -hex <"$V/body.json" | sed 's/^.*= //')
    else sig=$(openssl dgst -"$alg" -hmac "$HOOK_SECRET" -binary <"$V/body.json" | base64 -w0); fi
    wh_post "$V" POST "/hooks/$alg-$enc" "$V/body.json" "X-Sig: $prefix$sig"; wh_expect "$alg $enc signed by openssl" 204
    [ "$WH_QUEUED" -ge 0 ] 2>/dev/null || t_note "$alg $enc: nothing queued ($WH_QUEUED)"
    wh_post "$V" POST "/hooks/$alg-$enc" "$V/tampered.json" "X-Sig: $prefix$sig"; wh_expect "$alg $enc, the body changed" 401
    [ "$WH_QUEUED" = -1 ] || t_note "$alg $enc: a refused request was queued"
    wrong=$(printf x | openssl dgst -"$alg" -hmac "$HOOK_SECRET" -hex | sed 's/^.*= //')
    wh_post "$V" POST "/hooks/$alg-$enc" "$V/body.json" "X-Sig: $prefix$wrong"; wh_expect "$alg $enc, another body's signature" 401
    other=$(openssl dgst -"$alg" -hmac "another secret" -binary <"$V/body.json" | { [ $enc = hex ] && od -An -tx1 | tr -d ' \n' || base64 -w0; })
    wh_post "$V" POST "/hooks/$alg-$enc" "$V/body.json" "X-Sig: $prefix$other"; wh_expect "$alg $enc, another secret" 401
    [ $enc = hex ] && { wh_post "$V" POST "/hooks/$alg-$enc" "$V/body.json" "X-Sig: $prefix$(printf %s "$sig" | tr a-f A-F)"
                        wh_expect "$alg hex in upper case" 204; }
    wh_post "$V" POST "/hooks/$alg-$enc" "$V/body.json"; wh_expect "$alg $enc unsigned" 401
  done
done
t_done

t_case webhook/github-octokit
if [ ! -f build/npm/webhook/node_modules/@octokit/webhooks-methods/package.json ]; then
  skip webhook/github-octokit "@octokit/webhooks-methods is not in build/npm/webhook: npm could not reach its registry when scripts/deps.sh test ran (see build/npm/webhook/npm.log)"
else
  sig=$(SIGN_SECRET=$GH_SECRET node tests/webhook/sign.mjs build/npm/webhook sign "$V/body.json")
  case $sig in sha256=*) ;; *) t_note "octokit did not sign: $sig" ;; esac
  wh_post "$V" POST /hooks/github "$V/body.json" "X-Hub-Signature-256: $sig" "X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958" \
    "X-GitHub-Event: issues"
  wh_expect "signed by @octokit/webhooks-methods" 204
  wh_post "$V" POST /hooks/github "$V/tampered.json" "X-Hub-Signature-256: $sig"; wh_expect "octokit's signature, another body" 401
  # the oracles agree: what openssl makes octokit verifies
  mine=sha256=$(openssl dgst -sha256 -hmac "$GH_SECRET" -hex <"$V/tampered.json" | sed 's/^.*= //')
  ok=$(SIGN_SECRET=$GH_SECRET node tests/webhook/sign.mjs build/npm/webhook verify "$V/tampered.json" "$mine")
  [ "$ok" = true ] || t_note "octokit does not verify openssl's signature: $ok"
  wh_post "$V" POST /hooks/github "$V/tampered.json" "X-Hub-Signature-256: $mine"; wh_expect "openssl's signature of the other body" 204
  wh_post "$V" POST /hooks/github "$V/body.json" "X-Hub-Signature-256: ${sig#sha256=}"; wh_expect "without sha256=" 401
  t_done
fi

t_case webhook/shopify
sig=$(openssl dgst -sha256 -hmac "$SHOP_SECRET" -binary <"$V/body.json" | base64 -w0)
wh_post "$V" POST /hooks/shopify "$V/body.json" "X-Shopify-Hmac-Sha256: $sig" "X-Shopify-Webhook-Id: b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
wh_expect "a Shopify signature" 204
wh_post "$V" POST /hooks/shopify "$V/body.json" "X-Shopify-Hmac-Sha256: $(openssl dgst -sha256 -hmac "$SHOP_SECRET" -hex <"$V/body.json" | sed 's/^.*= //')"
wh_expect "hex for a base64 header" 401
t_done

t_case webhook/token-basic
printf '{"events":[{"n":1},{"n":2}]}' >"$V/events.json"
wh_post "$V" POST /hooks/token "$V/events.json" "X-Webhook-Token: $HOOK_TOKEN"; wh_expect "the token" 202
wh_post "$V" POST /hooks/token "$V/events.json" "X-Webhook-Token: ${HOOK_TOKEN}x"; wh_expect "a longer token" 401
wh_post "$V" POST /hooks/token "$V/events.json" "X-Webhook-Token: ${HOOK_TOKEN%?}"; wh_expect "a shorter token" 401
wh_post "$V" POST /hooks/token "$V/events.json"; wh_expect "no token" 401
wh_post "$V" POST "/hooks/token-query?key=$HOOK_TOKEN&x=1" "$V/body.json"; wh_expect "the token in the query" 204
wh_post "$V" POST "/hooks/token-query?key=nope" "$V/body.json"; wh_expect "a wrong token in the query" 401
wh_post "$V" POST "/hooks/token-query" "$V/body.json" "key: $HOOK_TOKEN"; wh_expect "the token in a header, not the query" 401
cred=$(printf 'partner:%s' "$HOOK_PASSWORD" | base64 -w0)
wh_post "$V" POST /hooks/basic "$V/body.json" "Authorization: Basic $cred"; wh_expect "basic credentials" 200
wh_post "$V" POST /hooks/basic "$V/body.json" "Authorization: Basic $(printf 'partner:pa:ss' | base64 -w0)"; wh_expect "a wrong password" 401
wh_post "$V" POST /hooks/basic "$V/body.json" "Authorization: Basic $(printf 'other:%s' "$HOOK_PASSWORD" | base64 -w0)"; wh_expect "a wrong user" 401
wh_post "$V" POST /hooks/basic "$V/body.json"; wh_expect "no credentials" 401
t_done

t_case webhook/secret-url
t_exec -C "$V" ./prog describe
t_expect_rc 0
t_expect_grep "$C_OUT" '"url":"/hooks/secret/<redacted>"' "describe hides the secret"
t_exec -C "$V" ./prog describe --show-secrets
t_expect_rc 0
url=$(grep -o '"url":"/hooks/secret/[0-9a-f]*"' "$C_OUT" | sed 's/"url":"//; s/"$//')
[ ${#url} = $((14 + 32)) ] || t_note "describe --show-secrets shows no secret URL: $(head -c 400 "$C_OUT")"
t_exec -C "$V" ./prog describe --show-secrets
grep -q "\"url\":\"$url\"" "$C_OUT" || t_note "the secret changed between two describes"
wh_post "$V" POST "$url" "$V/body.json"; wh_expect "the secret URL" 204
wh_post "$V" POST "/hooks/secret/0123456789abcdef0123456789abcdef" "$V/body.json"; wh_expect "a guessed secret" 401
wh_post "$V" POST "/hooks/secret" "$V/body.json"; wh_expect "the path without its secret" 401
printf '{"challenge":"c-123","type":"url_verification"}' >"$V/challenge.json"
wh_post "$V" POST "$url" "$V/challenge.json"; wh_expect "a handshake" 200
[ "$WH_BODY" = c-123 ] || t_note "the challenge was not echoed: $WH_BODY"
t_done

t_case webhook/answers
wh_post "$V" POST /hooks/nope "$V/body.json"; wh_expect "an unknown path" 404
wh_post "$V" GET /hooks/token ""; wh_expect "GET" 405
wh_post "$V" PUT /hooks/token "$V/events.json" "X-Webhook-Token: $HOOK_TOKEN"; wh_expect "PUT" 405
printf 'not json' >"$V/bad.txt"
wh_post "$V" POST /hooks/token "$V/bad.txt" "X-Webhook-Token: $HOOK_TOKEN"; wh_expect "not JSON" 400
case $WH_BODY in *'not JSON: malformed JSON at line 1, column 1'*) ;; *) t_note "400 without the reader's error: $WH_BODY" ;; esac
printf '{"events":[]}\n{"events":' >"$V/bad.ndjson"
wh_post "$V" POST /hooks/token "$V/bad.ndjson" "X-Webhook-Token: $HOOK_TOKEN"; wh_expect "a bad NDJSON line" 400
case $WH_BODY in *'line 2: malformed JSON'*) ;; *) t_note "400 without the line: $WH_BODY" ;; esac
head -c $((5 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$V/big.json"
wh_post "$V" POST /hooks/token "$V/big.json" "X-Webhook-Token: $HOOK_TOKEN"; wh_expect "5 MB and a byte" 413
t_done

t_case webhook/run-verified
# everything accepted above is queued: one run per flow takes it, in arrival order
t_exec -C "$V" ./prog run --json
t_expect_rc 0
one='{"id":1,"note":"café — ok"}'
for f in sha1_base64 sha256_base64 sha384_base64 sha512_base64 shopify secret_path; do
  [ "$(cat "$V/out/$f.ndjson" 2>/dev/null)" = "$one" ] || t_note "$f wrote: $(head -c 300 "$V/out/$f.ndjson" 2>/dev/null)"
done
for f in sha1_hex sha256_hex sha384_hex sha512_hex; do   # signed in lower and in upper case
  [ "$(cat "$V/out/$f.ndjson" 2>/dev/null)" = "$(printf '%s\n%s' "$one" "$one")" ] || t_note "$f wrote: $(head -c 300 "$V/out/$f.ndjson" 2>/dev/null)"
done
[ "$(cat "$V/out/token_header.ndjson" 2>/dev/null)" = "$(printf '{"n":1}\n{"n":2}')" ] || t_note "token_header wrote: $(cat "$V/out/token_header.ndjson")"
[ "$(wc -l <"$V/out/basic_auth.ndjson" 2>/dev/null)" = 1 ] || t_note "basic_auth wrote: $(cat "$V/out/basic_auth.ndjson")"
t_exec -C "$V" ./prog run --json
grep -q '"exported":[1-9]' "$C_OUT" && t_note "a second run exported again: $(grep '"exported":[1-9]' "$C_OUT" | head -3)"
t_done

# ---- the durable queue ----

Q=$WH/queue
# wh_ids: the ids in the database and the file, sorted, one line each
wh_db_ids() { sqlite3 "$Q/out/queue.db" 'select id from items order by id' 2>/dev/null | tr '\n' ' '; }
wh_file_ids() { sed 's/.*"id":\([0-9]*\).*/\1/' "$Q/out/items.ndjson" 2>/dev/null | sort -n | tr '\n' ' '; }

t_case webhook/kill-after-answer
rm -rf "$Q/.flowstate" "$Q/out"; mkdir -p "$Q/out"
for t in db file; do
  t_items 1 3 "$Q/a.json"
  wh_post "$Q" POST "/q/$t" "$Q/a.json" "X-Token: $Q_TOKEN"   # answered and queued, then the process goes on
  wh_expect "queued for $t" 204
  t_items 4 6 "$Q/b.json"
  rc=$( { (cd "$Q" && exec ./driver --kill POST "/q/$t" -H "X-Token: $Q_TOKEN" --body b.json) </dev/null >/dev/null 2>&1; echo $?; } 2>/dev/null)
  [ $rc = 137 ] || t_note "the driver was to die by SIGKILL right after the answer: exit $rc"
done
t_exec -C "$Q" ./driver --pending
t_expect_grep "$C_OUT" '^pending to_db 2$' "two events queued for to_db"
t_exec -C "$Q" ./prog run --json
t_expect_rc 0
[ "$(wh_db_ids)" = "$(t_seq 1 6)" ] || t_note "database after the restart: $(wh_db_ids)"
[ "$(wh_file_ids)" = "$(t_seq 1 6)" ] || t_note "file after the restart: $(wh_file_ids)"
t_exec -C "$Q" ./prog run --json
t_expect_grep "$C_OUT" '"flow":"to_db","exported":0' "a second run takes nothing"
[ "$(wh_db_ids)" = "$(t_seq 1 6)" ] || t_note "database after a second run: $(wh_db_ids)"
t_done

t_case webhook/kill-mid-run
rm -rf "$Q/.flowstate" "$Q/out"; mkdir -p "$Q/out"
# three requests of 3 records: 9 records in 5 pages of 2; the run dies before page 3 is written
for r in 0 1 2; do
  t_items $((r * 3 + 1)) $((r * 3 + 3)) "$Q/r.json"
  for t in db file; do wh_post "$Q" POST "/q/$t" "$Q/r.json" "X-Token: $Q_TOKEN"; wh_expect "request $r for $t" 204; done
done
for t in db file; do
  rc=$( { (cd "$Q" && WEBHOOK_KILL_AT_PAGE=3 exec timeout -k 5 "$T_TIMEOUT" ./prog run "to_$t") </dev/null >"$Q/killed.out" 2>"$Q/killed.err"
          echo $?; } 2>/dev/null)
  C_FILES+=("$Q/killed.out" "$Q/killed.err")
  [ $rc = 137 ] || t_note "the run of to_$t was to die at page 3: exit $rc"
done
[ "$(wh_db_ids)" = "$(t_seq 1 4)" ] || t_note "the pages written for good before the kill: $(wh_db_ids)"
[ -f "$Q/out/items.ndjson" ] && t_note "the file import kept a killed run's writes: $(cat "$Q/out/items.ndjson")"
t_exec -C "$Q" ./prog run --json
t_expect_rc 0
t_expect_grep "$C_OUT" '"flow":"to_db","exported":5,' "to_db resumes after the 4 records it took for good"
t_expect_grep "$C_OUT" '"flow":"to_file","exported":9,' "to_file takes all 9 again (its writes were discarded)"
[ "$(wh_db_ids)" = "$(t_seq 1 9)" ] || t_note "database: each record once: $(wh_db_ids)"
[ "$(wh_file_ids)" = "$(t_seq 1 9)" ] || t_note "file: each record once: $(wh_file_ids)"
t_done

t_case webhook/kill-under-load
# 8 threads at once (the listener's), requests committed in groups; kill -9 in the middle: every
# request answered before the kill is processed, once, and nothing is processed twice
rm -rf "$Q/.flowstate" "$Q/out" "$Q/acked.txt"; mkdir -p "$Q/out"
printf '{"items":[{"id":@ID@,"name":"load"}]}' >"$Q/load.json"
(cd "$Q" && exec ./driver --load 8 2000 --acked acked.txt POST /q/db -H "X-Token: $Q_TOKEN" --body load.json) </dev/null >"$Q/load.out" 2>"$Q/load.err" &
lpid=$!
for _ in $(seq 600); do [ -f "$Q/acked.txt" ] && [ "$(wc -l <"$Q/acked.txt")" -ge 200 ] && break; kill -0 $lpid 2>/dev/null || break; sleep 0.05; done
kill -9 $lpid 2>/dev/null || t_note "the load ended before the kill: $(cat "$Q/load.out" "$Q/load.err")"
wait $lpid 2>/dev/null
C_FILES+=("$Q/load.out" "$Q/load.err")
touch "$Q/acked.txt"
acked=$(sort -u "$Q/acked.txt" | wc -l)
[ "$acked" -ge 200 ] || t_note "only $acked requests answered before the kill"
[ "$(wc -l <"$Q/acked.txt")" = "$acked" ] || t_note "a request answered as queued twice"
t_exec -C "$Q" ./prog run to_db --json
t_expect_rc 0
t_expect_grep "$C_OUT" '"flow":"to_db","exported":[1-9]' "the run takes the queued requests"
sqlite3 "$Q/out/queue.db" 'select id from items' | sort >"$Q/imported.txt"
dups=$(uniq -d "$Q/imported.txt" | head -5 | tr '\n' ' ')
[ -z "$dups" ] || t_note "records imported twice: $dups"
lost=$(sort "$Q/acked.txt" | comm -23 - "$Q/imported.txt" | head -5 | tr '\n' ' ')
[ -z "$lost" ] || t_note "answered and never processed: $lost"
[ "$(awk '$1 < 1 || $1 > 16000' "$Q/imported.txt" | head -1)" = "" ] || t_note "a record no request sent"
t_exec -C "$Q" ./prog run to_db --json
t_expect_grep "$C_OUT" '"flow":"to_db","exported":0' "a second run takes nothing"
t_done

t_case webhook/redelivery
rm -rf "$Q/.flowstate" "$Q/out"; mkdir -p "$Q/out"
t_items 1 2 "$Q/a.json"
for i in 1 2 3; do
  wh_post "$Q" POST /q/db "$Q/a.json" "X-Token: $Q_TOKEN" "X-GitHub-Delivery: 5a0d5b10-0000-4000-8000-000000000001"
  wh_expect "delivery $i" 204
done
t_items 3 3 "$Q/b.json"
wh_post "$Q" POST /q/db "$Q/b.json" "X-Token: $Q_TOKEN" "Idempotency-Key: key-1"; wh_expect "an idempotency key" 204
wh_post "$Q" POST /q/db "$Q/b.json" "X-Token: $Q_TOKEN" "Idempotency-Key: key-1"; wh_expect "the same key" 204
t_items 10 10 "$Q/c.json"
wh_post "$Q" POST /q/db "$Q/c.json" "X-Token: $Q_TOKEN"; wh_expect "no key" 204
wh_post "$Q" POST /q/db "$Q/c.json" "X-Token: $Q_TOKEN"; wh_expect "the same body, no key" 204
t_exec -C "$Q" ./prog run to_db --json
t_expect_rc 0
[ "$(wh_db_ids)" = "1 2 3 10 10 " ] || t_note "a delivery once, identical bodies without a key twice: $(wh_db_ids)"
# a redelivery after the run is still recognised (24 h)
wh_post "$Q" POST /q/db "$Q/a.json" "X-Token: $Q_TOKEN" "X-GitHub-Delivery: 5a0d5b10-0000-4000-8000-000000000001"
wh_expect "a redelivery after the run" 204
[ "$WH_QUEUED" = -1 ] || t_note "a redelivery after the run was queued"
t_done

# ---- secrets: never in logs, describe, the store's other tables or error records ----

t_case webhook/secrets
# a record the declared type refuses (name is no string) is an error with its data in the store
printf '{"items":[{"id":20,"name":"ok"},{"id":21,"name":5}]}' >"$Q/e.json"
wh_post "$Q" POST /q/db "$Q/e.json" "X-Token: $Q_TOKEN"; wh_expect "a request with a bad record" 204
wh_post "$Q" POST /q/db "$Q/e.json" "X-Token: wrong-$Q_TOKEN"; wh_expect "a wrong token" 401
t_exec -C "$Q" ./prog run to_db --json
t_expect_rc 3
t_exec -C "$Q" ./prog errors list --json
t_expect_grep "$C_OUT" '"record":\{"id":21,"name":5\}' "the record error is kept"
for f in "$Q"/*.out "$Q"/*.err "$T_TMP"/cases/webhook_*; do [ -f "$f" ] || continue
  grep -qF -e "$Q_TOKEN" -e "$HOOK_TOKEN" -e "$GH_SECRET" -e "$HOOK_SECRET" -e "$SHOP_SECRET" -e "$HOOK_PASSWORD" "$f" &&
    t_note "a secret in $(basename "$f")"
done
t_exec -C "$V" ./prog describe
for s in "$HOOK_TOKEN" "$GH_SECRET" "$HOOK_SECRET" "$SHOP_SECRET" "$HOOK_PASSWORD" "${url##*/}"; do
  grep -qF -- "$s" "$C_OUT" && t_note "describe shows a secret"
done
t_expect_grep "$C_OUT" '"secret":"<redacted>"' "describe redacts the hmac secret"
for dir in "$Q" "$V"; do
  db=$(ls "$dir"/.flowstate/*.state.db)
  # every table but webhook_secrets (the one that holds secret_url's secret)
  for tbl in $(sqlite3 "$db" "select name from sqlite_master where type = 'table' and name <> 'webhook_secrets'"); do
    sqlite3 "$db" "select * from $tbl" >"$WH/table.txt"
    grep -qF -e "$Q_TOKEN" -e "$HOOK_TOKEN" -e "$GH_SECRET" -e "$HOOK_SECRET" -e "$SHOP_SECRET" -e "$HOOK_PASSWORD" -e "${url##*/}" "$WH/table.txt" &&
      t_note "a secret in table $tbl of $db"
  done
  [ "$(stat -c %a "$db")" = 600 ] || [ "$dir" = "$Q" ] || t_note "the store holding a secret_url secret is $(stat -c %a "$db"), not 600"
done
[ "$(sqlite3 "$(ls "$V"/.flowstate/*.state.db)" 'select count(*) from webhook_secrets')" = 1 ] || t_note "no secret_url secret kept"
t_done

t_case webhook/secrets-baked
B=$WH/baked
if ! wh_build baked; then t_note "build failed: $(tail -n 20 "$B/build.log")"; fi
strings -a "$B/prog" | grep -qF -e literal-secret-0f1e2d3c4b5a -e param-token-7c4a8d09ca3762af && t_note "a secret in the program's strings"
[ "$(stat -c %a "$B/prog")" = 700 ] || t_note "the program is $(stat -c %a "$B/prog"), not 700"
t_exec -C "$B" ./prog describe
t_expect_rc 0
t_expect_nogrep "$C_OUT" 'literal-secret|param-token' "describe shows a secret"
t_expect_grep "$C_OUT" '"name":"partner_token","kind":"string","value":"<redacted>"' "a param given to token() is a secret param"
t_expect_grep "$C_OUT" '"name":"hook_path","kind":"string","value":"/hooks/partner"' "the path's param is no secret"
t_expect_grep "$C_OUT" '"url":"/hooks/partner"' "the path from its param"
printf '{"a":1}' >"$B/body.json"
wh_post "$B" POST /hooks/signed "$B/body.json" "X-Sig: $(openssl dgst -sha256 -hmac literal-secret-0f1e2d3c4b5a -hex <"$B/body.json" | sed 's/^.*= //')"
wh_expect "the unmasked literal secret verifies" 204
wh_post "$B" POST /hooks/partner "$B/body.json" "X-Partner-Token: param-token-7c4a8d09ca3762af"; wh_expect "the param's token" 204
t_done
