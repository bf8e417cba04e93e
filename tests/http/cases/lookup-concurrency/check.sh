hp_want "requests to /pages/offset" "$(hp_by_path /pages/offset)" -eq 25
hp_want "max_in_flight" "$(hp_stat .max_in_flight)" -le 4
hp_want "max_in_flight" "$(hp_stat .max_in_flight)" -ge 2
