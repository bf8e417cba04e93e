hp_want "requests to /pages/number" "$(hp_by_path /pages/number)" -eq 5
hp_want "requests to /sink/rows" "$(hp_by_path /sink/rows)" -eq 25
