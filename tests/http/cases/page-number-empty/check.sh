hp_want "requests to /pages/number" "$(hp_by_path /pages/number)" -eq 6
