hp_want "requests to /pages/404" "$(hp_by_path /pages/404)" -eq 6
