hp_want "requests to /pages/loop" "$(hp_by_path /pages/loop)" -le 3
hp_accounted
