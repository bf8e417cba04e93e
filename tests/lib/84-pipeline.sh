#!/usr/bin/env bash
# Suite `pipeline`: pipelined page writes (docs/language.md, "Pages"; runtime/steps.c, writer.c) into
# standard output, on tests/pipeline/flow.flow (3,000 orders in pages of 5 and of 1,000; pages of
# 1,000 go through the writer thread) built against the sanitized runtime:
#   pipeline/output/*   the output is the same with FLOW_PIPELINE=off, every line in order
#   pipeline/enospc/*   stdout on /dev/full: the run fails naming the error, and counts only the
#                       page whose write failed as exported (the next page, read meanwhile, is not;
#                       /arms: two imports in one page, the page counted once)
#   pipeline/epipe/*    stdout a pipe nobody reads: the same with EPIPE
#   pipeline/efbig/*    stdout a file past RLIMIT_FSIZE on a later page: the pages before counted
#                       imported, the failed one not, the output cut where the limit is
#   pipeline/interrupt/*  SIGTERM with a slow reader: the records counted imported are the lines it got
#   pipeline/jit        the same failure through `flowc run`
#   pipeline/batched/small  pages of 5 reach standard output in writes of 64 KB (strace), not one
#                       write per page (FLOW_PIPELINE=off still writes each page alone)
#   pipeline/jit-output/*  the JIT's output is the native run's
#   pipeline/file/*     the same into a file: its output, a write failing (ulimit -f) part of the way
#                       through a batch of pages, batched writes (pipeline/batched/fsmall)
#   pipeline/state/*    a write failing part of the way through a batch of pages: the open errors of
#                       the records it did not write stay open
#   pipeline/rss/*      peak RSS of pages of 1,000 and of 10,000 (200,000 orders, release build)
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

# pl_want FLOW ERROR EXPORTED IMPORTED: the two lines a run whose write failed prints
pl_want() {
  printf 'error: flow %s: import lines: cannot write to standard output: %s\nflow %s: failed; exported %s, ignored 0, imported lines=%s, errors 0' \
    "$1" "$2" "$1" "$3" "$4"
}
# closed.py CMD...: CMD with stdout a pipe whose reader is gone before it writes
printf '%s\n' 'import os, sys' 'r, w = os.pipe()' 'os.close(r)' 'os.dup2(w, 1)' 'os.close(w)' 'os.execv(sys.argv[1], sys.argv[1:])' >"$pl/closed.py"

# per flow: its page size (what a failed first page counts as exported), and what a run stopped by
# RLIMIT_FSIZE (ulimit -f, in 1024-byte blocks: 200 is 204,800 bytes; a fresh state store, 80 KB,
# fits) counts: pages of 5 fail on page 344, pages of 1,000 on the second
while read -r flow n fx fi; do
  pl_fail "pipeline/enospc/$flow" "exec ./prog run $flow > /dev/full" "$(pl_want "$flow" 'No space left on device' "$n" 0)"
  pl_fail "pipeline/epipe/$flow" "exec python3 closed.py ./prog run $flow" "$(pl_want "$flow" 'Broken pipe' "$n" 0)"
  pl_fail "pipeline/efbig/$flow" "rm -rf st; ulimit -f 200; exec ./prog run $flow --state st > cut.$flow" "$(pl_want "$flow" 'File too large' "$fx" "$fi")"
  t_case "pipeline/efbig/$flow-output"
  [ "$(wc -c <"$pl/cut.$flow")" = 204800 ] && cmp -s "$pl/cut.$flow" <(head -c 204800 "$pl/out.$flow") ||
    t_note "the output is not the first 204,800 bytes of the whole output"
  t_done
done <<'EOF'
small 5 1720 1715
big 1000 2000 1000
EOF

# two imports in one page (one per arm): the first one's failed write fails the run before the
# second one writes, and the page stays counted as exported
pl_fail pipeline/enospc/arms "exec ./prog run arms > /dev/full" "error: flow arms: import odd: cannot write to standard output: No space left on device
flow arms: failed; exported 5, ignored 0, imported odd=0 even=0, errors 0"
pl_fail pipeline/epipe/arms "exec python3 closed.py ./prog run arms" "error: flow arms: import odd: cannot write to standard output: Broken pipe
flow arms: failed; exported 5, ignored 0, imported odd=0 even=0, errors 0"

# pl_interrupt READER FLOW MODE [TWICE]: FLOW run with FLOW_PIPELINE=MODE into a fifo that READER (a
# script in $pl) reads, sent SIGTERM after 0.6 s (and again 50 ms later with TWICE); leaves the exit
# status in pl_rc and the lines the reader got in pl_got. (--foreground: timeout passes a signal to
# the run alone, not to its process group too; a state of its own: a killed run's would be found by
# the next case)
pl_interrupt() {
  rm -f "$pl/fifo" && mkfifo "$pl/fifo"
  (cd "$pl" && exec timeout 60 python3 "$1" <fifo >count.txt) &
  local rd=$! pid
  (cd "$pl" && rm -rf st-int && FLOW_PIPELINE=$3 exec timeout --foreground 60 ./prog run "$2" --state st-int >fifo 2>int.err) &
  pid=$!
  sleep 0.6
  kill -TERM "$pid" 2>/dev/null
  [ -n "${4:-}" ] && { sleep 0.05; kill -TERM "$pid" 2>/dev/null; }
  wait "$pid"
  pl_rc=$?
  wait "$rd"
  C_FILES+=("$pl/int.err")
  pl_got=$(cat "$pl/count.txt")
}

# SIGTERM while a slow reader holds the output back (a page in flight, the writer or the engine
# waiting on the pipe): every record counted imported is a line the reader got, and none other
printf '%s\n' 'import sys, time' 'n = 0' 'while True:' '    b = sys.stdin.buffer.read(16384)' '    if not b: break' \
  '    n += b.count(b"\n"); time.sleep(0.1)' 'print(n)' >"$pl/slow.py"
for flow in small big; do
  t_case "pipeline/interrupt/$flow"
  for mode in on off; do
    pl_interrupt slow.py "$flow" "$mode"
    # the run ends interrupted (143), or, when it had written everything, well (0)
    [ "$pl_rc" = 143 ] || [ "$pl_rc" = 0 ] || t_note "FLOW_PIPELINE=$mode: exit $pl_rc"
    grep -qE "^flow $flow: (interrupted; )?exported $pl_got, ignored 0, imported lines=$pl_got, errors 0$" "$pl/int.err" ||
      t_note "FLOW_PIPELINE=$mode: the reader got $pl_got lines; the run said: $(tail -n 1 "$pl/int.err")"
  done
  t_done
done

# SIGTERM twice within moments (as GNU timeout sends it, to the run and then to its process group)
# is one request: the run still stops at its next safe point and says so
# (the reader reads nothing for a second: the run is held back on the full pipe when both come)
printf '%s\n' 'import sys, time' 'time.sleep(1.0)' 'print(sys.stdin.buffer.read().count(b"\n"))' >"$pl/late.py"
t_case pipeline/interrupt/twice-at-once
pl_interrupt late.py big on twice
[ "$pl_rc" = 143 ] || t_note "exit $pl_rc, expected 143"
grep -qE "^flow big: interrupted; exported $pl_got, ignored 0, imported lines=$pl_got, errors 0$" "$pl/int.err" ||
  t_note "the reader got $pl_got lines; the run said: $(tail -n 1 "$pl/int.err")"
t_done

t_case pipeline/jit
t_exec -C "$pl" bash -c "exec \"\$0\" run flow.flow big > /dev/full" "$FLOWC"
t_expect_rc 1
[ "$(cat "$C_ERR")" = "$(pl_want big 'No space left on device' 1000 0)" ] || t_note "stderr is not the native run's"
t_done

# Several small pages in one write (conn_stdio.c, writer.c): pages of 5 (~600 bytes each) reach
# standard output in writes of 64 KB and more, not one write(2) per page, and the output is the
# same; FLOW_PIPELINE=off still writes each page by itself
if ! command -v strace >/dev/null; then
  skip pipeline/batched/small "strace is not installed (apt-get install strace)"
else
  t_case pipeline/batched/small
  for mode in on off; do
    # (LeakSanitizer cannot run under ptrace)
    t_exec -C "$pl" env FLOW_PIPELINE=$mode ASAN_OPTIONS=detect_leaks=0 bash -c "exec strace -f -qq -e trace=write -o strace.$mode ./prog run small > batched.$mode"
    t_expect_rc 0
    cmp -s "$pl/batched.$mode" "$pl/out.small" || t_note "FLOW_PIPELINE=$mode: the output differs from the run's without strace"
  done
  on=$(grep -c 'write(1,' "$pl/strace.on"); off=$(grep -c 'write(1,' "$pl/strace.off")
  [ "$on" -ge 1 ] && [ "$on" -le 12 ] || t_note "$on writes to standard output for 600 pages of ~600 bytes (want at most 12: 64 KB each)"
  [ "$off" = 600 ] || t_note "FLOW_PIPELINE=off: $off writes to standard output, not one per page (600)"
  t_done
fi

# Into a file (a writer per target, conn_file.c): the file holds what standard output got, with and
# without pipelining; pages of 5 reach it in writes of 64 KB and less (strace); a write that fails
# (ulimit -f) fails the run naming the file, with the counts of a run that writes each page alone
# (the pages before the failed one not written, as the run failed), and leaves no file behind
for flow in fsmall fbig; do
  t_case "pipeline/file/output/$flow"
  for mode in on off; do
    rm -rf "$pl/fout"
    t_exec -C "$pl" env FLOW_PIPELINE=$mode ./prog run "$flow"
    t_expect_rc 0
    cmp -s "$pl/fout/lines.ndjson" "$pl/out.small" || t_note "FLOW_PIPELINE=$mode: the file is not what standard output got"
  done
  t_done
done
# pages of 100 records into 100 files, more than the 64 kept open: the same files either way
t_case pipeline/file/output/fmany
for mode in on off; do
  rm -rf "$pl/fout"
  t_exec -C "$pl" env FLOW_PIPELINE=$mode ./prog run fmany
  t_expect_rc 0
  rm -rf "$pl/many.$mode" && mv "$pl/fout/many" "$pl/many.$mode"
done
[ "$(cat "$pl"/many.on/*.ndjson | wc -l)" = 3000 ] || t_note "the files hold $(cat "$pl"/many.on/*.ndjson | wc -l) lines, not 3000"
diff -r "$pl/many.on" "$pl/many.off" >/dev/null || t_note "the files differ from FLOW_PIPELINE=off's"
t_done
while read -r flow fx fw; do
  pl_fail "pipeline/file/efbig/$flow" "rm -rf st fout; ulimit -f 200; exec ./prog run $flow --state st" \
    "error: flow $flow: import lines: cannot write fout/lines.ndjson: File too large
flow $flow: failed; exported $fx, ignored 0, imported lines=0, not written $fw, errors 0"
  t_case "pipeline/file/efbig/$flow-no-file"
  [ -z "$(ls -A "$pl/fout" 2>/dev/null)" ] || t_note "the failed run left files: $(ls -A "$pl/fout")"
  t_done
done <<'EOF2'
fsmall 1720 1715
fbig 2000 1000
EOF2
if command -v strace >/dev/null; then
  t_case pipeline/batched/fsmall
  for mode in on off; do
    t_exec -C "$pl" env FLOW_PIPELINE=$mode ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=write -o "fstrace.$mode" ./prog run fsmall
    t_expect_rc 0
  done
  on=$(grep -vc 'write(2,' "$pl/fstrace.on"); off=$(grep -vc 'write(2,' "$pl/fstrace.off")
  [ "$on" -ge 1 ] && [ "$on" -le 12 ] || t_note "$on writes to the file for 600 pages of ~600 bytes (want at most 12)"
  [ "$off" -ge 600 ] || t_note "FLOW_PIPELINE=off: $off writes to the file, fewer than one per page (600)"
  t_done
fi

# The same output through the JIT (`flowc run`): native and JIT agree, pages of 5 and of 1,000
for flow in small big; do
  t_case "pipeline/jit-output/$flow"
  t_exec -C "$pl" bash -c "exec \"\$0\" run flow.flow $flow > jit.$flow" "$FLOWC"
  t_expect_rc 0
  cmp -s "$pl/jit.$flow" "$pl/out.$flow" || t_note "the JIT's output differs from the native run's"
  t_done
done

# A write that fails part of the way through a batch of pages (ulimit -f): the records of the pages
# wholly written resolve their open errors, those of the page it cut and of the pages read after
# it keep them (the state is not advanced past what got out). The open errors come from a first run
# in which the notes of orders 1701..1760 were numbers (each an error, keyed by its id; few, as the
# limit holds the state store too).
t_case pipeline/state/unwritten-keep-their-errors
rm -rf "$pl/bad" "$pl/st-open" && mkdir -p "$pl/bad/data" && cp "$pl/flow.flow" "$pl/prog" "$pl/bad/"
awk 'BEGIN { for (i = 1; i <= 3000; i++) if (i > 1700 && i <= 1760) printf "{\"id\":%d,\"sku\":\"sku-%05d\",\"note\":%d}\n", i, i, i
  else printf "{\"id\":%d,\"sku\":\"sku-%05d\",\"note\":\"%080d\"}\n", i, i, i }' >"$pl/bad/data/orders.ndjson"
t_exec -C "$pl/bad" bash -c "exec ./prog run small --state ../st-open > /dev/null"
t_expect_rc 3
t_exec -C "$pl" bash -c "ulimit -f 200; exec ./prog run small --state st-open > cut.open"
t_expect_rc 1
[ "$(cat "$C_ERR")" = "$(pl_want small 'File too large' 1720 1715)" ] || t_note "stderr is not:" "$(pl_want small 'File too large' 1720 1715)"
t_exec -C "$pl" ./prog errors list --json --flow small --state st-open
t_expect_rc 0
open=$(python3 -c 'import json, sys; e = json.load(sys.stdin); ids = sorted(int(x["record"]["id"]) for x in e); print(len(ids), ids[0], ids[-1])' <"$C_OUT")
[ "$open" = "45 1716 1760" ] || t_note "open errors (count, lowest id, highest id): $open, want 45 1716 1760"
t_done

# Peak memory with several pages in flight stays small (release build, 200 pages of 1,000): a page
# finished hands its buffers to the next page sent, so no more are made than pages are in flight
# (each page once took the next of 64 slots and kept its buffers: 170 MB at 1M records)
if [ -n "${FLOWC_REL:-}" ] && [ -x /usr/bin/time ]; then
  t_case pipeline/rss/pages-of-1000
  rm -rf "$pl/rss" && mkdir -p "$pl/rss/data" && cp "$pl/flow.flow" "$pl/rss/"
  awk 'BEGIN { for (i = 1; i <= 200000; i++) printf "{\"id\":%d,\"sku\":\"sku-%05d\",\"note\":\"%080d\"}\n", i, i, i }' >"$pl/rss/data/orders.ndjson"
  t_exec -C "$pl/rss" "$FLOWC_REL" build flow.flow -o prog
  t_expect_rc 0
  t_exec -C "$pl/rss" bash -c "exec /usr/bin/time -f 'maxrss %M' ./prog run big > /dev/null"
  t_expect_rc 0
  rss=$(sed -n 's/^maxrss //p' "$C_ERR")
  if [ -z "$rss" ] || [ "$rss" -gt 40960 ]; then t_note "peak RSS ${rss:-?} KB, expected under 40 MB"; fi
  t_done
  # the same in pages of 10,000 (two in flight): a page's import items are ~100 bytes each, their
  # record error allocated only when a record fails (engine.h, FlowItemErr); with a 1 KB message in
  # each the peak was 44.7-47.7 MB, against 24.8-28.1 MB
  t_case pipeline/rss/pages-of-10000
  t_exec -C "$pl/rss" bash -c "exec /usr/bin/time -f 'maxrss %M' ./prog run huge > /dev/null"
  t_expect_rc 0
  rss=$(sed -n 's/^maxrss //p' "$C_ERR")
  if [ -z "$rss" ] || [ "$rss" -gt 36864 ]; then t_note "peak RSS ${rss:-?} KB, expected under 36 MB"; fi
  t_done
fi
