hp_want "requests to /sink/rate" "$(hp_by_path /sink/rate)" -eq 10
hp_want "max_per_second" "$(hp_stat .max_per_second)" -le 6
hp_want "the run's time in ms" "$ELAPSED_MS" -ge 1600
