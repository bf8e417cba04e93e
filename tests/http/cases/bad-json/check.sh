hp_want "requests to /fail/badjson" "$(hp_by_path /fail/badjson)" -eq 1
hp_accounted
