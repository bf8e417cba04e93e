hp_want "requests to /pages/number" "$(hp_by_path /pages/number)" -eq 3
hp_want "requests to /pages/offset" "$(hp_by_path /pages/offset)" -eq 9
