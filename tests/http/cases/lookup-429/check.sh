hp_want "requests to /fail/429 (two 429s, two 200s)" "$(hp_by_path /fail/429)" -eq 4
hp_want "the run's time in ms" "$ELAPSED_MS" -ge 1900
hp_want "the run's time in ms" "$ELAPSED_MS" -lt 8000
