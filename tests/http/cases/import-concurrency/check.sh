hp_want "requests to /sink/c" "$(hp_by_path /sink/c)" -eq 25
hp_want "max_in_flight" "$(hp_stat .max_in_flight)" -le 8
hp_want "max_in_flight" "$(hp_stat .max_in_flight)" -ge 2
