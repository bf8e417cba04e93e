# 08: out of memory was read as the end of the file (getline ENOMEM: exit 0, the later records
# dropped), and a JSON array too big for memory aborted the process. Now every read goes through a
# buffer bounded by the page limit: a huge line is one `too_large` error and the records after it
# come through; memory running out, or a read error (EIO from /proc/self/mem, EISDIR, EBADF on
# stdin), fails the run naming the file.

# the memory cases need the release build: ASan reserves more address space than any limit allows
if [ -z "${FLOWC_REL:-}" ]; then
  skip adversarial/08-read-errors/huge-line-under-a-memory-limit "needs FLOWC_REL (a build without sanitizers)"
  skip adversarial/08-read-errors/huge-array-under-a-memory-limit "needs FLOWC_REL (a build without sanitizers)"
else
  { echo '{"id":1}'; printf '{"id":2,"s":"'; head -c 100000000 /dev/zero | tr '\0' x; echo '"}'; echo '{"id":3}'; } >data/huge.ndjson
  { printf '[{"id":1},{"id":2,"s":"'; head -c 100000000 /dev/zero | tr '\0' x; echo '"}]'; } >data/huge.json

  t_case adversarial/08-read-errors/huge-line-under-a-memory-limit
  t_exec "$FLOWC_REL" build flow.flow -o prog_rel
  t_expect_rc 0
  # 80 MB of address space: the run needs about 30, a 100 MB line would need more than all of it
  t_exec sh -c 'ulimit -v 80000 && exec ./prog_rel run huge_line --json'
  t_expect_rc 3
  t_expect_grep "$C_OUT" '^\{"flow":"huge_line","exported":3,"ignored":0,"errors":1,"imported":\{"copy":2\}\}$'
  t_expect_grep "$C_ERR" '\[too_large\] line 2 of data/huge\.ndjson is 95\.4 MB, over the 5 MB page limit'
  [ "$(cat out/huge.ndjson 2>/dev/null | paste -sd ' ' -)" = '{"id":1} {"id":3}' ] || t_note "out/huge.ndjson does not hold records 1 and 3"
  t_done

  t_case adversarial/08-read-errors/huge-array-under-a-memory-limit
  t_exec sh -c 'ulimit -v 80000 && exec ./prog_rel run huge_array --json'
  t_expect_rc 1
  t_expect_grep "$C_ERR" '^error: flow huge_array: export rows: cannot read data/huge\.json: Cannot allocate memory$'
  [ ! -e out/array.ndjson ] || t_note "out/array.ndjson was written by a failed run"
  t_done
  rm -f data/huge.ndjson data/huge.json out/huge.ndjson
fi

# read(2) of /proc/self/mem at offset 0 fails with EIO: each format's reader must fail the run
for adv_f in ndjson csv json; do
  adv_both adversarial/08-read-errors/eio-$adv_f mem_$adv_f --json
  t_expect_rc 1
  t_expect_grep "$C_ERR" "^error: flow mem_$adv_f: export rows: cannot read /proc/self/mem.*: Input/output error\$"
  t_expect_grep "$C_OUT" '"exported":0,'
  t_done
done

adv_both adversarial/08-read-errors/a-directory-matched-by-a-glob a_directory --json
t_expect_rc 1
t_expect_grep "$C_ERR" '^error: flow a_directory: export rows: cannot read data/in/sub: Is a directory$'
t_expect_grep "$C_ERR" '^flow a_directory: failed; exported 1, ignored 0, imported copy=0, not written 1, errors 0$'
t_done

# standard input open for writing only: read(2) fails with EBADF
t_case adversarial/08-read-errors/stdin-read-error
adv_build
t_exec sh -c 'exec ./prog run from_stdin --json 0>/dev/null'
t_expect_rc 1
t_expect_grep "$C_ERR" '^error: flow from_stdin: export rows: cannot read stdin after line 0: Bad file descriptor$'
t_done

# a read blocked on a quiet pipe: SIGTERM stops the run (read(2) is restarted after the signal, so the
# reader waits in poll(2), which is not); before, the run went on reading until the writer closed
for adv_how in native jit; do
  t_case adversarial/08-read-errors/sigterm-during-a-blocked-read-$adv_how
  rm -rf out .flowstate in.fifo; mkfifo in.fifo
  [ $adv_how = native ] && [ ! -x prog ] && adv_build
  if [ $adv_how = native ]; then ./prog run from_stdin --json <in.fifo >run.out 2>run.err &
  else "$FLOWC" run flow.flow from_stdin --json <in.fifo >run.out 2>run.err &
  fi
  adv_pid=$!
  exec 3>in.fifo
  echo '{"id":1}' >&3
  for _ in $(seq 200); do [ -n "$(ls -A out 2>/dev/null)" ] && break; sleep 0.05; done   # the record is taken
  sleep 0.3
  kill -TERM "$adv_pid"
  for _ in $(seq 100); do kill -0 "$adv_pid" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$adv_pid" 2>/dev/null; then t_note "the run did not stop on SIGTERM"; fi
  exec 3>&-
  wait "$adv_pid"; adv_rc=$?
  C_FILES+=("$PWD/run.out" "$PWD/run.err")
  [ "$adv_rc" = 143 ] || t_note "exit $adv_rc, expected 143: $(head -c 300 run.err)"
  grep -q '^error: flow from_stdin: interrupted by SIGTERM' run.err || t_note "no 'interrupted by SIGTERM': $(head -c 300 run.err)"
  grep -q '"not_written":1,' run.out || t_note "the summary does not count the taken record as not written: $(head -c 300 run.out)"
  [ -z "$(ls -A out 2>/dev/null)" ] || t_note "files left in out/: $(ls -A out)"
  t_done
done
