hp_want "requests to /auth/bearer" "$(hp_by_path /auth/bearer)" -ge 1
