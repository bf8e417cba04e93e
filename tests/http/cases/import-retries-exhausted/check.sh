hp_want "requests to /sink/e (3 records, 3 tries each)" "$(hp_by_path /sink/e)" -eq 9
hp_accounted
