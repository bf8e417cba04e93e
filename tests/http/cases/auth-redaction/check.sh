hp_want "requests to /auth/bearer (1 good + 3 denied)" "$(hp_by_path /auth/bearer)" -eq 4
hp_want "requests to /auth/key" "$(hp_by_path /auth/key)" -eq 2
hp_want "requests to /auth/basic" "$(hp_by_path /auth/basic)" -eq 2
