#!/usr/bin/env bash
# Suite `graph`: `flowc graph` (compiler/graph.c), pictures of flows.
#   graph/golden/NAME.{dot,mmd}   the DOT and Mermaid text of tests/graph/NAME.flow (hand-written: every
#                                 step kind and entry, after() chains, hooks, hostile text) and of every
#                                 examples/NAME.flow (goldens in tests/graph/examples/), against
#                                 NAME.dot and NAME.mmd; the release build must print the same
#                                 (UPDATE=1 rewrites them)
#   graph/dot/NAME                Graphviz's `dot -Tsvg` accepts every DOT golden (SKIP without dot)
#   graph/mermaid/NAME            every Mermaid golden passes tests/graph/check.py's structural check
#   graph/svg/NAME                `--format svg` of every example and hand-written case: the SVG shows,
#                                 decoded, every step's name, condition and flow as its .flow file writes
#                                 them; headless Chromium renders it to a PNG, which must be a valid image,
#                                 not blank, with the export's and import's colours (SKIP without chromium)
#   graph/cli/*                   --flow, an unknown --flow (the flows named), a file that does not check
#                                 (check's diagnostics and exit), no dot on PATH, a dot that fails, usage
#                                 errors, secrets, DOT larger than a pipe holds
# Executed directly rather than sourced: run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" graph
# A long CPU-bound suite: tests/run.sh starts it before the others (see there).
# lane: heavy

gr_tmp=$T_TMP/graph
rm -rf "$gr_tmp"
mkdir -p "$gr_tmp"
gr_check=$ROOT/tests/graph/check.py
gr_have_dot=$(command -v dot >/dev/null 2>&1 && echo 1)
gr_chromium=$(command -v chromium || command -v chromium-browser || true)

# gr_cases: "FLOW<TAB>GOLDEN-STEM" for every case
gr_cases() {
  local f
  for f in tests/graph/*.flow; do printf '%s\t%s\n' "$f" "tests/graph/$(basename "$f" .flow)"; done
  for f in examples/*.flow; do printf '%s\t%s\n' "$f" "tests/graph/examples/$(basename "$f" .flow)"; done
}
mkdir -p tests/graph/examples

# ---- goldens ----
while IFS=$'\t' read -r gr_flow gr_stem; do
  gr_name=${gr_stem#tests/graph/}
  for gr_fmt in dot mmd; do
    gr_format=$([ $gr_fmt = mmd ] && echo mermaid || echo dot)
    gr_out=$gr_tmp/$(slug "$gr_name").$gr_fmt
    (cd "$(dirname "$gr_flow")" && timeout -k 5 "$T_TIMEOUT" "$FLOWC" graph "$(basename "$gr_flow")" --format $gr_format) \
      >"$gr_out" 2>"$gr_out.err" </dev/null
    gr_rc=$?
    if [ $gr_rc != 0 ]; then
      fail "graph/golden/$gr_name.$gr_fmt" "exit $gr_rc:" "$(cat "$gr_out.err")"
      continue
    fi
    if ! golden_cmp "$ROOT/$gr_stem.$gr_fmt" "$gr_out" "$gr_out.err"; then
      fail "graph/golden/$gr_name.$gr_fmt" "${G_MSGS[@]}"
      continue
    fi
    if [ -n "$FLOWC_REL" ]; then
      (cd "$(dirname "$gr_flow")" && timeout -k 5 "$T_TIMEOUT" "$FLOWC_REL" graph "$(basename "$gr_flow")" --format $gr_format) \
        >"$gr_out.rel" 2>/dev/null </dev/null
      if ! cmp -s "$gr_out" "$gr_out.rel"; then
        fail "graph/golden/$gr_name.$gr_fmt" "the release build prints something else:" "$(diff -u "$gr_out" "$gr_out.rel" | head -n 20)"
        continue
      fi
    fi
    pass "graph/golden/$gr_name.$gr_fmt$G_NOTE"
  done
done < <(gr_cases)

# ---- every DOT golden through Graphviz, every Mermaid golden through the structural check ----
gr_ndot=0
while IFS=$'\t' read -r gr_flow gr_stem; do
  gr_name=${gr_stem#tests/graph/}
  if [ -n "$gr_have_dot" ]; then
    t_case "graph/dot/$gr_name"
    t_exec dot -Tsvg "$gr_stem.dot" -o "$gr_tmp/$(slug "$gr_name").golden.svg"
    t_expect_rc 0
    [ -s "$C_ERR" ] && t_note "dot complained:" "$(head -n 5 "$C_ERR")"
    t_done
    gr_ndot=$((gr_ndot + 1))
  fi
  t_case "graph/mermaid/$gr_name"
  t_exec python3 "$gr_check" mermaid "$gr_stem.mmd"
  t_expect_rc 0
  [ -s "$C_OUT" ] && t_note "$(cat "$C_OUT")"
  t_done
done < <(gr_cases)
[ -n "$gr_have_dot" ] || skip graph/dot "no Graphviz dot on this machine (Debian package graphviz; scripts/deps.sh test installs it)"

# ---- SVG and PNG ----
if [ -z "$gr_have_dot" ]; then
  skip graph/svg "no Graphviz dot on this machine (Debian package graphviz)"
else
  [ -n "$gr_chromium" ] || skip graph/png "no chromium on this machine (Debian package chromium; scripts/deps.sh test installs it): SVGs are checked, not rendered"
  gr_png=0
  while IFS=$'\t' read -r gr_flow gr_stem; do
    gr_name=${gr_stem#tests/graph/}
    gr_svg=$gr_tmp/$(slug "$gr_name").svg
    t_case "graph/svg/$gr_name"
    t_exec "$FLOWC" graph "$gr_flow" --format svg -o "$gr_svg"
    t_expect_rc 0
    head -c 200 "$gr_svg" 2>/dev/null | grep -q '<?xml' || t_note "no SVG written to -o"
    t_exec python3 "$gr_check" labels "$gr_svg" "$gr_flow"
    t_expect_rc 0
    [ -s "$C_OUT" ] && t_note "$(cat "$C_OUT")"
    if [ -n "$gr_chromium" ] && [ ${#C_MSGS[@]} = 0 ]; then
      gr_size=$(python3 "$gr_check" size "$gr_svg")
      gr_pngf=$gr_tmp/$(slug "$gr_name").png
      t_exec "$gr_chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$gr_tmp/chromium" \
        --screenshot="$gr_pngf" --window-size="$gr_size" "file://$gr_svg"
      t_expect_rc 0
      if [ -s "$gr_pngf" ]; then
        t_exec python3 "$gr_check" png "$gr_pngf" "${gr_size%,*}" "${gr_size#*,}"
        t_expect_rc 0
        [ -s "$C_OUT" ] && t_note "$(cat "$C_OUT")"
        gr_png=$((gr_png + 1))
        C_NAME="$C_NAME (PNG ${gr_size/,/x})"
      else
        t_note "chromium wrote no PNG"
      fi
    fi
    t_done
  done < <(gr_cases)
fi

# ---- the command ----
t_case graph/cli/flow
t_exec "$FLOWC" graph tests/graph/steps.flow --flow enrich
t_expect_rc 0
t_expect_grep "$C_OUT" 'label="flow enrich"' "no cluster of the flow asked for"
t_expect_grep "$C_OUT" 'schedule after\(orders\)' "the entry does not say after(orders)"
t_expect_nogrep "$C_OUT" 'flow orders|flow summary|ltail=' "another flow, or an after() edge, drawn with --flow"
t_exec "$FLOWC" graph tests/graph/steps.flow --flow enrich --format mermaid -o "$gr_tmp/enrich.mmd"
t_expect_rc 0
[ -s "$C_OUT" ] && t_note "-o also wrote to stdout"
grep -q 'flow enrich' "$gr_tmp/enrich.mmd" 2>/dev/null || t_note "-o OUT does not hold the picture"
t_exec python3 "$gr_check" mermaid "$gr_tmp/enrich.mmd"
t_expect_rc 0
t_done

t_case graph/cli/after-chain
t_exec "$FLOWC" graph tests/graph/steps.flow
t_expect_rc 0
# summary runs after enrich, which runs after orders: dashed edges from the end of one cluster to the next
t_expect_grep "$C_OUT" '^  f0_s10 -> f2_in \[label="after", style=dashed, ltail=cluster_f0, lhead=cluster_f2\];$' "no after() edge orders -> enrich"
t_expect_grep "$C_OUT" '^  f2_s1 -> f1_in \[label="after", style=dashed, ltail=cluster_f2, lhead=cluster_f1\];$' "no after() edge enrich -> summary"
t_done

t_case graph/cli/unknown-flow
t_exec "$FLOWC" graph tests/graph/steps.flow --flow enrch
t_expect_rc 2
t_expect_grep "$C_ERR" "has no flow \`enrch\`; did you mean \`enrich\`\?" "no suggestion"
t_expect_grep "$C_ERR" '^flows: orders summary enrich hooks$' "the available flows are not named"
[ -s "$C_OUT" ] && t_note "a picture was printed"
t_done

t_case graph/cli/does-not-check
printf 'connection c = file { dir = "d" }\nflow f {\n  export a from c { file = "a.ndjson" }\n  filter record.x > \n}\n' >"$gr_tmp/bad.flow"
printf 'connection c = file { dir = "d" }\nflow f {\n  export a: T from c { file = "a.ndjson" }\n}\n' >"$gr_tmp/bad2.flow"
for gr_bad in bad bad2; do
  t_exec -C "$gr_tmp" "$FLOWC" check $gr_bad.flow
  gr_check_rc=$C_RC; cp "$C_ERR" "$gr_tmp/$gr_bad.check.err"
  t_exec -C "$gr_tmp" "$FLOWC" graph $gr_bad.flow
  t_expect_rc "$gr_check_rc"
  [ "$gr_check_rc" = 1 ] || t_note "check of $gr_bad.flow exits $gr_check_rc, expected 1"
  cmp -s "$C_ERR" "$gr_tmp/$gr_bad.check.err" || t_note "graph's diagnostics are not check's:" "$(diff "$gr_tmp/$gr_bad.check.err" "$C_ERR" | head -n 8)"
  [ -s "$C_OUT" ] && t_note "a picture was printed for a file that does not check"
done
t_exec "$FLOWC" graph "$gr_tmp/missing.flow"
t_expect_rc 2
t_expect_grep "$C_ERR" 'cannot read' "an unreadable file is not said so"
t_done

t_case graph/cli/no-graphviz
t_exec env PATH=/nonexistent "$FLOWC" graph examples/quickstart.flow --format svg
t_expect_rc 1
t_expect_grep "$C_ERR" "needs Graphviz's \`dot\`.*Debian package graphviz" "the message does not name the package"
[ -s "$C_OUT" ] && t_note "something was printed on stdout"
t_exec env PATH=/nonexistent "$FLOWC" graph examples/quickstart.flow --format dot
t_expect_rc 0
t_done

t_case graph/cli/dot-fails
# a `dot` that refuses its input: its complaint is passed on, exit 1, nothing written
mkdir -p "$gr_tmp/fakebin"
printf '#!/bin/sh\ncat >/dev/null\necho "Error: syntax error in line 1" >&2\nexit 1\n' >"$gr_tmp/fakebin/dot"
chmod +x "$gr_tmp/fakebin/dot"
t_exec env PATH="$gr_tmp/fakebin:/usr/bin:/bin" "$FLOWC" graph examples/quickstart.flow --format svg -o "$gr_tmp/none.svg"
t_expect_rc 1
t_expect_grep "$C_ERR" "dot -Tsvg. failed \(exit 1\): Error: syntax error in line 1" "dot's complaint is not shown"
[ -e "$gr_tmp/none.svg" ] && t_note "an output file was written"
t_done

t_case graph/cli/dot-hangs
# a `dot` that never finishes is stopped at FLOWC_GRAPH_TIMEOUT: exit 1 with a message naming the
# limit, nothing written (without the limit this case waits for its own timeout and fails)
printf '#!/bin/sh\nexec sleep 600\n' >"$gr_tmp/fakebin/dot"
chmod +x "$gr_tmp/fakebin/dot"
t_exec env FLOWC_GRAPH_TIMEOUT=1 PATH="$gr_tmp/fakebin:/usr/bin:/bin" "$FLOWC" graph examples/quickstart.flow --format svg -o "$gr_tmp/none.svg"
t_expect_rc 1
t_expect_grep "$C_ERR" "did not finish within 1 s and was stopped \(FLOWC_GRAPH_TIMEOUT" "the time limit is not named"
[ -e "$gr_tmp/none.svg" ] && t_note "an output file was written"
t_exec env FLOWC_GRAPH_TIMEOUT=soon "$FLOWC" graph examples/quickstart.flow --format svg
t_expect_rc 2
t_expect_grep "$C_ERR" "FLOWC_GRAPH_TIMEOUT must be a whole number of seconds" "a bad limit is not refused"
t_done

t_case graph/cli/usage
t_exec "$FLOWC" graph examples/quickstart.flow --format png
t_expect_rc 2
t_expect_grep "$C_ERR" 'unknown format `png`: use dot, mermaid or svg' "no usage message"
t_exec "$FLOWC" graph
t_expect_rc 2
t_exec "$FLOWC" graph examples/quickstart.flow --flow
t_expect_rc 2
t_exec "$FLOWC" graph examples/quickstart.flow --bogus
t_expect_rc 2
t_done

t_case graph/cli/text
# an expression written over several lines is drawn on one; a long one is cut with `…`; secrets never shown
cat >"$gr_tmp/text.flow" <<'EOF'
connection api = http { base_url = "http://127.0.0.1:9", auth = bearer("tok-LITERAL-SECRET") }
connection c = file { dir = "d" }
flow f {
  trigger = webhook("/h", verify = hmac(sha256, header = "X-S", secret = "hmac-LITERAL-SECRET"))
  export a from c { file = "a.ndjson" }
  filter record.aaaa == "x"
     and record.bbbb == "y"
  lookup u from api { path = "/u" }
  filter record.cccccccccccccccccccc == "dddddddddddddddddddddddddddddddddddddddddddddddddddd"
  import b into c { file = "b.ndjson" }
}
EOF
t_exec -C "$gr_tmp" "$FLOWC" graph text.flow
t_expect_rc 0
t_expect_grep "$C_OUT" 'labelloc=t, label="text.flow"' "without an integration line the title is not the file"
t_expect_grep "$C_OUT" 'label="filter\\nrecord.aaaa == \\"x\\" and record.bbbb == \\"y\\""' "the condition over two lines is not one line"
t_expect_grep "$C_OUT" 'label="filter\\nrecord.cccccccccccccccccccc == \\"dddddddddddddddddddddddddddd…"' "a long condition is not cut at 60 characters"
t_expect_grep "$C_OUT" 'verify hmac' "the verification's kind is not shown"
t_expect_nogrep "$C_OUT" 'LITERAL-SECRET' "a secret is in the picture"
t_exec -C "$gr_tmp" "$FLOWC" graph text.flow --format mermaid
t_expect_nogrep "$C_OUT" 'LITERAL-SECRET' "a secret is in the Mermaid picture"
t_done

t_case graph/cli/large-svg
# more DOT than a pipe holds (150 flows, ~110 KB): written to dot while its output is read
if [ -z "$gr_have_dot" ]; then
  skip graph/cli/large-svg "no Graphviz dot on this machine (Debian package graphviz)"
else
  python3 -c '
import sys
s = "connection c = file { dir = \"d\" }\n"
for i in range(150):
    s += "flow f%d {\n  export a from c { file = \"a-%d-%s.ndjson\" }\n  filter record.a == \"%s\"\n  import b into c { file = \"b.ndjson\" }\n}\n" % (i, i, "x" * 40, "y" * 50)
open(sys.argv[1], "w").write(s)' "$gr_tmp/wide.flow"
  t_exec "$FLOWC" graph "$gr_tmp/wide.flow"
  [ "$(wc -c <"$C_OUT")" -gt 100000 ] || t_note "the DOT text is smaller than the test needs"
  t_exec "$FLOWC" graph "$gr_tmp/wide.flow" --format svg -o "$gr_tmp/wide.svg"
  t_expect_rc 0
  [ "$(grep -c '<title>cluster_f[0-9]*</title>' "$gr_tmp/wide.svg" 2>/dev/null)" = 150 ] || t_note "the SVG does not hold 150 flows"
  t_done
fi
