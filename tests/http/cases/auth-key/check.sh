hp_want "requests to /auth/key" "$(hp_by_path /auth/key)" -ge 1
