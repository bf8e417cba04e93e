hp_want "requests to /fail/500" "$(hp_by_path /fail/500)" -eq 3
