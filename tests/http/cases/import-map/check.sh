hp_want "requests to /sink/x" "$(hp_by_path /sink/x)" -eq 25
