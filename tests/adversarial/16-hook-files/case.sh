# Item 16: hook files are read only when they are regular files inside the flow's directory tree:
# a FIFO never hangs a command, /etc/passwd (named directly or through a symlink) is never read or
# printed, a file over 1 MB is refused; every command that reads a flow says so at the hook.

# adv16_all NAME WANT: check, build, run, test and preview all exit 1 at once (no hang, no prog)
# with WANT in the message at the hook's file string, and print nothing of /etc/passwd
adv16_all() {
  adv_refused "adversarial/16-hook-files/$1" "check build run test preview" "^flow\\.flow:8:26: error: hook file \"hooks/target\\.c\" $2"
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
