n=$(curl -s "$BASE/sink/deals?meta=1" | jq '[.[] | select(.method == "POST" and .path == "/sink/deals")] | length')
hp_want "POSTs to /sink/deals" "$n" -eq 3
n=$(curl -s "$BASE/sink/deals?meta=1" | jq '[.[] | select(.method == "PATCH" and (.path | test("^/sink/deals/[0-9]+$")))] | length')
hp_want "PATCHes to /sink/deals/<id>" "$n" -eq 3
