# Item 22: -P NAME=... for an undeclared param is refused by build and run (exit 2, the closest
# declared name, the value never printed, nothing built); describe shows the real page size.

t_case adversarial/22-cli-options/build-undeclared-param
t_exec "$FLOWC" build flow.flow -o prog -P shop_ur=hunter2value
t_expect_rc 2
t_expect_grep "$C_ERR" '^flowc: -P shop_ur=\.\.\.: flow\.flow declares no param `shop_ur`; did you mean `shop_url`\?$'
t_expect_nogrep "$C_ERR" 'hunter2value' "the value of the refused param was printed"
[ ! -e prog ] || t_note "an executable was built"
t_exec "$FLOWC" build flow.flow -o prog -P region=EU
t_expect_rc 2
t_expect_grep "$C_ERR" 'declares no param `region`$'
t_done

t_case adversarial/22-cli-options/run-undeclared-param
t_exec "$FLOWC" run flow.flow -P shop_ur=hunter2value
t_expect_rc 2
t_expect_grep "$C_ERR" 'declares no param `shop_ur`; did you mean `shop_url`\?'
t_expect_nogrep "$C_ERR" 'hunter2value' "the value of the refused param was printed"
[ ! -e data/o.ndjson ] || t_note "the flow ran"
t_done

t_case adversarial/22-cli-options/describe-page-size
adv_build
t_exec ./prog describe
t_expect_rc 0
adv22_got=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for f in d["flows"]:
    q = f["steps"][0]["settings"]["query"]
    print(f["name"], f.get("page_size"), q.get("per_page"), q.get("page"))
' "$C_OUT" 2>&1)
[ "$adv22_got" = "sized 50 50 1
unsized 20 20 None" ] || t_note "describe's page sizes (flow, page_size, per_page, page):" "$adv22_got"
t_exec "$FLOWC" build flow.flow -o prog2 -P shop_url=http://127.0.0.1:1
t_expect_rc 0
t_done
