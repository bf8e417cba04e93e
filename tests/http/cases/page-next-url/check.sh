hp_want "requests to /pages/next" "$(hp_by_path /pages/next)" -eq 3
