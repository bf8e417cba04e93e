hp_want "requests to /fail/429" "$(hp_by_path /fail/429)" -eq 2
hp_accounted
