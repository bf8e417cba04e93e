# -P / --param values (possibly secrets) are hidden from other processes for as long as a build or
# a run lasts: flowc and the built executable overwrite them in their own argv (ps shows
# `token=*****`); a build that ends early (a failed compile, SIGTERM during it) leaves no C or
# temporary file behind.
tok=s3cr3t-T0KEN-in-ps
mkdir -p data

# a C compiler that records its parent's command line (flowc build's) while flowc waits for it
cat >cc.sh <<'CC'
#!/bin/sh
tr '\0' ' ' </proc/$PPID/cmdline >"$SEEN"
exec cc "$@"
CC
chmod +x cc.sh

t_case adversarial/15-params-hidden/build
SEEN=$PWD/seen-build t_exec env SEEN="$PWD/seen-build" CC="$PWD/cc.sh" "$FLOWC" build flow.flow -o prog -P "token=$tok"
t_expect_rc 0
grep -q 'token=\*\*\*\*' seen-build 2>/dev/null || t_note "the build's command line was not seen masked: $(cat seen-build 2>&1)"
grep -q "$tok" seen-build 2>/dev/null && t_note "ps showed the -P value during the build: $(cat seen-build)"
t_done

# a build stopped by SIGTERM while the compiler runs leaves nothing beside the output: the compiler
# (slow.sh, its pid in ./started) starts, flowc is terminated, and only once flowc has ended does the
# compiler go on (it outlives flowc: it must find no C to compile and write nothing)
cat >slow.sh <<'CC'
#!/bin/sh
echo $$ >"$STARTED"
for _ in $(seq 600); do [ -e "$GO" ] && break; sleep 0.05; done
exec cc "$@"
CC
chmod +x slow.sh
t_case adversarial/15-params-hidden/build-terminated
mkdir -p out
env STARTED="$PWD/started" GO="$PWD/go" CC="$PWD/slow.sh" \
  "$FLOWC" build flow.flow -o out/prog -P "token=$tok" 2>err-term &
pid=$!
for _ in $(seq 100); do [ -s started ] && break; sleep 0.1; done
[ -s started ] || t_note "the compiler never started"
kill -TERM $pid; wait $pid; rc=$?
[ $rc -ne 0 ] || t_note "the terminated build exited 0"
touch go
cc_pid=$(cat started 2>/dev/null)
for _ in $(seq 600); do [ -n "$cc_pid" ] && kill -0 "$cc_pid" 2>/dev/null || break; sleep 0.05; done
left=$(find out -mindepth 1 2>/dev/null)
[ -z "$left" ] || t_note "a terminated build left files behind: $left"
grep -rq "$tok" out err-term 2>/dev/null && t_note "the token was left on disk or printed"
t_done

# a run: flowc run -P and the built executable's --param, while the run waits on its input
for how in jit native; do
  t_case adversarial/15-params-hidden/run-$how
  rm -f fifo; mkfifo fifo
  if [ $how = jit ]; then "$FLOWC" run flow.flow -P "token=$tok" <fifo >out-$how 2>err-$how &
  else ./prog run --param "token=$tok" <fifo >out-$how 2>err-$how & fi
  pid=$!
  exec 9>fifo
  # the run is waiting on its input once its command line is masked (10 s at most)
  for _ in $(seq 200); do
    seen=$(tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null)
    case $seen in *"token=****"*) break ;; esac
    sleep 0.05
  done
  echo '{"id":1}' >&9; exec 9>&-
  wait $pid; rc=$?
  [ $rc -eq 0 ] || t_note "the run exited $rc: $(cat err-$how)"
  case $seen in *"token=****"*) ;; *) t_note "the run's command line was not seen masked: $seen" ;; esac
  case $seen in *"$tok"*) t_note "ps showed the value during the run: $seen" ;; esac
  t_done
done

# a -P value the param's type refuses ends the build early, said at the param by the executable's own
# reader of --param values; a secret one is not shown (it built a program that failed every run)
t_case adversarial/15-params-hidden/build-bad-value
mkdir -p bad
t_exec "$FLOWC" build flow.flow -o bad/prog -P "token=$tok" -P pin=s3cr3t-PIN
t_expect_rc 1
t_expect_grep "$C_ERR" '^flow\.flow:14:7: error: param `pin`: its -P / --env value is not valid for its type \(it is a secret: not shown\)$'
t_expect_nogrep "$C_ERR" 's3cr3t-PIN' "the secret value was printed"
[ -z "$(ls -A bad)" ] || t_note "the refused build left files: $(ls -A bad)"
t_exec "$FLOWC" run flow.flow -P "token=$tok" -P pin=12x34
t_expect_rc 1
t_expect_grep "$C_ERR" 'param `pin`: its -P / --env value is not valid for its type'
t_expect_nogrep "$C_ERR" '12x34' "the secret value was printed"
t_done
