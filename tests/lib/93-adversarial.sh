#!/usr/bin/env bash
# Suite `adversarial`: hostile data, servers, files, signals and concurrent runs, one folder each under
# tests/adversarial/ (see its README.md). Each tests/adversarial/NAME/case.sh is sourced with its
# current directory a fresh scratch copy of the folder; it reports its cases with t_case ... t_done.
# Executed directly rather than sourced: run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" adversarial

# adv_copy DIR: a fresh copy of the case's folder (ADV_SRC) in DIR; data/NAME.sql files become SQLite
# databases data/NAME.db (as in the e2e suite)
adv_copy() {
  local sql
  rm -rf "$1"; mkdir -p "$1"
  (cd "$ADV_SRC" && tar cf - --exclude=case.sh .) | (cd "$1" && tar xf -)
  for sql in "$1"/data/*.sql; do
    [ -f "$sql" ] && sqlite3 "${sql%.sql}.db" < "$sql"
  done
}

adv_norm() { if [ -n "${ADV_NORM:-}" ]; then sed -e "$ADV_NORM" "$1"; else cat "$1"; fi; }
adv_same() { cmp -s <(adv_norm "$1") <(adv_norm "$2"); }

# adv_build [DIR]: builds DIR/flow.flow (DIR defaults to the current directory) into DIR/prog against
# the sanitized runtime, as the e2e suites do; a failure is noted on the current case.
adv_build() {
  local d=${1:-$PWD}
  san_build "$d" || t_note "flowc build failed:" "$(head -n 20 "$d/build.log")"
}

# adv_both NAME ARGS...: one case that runs `prog ARGS` (native, sanitized) and `flowc run flow.flow
# ARGS` (the JIT), each in a fresh copy of the folder (./native and ./jit under the scratch copy),
# and requires the same exit status, stdout, stderr and written files. Leaves the two directories in
# ADV_NATIVE and ADV_JIT and the native run's outputs in C_OUT / C_ERR / C_RC for more assertions;
# ends with the case still open (the caller adds assertions, then t_done). ADV_NORM, when set, is a
# sed script both outputs go through before they are compared (for what differs by time, such as an
# HTTP Date header in an error's exchange).
adv_both() {
  local name=$1; shift
  ADV_NATIVE=$ADV_WORK/native; ADV_JIT=$ADV_WORK/jit
  adv_copy "$ADV_NATIVE"; adv_copy "$ADV_JIT"
  t_case "$name"
  adv_build "$ADV_NATIVE"
  t_exec -C "$ADV_JIT" "$FLOWC" run flow.flow "$@"
  local jo=$C_OUT je=$C_ERR jr=$C_RC
  t_exec -C "$ADV_NATIVE" ./prog run "$@"
  adv_same "$jo" "$C_OUT" || t_note "stdout differs between native and JIT:" "$(diff -u --label native --label jit <(adv_norm "$C_OUT") <(adv_norm "$jo") | head -n 12)"
  adv_same "$je" "$C_ERR" || t_note "stderr differs between native and JIT:" "$(diff -u --label native --label jit <(adv_norm "$C_ERR") <(adv_norm "$je") | head -n 12)"
  [ "$jr" = "$C_RC" ] || t_note "exit $C_RC native, $jr JIT"
  local tn tj
  tn=$(cd "$ADV_NATIVE" && find . -type f ! -name prog ! -name build.log ! -path './.flowstate/*' | sort | xargs -r md5sum)
  tj=$(cd "$ADV_JIT" && find . -type f ! -name prog ! -name build.log ! -path './.flowstate/*' | sort | xargs -r md5sum)
  [ "$tn" = "$tj" ] || t_note "written files differ between native and JIT:" "$(diff <(echo "$tn") <(echo "$tj") | head -n 12)"
}

# adv_server_start: the HTTP test server (tests/http/server.c, sanitized; see tests/http/README.md) on
# a free port of 127.0.0.1, for the current case: ADV_BASE is its URL. adv_server_stop stops it
# (SIGTERM) and notes a sanitizer report or a bad exit on the current case.
adv_server_start() {
  local i
  ADV_SERVER_PID=; ADV_BASE=http://127.0.0.1:1
  make -s -C "$ROOT" build/tests/http_server >/dev/null 2>&1 || { t_note "cannot build build/tests/http_server"; return 1; }
  rm -f "$ADV_WORK/server.port"
  "$ROOT/build/tests/http_server" --port 0 --ready "$ADV_WORK/server.port" >"$ADV_WORK/server.log" 2>&1 &
  ADV_SERVER_PID=$!
  for i in $(seq 200); do [ -s "$ADV_WORK/server.port" ] && break; sleep 0.05; done
  [ -s "$ADV_WORK/server.port" ] || { t_note "the test server did not start"; return 1; }
  ADV_BASE=http://127.0.0.1:$(cat "$ADV_WORK/server.port")
}
adv_server_stop() {
  [ -n "$ADV_SERVER_PID" ] || return 0
  kill -TERM "$ADV_SERVER_PID" 2>/dev/null
  wait "$ADV_SERVER_PID" || t_note "the test server exited $?"
  san_found "$ADV_WORK/server.log" && t_note "the test server's sanitizer report:" "$(head -n 20 "$ADV_WORK/server.log")"
  ADV_SERVER_PID=
}
# adv_hex TEXT: TEXT's bytes as hex (for the server's /raw?hex=)
adv_hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }

make -s build/asan/libflowrt.a >/dev/null 2>&1
for adv_case_sh in tests/adversarial/*/case.sh; do
  [ -f "$adv_case_sh" ] || continue
  ADV_SRC=$ROOT/${adv_case_sh%/case.sh}
  ADV_NAME=adversarial/${ADV_SRC##*/}
  ADV_WORK=$T_TMP/adversarial/${ADV_SRC##*/}
  adv_copy "$ADV_WORK"
  cd "$ADV_WORK" || { fail "$ADV_NAME" "cannot enter $ADV_WORK"; continue; }
  # shellcheck disable=SC1090
  . "$ROOT/$adv_case_sh"
  cd "$ROOT" || exit 2
done
