hp_want "requests to /pages/offset" "$(hp_by_path /pages/offset)" -eq 5
