hp_want "requests to /sink/d" "$(hp_by_path /sink/d)" -eq 6
hp_accounted
