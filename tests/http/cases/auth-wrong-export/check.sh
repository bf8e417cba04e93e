hp_want "requests to /auth/bearer" "$(hp_by_path /auth/bearer)" -eq 1
hp_accounted
