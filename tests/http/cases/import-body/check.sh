hp_want "requests to /sink/body/1" "$(hp_by_path /sink/body/1)" -eq 1
hp_want "requests to /sink/body/4" "$(hp_by_path /sink/body/4)" -eq 1
