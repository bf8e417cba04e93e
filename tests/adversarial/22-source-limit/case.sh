# Item 22: a source over 64 MB is refused by every command that reads one (check, build, run, test,
# preview, emit-c, dump) and from standard input (`-`, a pipe, /dev/stdin): exit 2 with "file too
# large", at once, without reading it all. A source of exactly 64 MB is still read.

# a valid flow padded with comment lines to N bytes: adv22_flow FILE BYTES
adv22_flow() {
  python3 - "$1" "$2" <<'PY'
import sys
path, size = sys.argv[1], int(sys.argv[2])
head = b'integration "big" version "1"\nconnection files = file { dir = "data" }\nflow f { export r from files { file = "in.ndjson" } import w into files { file = "out.ndjson" } }\n'
line = b'// ' + b'x' * 60 + b'\n'
n = (size - len(head)) // len(line)
data = head + line * n
rest = size - len(data)
data += (b'//' + b'y' * (rest - 3) + b'\n') if rest >= 3 else b'\n' * rest
assert len(data) == size
open(path, 'wb').write(data)
PY
}

adv22_flow big.flow $((65 * 1024 * 1024))
for cmd in check build run test preview emit-c dump; do
  t_case "adversarial/22-source-limit/65mb-$cmd"
  case $cmd in
    build) t_exec timeout 30 "$FLOWC" build big.flow -o prog ;;
    dump) t_exec timeout 30 "$FLOWC" dump ir big.flow ;;
    *) t_exec timeout 30 "$FLOWC" "$cmd" big.flow ;;
  esac
  t_expect_rc 2
  t_expect_grep "$C_ERR" '^flowc: cannot read `big\.flow`: file too large \(over 64 MB\)$'
  [ ! -e prog ] || t_note "an executable was built"
  t_done
done

# standard input: redirected from the file, and a pipe (whose size is not known before reading)
t_case adversarial/22-source-limit/65mb-stdin
t_exec sh -c "timeout 30 '$FLOWC' check - <big.flow"
t_expect_rc 2
t_expect_grep "$C_ERR" '^flowc: cannot read `-`: file too large \(over 64 MB\)$'
t_exec sh -c "cat big.flow | timeout 30 '$FLOWC' check -"
t_expect_rc 2
t_expect_grep "$C_ERR" '^flowc: cannot read `-`: file too large \(over 64 MB\)$'
t_exec sh -c "cat big.flow | timeout 30 '$FLOWC' check /dev/stdin"
t_expect_rc 2
t_expect_grep "$C_ERR" 'file too large \(over 64 MB\)'
t_exec sh -c "cat big.flow | timeout 30 '$FLOWC' run -"
t_expect_rc 2
t_expect_grep "$C_ERR" '^flowc: cannot read `-`: file too large \(over 64 MB\)$'
t_done
rm -f big.flow

# the limit itself: 64 MB + 1 byte is refused, exactly 64 MB is read and checks clean
adv22_flow edge.flow $((64 * 1024 * 1024 + 1))
t_case adversarial/22-source-limit/64mb-plus-one
t_exec "$FLOWC" check edge.flow
t_expect_rc 2
t_expect_grep "$C_ERR" 'file too large \(over 64 MB\)'
t_exec sh -c "cat edge.flow | '$FLOWC' check -"
t_expect_rc 2
t_expect_grep "$C_ERR" 'file too large \(over 64 MB\)'
t_done
adv22_flow edge.flow $((64 * 1024 * 1024))
t_case adversarial/22-source-limit/64mb-exactly
t_exec "${FLOWC_REL:-$FLOWC}" check edge.flow
t_expect_rc 0
t_exec sh -c "cat edge.flow | '${FLOWC_REL:-$FLOWC}' check -"
t_expect_rc 0
t_done
rm -f edge.flow
