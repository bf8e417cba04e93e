#!/usr/bin/env bash
# Suite `adversarial`: hostile data, servers, files, signals and concurrent runs, one folder each under
# tests/adversarial/ (see its README.md). Each tests/adversarial/NAME/case.sh is sourced with its
# current directory a fresh scratch copy of the folder; it reports its cases with t_case ... t_done.
# ADV_ONLY="NAME..." runs only those folders (e.g. ADV_ONLY=06-bad-values tests/run.sh adversarial).
# Executed directly rather than sourced: run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" adversarial
# A long CPU-bound suite: tests/run.sh starts it before the others (see there).
# lane: heavy

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

# adv_refused NAME "CMD..." ERE...: for each flowc command CMD (build writes ./prog), one case
# NAME-CMD: the command on flow.flow exits 1 within 20 s (a FIFO must not hang it), its stderr has a
# line matching each ERE, nothing of /etc/passwd is printed and no executable is written (the files
# a flow names beside itself, item 16: hook files and test data files)
adv_refused() {
  local name=$1 cmds=$2 cmd ere; shift 2
  for cmd in $cmds; do
    t_case "$name-$cmd"
    rm -f prog
    case $cmd in
      build) t_exec timeout 20 "$FLOWC" build flow.flow -o prog ;;
      *) t_exec timeout 20 "$FLOWC" "$cmd" flow.flow ;;
    esac
    t_expect_rc 1
    for ere in "$@"; do t_expect_grep "$C_ERR" "$ere"; done
    t_expect_nogrep "$C_ERR" 'root:' "the contents of /etc/passwd were printed"
    t_expect_nogrep "$C_OUT" 'root:' "the contents of /etc/passwd were printed"
    [ ! -e prog ] || t_note "an executable was built"
    t_done
  done
}

# adv_hex TEXT: TEXT's bytes as hex (for the test server's /raw?hex=)
adv_hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }

# adv_server [ARGS...]: starts the HTTP test server (tests/http/server.c) on a free 127.0.0.1 port
# with ARGS (--token, --user, ...); sets ADV_PORT and ADV_BASE. Every server a case starts is stopped
# (SIGTERM, by its pid) once the case's script has run.
ADV_PIDS=()
adv_server() {
  local ready
  ready=$(mktemp -u "$T_TMP/adversarial/server.XXXXXX")
  "$ROOT/build/tests/http_server" --port 0 --ready "$ready" "$@" >"$ready.log" 2>&1 &
  ADV_PIDS+=($!)
  for _ in $(seq 200); do [ -s "$ready" ] && break; sleep 0.05; done
  ADV_PORT=$(cat "$ready" 2>/dev/null)
  ADV_BASE=http://127.0.0.1:$ADV_PORT
  [ -n "$ADV_PORT" ] || t_note "the test server did not start: $(cat "$ready.log")"
}
adv_stop_servers() {
  local p
  for p in "${ADV_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  ADV_PIDS=()
}
trap adv_stop_servers EXIT

make -s build/asan/libflowrt.a build/tests/http_server >/dev/null 2>&1
for adv_case_sh in tests/adversarial/*/case.sh; do
  [ -f "$adv_case_sh" ] || continue
  case " ${ADV_ONLY:-} " in "  ") ;; *" $(basename "$(dirname "$adv_case_sh")") "*) ;; *) continue ;; esac
  ADV_SRC=$ROOT/${adv_case_sh%/case.sh}
  ADV_NAME=adversarial/${ADV_SRC##*/}
  ADV_WORK=$T_TMP/adversarial/${ADV_SRC##*/}
  adv_copy "$ADV_WORK"
  cd "$ADV_WORK" || { fail "$ADV_NAME" "cannot enter $ADV_WORK"; continue; }
  # shellcheck disable=SC1090
  . "$ADV_SRC/case.sh"
  adv_stop_servers
  cd "$ROOT" || exit 2
done
trap - EXIT
