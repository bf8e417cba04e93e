hp_want "requests to /sink/v" "$(hp_by_path /sink/v)" -eq 3
hp_accounted
