hp_want "requests to /fail/huge" "$(hp_by_path /fail/huge)" -eq 1
hp_accounted
hp_want "the run's time in ms" "$ELAPSED_MS" -lt 8000
