#!/usr/bin/env bash
# Suite `e2e`: end-to-end flows. Each tests/e2e/NAME/ holds flow.flow, its input files, and the
# expected results: expected.out (stdout of `run --json` and the exit status), optionally
# expected.err (stderr), and expected/ (a tree of files the run must write, compared byte by byte).
# The flow is built with `flowc build` into a sanitized executable (ASan+UBSan runtime) and run in a
# scratch copy of the case directory. `args` (optional) holds extra arguments for `run`.
# With UPDATE=1 the expected files are rewritten from the actual run.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" e2e

# e2e_case SRC [EXAMPLE]: SRC holds the expectations; the flow is SRC/flow.flow, or for an example
# examples/EXAMPLE.flow run beside a copy of examples/data (SQL files there are loaded into .db files).
# e2e_setup SRC EXAMPLE WORK: a fresh scratch copy of the case (or of the example) in WORK
e2e_setup() {
  local src=$1 example=$2 work=$3
  rm -rf "$work"; mkdir -p "$work" "$src"
  if [ -n "$example" ]; then
    cp "examples/$example.flow" "$work/flow.flow"
    cp -r examples/data "$work/data"
    mkdir -p "$work/out"
    for sql in "$work"/data/*.sql; do
      [ -f "$sql" ] && sqlite3 "${sql%.sql}.db" < "$sql"
    done
  else
    (cd "$src" && tar cf - --exclude=expected --exclude=expected.out --exclude=expected.err .) | (cd "$work" && tar xf -)
    for sql in "$work"/data/*.sql; do
      [ -f "$sql" ] && sqlite3 "${sql%.sql}.db" < "$sql"
    done
  fi
}

# e2e_tree DIR: every output as text (files under out/, databases as SQL dumps), for comparing runs
e2e_tree() {
  (cd "$1" && find out data -type f 2>/dev/null | sort | while IFS= read -r f; do
     case $f in
       *.db) echo "== $f"; sqlite3 "$f" .dump ;;
       out/*) echo "== $f"; cat "$f" ;;
     esac
   done)
}

# e2e_same A B LABEL_A LABEL_B: appends to msgs how run B (its stdout, stderr and written files)
# differs from run A; nothing when they are identical
e2e_same() {
  local a=$1 b=$2 la=$3 lb=$4
  if san_found "$b/stdout" "$b/stderr"; then msgs+=("sanitizer report:" "$(san_excerpt "$b/stdout" "$b/stderr")"); fi
  cmp -s "$a/stdout" "$b/stdout" || msgs+=("stdout differs from the $la run:" "$(diff -u --label "$la" --label "$lb" "$a/stdout" "$b/stdout" | head -n 15)")
  cmp -s "$a/stderr" "$b/stderr" || msgs+=("stderr differs from the $la run:" "$(diff -u --label "$la" --label "$lb" "$a/stderr" "$b/stderr" | head -n 15)")
  if ! cmp -s <(e2e_tree "$a") <(e2e_tree "$b"); then
    msgs+=("written files differ from the $la run:" "$(diff -u --label "$la" --label "$lb" <(e2e_tree "$a") <(e2e_tree "$b") | head -n 15)")
  fi
}

e2e_case() {
  local src=$1 example=${2:-} name work args rc
  name=e2e/${src#tests/e2e/}
  work=$T_TMP/e2e/${src#tests/e2e/}
  e2e_setup "$src" "$example" "$work"
  args=
  [ -f "$src/args" ] && args=$(cat "$src/args")
  if ! san_build "$work"; then
    fail "$name" "flowc build failed:" "$(head -n 20 "$work/build.log")"
    return
  fi
  # shellcheck disable=SC2086
  (cd "$work" && exec timeout -k 5 "$T_TIMEOUT" ./prog run --json $args) </dev/null >"$work/stdout" 2>"$work/stderr"
  rc=$?
  echo "exit $rc" >>"$work/stdout"
  local msgs=()
  if san_found "$work/stdout" "$work/stderr"; then
    fail "$name" "sanitizer report:" "$(san_excerpt "$work/stdout" "$work/stderr")"
    return
  fi
  if golden_cmp "$src/expected.out" "$work/stdout"; then :; else msgs+=("stdout:" "${G_MSGS[@]}"); fi
  if [ -f "$src/expected.err" ] || [ "${UPDATE:-0}" = 1 ] && [ -s "$work/stderr" ]; then
    if golden_cmp "$src/expected.err" "$work/stderr"; then :; else msgs+=("stderr:" "${G_MSGS[@]}"); fi
  fi
  if [ -d "$src/expected" ] || [ "${UPDATE:-0}" = 1 ]; then
    local f
    if [ "${UPDATE:-0}" = 1 ]; then
      # the files the run wrote under out/, and every database, become the expectation
      if [ -d "$work/out" ] || ls "$work"/data/*.db >/dev/null 2>&1; then
        local dst=$ROOT/$src/expected
        rm -rf "$dst"; mkdir -p "$dst"
        (cd "$work" && find out -type f ! -name '*.db' ! -name '*.db-*' 2>/dev/null | sort | while IFS= read -r f; do
           mkdir -p "$dst/$(dirname "$f")"; cp "$f" "$dst/$f"; done)
        # databases are compared as SQL dumps
        (cd "$work" && find out data -type f -name '*.db' 2>/dev/null | sort | while IFS= read -r f; do
           mkdir -p "$dst/$(dirname "$f")"; sqlite3 "$f" .dump > "$dst/$f.sql"; done)
      fi
    else
      while IFS= read -r f; do
        case $f in
          *.db.sql) if ! sqlite3 "$work/${f%.sql}" .dump 2>/dev/null | cmp -s - "$src/expected/$f"; then
                      msgs+=("${f%.sql} differs:" "$(sqlite3 "$work/${f%.sql}" .dump 2>&1 | diff -u --label expected --label actual "$src/expected/$f" - | head -n 20)")
                    fi ;;
          *) if ! cmp -s "$src/expected/$f" "$work/$f"; then
               msgs+=("$f differs:" "$(diff -u --label expected --label actual "$src/expected/$f" "$work/$f" 2>&1 | head -n 20)")
             fi ;;
        esac
      done < <(cd "$src/expected" && find . -type f | sed 's|^\./||' | sort)
    fi
  fi
  if [ ${#msgs[@]} -eq 0 ]; then pass "$name"; else fail "$name" "${msgs[@]}"; fi

  # the same flow through the JIT (`flowc run`): everything it prints and writes must be identical
  local jit=$work.jit
  e2e_setup "$src" "$example" "$jit"
  # shellcheck disable=SC2086
  (cd "$jit" && exec timeout -k 5 "$T_TIMEOUT" "$FLOWC" run flow.flow --json $args) </dev/null >"$jit/stdout" 2>"$jit/stderr"
  echo "exit $?" >>"$jit/stdout"
  msgs=()
  e2e_same "$work" "$jit" native jit
  if [ ${#msgs[@]} -eq 0 ]; then pass "$name (jit)"; else fail "$name (jit)" "${msgs[@]}"; fi

  # a flow with typed variants (docs/language.md, "Typed records") runs again the generic way
  # (FLOW_TYPED=off): everything it prints and writes must be identical
  grep -q 'static int t\(fn\|map\|vmap\)[0-9]' <("$FLOWC" emit-c "$work/flow.flow" 2>/dev/null) || return 0
  local gen=$work.generic
  e2e_setup "$src" "$example" "$gen"
  cp "$work/prog" "$gen/prog"
  # shellcheck disable=SC2086
  (cd "$gen" && FLOW_TYPED=off exec timeout -k 5 "$T_TIMEOUT" ./prog run --json $args) </dev/null >"$gen/stdout" 2>"$gen/stderr"
  echo "exit $?" >>"$gen/stdout"
  msgs=()
  e2e_same "$work" "$gen" typed generic
  if [ ${#msgs[@]} -eq 0 ]; then pass "$name (generic)"; else fail "$name (generic)" "${msgs[@]}"; fi
}

make -s build/asan/libflowrt.a >/dev/null 2>&1
for d in tests/e2e/*/; do
  [ -f "$d/flow.flow" ] || continue
  e2e_case "${d%/}"
done
# every example is built and run too; its expectations live in tests/e2e/examples/NAME/
for f in examples/*.flow; do
  [ -f "$f" ] || continue
  ex=${f##*/}; ex=${ex%.flow}
  e2e_case "tests/e2e/examples/$ex" "$ex"
done

# One end-to-end run under valgrind (a plain -O2 build, no sanitizers): no invalid access, no leak.
if command -v valgrind >/dev/null 2>&1 && [ -n "${FLOWC_REL:-}" ]; then
  t_case "e2e/valgrind-quickstart"
  vg=$T_TMP/e2e/valgrind
  rm -rf "$vg"; mkdir -p "$vg/out"
  cp examples/quickstart.flow "$vg/flow.flow"; cp -r examples/data "$vg/data"
  t_exec -C "$vg" "$FLOWC_REL" build flow.flow -o prog
  t_expect_rc 0
  t_exec -C "$vg" valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite,indirect ./prog run --json
  t_expect_rc 0
  t_expect_nogrep "$C_ERR" '== (Invalid|Conditional|.*definitely lost)' "valgrind reported a problem"
  t_done
fi

# The built executable's own CLI: --version, describe with secrets redacted, required params.
ex=$T_TMP/e2e/exe-cli
rm -rf "$ex"; mkdir -p "$ex/data"
echo '{"id":1}' > "$ex/data/in.ndjson"
cat > "$ex/flow.flow" <<'FLOW'
integration "exe-cli" version "2.1.0"
param region: string
param limit_to: int = 5
connection input = file { dir = "data" }
connection pg = postgres { dsn = env("PG_DSN_SECRET") }
connection api = http { base_url = "http://127.0.0.1:9", auth = bearer(env("API_TOKEN_SECRET")) }
flow copy {
  export rows from input { file = "in.ndjson" }
  import out into input { file = "out-{{param.region}}.ndjson" }
}
flow unused_pg { export r from pg { sql = "select 1" } import x into api { path = "/x" } }
FLOW
t_case "e2e/exe-cli/build"
t_exec -C "$ex" "$FLOWC" build flow.flow -o prog
t_expect_rc 0
t_done
t_case "e2e/exe-cli/version"
t_exec -C "$ex" ./prog --version
t_expect_rc 0
t_expect_grep "$C_OUT" '^exe-cli 2\.1\.0 \(flowc [0-9.]+\)$'
t_done
t_case "e2e/exe-cli/describe-redacts-secrets"
t_exec -C "$ex" env PG_DSN_SECRET=host=db.internal-s3cr3t API_TOKEN_SECRET=tok-s3cr3t ./prog describe --param region=EU
t_expect_rc 0
t_expect_grep "$C_OUT" '"integration":"exe-cli"'
t_expect_nogrep "$C_OUT" 's3cr3t' "a secret appears in describe"
t_expect_nogrep "$C_ERR" 's3cr3t' "a secret appears on stderr"
t_done
t_case "e2e/exe-cli/required-param"
t_exec -C "$ex" ./prog run copy
t_expect_rc 1
t_expect_grep "$C_ERR" 'region'
t_done
t_case "e2e/exe-cli/param-and-json"
t_exec -C "$ex" ./prog run copy --param region=EU --json
t_expect_rc 0
t_expect_grep "$C_OUT" '^\{"flow":"copy","exported":1,"ignored":0,"errors":0,"imported":\{"out":1\}\}$'
[ -f "$ex/data/out-EU.ndjson" ] || t_note "data/out-EU.ndjson was not written"
t_done
t_case "e2e/exe-cli/ping-file-connection"
t_exec -C "$ex" ./prog ping input --param region=EU
t_expect_rc 0
t_expect_grep "$C_OUT" '^\{"connection":"input","kind":"file","ok":true,"latency_ms":[0-9]+,"path":"data","access":"read and write","exists":true\}$'
t_done
t_case "e2e/exe-cli/ping-failures-say-their-class-and-no-secret"
t_exec -C "$ex" env API_TOKEN_SECRET=tok-s3cr3t ./prog ping api --param region=EU
t_expect_rc 1
t_expect_grep "$C_OUT" '"ok":false,"class":"connection","message":"connection api: cannot reach GET http://127\.0\.0\.1:9'
t_expect_nogrep "$C_OUT" 's3cr3t' "a secret appears in ping's answer"
t_exec -C "$ex" env 'PG_DSN_SECRET=host=127.0.0.1 port=9 dbname=x user=u password=pw-s3cr3t connect_timeout=2' ./prog ping pg --param region=EU
t_expect_rc 1
t_expect_grep "$C_OUT" '"kind":"postgres","ok":false,"class":"connection"'
t_expect_nogrep "$C_OUT" 's3cr3t' "a password appears in ping's answer"
t_done
t_case "e2e/exe-cli/ping-usage"
t_exec -C "$ex" ./prog ping --param region=EU
t_expect_rc 2
t_expect_grep "$C_ERR" "give one connection's name \(connections: input, pg, api\)"
t_exec -C "$ex" ./prog ping nope --param region=EU
t_expect_rc 2
t_expect_grep "$C_ERR" 'no connection `nope` \(connections: input, pg, api\)'
t_exec -C "$ex" ./prog ping input --json
t_expect_rc 2
t_done

# flowc installed elsewhere finds its runtime relative to itself
if [ -n "${FLOWC_REL:-}" ]; then
  t_case "e2e/install-prefix"
  inst=$T_TMP/e2e/install
  rm -rf "$inst"
  t_exec make -s install PREFIX="$inst/prefix"
  t_expect_rc 0
  mkdir -p "$inst/run/out"; cp -r examples/data "$inst/run/data"
  t_exec -C "$inst/run" "$inst/prefix/bin/flowc" build "$ROOT/examples/quickstart.flow" -o q
  t_expect_rc 0
  t_exec -C "$inst/run" ./q run --json
  t_expect_rc 0
  t_expect_grep "$C_OUT" '"imported":\{"big_orders":2,"small_orders":2\}'
  t_done
fi

# A hook that does not compile is reported at the hook's file in the .flow file, with the line in the
# hook file named as the flow names it, by build and run.
hb=$T_TMP/e2e/bad-hook
rm -rf "$hb"; mkdir -p "$hb/data"
echo '{"id":1}' > "$hb/data/in.ndjson"
printf '#include "flow.h"\nint broken(FlowHookPage *page) { return page->nope + ; }\n' > "$hb/hook.c"
cat > "$hb/flow.flow" <<'FLOW'
integration "bad-hook" version "1"
connection input = file { dir = "data" }
flow f {
  export rows from input { file = "in.ndjson" }
  import out into input { file = "out.ndjson", hook post_map = c("hook.c", "broken") }
}
FLOW
for how in build run; do
  t_case "e2e/bad-hook/$how"
  if [ $how = build ]; then t_exec -C "$hb" "$FLOWC" build flow.flow -o prog; else t_exec -C "$hb" "$FLOWC" run flow.flow; fi
  t_expect_rc 1
  t_expect_grep "$C_ERR" '^flow\.flow:5:66: error: hook file "hook\.c" does not compile: hook\.c:2: error: field not found: nope$'
  t_done
done
