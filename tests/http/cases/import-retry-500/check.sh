hp_want "requests to /sink/r" "$(hp_by_path /sink/r)" -eq 37
n=$(curl -s "$BASE/sink/r" | jq '[.[].id] | unique | length')
hp_want "distinct ids stored" "$n" -eq 25
