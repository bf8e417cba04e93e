# Item 16: hook files are read only when they are regular files inside the flow's directory tree:
# a FIFO never hangs a command, /etc/passwd (named directly or through a symlink) is never read or
# printed, a file over 1 MB is refused; every command that reads a flow says so at the hook.

# adv16_all NAME WANT: check, build, run, test and preview all exit 1 at once (no hang, no prog)
# with WANT in the message at the hook's file string, and print nothing of /etc/passwd
adv16_all() {
  local name=$1 want=$2 cmd
  for cmd in check build run test preview; do
    t_case "adversarial/16-hook-files/$name-$cmd"
    rm -f prog
    case $cmd in
      build) t_exec timeout 20 "$FLOWC" build flow.flow -o prog ;;
      *) t_exec timeout 20 "$FLOWC" "$cmd" flow.flow ;;
    esac
    t_expect_rc 1
    t_expect_grep "$C_ERR" "^flow\\.flow:8:26: error: hook file \"hooks/target\\.c\" $want"
    t_expect_nogrep "$C_ERR" 'root:' "the contents of /etc/passwd were printed"
    t_expect_nogrep "$C_OUT" 'root:' "the contents of /etc/passwd were printed"
    [ ! -e prog ] || t_note "an executable was built"
    t_done
  done
}

mkfifo hooks/target.c
adv16_all fifo 'is a FIFO, not a C file'
rm -f hooks/target.c

ln -s /etc/passwd hooks/target.c
adv16_all symlink-outside 'is outside the directory of flow\.flow'
rm -f hooks/target.c

{ printf '/* a hook padded past 1 MB */\n#include "flow.h"\nint drop_test_orders(FlowHookPage *p) { (void)p; return 0; }\n'
  head -c 1100000 /dev/zero | tr '\0' '\n'; } >hooks/target.c
adv16_all too-large 'is too large \(1100[0-9]* bytes; at most 1048576\)'

# a good hook at the same place: every command works, native and JIT agree
cp hooks/orders.c hooks/target.c
t_case adversarial/16-hook-files/good-check
t_exec "$FLOWC" check flow.flow
t_expect_rc 0
t_done
t_case adversarial/16-hook-files/good-test
t_exec "$FLOWC" test flow.flow
t_expect_rc 0
t_expect_grep "$C_OUT" '^1 passed, 0 failed$'
t_done
adv_src=$ADV_SRC
adv_copy "$ADV_WORK/src"
cp hooks/orders.c "$ADV_WORK/src/hooks/target.c"
ADV_SRC=$ADV_WORK/src
adv_both adversarial/16-hook-files/good-run
ADV_SRC=$adv_src
t_expect_rc 0
[ -s "$ADV_NATIVE/data/copies.ndjson" ] || t_note "the flow wrote nothing"
t_done
