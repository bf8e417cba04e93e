#!/usr/bin/env bash
# Suite `http`: the http connector end to end, against the test server (tests/http/server.c, ASan
# build) on 127.0.0.1: every paging style and stop rule, paging loops and bad responses, auth and
# secret redaction, lookups (on_missing, on_many, concurrency, one request per distinct lookup),
# imports (map, batch, body template, response mapping, concurrency, rate limit, retries, 429 with
# Retry-After, error classes), upsert, and preview. Each case tests/http/cases/NAME/ is run twice,
# as a sanitized native executable and through the JIT (`flowc run`); both must meet every
# expectation and print and store the same. The case format is in tests/http/cases/README.md.
# With UPDATE=1, expected.out, expected.sink.* and expected.files are rewritten from the native run.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" http
# Some cases time their runs (a rate limit, Retry-After, timeouts with an upper bound): tests/run.sh
# runs this suite in its timing lane (see there).
# lane: timing

hp=$T_TMP/http
rm -rf "$hp"; mkdir -p "$hp"
# The server's credentials. Every secret a case uses contains S3CRET, and no output may contain it
# (HP_SECRET_RE)...
HP_TOKEN=tok-S3CRET-7f2a9
HP_USER=flowuser
HP_PASS=pw-S3CRET-91c4
HP_SECRET_RE=S3CRET
# ... nor the basic credentials the cases use, base64-encoded as in an Authorization header
for cred in "$HP_USER:$HP_PASS" "$HP_USER:bad-S3CRET-5e5e"; do
  HP_SECRET_RE="$HP_SECRET_RE|$(printf '%s' "$cred" | base64 | tr -d '=\n' | sed 's/[+]/[+]/g')"
done
HP_RUN_TIMEOUT=${HP_RUN_TIMEOUT:-20}   # seconds per run of a case
# HP_ONLY=REGEX runs only the cases whose directory name matches (the preview checks: "preview")

hp_curl() { curl -s --max-time 20 "$@"; }

# hp_norm: stdin -> stdout with the server's port replaced by PORT
hp_norm() { sed "s/127\.0\.0\.1:$HP_PORT\([^0-9]\|$\)/127.0.0.1:PORT\1/g"; }

# hp_reset: clears the server's counts, fail counters and sinks, once requests still being answered
# for an earlier case (the sleeping handler of a timeout test) are done.
hp_reset() {
  local i
  for i in $(seq 100); do
    [ "$(hp_curl "$HP_BASE/stats" | jq -r '.in_flight' 2>/dev/null)" = 0 ] && break
    sleep 0.05
  done
  hp_curl -o /dev/null -X POST "$HP_BASE/stats/reset"
}

# Helpers for check.sh, which is sourced in a subshell in the run's directory with STATS (the
# server's /stats after the run, as a file), STDOUT (the runs' stdout, as a file), ELAPSED_MS (the
# runs' wall time), BASE and MODE set.
# Anything it prints is a failure.
hp_by_path() { jq -r --arg p "$1" '.by_path[$p] // 0' "$STATS"; }
hp_stat() { jq -r "$1" "$STATS"; }
# hp_accounted: records never vanish: in the first run's summary, exported = imported + ignored +
# errors + not_written (a failed run's file records; for a flow whose records reach one import)
hp_accounted() {
  local line e s
  line=$(grep -m1 '^{' "$STDOUT")
  [ -n "$line" ] || { echo "no summary line on stdout"; return; }
  e=$(jq '.exported' <<<"$line"); s=$(jq '.ignored + .errors + (.not_written // 0) + ([.imported[]] | add // 0)' <<<"$line")
  hp_want "imported + ignored + errors (of $e exported)" "$s" -eq "$e"
}
# hp_want WHAT ACTUAL TEST-OP EXPECTED (test(1) integer operators: -eq -le -ge -lt -gt -ne)
hp_want() {
  test "$2" "$3" "$4" 2>/dev/null || echo "$1 is $2, expected $3 $4"
}

# hp_sink_names SRC WORK: the sinks to compare: those with an expectation and those the run wrote
hp_sink_names() {
  { for f in "$1"/expected.sink.*; do [ -f "$f" ] && echo "${f##*/expected.sink.}"; done
    jq -r '.by_path | keys[]' "$2/stats.json" 2>/dev/null | sed -n 's|^/sink/\([^/]*\).*|\1|p'
  } | sort -u
}

# hp_files WORK: every file the run wrote under out/, as text
hp_files() {
  (cd "$1" && find out -type f 2>/dev/null | sort | while IFS= read -r f; do echo "== $f"; cat "$f"; done) | hp_norm
}

# hp_mode SRC WORK MODE: one mode (native: WORK/prog; jit: flowc run) of a case: reset the server,
# run (`runs` times), then keep WORK/stdout (normalized, with `exit N` after each run), WORK/stderr,
# WORK/stats.json, WORK/elapsed_ms and WORK/sink.NAME for every sink.
hp_mode() {
  local src=$1 work=$2 mode=$3 runs=1 i t0 t1 envs=() args=() cmd name q filter
  [ -f "$src/runs" ] && runs=$(cat "$src/runs")
  [ -f "$src/env" ] && mapfile -t envs < <(grep -v '^#' "$src/env" | grep .)
  [ -f "$src/args" ] && read -ra args < <(tr '\n' ' ' < "$src/args")
  hp_reset
  if [ -f "$src/setup.sh" ]; then
    # shellcheck disable=SC1091
    (cd "$work" && BASE=$HP_BASE . "$src/setup.sh") >"$work/setup.log" 2>&1
  fi
  : >"$work/stdout.raw"; : >"$work/stderr"
  t0=$(date +%s%N)
  for ((i = 1; i <= runs; i++)); do
    if [ "$mode" = native ]; then cmd=(./prog run --json --param "base=$HP_BASE" "${args[@]}")
    else cmd=("$FLOWC" run flow.flow --json --param "base=$HP_BASE" "${args[@]}"); fi
    (cd "$work" && exec env "${envs[@]}" timeout -k 5 "$HP_RUN_TIMEOUT" "${cmd[@]}") </dev/null >>"$work/stdout.raw" 2>>"$work/stderr"
    echo "exit $?" >>"$work/stdout.raw"
  done
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000)) >"$work/elapsed_ms"
  hp_curl "$HP_BASE/stats" >"$work/stats.json"
  hp_norm <"$work/stdout.raw" >"$work/stdout"
  filter=.
  [ -f "$src/unordered" ] && filter='walk(if type == "object" then to_entries | sort_by(.key) | from_entries else . end) | sort_by(tojson)'
  while IFS= read -r name; do
    q=$( [ -f "$src/sinks" ] && sed -n "s/^$name\(?.*\)$/\1/p" "$src/sinks" | head -n 1)
    hp_curl "$HP_BASE/sink/$name$q" | jq -S "$filter" 2>&1 | hp_norm >"$work/sink.$name"
  done < <(hp_sink_names "$src" "$work")
}

# hp_golden EXPECTED ACTUAL UPD: golden_cmp, with UPDATE=UPD; notes an update in HP_NOTE
hp_golden() {
  UPDATE=$3 golden_cmp "$1" "$2" || return 1
  [ -z "$G_NOTE" ] || HP_NOTE=" (updated)"
  return 0
}

# hp_expect SRC WORK MODE: every expectation of the case for one mode; the problems go to HP_MSGS
hp_expect() {
  local src=$1 work=$2 mode=$3 upd=0 f name re out
  HP_MSGS=()
  [ "$mode" = native ] && upd=${UPDATE:-0}
  case $(grep '^exit ' "$work/stdout" | sort -u | tr '\n' ' ') in
    *"exit 124"*) HP_MSGS+=("a run timed out after ${HP_RUN_TIMEOUT}s") ;;
    *"exit 1"[3-9][0-9]* | *"exit 2"[0-9][0-9]*) HP_MSGS+=("a run crashed:" "$(tail -n 12 "$work/stderr")") ;;
  esac
  if san_found "$work/stdout.raw" "$work/stderr"; then
    HP_MSGS+=("sanitizer report:" "$(san_excerpt "$work/stdout.raw" "$work/stderr")")
    return
  fi
  if ! hp_golden "$src/expected.out" "$work/stdout" "$upd"; then HP_MSGS+=("stdout:" "${G_MSGS[@]}"); fi
  if [ -f "$src/expected.err" ]; then
    # one extended regex per line that some stderr line must match; `!RE`: no line may match
    while IFS= read -r re; do
      case $re in
        '' | '#'*) ;;
        '!'*) if grep -aqE -- "${re#!}" "$work/stderr"; then
                HP_MSGS+=("stderr has a line matching /${re#!}/: $(grep -aE -m1 -- "${re#!}" "$work/stderr")"); fi ;;
        *) grep -aqE -- "$re" "$work/stderr" || HP_MSGS+=("no stderr line matches /$re/") ;;
      esac
    done <"$src/expected.err"
  fi
  while IFS= read -r name; do
    if ! hp_golden "$src/expected.sink.$name" "$work/sink.$name" "$upd"; then HP_MSGS+=("sink $name:" "${G_MSGS[@]}"); fi
  done < <(hp_sink_names "$src" "$work")
  hp_files "$work" >"$work/files"
  if [ -f "$src/expected.files" ] || { [ "$upd" = 1 ] && [ -d "$work/out" ]; }; then
    if ! hp_golden "$src/expected.files" "$work/files" "$upd"; then HP_MSGS+=("files under out/:" "${G_MSGS[@]}"); fi
  fi
  if [ -f "$src/check.sh" ]; then
    # shellcheck disable=SC1091,SC2034  # the variables are for check.sh
    out=$(cd "$work" && STATS=$work/stats.json STDOUT=$work/stdout ELAPSED_MS=$(cat "$work/elapsed_ms") BASE=$HP_BASE MODE=$mode; . "$src/check.sh" 2>&1)
    [ -z "$out" ] || HP_MSGS+=("check.sh:" "$out" "stats: $(cat "$work/stats.json"); $(cat "$work/elapsed_ms") ms")
  fi
  # no secret anywhere: stdout, stderr, the files the run wrote (outputs, the state and error store)
  local leaks=()
  mapfile -t leaks < <(grep -rlaE "$HP_SECRET_RE" "$work" --exclude=flow.flow --exclude=env --exclude=prog --exclude=build.log 2>/dev/null)
  [ ${#leaks[@]} -eq 0 ] || HP_MSGS+=("a secret appears in:" "${leaks[*]}" "$(grep -ahoE ".{0,60}($HP_SECRET_RE).{0,20}" "${leaks[@]}" | head -n 3)")
}

hp_case() {
  local src=$1 name work jit msgs=() f
  name=http/${src##*/}
  work=$hp/cases/${src##*/}
  jit=$work.jit
  rm -rf "$work" "$jit"; mkdir -p "$work" "$jit"
  (cd "$src" && tar cf - --exclude='expected*' --exclude=check.sh .) | (cd "$work" && tar xf -)
  (cd "$src" && tar cf - --exclude='expected*' --exclude=check.sh .) | (cd "$jit" && tar xf -)
  HP_NOTE=
  if ! san_build "$work"; then
    fail "$name" "flowc build failed:" "$(head -n 20 "$work/build.log")"
  else
    hp_mode "$src" "$work" native
    hp_expect "$src" "$work" native
    if [ ${#HP_MSGS[@]} -eq 0 ]; then pass "$name$HP_NOTE"; else fail "$name" "${HP_MSGS[@]}"; fi
  fi

  # the JIT: the same expectations, and the same stdout, sinks and files as the native build
  hp_mode "$src" "$jit" jit
  hp_expect "$src" "$jit" jit
  msgs=("${HP_MSGS[@]}")
  if [ -f "$work/stdout" ]; then
    cmp -s "$work/stdout" "$jit/stdout" || msgs+=("stdout differs from the native build:" "$(diff -u --label native --label jit "$work/stdout" "$jit/stdout" | head -n 15)")
    for f in "$work"/sink.* "$jit"/sink.*; do
      [ -f "$f" ] || continue
      f=${f##*/}
      cmp -s "$work/$f" "$jit/$f" 2>/dev/null || msgs+=("$f differs from the native build:" "$(diff -u --label native --label jit "$work/$f" "$jit/$f" 2>&1 | head -n 15)")
    done
    cmp -s "$work/files" "$jit/files" || msgs+=("written files differ from the native build:" "$(diff -u --label native --label jit "$work/files" "$jit/files" | head -n 15)")
  fi
  if [ ${#msgs[@]} -eq 0 ]; then pass "$name (jit)"; else fail "$name (jit)" "${msgs[@]}"; fi
}

make -s build/tests/http_server build/asan/libflowrt.a >/dev/null 2>&1
HP_PID=
if ! command -v curl >/dev/null 2>&1 || ! command -v jq >/dev/null 2>&1 || [ ! -x build/tests/http_server ]; then
  fail "http/setup" "the http suite needs curl, jq and build/tests/http_server"
else
  build/tests/http_server --port 0 --ready "$hp/port" --records 25 --token "$HP_TOKEN" \
    --user "$HP_USER" --password "$HP_PASS" >"$hp/server.out" 2>"$hp/server.err" &
  HP_PID=$!
  trap '[ -n "$HP_PID" ] && kill -TERM "$HP_PID" 2>/dev/null' EXIT
  for _ in $(seq 200); do [ -s "$hp/port" ] && break; sleep 0.05; done
  HP_PORT=$(cat "$hp/port" 2>/dev/null)
  HP_BASE=http://127.0.0.1:$HP_PORT
  if [ -z "$HP_PORT" ]; then
    fail "http/setup" "the test server did not write its port:" "$(cat "$hp/server.err")"
  fi
fi

if [ -n "${HP_PORT:-}" ]; then
  for d in tests/http/cases/*/; do
    [ -f "$d/flow.flow" ] || continue
    d=${d%/}
    [[ ${d##*/} =~ ${HP_ONLY:-.} ]] || continue
    hp_case "$ROOT/$d"
  done
fi
if [ -n "${HP_PORT:-}" ] && [[ preview =~ ${HP_ONLY:-.} ]]; then
  # preview: the JSON form shows the requests of the export and the lookup, the text form prints
  # request lines, and the import sends nothing without --live
  pvsrc=tests/http/cases/preview
  pv=$hp/preview
  mkdir -p "$pv"; cp "$pvsrc/flow.flow" "$pv/"
  t_case "http/preview/json"
  hp_reset
  t_exec -C "$pv" "$FLOWC" preview flow.flow --param "base=$HP_BASE" --format json
  t_expect_rc 0
  jq -e . "$C_OUT" >/dev/null 2>&1 || t_note "the output is not one JSON document"
  n=$(jq '[.steps[] | select(.kind == "export") | .requests // [] | length] | add // 0' "$C_OUT" 2>/dev/null)
  [ "${n:-0}" -ge 1 ] 2>/dev/null || t_note "the export step shows no requests"
  n=$(jq '[.steps[] | select(.kind == "lookup") | .requests // [] | length] | add // 0' "$C_OUT" 2>/dev/null)
  [ "${n:-0}" -ge 1 ] 2>/dev/null || t_note "the lookup step shows no requests"
  t_expect_grep "$C_OUT" "/pages/number" "no request to /pages/number is shown"
  t_expect_grep "$C_OUT" "/pages/offset" "no lookup request to /pages/offset is shown"
  n=$(hp_curl "$HP_BASE/stats" | jq -r '.by_path["/sink/pv"] // 0')
  [ "$n" = 0 ] || t_note "the preview sent $n requests to the import's /sink/pv without --live"
  [ "$(hp_curl "$HP_BASE/sink/pv" | jq length)" = 0 ] || t_note "the preview stored records in /sink/pv"
  t_done

  t_case "http/preview/text"
  hp_reset
  t_exec -C "$pv" "$FLOWC" preview flow.flow --param "base=$HP_BASE"
  t_expect_rc 0
  t_expect_grep "$C_OUT" "GET http://127\.0\.0\.1:$HP_PORT/pages/number[^ ]* -> 200 \\(" "no request line for the export (GET URL -> 200 (...))"
  t_expect_grep "$C_OUT" "GET http://127\.0\.0\.1:$HP_PORT/pages/offset[^ ]* -> 200 \\(" "no request line for the lookup (GET URL -> 200 (...))"
  n=$(hp_curl "$HP_BASE/stats" | jq -r '.by_path["/sink/pv"] // 0')
  [ "$n" = 0 ] || t_note "the preview sent $n requests to /sink/pv without --live"
  t_done

  t_case "http/preview/live"
  hp_reset
  t_exec -C "$pv" "$FLOWC" preview flow.flow --param "base=$HP_BASE" --format json --live --limit 3
  t_expect_rc 0
  n=$(hp_curl "$HP_BASE/sink/pv" | jq length)
  [ "$n" = 3 ] || t_note "--live --limit 3 stored $n records in /sink/pv, expected 3"
  t_done

  # secrets: the auth-redaction case through preview (JSON and text), with its 401 errors
  rdsrc=tests/http/cases/auth-redaction
  rd=$hp/preview-redaction
  mkdir -p "$rd"; cp "$rdsrc/flow.flow" "$rd/"
  mapfile -t rd_env < <(grep -v '^#' "$rdsrc/env" | grep .)
  for fmt in json text; do
    t_case "http/preview/redaction-$fmt"
    for fl in f g h; do
      hp_reset
      t_exec -C "$rd" env "${rd_env[@]}" "$FLOWC" preview flow.flow --flow $fl --param "base=$HP_BASE" --format $fmt
      t_expect_rc 0
      t_expect_nogrep "$C_OUT" "$HP_SECRET_RE" "a secret appears in the preview of flow $fl"
      t_expect_nogrep "$C_ERR" "$HP_SECRET_RE" "a secret appears on stderr (flow $fl)"
      t_expect_grep "$C_OUT" "401" "the preview of flow $fl does not show the 401 response"
      [ $fmt = text ] || t_expect_grep "$C_OUT" "<redacted>" "the preview of flow $fl shows no <redacted> header"
    done
    out=$(grep -rlaE "$HP_SECRET_RE" "$rd" --exclude=flow.flow 2>/dev/null)
    [ -z "$out" ] || t_note "a secret appears in a file the preview wrote: $out"
    t_done
  done
fi
if [ -n "${HP_PORT:-}" ]; then
  t_case "http/server-stops-cleanly"
  kill -TERM "$HP_PID" 2>/dev/null
  wait "$HP_PID"; rc=$?
  HP_PID=
  [ "$rc" = 0 ] || t_note "the test server exited $rc on SIGTERM"
  san_found "$hp/server.err" && t_note "sanitizer report from the server: $(san_excerpt "$hp/server.err")"
  t_done
fi
trap - EXIT
