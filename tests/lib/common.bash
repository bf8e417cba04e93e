# Helpers shared by every suite (sourced by tests/run.sh before tests/lib/*.sh; not a suite itself):
# counters and PASS/FAIL lines, sanitizer detection, running the compiler with a timeout, the
# assertion helpers of the CLI-style suites, and golden-file comparison (with UPDATE=1).
# Expects ROOT (the repo root, also the current directory), FLOWC and FLOWC_REL (maybe empty).

T_PASS=0
T_FAIL=0
T_SKIP=0
T_TMP=$ROOT/build/test            # scratch space of every suite
T_TIMEOUT=${T_TIMEOUT:-60}
SAN_RE='AddressSanitizer|LeakSanitizer|runtime error:'
export LC_ALL=C
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
mkdir -p "$T_TMP/cases"

# t_clip: stdin -> at most 30 lines, 200 columns each, other bytes than printable ASCII and tab
# shown as \xHH, indented.
t_clip() {
  awk 'BEGIN { for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i }
    {
      if (length($0) > 200) $0 = substr($0, 1, 200) "..."
      if ($0 ~ /[^ -~\t]/) {
        s = ""
        for (i = 1; i <= length($0); i++) {
          c = substr($0, i, 1)
          s = s ((c ~ /[ -~\t]/) ? c : sprintf("\\x%02X", ord[c]))
        }
        $0 = s
      }
      print "    " $0
    }' | head -n 30
}

pass() { T_PASS=$((T_PASS + 1)); printf 'PASS %s\n' "$*"; }

# skip NAME REASON: a case that cannot run here (counted as skipped, never as passed).
skip() { T_SKIP=$((T_SKIP + 1)); printf 'SKIP %s\n    %s\n' "$1" "$2"; }

# t_find_suite FILE: the path of a public conformance or design file, relative to the repo root: the
# one under ${SHARED_DIR:-../shared} when it exists (the contract's copy), else the repository's own
# copy under tests/conformance/suites/ (for conformance/ files); empty when neither exists.
t_find_suite() {
  local shared=${SHARED_DIR:-../shared}/$1
  if [ -f "$shared" ]; then printf '%s\n' "$shared"
  elif [ -f "tests/conformance/suites/${1##*/}" ] && [ "${1%%/*}" = conformance ]; then
    printf '%s\n' "tests/conformance/suites/${1##*/}"
  fi
}

# fail NAME [DETAIL...]: each DETAIL argument may span several lines; 30 lines are shown at most.
fail() {
  local name=$1; shift
  T_FAIL=$((T_FAIL + 1))
  printf 'FAIL %s\n' "$name"
  local d
  for d in "$@"; do [ -n "$d" ] && printf '%s\n' "$d"; done | t_clip
  return 0
}

# san_found FILE...: true when any FILE holds a sanitizer report.
san_found() { grep -aqE "$SAN_RE" "$@" 2>/dev/null; }

# san_excerpt FILE...: the start of the first sanitizer report.
san_excerpt() {
  local f
  for f in "$@"; do
    [ -f "$f" ] || continue
    if grep -aqE "$SAN_RE" "$f"; then
      grep -aE -m1 -A20 "$SAN_RE|ERROR: " "$f"
      return 0
    fi
  done
}

# slug NAME: a file-name-safe form of a case name.
slug() { printf '%s' "$1" | tr -c 'A-Za-z0-9._-' '_'; }

# ---------------------------------------------------------------------------------------------------
# Cases made of commands and assertions:
#   t_case NAME; t_exec [-C DIR] CMD...; t_expect_rc N; t_expect_grep FILE ERE WHY; ...; t_done
# t_exec leaves stdout in $C_OUT, stderr in $C_ERR and the exit status in $C_RC; a case may run
# several commands. t_done fails the case if any assertion failed or any output of any of its
# commands holds a sanitizer report.

t_case() { C_NAME=$1; C_MSGS=(); C_FILES=(); C_N=0; C_OUT=/dev/null; C_ERR=/dev/null; C_RC=0; }

t_note() { C_MSGS+=("$*"); }

t_exec() {
  local dir=.
  if [ "$1" = -C ]; then dir=$2; shift 2; fi
  C_N=$((C_N + 1))
  C_OUT=$T_TMP/cases/$(slug "$C_NAME").$C_N.out
  C_ERR=$T_TMP/cases/$(slug "$C_NAME").$C_N.err
  C_CMD="$*"
  (cd "$dir" && exec timeout -k 5 "$T_TIMEOUT" "$@") </dev/null >"$C_OUT" 2>"$C_ERR"
  C_RC=$?
  C_FILES+=("$C_OUT" "$C_ERR")
  case $C_RC in
    124) t_note "timed out after ${T_TIMEOUT}s: $C_CMD" ;;
    12[5-7]) t_note "could not run: $C_CMD (exit $C_RC)" ;;
    1[3-9][0-9] | 2[0-9][0-9]) t_note "killed by signal $((C_RC - 128)): $C_CMD" ;;
  esac
  return 0
}

t_expect_rc() {
  [ "$C_RC" = "$1" ] || t_note "exit $C_RC, expected $1: $C_CMD"
}

# t_expect_grep FILE ERE WHY / t_expect_nogrep FILE ERE WHY
t_expect_grep() { grep -aqE -- "$2" "$1" || t_note "${3:-no line matches /$2/} ($(basename "$1"))"; }
t_expect_nogrep() { ! grep -aqE -- "$2" "$1" || t_note "${3:-a line matches /$2/} ($(basename "$1"))"; }

t_done() {
  if [ ${#C_FILES[@]} -gt 0 ] && san_found "${C_FILES[@]}"; then
    C_MSGS+=("sanitizer report:" "$(san_excerpt "${C_FILES[@]}")")
  fi
  if [ ${#C_MSGS[@]} -eq 0 ]; then
    pass "$C_NAME"
    return 0
  fi
  local lines=() f
  lines+=("${C_MSGS[@]}")
  # show what the last command printed, as context
  for f in "$C_ERR" "$C_OUT"; do
    [ -s "$f" ] && lines+=("--- ${f##*.}:" "$(head -n 12 "$f")")
  done
  fail "$C_NAME" "${lines[@]}"
}

# ---------------------------------------------------------------------------------------------------
# Golden files.

# golden_cmp EXPECTED ACTUAL [MORE_FILES_TO_SCAN...]: compares (or, with UPDATE=1, rewrites)
# EXPECTED. Returns 0 on success with a note in G_NOTE, 1 on failure with the reasons in G_MSGS.
golden_cmp() {
  local exp=$1 act=$2; shift 2
  G_MSGS=(); G_NOTE=
  if san_found "$act" "$@"; then
    G_MSGS=("sanitizer report:" "$(san_excerpt "$act" "$@")")
    return 1
  fi
  if [ "${UPDATE:-0}" = 1 ]; then
    if [ ! -f "$exp" ] || ! cmp -s "$exp" "$act"; then
      cp "$act" "$exp" && G_NOTE=" (updated ${exp#"$ROOT"/})"
    fi
    return 0
  fi
  if [ ! -f "$exp" ]; then
    G_MSGS=("missing ${exp#"$ROOT"/} (UPDATE=1 tests/run.sh writes it); actual output:" "$(cat "$act")")
    return 1
  fi
  cmp -s "$exp" "$act" && return 0
  G_MSGS=("$(diff -u --label expected --label actual "$exp" "$act" | head -n 30)")
  return 1
}

# golden_run MERGE OUT ERR DIR CMD...: runs CMD in DIR; OUT gets stdout (and stderr when MERGE=1)
# followed by the line `exit N`.
golden_run() {
  local merge=$1 out=$2 err=$3 dir=$4 rc; shift 4
  if [ "$merge" = 1 ]; then
    (cd "$dir" && exec timeout -k 5 "$T_TIMEOUT" "$@") </dev/null >"$out" 2>&1
    rc=$?
    : >"$err"
  else
    (cd "$dir" && exec timeout -k 5 "$T_TIMEOUT" "$@") </dev/null >"$out" 2>"$err"
    rc=$?
  fi
  echo "exit $rc" >>"$out"
}

# golden_suite SUITE SRCDIR MERGE ARGS...: one case per SRCDIR/**/X.flow, comparing
#   (cd DIR-of-X && $FLOWC ARGS X.flow [2>&1 when MERGE=1]; echo "exit $?")
# with X.expected next to it. With FLOWC_REL, the release build must print the same.
# A file below an `ok` directory must exit 0 and one below an `errors` directory must exit 1.
golden_suite() {
  local suite=$1 src=$2 merge=$3; shift 3
  [ -d "$src" ] || return 0
  local f dir base stem name exp out err last
  while IFS= read -r f; do
    dir=${f%/*}; base=${f##*/}; stem=${base%.flow}
    name=$suite/${f#"$src"/}; name=${name%.flow}
    exp=$ROOT/$dir/$stem.expected
    out=$T_TMP/golden/${f%.flow}.out
    err=$T_TMP/golden/${f%.flow}.err
    mkdir -p "${out%/*}"
    golden_run "$merge" "$out" "$err" "$ROOT/$dir" "$FLOWC" "$@" "$base"
    last=$(tail -n 1 "$out")
    case $last in
      "exit 124") fail "$name" "timed out after ${T_TIMEOUT}s: (cd $dir && flowc $* $base)"; continue ;;
      "exit 1"[3-9][0-9] | "exit 2"[0-9][0-9])
        fail "$name" "crashed ($last): (cd $dir && flowc $* $base)" "$(tail -n 20 "$out" "$err")"; continue ;;
    esac
    case /$f in
      */ok/*) if [ "$last" != "exit 0" ]; then
                fail "$name" "a file under ok/ must check clean, got $last:" "$(head -n 20 "$out")"; continue
              fi ;;
      */errors/*) if [ "$last" != "exit 1" ]; then
                fail "$name" "a file under errors/ must exit 1, got $last:" "$(head -n 20 "$out")"; continue
              fi ;;
    esac
    if ! golden_cmp "$exp" "$out" "$err"; then
      fail "$name" "${G_MSGS[@]}"; continue
    fi
    if [ -n "$FLOWC_REL" ]; then
      golden_run "$merge" "$out.rel" "$err.rel" "$ROOT/$dir" "$FLOWC_REL" "$@" "$base"
      if ! cmp -s "$out" "$out.rel"; then
        fail "$name" "the release build ($FLOWC_REL) prints something else:" \
          "$(diff -u --label "$FLOWC" --label "$FLOWC_REL" "$out" "$out.rel" | head -n 28)"
        continue
      fi
    fi
    pass "$name$G_NOTE"
  done < <(find "$src" -type f -name '*.flow' | sort)
}

# t_build_unit SUITE BIN: the case SUITE/build, `make BIN` with the longer build timeout (building the
# sanitized runtime library may take longer than one compiler invocation); T_BUILT=1 when BIN is there
t_build_unit() {
  local saved=$T_TIMEOUT
  t_case "$1/build"
  T_TIMEOUT=${T_BUILD_TIMEOUT:-600}
  t_exec make -s "$2"
  T_TIMEOUT=$saved
  t_expect_rc 0
  [ -x "$2" ] || t_note "no $2 (make $2 failed)"
  T_BUILT=$([ "$C_RC" = 0 ] && [ -x "$2" ] && echo 1)
  t_done
}

# t_driver NAME LAST OUT RC ERR: the cases a driver printed into OUT (lines `PASS NAME` / `FAIL NAME`
# followed by indented details: tests/server/*.py), each counted as passed or failed; a driver that
# exited RC != 0, or never reached its last case LAST, is the failed case NAME (ERR's tail with it).
t_driver() {
  local name=$1 last=$2 out=$3 rc=$4 err=$5 line d_state= d_name= d_detail=()
  while IFS= read -r line; do
    case $line in
      "PASS "* | "FAIL "*)
        if [ -n "$d_name" ]; then
          if [ "$d_state" = PASS ]; then pass "$d_name"; else fail "$d_name" "${d_detail[@]}"; fi
        fi
        d_state=${line%% *}; d_name=${line#* }; d_detail=() ;;
      *) d_detail+=("${line#    }") ;;
    esac
  done <"$out"
  if [ -n "$d_name" ]; then
    if [ "$d_state" = PASS ]; then pass "$d_name"; else fail "$d_name" "${d_detail[@]}"; fi
  fi
  if [ "$rc" != 0 ] || ! grep -q "^PASS $last\|^FAIL $last" "$out"; then
    fail "$name" "the driver exited $rc before its last case ($last)" "$(tail -n 20 "$err")"
  fi
}

# san_build DIR: `flowc build flow.flow -o prog` in DIR against the sanitized runtime
# (build/asan/libflowrt.a, ASan+UBSan, no recovery), the way every end-to-end suite builds its flows;
# its output in DIR/build.log. The build's exit status.
T_SAN_CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all"
san_build() {
  (cd "$1" && FLOWC_RUNTIME_LIB=$ROOT/build/asan/libflowrt.a FLOWC_CFLAGS=$T_SAN_CFLAGS \
     timeout 120 "$FLOWC" build flow.flow -o prog) >"$1/build.log" 2>&1
}

# t_items FIRST LAST FILE: the webhook body {"items":[{"id":FIRST,"name":"nFIRST"}, ...]} (the
# webhook and serve suites' queue tests); t_seq FIRST LAST: "FIRST ... LAST " as their id lists read
t_items() {
  local i sep=
  { printf '{"items":['; for ((i = $1; i <= $2; i++)); do printf '%s{"id":%d,"name":"n%d"}' "$sep" "$i" "$i"; sep=,; done; printf ']}'; } >"$3"
}
t_seq() { local i; for ((i = $1; i <= $2; i++)); do printf '%d ' "$i"; done; }
