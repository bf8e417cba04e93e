hp_want "requests to /pages/cursor" "$(hp_by_path /pages/cursor)" -eq 3
