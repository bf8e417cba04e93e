# Item 15: a value that feeds a secret setting is a secret everywhere and in every encoding; the
# executable that bakes one in is 0700 and holds it masked; no core dump; no C file left behind.
tok=tok-S3CRET-15a
pw=pw-S3CRET-15b
ADV_QTOK='tq"S3CRET\15c'
ADV_QKEY='k"S3CRET\15d'
export ADV_QTOK ADV_QKEY
# every form a secret may take in what is printed or stored: as written, JSON-escaped, base64 in Basic
b64=$(printf 'flowuser:%s' "$pw" | base64 | tr -d '=\n')
leak_re="S3CRET|$b64"
t_case adversarial/15-secrets-readable/server
adv_server --token "$tok" --user flowuser --password "$pw"
t_done

# no_leak WHAT FILES...: none of the files holds a secret in any form
no_leak() {
  local what=$1 hits; shift
  hits=$(grep -laE "$leak_re" "$@" 2>/dev/null)
  [ -z "$hits" ] || t_note "a secret appears in $what: $hits: $(grep -ahoE ".{0,40}($leak_re).{0,20}" "$@" 2>/dev/null | head -n 3)"
}
# scan DIR: every file a run wrote there (outputs, the state store and its WAL), not the sources
scan() { find "$1" -type f ! -name flow.flow ! -name dump.c ! -name build.log ! -name prog ! -name 'prog*.c' -print0 | xargs -0 -r grep -laE "$leak_re"; }

t_case adversarial/15-secrets-readable/build
n=$ADV_WORK/native
adv_copy "$n"
t_exec -C "$n" env FLOWC_RUNTIME_LIB="$ROOT/build/asan/libflowrt.a" FLOWC_CFLAGS="$T_SAN_CFLAGS" "$FLOWC" build flow.flow -o prog -P "token=$tok"
t_expect_rc 0
[ "$(stat -c %a "$n/prog" 2>/dev/null)" = 700 ] || t_note "the executable bakes in secrets but is mode $(stat -c %a "$n/prog" 2>/dev/null), not 700"
strings "$n/prog" | grep -qE "$leak_re" && t_note "strings shows a secret in the executable: $(strings "$n/prog" | grep -E "$leak_re" | head -n 2)"
t_exec -C "$n" ./prog describe
t_expect_rc 0
no_leak "describe" "$C_OUT" "$C_ERR"
[ "$(jq -r '.params[] | select(.name == "token") | .value' "$C_OUT" 2>/dev/null)" = "<redacted>" ] || t_note "describe does not show the token param as <redacted>"
[ "$(jq -r '.params[] | select(.name == "pw") | .value' "$C_OUT" 2>/dev/null)" = "<redacted>" ] || t_note "describe does not show the pw param (a default feeding basic) as <redacted>"
[ "$(jq -r '.params[] | select(.name == "base") | .value' "$C_OUT" 2>/dev/null)" = null ] || t_note "describe hides a param that is not a secret"
t_done

for how in native jit; do
  t_case adversarial/15-secrets-readable/run-$how
  d=$ADV_WORK/$how
  [ $how = native ] || adv_copy "$d"
  if [ $how = native ]; then t_exec -C "$d" ./prog run --json --param "base=$ADV_BASE"
  else t_exec -C "$d" "$FLOWC" run flow.flow --json -P "token=$tok" --param "base=$ADV_BASE"; fi
  t_expect_rc 3
  # the echoes happened (so the test can see a leak): every credential came back as <redacted>
  t_expect_grep "$C_ERR" 'flow f step echoed .*authorization":"Bearer <redacted>"' "the bearer token echoed by the server is not shown redacted"
  t_expect_grep "$C_ERR" 'flow g step echoed .*authorization":"Basic <redacted>"' "the basic credential echoed by the server is not shown redacted"
  t_expect_grep "$C_ERR" 'flow h step echoed .*authorization":"Bearer <redacted>"' "the env() token with a quote echoed by the server is not shown redacted"
  t_expect_grep "$C_ERR" 'flow k step echoed .*x_api_key":"<redacted>"' "the env() header value with a quote echoed by the server is not shown redacted"
  no_leak "the run's output" "$C_OUT" "$C_ERR"
  leaks=$(scan "$d")
  [ -z "$leaks" ] || t_note "a secret appears in a file the run wrote: $leaks"
  [ -n "$(find "$d/.flowstate" -type f 2>/dev/null)" ] || t_note "the run kept no state store (nothing was scanned)"
  grep -q '"dumpable":0,"core":0' "$d/out/dump.ndjson" 2>/dev/null || t_note "the run could dump core: $(head -n 1 "$d/out/dump.ndjson" 2>&1)"
  t_exec -C "$d" "$ROOT/build/flowc" errors flow.flow list --json
  no_leak "errors list" "$C_OUT" "$C_ERR"
  t_done
done

t_case adversarial/15-secrets-readable/preview
d=$ADV_WORK/preview
adv_copy "$d"
for fl in f g h k; do
  t_exec -C "$d" "$FLOWC" preview flow.flow --flow $fl --format json --param "base=$ADV_BASE" --param "token=$tok"
  t_expect_rc 0
  t_expect_grep "$C_OUT" '<redacted>' "the preview of flow $fl shows no <redacted> credential"
  no_leak "the preview of flow $fl" "$C_OUT" "$C_ERR"
done
t_done

# a failed compile keeps no C file (it held -P values) unless --keep-c, which keeps it 0600
t_case adversarial/15-secrets-readable/failed-compile
d=$ADV_WORK/cc
adv_copy "$d"
mkdir -p "$d/tmp" "$d/bin"
t_exec -C "$d" env CC=false TMPDIR="$d/tmp" "$FLOWC" build flow.flow -o bin/prog -P "token=$tok"
t_expect_rc 1
t_expect_grep "$C_ERR" 'the C compiler rejected the generated code \(rerun with --keep-c to keep the C file\)' "no message about the failed compile"
left=$(find "$d/tmp" "$d/bin" -mindepth 1 2>/dev/null)
[ -z "$left" ] || t_note "a failed build left files behind: $left"
no_leak "the failed build's output" "$C_OUT" "$C_ERR"
t_exec -C "$d" env CC=false TMPDIR="$d/tmp" "$FLOWC" build flow.flow -o bin/prog -P "token=$tok" --keep-c
t_expect_rc 1
t_expect_grep "$C_ERR" 'the generated C is kept in bin/prog\.c' "--keep-c does not say where the C is"
[ "$(stat -c %a "$d/bin/prog.c" 2>/dev/null)" = 600 ] || t_note "the kept C is mode $(stat -c %a "$d/bin/prog.c" 2>/dev/null), not 600"
grep -qE "$leak_re" "$d/bin/prog.c" 2>/dev/null && t_note "the kept C holds a secret in plain text"
left=$(find "$d/tmp" "$d/bin" -mindepth 1 ! -name prog.c 2>/dev/null)
[ -z "$left" ] || t_note "a failed build left files behind: $left"
t_done
