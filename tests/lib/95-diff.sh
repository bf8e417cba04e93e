#!/usr/bin/env bash
# Suite `diff`: `flowc diff` and `flowc merge` (compiler/resource.c, diff.c, merge.c, cli_diff.c).
#   diff/pair/NAME/text|json   tests/diff/pairs/NAME: `flowc diff --exit-code OLD new.flow` (OLD: the
#                              folder's old.flow, else tests/diff/base.flow), text and --format json,
#                              against text.expected / json.expected (stdout and stderr, then `exit N`);
#                              the JSON must parse (jq); a pair that changes nothing (identical,
#                              comments-only, formatting-only, reorder-*) must exit 0, an error-* pair 2,
#                              any other 1. The release build must print the same.
#   diff/env/NAME              `flowc diff --env A --env B tests/diff/base.flow` (tests/diff/env/NAME.args)
#   diff/dump-resources        `flowc dump resources tests/diff/base.flow` against tests/diff/resources.expected
#   diff/secrets-masked        no secret value of the pairs appears in any golden output
#   diff/merge/NAME            tests/diff/merge/NAME: `flowc merge base.flow ours.flow theirs.flow`: the
#                              merged text and `exit N` against merged.expected, stderr against
#                              stderr.expected; a clean merge (exit 0) must check clean, hold no
#                              conflict marker, and change in ours exactly what theirs changed since
#                              base (by `flowc diff`: nothing else, nothing lost but what ours also
#                              made); a conflict (exit 1) must be listed on stderr.
#   diff/git/*                 real git on a temporary repository with the documented driver lines
#                              (docs/cli.md): a merge of two branches through merge.flow.driver, a
#                              conflict marked around one map entry, git diff through diff.flow.command.
# Executed directly rather than sourced: run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" diff

diff_tmp=$T_TMP/diff
rm -rf "$diff_tmp"
mkdir -p "$diff_tmp"

# diff_golden NAME EXPECTED DIR ARGS...: stdout and stderr of flowc ARGS (run in DIR) with `exit N`, against
# EXPECTED; the release build must agree. Sets diff_last to the exit line.
diff_golden() {
  local name=$1 exp=$2 dir=$3 out
  shift 3
  out=$diff_tmp/$(slug "$name").out
  golden_run 1 "$out" "$out.err" "$dir" "$FLOWC" "$@"
  diff_last=$(tail -n 1 "$out")
  if ! golden_cmp "$exp" "$out"; then fail "$name" "${G_MSGS[@]}"; return 1; fi
  if [ -n "$FLOWC_REL" ]; then
    golden_run 1 "$out.rel" "$out.rel.err" "$dir" "$FLOWC_REL" "$@"
    if ! cmp -s "$out" "$out.rel"; then
      fail "$name" "the release build prints something else:" "$(diff -u "$out" "$out.rel" | head -n 20)"
      return 1
    fi
  fi
  diff_out=$out
  return 0
}

# ---- pairs ----
for diff_dir in tests/diff/pairs/*/; do
  diff_name=$(basename "$diff_dir")
  diff_old=../../base.flow
  [ -f "$diff_dir/old.flow" ] && diff_old=old.flow
  case $diff_name in
    identical | comments-only | formatting-only | reorder-*) diff_want="exit 0" ;;
    error-*) diff_want="exit 2" ;;
    *) diff_want="exit 1" ;;
  esac
  diff_golden "diff/pair/$diff_name/text" "$ROOT/$diff_dir/text.expected" "$ROOT/$diff_dir" \
    diff --exit-code "$diff_old" new.flow || continue
  if [ "$diff_last" != "$diff_want" ]; then fail "diff/pair/$diff_name/text" "expected $diff_want, got $diff_last"; continue; fi
  pass "diff/pair/$diff_name/text$G_NOTE"
  diff_golden "diff/pair/$diff_name/json" "$ROOT/$diff_dir/json.expected" "$ROOT/$diff_dir" \
    diff --exit-code --format json "$diff_old" new.flow || continue
  if [ "$diff_last" != "$diff_want" ]; then fail "diff/pair/$diff_name/json" "expected $diff_want, got $diff_last"; continue; fi
  if [ "$diff_want" != "exit 2" ] && ! sed '$d' "$diff_out" | jq -e '.changes | type == "array" and all(.[]; (.address | type) == "string" and (.action | IN("added","removed","changed","renamed")) and (.notes | type) == "array")' >/dev/null 2>&1; then
    fail "diff/pair/$diff_name/json" "not the documented JSON:" "$(head -n 10 "$diff_out")"; continue
  fi
  pass "diff/pair/$diff_name/json$G_NOTE"
done

# ---- the resource model itself: every address, kind, span and canonical form of base.flow ----
if diff_golden diff/dump-resources "$ROOT/tests/diff/resources.expected" "$ROOT/tests/diff" dump resources base.flow; then
  if [ "$diff_last" != "exit 0" ]; then fail diff/dump-resources "expected exit 0, got $diff_last"
  else pass "diff/dump-resources$G_NOTE"; fi
fi

# ---- no secret in any diff: the secret values the pairs change (params that feed auth, env values
# of such params, basic() passwords, URL passwords, hmac secrets) appear in no output ----
t_case diff/secrets-masked
diff_leaks=$(grep -l -e 'tok-123456' -e 'tok-654321' -e 'prod-secret' -e 'hunter2' -e 'whsec-' \
  tests/diff/pairs/*/text.expected tests/diff/pairs/*/json.expected tests/diff/env/*.expected tests/diff/resources.expected 2>/dev/null)
[ -z "$diff_leaks" ] || t_note "a secret value is printed in:" "$diff_leaks"
grep -q '"\*\*\*"' tests/diff/pairs/connection-auth/text.expected || t_note "connection-auth shows no masked value"
t_done

# ---- two environments of one file ----
for diff_args in tests/diff/env/*.args; do
  diff_name=$(basename "$diff_args" .args)
  mapfile -t diff_argv <"$diff_args"
  diff_golden "diff/env/$diff_name" "$ROOT/tests/diff/env/$diff_name.expected" "$ROOT/tests/diff" \
    diff "${diff_argv[@]}" || continue
  pass "diff/env/$diff_name$G_NOTE"
done

# ---- merge triples ----
for diff_dir in tests/diff/merge/*/; do
  diff_name=$(basename "$diff_dir")
  diff_base=../../base.flow
  [ -f "$diff_dir/base.flow" ] && diff_base=base.flow
  diff_o=$diff_tmp/merge-$diff_name.out
  golden_run 0 "$diff_o" "$diff_o.err" "$ROOT/$diff_dir" "$FLOWC" merge "$diff_base" ours.flow theirs.flow
  diff_rc=$(tail -n 1 "$diff_o")
  if ! golden_cmp "$ROOT/$diff_dir/merged.expected" "$diff_o" "$diff_o.err"; then fail "diff/merge/$diff_name" "${G_MSGS[@]}"; continue; fi
  if ! golden_cmp "$ROOT/$diff_dir/stderr.expected" "$diff_o.err"; then fail "diff/merge/$diff_name" "stderr:" "${G_MSGS[@]}"; continue; fi
  sed '$d' "$diff_o" >"$diff_o.flow"
  case $diff_rc in
    "exit 0")
      if grep -qE '^(<<<<<<<|=======|>>>>>>>)' "$diff_o.flow"; then fail "diff/merge/$diff_name" "a clean merge holds conflict markers"; continue; fi
      if ! "$FLOWC" check "$diff_o.flow" >"$diff_o.check" 2>&1; then fail "diff/merge/$diff_name" "the merged file does not check:" "$(head -n 10 "$diff_o.check")"; continue; fi
      # what the merge changed in ours is what theirs changed since base (each address and action)
      (cd "$ROOT/$diff_dir" && "$FLOWC" diff --format json ours.flow "$diff_o.flow") | jq -r '.changes[] | "\(.action) \(.address)"' | sort >"$diff_o.ours"
      (cd "$ROOT/$diff_dir" && "$FLOWC" diff --format json "$diff_base" theirs.flow) | jq -r '.changes[] | "\(.action) \(.address)"' | sort >"$diff_o.theirs"
      (cd "$ROOT/$diff_dir" && "$FLOWC" diff --format json "$diff_base" ours.flow) | jq -r '.changes[] | "\(.action) \(.address)"' | sort >"$diff_o.mine"
      diff_extra=$(comm -23 "$diff_o.ours" "$diff_o.theirs")
      if [ -n "$diff_extra" ]; then fail "diff/merge/$diff_name" "the merge changed in ours what theirs did not change:" "$diff_extra"; continue; fi
      # and every change of theirs that ours did not also make is in the merge
      diff_lost=$(comm -23 "$diff_o.theirs" "$diff_o.mine" | comm -23 - "$diff_o.ours")
      if [ -n "$diff_lost" ]; then fail "diff/merge/$diff_name" "theirs' changes missing from the merge:" "$diff_lost"; continue; fi ;;
    "exit 1")
      if ! grep -q 'conflict' "$diff_o.err"; then fail "diff/merge/$diff_name" "a conflict must be listed on stderr"; continue; fi ;;
    *) fail "diff/merge/$diff_name" "merge exited ${diff_rc#exit }:" "$(head -n 10 "$diff_o.err")"; continue ;;
  esac
  if [ -n "$FLOWC_REL" ]; then
    golden_run 0 "$diff_o.rel" "$diff_o.rel.err" "$ROOT/$diff_dir" "$FLOWC_REL" merge "$diff_base" ours.flow theirs.flow
    if ! cmp -s "$diff_o" "$diff_o.rel"; then fail "diff/merge/$diff_name" "the release build merges otherwise:" "$(diff -u "$diff_o" "$diff_o.rel" | head -n 20)"; continue; fi
  fi
  pass "diff/merge/$diff_name$G_NOTE"
done

# ---- usage and errors ----
t_case diff/usage/one-file
t_exec "$FLOWC" diff tests/diff/base.flow
t_expect_rc 2
t_expect_grep "$C_ERR" 'diff takes two files' "the usage error names the form"
t_done

t_case diff/usage/unreadable
t_exec "$FLOWC" diff tests/diff/base.flow "$diff_tmp/no-such.flow"
t_expect_rc 2
t_expect_grep "$C_ERR" 'cannot read .*no-such.flow' "the unreadable file is named"
t_done

t_case diff/usage/merge-two-files
t_exec "$FLOWC" merge tests/diff/base.flow tests/diff/base.flow
t_expect_rc 2
t_done

t_case diff/usage/old-does-not-check
t_exec "$FLOWC" merge tests/diff/pairs/error-new-does-not-check/new.flow tests/diff/base.flow tests/diff/base.flow
t_expect_rc 2
t_expect_grep "$C_ERR" 'new.flow:[0-9]+:[0-9]+: error: ' "the diagnostics of the file that does not check"
t_done

t_case diff/merge/output-file
t_exec "$FLOWC" merge tests/diff/base.flow tests/diff/merge/different-resources/ours.flow tests/diff/merge/different-resources/theirs.flow -o "$diff_tmp/out.flow"
t_expect_rc 0
[ -s "$C_OUT" ] && t_note "with -o, nothing goes to stdout"
if ! cmp -s "$diff_tmp/out.flow" <(sed '$d' tests/diff/merge/different-resources/merged.expected); then t_note "-o OUT holds another text than stdout would"; fi
t_done

# ---- git ----
if ! command -v git >/dev/null 2>&1; then
  skip diff/git "no git on this machine (Debian: git)"
else
  diff_repo=$diff_tmp/repo
  diff_gitcmd=(git -C "$diff_repo" -c user.name=t -c user.email=t@t -c init.defaultBranch=main)
  diff_git() { "${diff_gitcmd[@]}" "$@"; }
  # the driver lines exactly as docs/cli.md gives them, with this build's flowc
  diff_setup() {
    rm -rf "$diff_repo"; mkdir -p "$diff_repo"
    diff_git init -q
    printf '*.flow diff=flow merge=flow\n' >"$diff_repo/.gitattributes"
    diff_git config merge.flow.name "flowc merge"
    diff_git config merge.flow.driver "$FLOWC merge %O %A %B -o %A -L ours -L theirs"
    diff_git config diff.flow.command "$FLOWC diff"
    cp tests/diff/base.flow "$diff_repo/shop.flow"
    diff_git add -A && diff_git commit -qm base
  }
  diff_edit() {   # diff_edit BRANCH FROM TO: a commit on BRANCH (made from main) that replaces FROM by TO
    diff_git checkout -q main && diff_git checkout -q -b "$1"
    F="$2" T="$3" perl -0pi -e 's/\Q$ENV{F}\E/$ENV{T}/' "$diff_repo/shop.flow"
    diff_git commit -qam "$1"
  }
  diff_branches() {   # diff_branches A FROM TO B FROM TO: a fresh repository, branches A and B, A checked out
    diff_setup
    diff_edit "$1" "$2" "$3"
    diff_edit "$4" "$5" "$6"
    diff_git checkout -q "$1"
  }

  t_case diff/git/merge-driver
  diff_branches mapping '          amount = record.total' '          amount: int = floor(record.total * 100)' \
                schedule 'schedule = cron("*/15 * * * *")' 'schedule = every(1h)'
  t_exec "${diff_gitcmd[@]}" merge -q --no-edit schedule
  t_expect_rc 0
  grep -q 'amount: int = floor(record.total \* 100)' "$diff_repo/shop.flow" || t_note "the mapping edit is lost"
  grep -q 'schedule = every(1h)' "$diff_repo/shop.flow" || t_note "the schedule edit is lost"
  t_exec "$FLOWC" check "$diff_repo/shop.flow"
  t_expect_rc 0
  t_done

  t_case diff/git/merge-conflict
  diff_branches ours '          amount = record.total' '          amount = record.total * 100' \
                theirs '          amount = record.total' '          amount = round(record.total, 2)'
  t_exec "${diff_gitcmd[@]}" merge -q --no-edit theirs
  t_expect_rc 1
  t_expect_grep "$C_ERR" 'conflict: flow orders › import deals › map › amount' "the conflicting item is listed"
  # markers only around the amount line: exactly one conflict block of one line per side
  diff_block=$(awk '/^<<<<<<< /{p=1} p{print} /^>>>>>>> /{p=0}' "$diff_repo/shop.flow")
  diff_want=$(printf '<<<<<<< ours\n          amount = record.total * 100\n=======\n          amount = round(record.total, 2)\n>>>>>>> theirs')
  [ "$diff_block" = "$diff_want" ] || t_note "the markers are not around the amount line alone:" "$diff_block"
  # everything outside the block is ours, byte for byte
  diff_rest=$(awk '/^<<<<<<< /{p=1; print "@@"} !p{print} /^>>>>>>> /{p=0}' "$diff_repo/shop.flow")
  diff_ours=$(diff_git show ours:shop.flow | awk '/^          amount = /{print "@@"; next} {print}')
  [ "$diff_rest" = "$diff_ours" ] || t_note "the text around the conflict is not ours byte for byte"
  t_done

  t_case diff/git/diff-driver
  diff_setup
  diff_edit review 'schedule = cron("*/15 * * * *")' 'schedule = every(1h)'
  F='  timeout = 30s' T='  timeout    =   30000ms   // same' perl -0pi -e 's/\Q$ENV{F}\E/$ENV{T}/' "$diff_repo/shop.flow"
  t_exec "${diff_gitcmd[@]}" diff main review
  t_expect_rc 0
  t_expect_grep "$C_OUT" '^changed flow orders › schedule$' "git diff shows flowc diff's review"
  t_expect_grep "$C_OUT" '^  ! schedule changed$' "with the operational note"
  t_exec "${diff_gitcmd[@]}" diff
  t_expect_rc 0
  t_expect_grep "$C_OUT" '^no changes$' "a reformatting in the work tree is no change"
  t_done
fi
