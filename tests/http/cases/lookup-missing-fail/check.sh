hp_want "requests to /pages/number (1 export + 6 lookups)" "$(hp_by_path /pages/number)" -eq 7
hp_accounted
