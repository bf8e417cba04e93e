#!/usr/bin/env bash
# Suite `vscode`: the VS Code extension, editors/vscode (its README says what it holds).
#   vscode/grammar-generated  syntaxes/flow.tmLanguage.json is what syntaxes/generate.js makes of
#                             flowc's sources (the lexer's keywords and symbols, number units, type and
#                             context names, template helpers, built-ins): the lists cannot drift.
#                             UPDATE=1 regenerates it. Needs node only.
#   vscode/resolve            extension.js parses (node --check); server.js finds flowc as the
#                             `flowc.path` setting says, and refuses with a message naming the
#                             setting (tests/vscode/launch.js)
#   vscode/config             language-configuration.json's patterns on lines of Flow (indentation,
#                             words), its pairs and comments, and the manifest's contributions, setting
#                             and pinned dependency (tests/vscode/config.js)
#   vscode/assert/DIR/NAME    the `// scope: TEXT -> SCOPE` comments of tests/vscode/DIR/NAME.flow
#                             hold under the real tokenizer VS Code uses: vscode-textmate with
#                             vscode-oniguruma (tests/vscode/grammar.js; the npm packages are installed
#                             into build/npm/vscode by `scripts/deps.sh test`; SKIP without them)
#   vscode/snapshot/DIR/NAME  the scopes of every token of examples/*.flow, the cases and the ```flow
#                             blocks of LANGUAGE.md (a SKIPped part without it) against
#                             tests/vscode/snapshots/DIR/NAME.snap; UPDATE=1 rewrites them
#   vscode/lexer              the grammar agrees with the real lexer (`flowc dump tokens`) on every
#                             .flow file of the repository without syntax errors: each character of
#                             each comment, string, number, duration, size, operator word, literal and
#                             symbol token carries the scope of its class, no real token is scoped
#                             invalid, and no white space between tokens is in a string or comment
#   vscode/invalid            every token the grammar scopes invalid.illegal, in every .flow file of
#                             the repository, is where `flowc check` reports an error; in
#                             tests/vscode/errors, every error flowc reports is such a token
#   vscode/vsix               `npx @vscode/vsce package` (vsce from build/npm/vscode) of a staged copy,
#                             build/vscode/ext, with the extension's node_modules from
#                             build/npm/vscode-ext (editors/vscode's lock): build/vscode/flow-V.vsix
#                             must be a zip holding the manifest, extension.js, server.js, the grammar
#                             (the repository's, byte for byte), the language configuration and
#                             vscode-languageclient, and every file the manifest names
#   vscode/lsp                the extension's launch of `flowc lsp` (stdio) driven through
#                             vscode-jsonrpc, the transport of vscode-languageclient: initialize,
#                             didOpen -> publishDiagnostics, shutdown, exit 0. SKIP while flowc has no
#                             lsp command.
# Executed directly rather than sourced: run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" vscode

vs_dir=$T_TMP/vscode
rm -rf "$vs_dir"
mkdir -p "$vs_dir"
vs_npm=$ROOT/build/npm/vscode
vs_grammar=editors/vscode/syntaxes/flow.tmLanguage.json
vs_stage=$ROOT/build/vscode/ext

if ! command -v node >/dev/null 2>&1; then
  skip vscode "no node: scripts/deps.sh test installs nodejs and npm"
else
  # ---- the grammar is generated from flowc's sources ----
  t_case vscode/grammar-generated
  [ "${UPDATE:-0}" = 1 ] && t_exec node editors/vscode/syntaxes/generate.js
  t_exec node editors/vscode/syntaxes/generate.js --check
  t_expect_rc 0
  t_expect_grep "$C_OUT" '^grammar up to date: ' 'no line `grammar up to date: ...`'
  [ "$C_RC" = 0 ] && C_NAME="vscode/grammar-generated ($(sed 's/^grammar up to date: //' "$C_OUT"))"
  t_done

  # ---- how the extension finds flowc ----
  t_case vscode/resolve
  t_exec node --check editors/vscode/extension.js
  t_expect_rc 0
  t_exec node tests/vscode/launch.js editors/vscode "$FLOWC" resolve
  t_expect_rc 0
  t_expect_nogrep "$C_OUT" '^FAIL' 'a check failed'
  [ "$C_RC" = 0 ] && C_NAME="vscode/resolve ($(grep -c '^ok ' "$C_OUT") checks)"
  t_done

  # ---- the language configuration and the manifest ----
  t_case vscode/config
  t_exec node tests/vscode/config.js editors/vscode
  t_expect_rc 0
  t_expect_nogrep "$C_OUT" '^FAIL' 'a check failed'
  [ "$C_RC" = 0 ] && C_NAME="vscode/config ($(grep -c '^ok ' "$C_OUT") checks)"
  t_done

  # ---- the grammar under the real tokenizer ----
  if [ ! -f "$vs_npm/node_modules/vscode-textmate/package.json" ] || [ ! -f "$vs_npm/node_modules/vscode-oniguruma/package.json" ]; then
    skip vscode/grammar "vscode-textmate and vscode-oniguruma are not in build/npm/vscode: npm could not reach its registry when scripts/deps.sh test ran (see build/npm/vscode/npm.log)"
  else
    vs_jobs=$vs_dir/jobs
    vs_snaps=()   # "DIR/NAME" of each snapshot job
    : >"$vs_jobs"
    vs_snapshot() { printf 'snapshot\t%s\t%s\n' "$2" "$vs_dir/snap/$1.snap" >>"$vs_jobs"; vs_snaps+=("$1"); }
    for f in examples/*.flow; do vs_snapshot "examples/$(basename "$f" .flow)" "$f"; done
    for f in tests/vscode/cases/*.flow tests/vscode/errors/*.flow; do
      d=$(basename "$(dirname "$f")")
      vs_snapshot "$d/$(basename "$f" .flow)" "$f"
      printf 'assert\t%s\n' "$f" >>"$vs_jobs"
    done
    vs_lang=$(t_find_suite design/LANGUAGE.md)
    if [ -n "$vs_lang" ]; then
      mkdir -p "$vs_dir/lang"
      awk -v dir="$vs_dir/lang" '
        !inb && /^```flow[ \t]*$/ { inb = 1; n++; f = sprintf("%s/language-md-%02d.flow", dir, n); printf "" > f; next }
        inb && /^```[ \t]*$/      { inb = 0; close(f); next }
        inb                       { print > f }' "$vs_lang"
      for f in "$vs_dir"/lang/*.flow; do vs_snapshot "language-md/$(basename "$f" .flow)" "$f"; done
    fi
    find . \( -path ./build -o -path ./.git \) -prune -o -type f -name '*.flow' -print | sed 's|^\./||' | sort >"$vs_dir/files"
    sed 's/^/invalid\t/' "$vs_dir/files" >>"$vs_jobs"
    vs_files=$(wc -l <"$vs_dir/files")
    # the real lexer's tokens of every file (flowc dump tokens, 200 files a process)
    xargs -n 200 timeout -k 5 "$T_TIMEOUT" "$FLOWC" dump tokens <"$vs_dir/files" >"$vs_dir/tokens" 2>"$vs_dir/tokens.err"
    printf 'lexer\t%s\n' "$vs_dir/tokens" >>"$vs_jobs"

    vs_out=$vs_dir/tokenize.out
    timeout -k 5 300 node tests/vscode/grammar.js "$vs_npm/node_modules" "$vs_grammar" "$vs_jobs" </dev/null >"$vs_out" 2>"$vs_dir/tokenize.err"
    vs_rc=$?
    [ "$vs_rc" = 0 ] || [ "$vs_rc" = 1 ] || fail vscode/tokenize "node tests/vscode/grammar.js failed (exit $vs_rc):" "$(head -n 20 "$vs_dir/tokenize.err")"
    # fail NAME with the lines grammar.js printed under `FAIL FILE`
    vs_failed() { awk -v f="$1" '$0 == "FAIL " f { p = 1; next } /^(ok|FAIL) / { p = 0 } p' "$vs_out"; }

    for f in tests/vscode/cases/*.flow tests/vscode/errors/*.flow; do
      name="vscode/assert/$(basename "$(dirname "$f")")/$(basename "$f" .flow)"
      if line=$(grep -m1 -F "ok $f (" "$vs_out"); then pass "$name ${line#"ok $f "}"
      else fail "$name" "$(vs_failed "$f")"; fi
    done
    i=0
    while IFS=$'\t' read -r mode src out; do
      [ "$mode" = snapshot ] || continue
      key=${vs_snaps[$i]}; i=$((i + 1))
      if ! grep -qxF "ok $src" "$vs_out"; then fail "vscode/snapshot/$key" "$(vs_failed "$src")"; continue; fi
      mkdir -p "$ROOT/tests/vscode/snapshots/${key%/*}"
      if golden_cmp "$ROOT/tests/vscode/snapshots/$key.snap" "$out"; then pass "vscode/snapshot/$key$G_NOTE"
      else fail "vscode/snapshot/$key" "${G_MSGS[@]}"; fi
    done <"$vs_jobs"
    [ -n "$vs_lang" ] || skip vscode/snapshot/language-md "no ${SHARED_DIR:-../shared}/design/LANGUAGE.md beside this checkout: its examples are not covered"

    # ---- the grammar's tokens are the lexer's ----
    t_case vscode/lexer
    [ "$(grep -c '^# ' "$vs_dir/tokens")" = "$vs_files" ] || t_note "flowc dump tokens gave $(grep -c '^# ' "$vs_dir/tokens") of $vs_files files"
    san_found "$vs_dir/tokens.err" && t_note "sanitizer report:" "$(san_excerpt "$vs_dir/tokens.err")"
    if line=$(grep -m1 -F "ok $vs_dir/tokens (" "$vs_out"); then C_NAME="vscode/lexer ${line#"ok $vs_dir/tokens "}"
    else t_note "$(vs_failed "$vs_dir/tokens")"; fi
    t_done

    # ---- invalid tokens are flowc's errors ----
    t_case vscode/invalid
    grep -aE '^[^ ]+\.flow:[0-9]+:[0-9]+: ' "$vs_out" >"$vs_dir/invalid" || true
    vs_ntok=$(wc -l <"$vs_dir/invalid")
    vs_nfile=0
    for f in $(cut -d: -f1 "$vs_dir/invalid" | sort -u) tests/vscode/errors/*.flow; do
      [ -f "$vs_dir/errs.$(slug "$f")" ] && continue
      (timeout -k 5 "$T_TIMEOUT" "$FLOWC" check "$f" 2>&1; true) </dev/null |
        grep -aE "^$f:[0-9]+:[0-9]+: error: " | cut -d: -f1-3 | sort -u >"$vs_dir/errs.$(slug "$f")"
      vs_nfile=$((vs_nfile + 1))
    done
    while IFS= read -r l; do
      f=${l%%:*}; pos=$(printf '%s' "$l" | cut -d: -f1-3)
      grep -qxF "$pos" "$vs_dir/errs.$(slug "$f")" ||
        t_note "the grammar scopes \`${l#*: }\` invalid at $pos, where flowc check reports no error"
    done <"$vs_dir/invalid"
    for f in tests/vscode/errors/*.flow; do
      [ -s "$vs_dir/errs.$(slug "$f")" ] || t_note "$f: flowc check reports no error"
      while IFS= read -r pos; do
        grep -q "^$pos: " "$vs_dir/invalid" || t_note "$pos: flowc reports an error where the grammar scopes no token invalid.illegal"
      done <"$vs_dir/errs.$(slug "$f")"
    done
    C_NAME="vscode/invalid ($vs_ntok invalid tokens in $vs_nfile of $vs_files files, each an error of flowc check)"
    t_done
  fi

  # ---- the .vsix ----
  if [ ! -f "$vs_npm/node_modules/@vscode/vsce/package.json" ]; then
    skip vscode/vsix "@vscode/vsce is not in build/npm/vscode: npm could not reach its registry when scripts/deps.sh test ran (see build/npm/vscode/npm.log)"
  elif [ ! -f "$ROOT/build/npm/vscode-ext/node_modules/vscode-languageclient/package.json" ]; then
    skip vscode/vsix "vscode-languageclient is not in build/npm/vscode-ext: npm could not reach its registry when scripts/deps.sh test ran (see build/npm/vscode-ext/npm.log)"
  else
    rm -rf "$vs_stage"
    mkdir -p "$vs_stage"
    cp -R editors/vscode/. "$vs_stage/"
    cp -R "$ROOT/build/npm/vscode-ext/node_modules" "$vs_stage/"
    vs_vsix=$ROOT/build/vscode/flow-$(node -p 'require("./editors/vscode/package.json").version').vsix
    rm -f "$vs_vsix"
    t_case vscode/vsix
    T_TIMEOUT_SAVED=$T_TIMEOUT
    T_TIMEOUT=300
    t_exec -C "$vs_stage" npx --prefix "$vs_npm" --offline -- vsce package --allow-missing-repository --skip-license \
      --no-rewrite-relative-links -o "$vs_vsix"
    T_TIMEOUT=$T_TIMEOUT_SAVED
    t_expect_rc 0
    if [ -f "$vs_vsix" ]; then
      t_exec python3 tests/vscode/vsix.py "$vs_vsix" "$vs_grammar"
      t_expect_rc 0
      [ "$C_RC" = 0 ] && C_NAME="vscode/vsix (${vs_vsix#"$ROOT"/}, $(( ($(stat -c %s "$vs_vsix") + 1023) / 1024 )) KB, $(cat "$C_OUT"))"
    else
      t_note "no $vs_vsix"
    fi
    t_done

    # ---- the extension's launch of flowc lsp ----
    (timeout -k 5 10 "$FLOWC" lsp </dev/null >/dev/null 2>"$vs_dir/lsp.err"; true)
    if grep -q 'unknown command `lsp`' "$vs_dir/lsp.err"; then
      skip vscode/lsp "this flowc has no lsp command (flowc lsp is another item of issue 13)"
    else
      t_case vscode/lsp
      t_exec node tests/vscode/launch.js "$vs_stage" "$FLOWC" lsp tests/vscode/lsp/misspelt.flow
      t_expect_rc 0
      t_expect_nogrep "$C_OUT" '^FAIL' 'a check failed'
      t_expect_grep "$C_OUT" '^ok didOpen' 'no diagnostics after didOpen'
      t_done
    fi
  fi
fi
