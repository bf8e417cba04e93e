hp_want "requests to /fail/timeout (2 records, 1 retry each)" "$(hp_by_path /fail/timeout)" -eq 4
hp_want "the run's time in ms" "$ELAPSED_MS" -lt 3000
hp_accounted
