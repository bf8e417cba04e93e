hp_want "requests to /pages/link" "$(hp_by_path /pages/link)" -eq 3
