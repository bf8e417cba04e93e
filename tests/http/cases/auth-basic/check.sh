hp_want "requests to /auth/basic" "$(hp_by_path /auth/basic)" -ge 1
