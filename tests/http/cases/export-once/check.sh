hp_want "PATCH requests to the marks sink" "$(hp_stat '.by_path | to_entries | map(select(.key | startswith("/sink/marks/"))) | map(.value) | add')" -eq 25
hp_want "distinct records marked" "$(hp_stat '.by_path | to_entries | map(select(.key | startswith("/sink/marks/"))) | length')" -eq 25
hp_want "max in flight" "$(hp_stat .max_in_flight)" -le 4
