# Item 12: credentials (auth, the connection's and the step's headers) are attached only to requests
# whose scheme, host and port are base_url's or listed in allowed_origins; redirects are judged at
# every hop. Two test servers: A (base_url) and B (another port of 127.0.0.1).
ADV_TOKEN=tok-S3CRET-adv12
export ADV_TOKEN
t_case adversarial/12-credentials-other-origin/servers
adv_server --token "$ADV_TOKEN"; a_base=$ADV_BASE
adv_server --token "$ADV_TOKEN"; b_base=$ADV_BASE; b_port=$ADV_PORT
t_done

adv_both adversarial/12-credentials-other-origin/run next_pages link_pages redirected same_origin allowed --json \
  --param "base=$a_base" --param "other=$b_base"
t_expect_rc 0
for d in "$ADV_NATIVE" "$ADV_JIT"; do
  [ "$(wc -l <"$d/out/next.ndjson" 2>/dev/null)" = 25 ] || t_note "next_url paging across origins did not export 25 records ($d)"
  [ "$(wc -l <"$d/out/link.ndjson" 2>/dev/null)" = 25 ] || t_note "link_header paging across origins did not export 25 records ($d)"
  grep -q '"had_key":false' "$d/out/redirected.ndjson" 2>/dev/null || t_note "the api_key header followed a redirect to another port: $(cat "$d/out/redirected.ndjson" 2>&1)"
  grep -q '"had_key":true' "$d/out/same.ndjson" 2>/dev/null || t_note "a redirect within base_url's origin lost the api_key header: $(cat "$d/out/same.ndjson" 2>&1)"
  grep -q '"had_auth":true' "$d/out/allowed.ndjson" 2>/dev/null || t_note "an origin in allowed_origins did not get the token: $(cat "$d/out/allowed.ndjson" 2>&1)"
done
t_done

# a URL rendered from the record (its error lines hold timings, so native and JIT are checked apart)
t_case adversarial/12-credentials-other-origin/rendered-url
for how in native jit; do
  if [ $how = native ]; then t_exec -C "$ADV_NATIVE" ./prog run rendered --param "base=$a_base" --param "other=$b_base"
  else t_exec -C "$ADV_JIT" "$FLOWC" run flow.flow rendered --param "base=$a_base" --param "other=$b_base"; fi
  t_expect_rc 3
  t_expect_grep "$C_ERR" "flow rendered step check \[value\] HTTP 401 from GET $b_base/auth/bearer \(credentials not sent: http://127\.0\.0\.1:$b_port is not the origin of base_url or one of allowed_origins\)" \
    "the lookup's error does not say that its credentials were not sent to the other origin ($how)"
  t_expect_grep "$C_ERR" '"credentials":"not sent: http://127\.0\.0\.1:[0-9]+ is not the origin' "the error's exchange does not say the credentials were not sent ($how)"
  t_expect_nogrep "$C_ERR" S3CRET "the token appears on stderr ($how)"
done
# server B saw credentials only where allowed_origins lists it
stats=$(curl -s --max-time 10 "$b_base/stats")
creds=$(jq -c '.credentials' <<<"$stats")
[ "$creds" = '{"/echo/allowed":2}' ] || t_note "server B got credentials on: $creds (expected only /echo/allowed, once per run)"
[ "$(jq '.by_path["/pages/next"] // 0' <<<"$stats")" -ge 2 ] || t_note "no next_url page was fetched from server B: $stats"
[ "$(jq '.by_path["/echo/redirected"] // 0' <<<"$stats")" = 2 ] || t_note "the redirect did not reach server B: $stats"
# and the token is nowhere: output, errors, written files, the state and error store
leaks=$(grep -rlaE 'S3CRET' "$ADV_NATIVE" "$ADV_JIT" "$C_OUT" "$C_ERR" --exclude=prog --exclude=build.log 2>/dev/null)
[ -z "$leaks" ] || t_note "the token appears in: $leaks"
t_done

# an allowed_origins entry that is not an origin (here from a param: literals are checked by flowc
# check) fails the run before any request
t_case adversarial/12-credentials-other-origin/bad-allowed-origin
t_exec -C "$ADV_JIT" "$FLOWC" run flow.flow allowed --param "base=$a_base" --param "other=$b_base/echo"
t_expect_rc 1
t_expect_grep "$C_ERR" "allowed_origins: \"$b_base/echo\" is not an origin \(scheme://host\[:port\]" "no clear error for an allowed_origins entry with a path"
t_done
