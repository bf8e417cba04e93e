#!/usr/bin/env bash
# Suite `httpserver`: the test server the http connector's tests will use (tests/http/server.c)
# starts on 127.0.0.1, pages, fails on purpose, checks auth, counts requests, and stops cleanly.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" httpserver

hs_dir=$T_TMP/httpserver
rm -rf "$hs_dir"; mkdir -p "$hs_dir"
t_case "httpserver/build"
t_exec make -s build/tests/http_server
t_expect_rc 0
t_done

if [ -x build/tests/http_server ] && command -v curl >/dev/null 2>&1; then
  build/tests/http_server --port 0 --ready "$hs_dir/port" --records 25 >"$hs_dir/out" 2>"$hs_dir/err" &
  hs_pid=$!
  for _ in $(seq 100); do [ -s "$hs_dir/port" ] && break; sleep 0.05; done
  port=$(cat "$hs_dir/port" 2>/dev/null)
  base=http://127.0.0.1:$port
  hs_get() { curl -s --max-time 10 "$@"; }

  t_case "httpserver/pages-number"
  [ -n "$port" ] || t_note "the server did not write its port"
  n=$(hs_get "$base/pages/number?page=3&per_page=10" | jq '.data | length')
  [ "$n" = 5 ] || t_note "page 3 of 25 records by 10 has $n records, expected 5"
  last=$(hs_get "$base/pages/number?page=3&per_page=10" | jq '.meta.last_page')
  [ "$last" = true ] || t_note "page 3 is not the last page ($last)"
  t_done

  t_case "httpserver/cursor-walk"
  total=0; cur=; guard=0
  while [ $guard -lt 20 ]; do
    body=$(hs_get "$base/pages/cursor?limit=7${cur:+&cursor=$cur}")
    total=$((total + $(echo "$body" | jq '.items | length')))
    cur=$(echo "$body" | jq -r '.next_cursor // empty')
    [ -n "$cur" ] || break
    guard=$((guard + 1))
  done
  [ "$total" = 25 ] || t_note "walking the cursor gave $total records, expected 25"
  t_done

  t_case "httpserver/failures"
  code=$(curl -s -o /dev/null -w '%{http_code}' "$base/fail/500?times=1&key=a")
  [ "$code" = 500 ] || t_note "first /fail/500 answered $code"
  code=$(curl -s -o /dev/null -w '%{http_code}' "$base/fail/500?times=1&key=a")
  [ "$code" = 200 ] || t_note "second /fail/500 answered $code"
  ra=$(curl -s -D - -o /dev/null "$base/fail/429?times=1&retry_after=2&key=b" | tr -d '\r' | awk -F': ' 'tolower($1)=="retry-after"{print $2}')
  [ "$ra" = 2 ] || t_note "429 Retry-After is '$ra'"
  hs_get "$base/fail/badjson" | jq . >/dev/null 2>&1 && t_note "/fail/badjson is valid JSON"
  t_done

  t_case "httpserver/auth"
  code=$(curl -s -o /dev/null -w '%{http_code}' "$base/auth/bearer")
  [ "$code" = 401 ] || t_note "bearer without a token answered $code"
  code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer test-token' "$base/auth/bearer")
  [ "$code" = 200 ] || t_note "bearer with the token answered $code"
  t_done

  t_case "httpserver/sink-and-stats"
  curl -s -o /dev/null -X POST "$base/stats/reset"
  hs_get -X POST -H 'Content-Type: application/json' -d '{"external_id":"x1"}' "$base/sink/deals" >/dev/null
  n=$(hs_get "$base/sink/deals" | jq 'length')
  [ "$n" = 1 ] || t_note "the sink holds $n records"
  found=$(hs_get "$base/sink/deals?external_id=x1" | jq '.items | length')
  [ "$found" = 1 ] || t_note "the exists lookup found $found"
  req=$(hs_get "$base/stats" | jq '.requests')
  [ "$req" -ge 3 ] 2>/dev/null || t_note "stats counted $req requests"
  t_done

  t_case "httpserver/redirect-echo-credentials"
  curl -s -o /dev/null -X POST "$base/stats/reset"
  loc=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$base/redirect?to=http://127.0.0.1:9/x&status=307")
  [ "$loc" = "307 http://127.0.0.1:9/x" ] || t_note "/redirect answered $loc"
  got=$(hs_get -H 'X-Api-Key: k1' "$base/echo/a?status=400" -w ' %{http_code}')
  [ "$got" = '{"data":[{"id":1,"path":"/echo/a","authorization":null,"x_api_key":"k1"}]} 400' ] || t_note "/echo answered $got"
  creds=$(hs_get "$base/stats" | jq -c '.credentials')
  [ "$creds" = '{"/echo/a":1}' ] || t_note "stats counted credentials as $creds"
  next=$(hs_get "$base/pages/next?per_page=10&next_base=http://127.0.0.1:9" | jq -r '.links.next')
  [ "$next" = "http://127.0.0.1:9/pages/next?page=2&per_page=10" ] || t_note "next_base gave the next link $next"
  t_done

  t_case "httpserver/stops-cleanly"
  kill -TERM "$hs_pid" 2>/dev/null
  wait "$hs_pid"; rc=$?
  [ "$rc" = 0 ] || t_note "the server exited $rc on SIGTERM"
  san_found "$hs_dir/err" && t_note "sanitizer report: $(san_excerpt "$hs_dir/err")"
  t_done
fi
