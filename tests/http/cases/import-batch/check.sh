hp_want "requests to /sink/b" "$(hp_by_path /sink/b)" -eq 3
