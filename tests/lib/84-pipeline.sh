#!/usr/bin/env bash
# Suite `pipeline`: pipelined page writes (docs/language.md, "Pages"; runtime/steps.c, writer.c) into
# standard output, on tests/pipeline/flow.flow (3,000 orders in pages of 5 and of 1,000; pages of
# 1,000 go through the writer thread) built against the sanitized runtime:
#   pipeline/output/*   the output is the same with FLOW_PIPELINE=off, every line in order
#   pipeline/enospc/*   stdout on /dev/full: the run fails naming the error, and counts only the
#                       page whose write failed as exported (the next page, read meanwhile, is not)
#   pipeline/epipe/*    stdout a pipe nobody reads: the same with EPIPE
#   pipeline/efbig/*    stdout a file past RLIMIT_FSIZE on a later page: the pages before counted
#                       imported, the failed one not, the output cut where the limit is
#   pipeline/jit        the same failure through `flowc run`
# Each failure is checked against the exact lines the run printed before pipelining (the same with
# FLOW_PIPELINE=off). Executed directly rather than sourced: run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" pipeline

pl=$T_TMP/pipeline
rm -rf "$pl"
mkdir -p "$pl/data"
cp tests/pipeline/flow.flow "$pl/"
awk 'BEGIN { for (i = 1; i <= 3000; i++) printf "{\"id\":%d,\"sku\":\"sku-%05d\",\"note\":\"%080d\"}\n", i, i, i }' >"$pl/data/orders.ndjson"
make -s build/asan/libflowrt.a >/dev/null 2>&1

t_case pipeline/build
san_build "$pl" || t_note "flowc build failed: $(head -n 5 "$pl/build.log")"
t_done
[ -x "$pl/prog" ] || return 0

# pl_run NAME FLOW SHELL-REDIRECTION [ENV...]: runs FLOW with stdout as the redirection says
pl_run() {
  local flow=$2 redir=$3; shift 3
  t_exec -C "$pl" env "$@" bash -c "exec ./prog run $flow $redir"
}

for flow in small big; do
  t_case "pipeline/output/$flow"
  pl_run x "$flow" "> out.$flow"
  t_expect_rc 0
  pl_run x "$flow" "> off.$flow" FLOW_PIPELINE=off
  t_expect_rc 0
  cmp -s "$pl/out.$flow" "$pl/off.$flow" || t_note "the output differs from FLOW_PIPELINE=off's"
  [ "$(wc -l <"$pl/out.$flow")" = 3000 ] || t_note "$(wc -l <"$pl/out.$flow") lines, not 3000"
  [ "$(awk -F'[:,]' '{ if ($2 != NR) { print NR; exit } }' "$pl/out.$flow")" = "" ] || t_note "the lines are not in order"
  t_done
done

# pl_fail NAME SHELL-COMMAND EXPECTED-STDERR: the run fails with exactly these lines, with and
# without pipelining
pl_fail() {
  local name=$1 cmd=$2 want=$3 mode
  t_case "$name"
  for mode in on off; do
    t_exec -C "$pl" env FLOW_PIPELINE=$mode bash -c "$cmd"
    t_expect_rc 1
    [ "$(cat "$C_ERR")" = "$want" ] || t_note "FLOW_PIPELINE=$mode: stderr is not:" "$want"
  done
  t_done
}

pl_fail pipeline/enospc/small "exec ./prog run small > /dev/full" "error: flow small: import lines: cannot write to standard output: No space left on device
flow small: failed; exported 5, ignored 0, imported lines=0, errors 0"
pl_fail pipeline/enospc/big "exec ./prog run big > /dev/full" "error: flow big: import lines: cannot write to standard output: No space left on device
flow big: failed; exported 1000, ignored 0, imported lines=0, errors 0"

for flow in small big; do
  n=5
  [ "$flow" = big ] && n=1000
  t_case "pipeline/epipe/$flow"
  for mode in on off; do
    t_exec -C "$pl" env FLOW_PIPELINE=$mode python3 -c 'import os, sys; r, w = os.pipe(); os.close(r); os.dup2(w, 1); os.close(w); os.execv(sys.argv[1], sys.argv[1:])' ./prog run "$flow"
    t_expect_rc 1
    want="error: flow $flow: import lines: cannot write to standard output: Broken pipe
flow $flow: failed; exported $n, ignored 0, imported lines=0, errors 0"
    [ "$(cat "$C_ERR")" = "$want" ] || t_note "FLOW_PIPELINE=$mode: stderr is not:" "$want"
  done
  t_done
done

# RLIMIT_FSIZE in 1024-byte blocks (200: 204,800 bytes; a fresh state store, 80 KB, fits): small pages
# fail on page 344, pages of 1,000 on the second
pl_fail pipeline/efbig/small "rm -rf st; ulimit -f 200; exec ./prog run small --state st > cut.small" "error: flow small: import lines: cannot write to standard output: File too large
flow small: failed; exported 1720, ignored 0, imported lines=1715, errors 0"
t_case pipeline/efbig/small-output
[ "$(wc -c <"$pl/cut.small")" = 204800 ] && cmp -s "$pl/cut.small" <(head -c 204800 "$pl/out.small") ||
  t_note "the output is not the first 204,800 bytes of the whole output"
t_done
pl_fail pipeline/efbig/big "rm -rf st; ulimit -f 200; exec ./prog run big --state st > cut.big" "error: flow big: import lines: cannot write to standard output: File too large
flow big: failed; exported 2000, ignored 0, imported lines=1000, errors 0"
t_case pipeline/efbig/big-output
[ "$(wc -c <"$pl/cut.big")" = 204800 ] && cmp -s "$pl/cut.big" <(head -c 204800 "$pl/out.big") ||
  t_note "the output is not the first 204,800 bytes of the whole output"
t_done

t_case pipeline/jit
t_exec -C "$pl" bash -c "exec \"\$0\" run flow.flow big > /dev/full" "$FLOWC"
t_expect_rc 1
[ "$(cat "$C_ERR")" = "error: flow big: import lines: cannot write to standard output: No space left on device
flow big: failed; exported 1000, ignored 0, imported lines=0, errors 0" ] || t_note "stderr is not the native run's"
t_done
