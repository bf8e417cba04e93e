hp_want "requests to /pages/nothing-here" "$(hp_by_path /pages/nothing-here)" -eq 1
hp_accounted
