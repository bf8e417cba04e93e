hp_want "requests to /sink/br" "$(hp_by_path /sink/br)" -eq 3
