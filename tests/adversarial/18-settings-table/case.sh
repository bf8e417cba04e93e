# Item 18: one settings table for the checker and the runtime. A setting computed from a param is
# checked at run time against the same RANGE the checker uses for constants (page_size
# 1..10000: the runtime allowed up to 100000), natively and by the JIT alike.

adv_both adversarial/18-settings-table/page-size-range --param size=50000 f
t_expect_rc 1
t_expect_grep "$C_ERR" 'export rows: setting page_size must be between 1 and 10000, got 50000'
[ ! -e "$ADV_NATIVE/data/out.ndjson" ] || t_note "the flow ran with page_size 50000"
t_done

adv_both adversarial/18-settings-table/in-range --param size=10000 f
t_expect_rc 0
[ "$(cat "$ADV_NATIVE/data/out.ndjson" 2>/dev/null)" = '{"id":1}' ] || t_note "out.ndjson: $(cat "$ADV_NATIVE/data/out.ndjson" 2>&1)"
t_done

# http's number settings from params are held to the table's RANGE lines, said as the checker says
# them (conn_http.c had bounds of its own: "must be a number from 1 to 3.6e+06"; rps 0 ran unlimited)
adv_both adversarial/18-settings-table/http-timeout-range --param wait=2h h
t_expect_rc 1
t_expect_grep "$C_ERR" 'setting timeout must be between 1ms and 1h, got 2h'
t_done
adv_both adversarial/18-settings-table/http-rps-range --param rps=0 h
t_expect_rc 1
t_expect_grep "$C_ERR" 'setting requests_per_second must be between 0.001 and 100000, got 0'
t_expect_nogrep "$C_ERR" '127\.0\.0\.1:1' "no request is sent"
t_done

# a duration param takes every unit the language has, from the one table (value.c's duration_units):
# -P wait=1w was "not a duration" while `1w` is a literal and `flowc cron --every 1w` took it
adv_both adversarial/18-settings-table/param-duration-weeks --param wait=1w h
t_expect_rc 1
t_expect_grep "$C_ERR" 'setting timeout must be between 1ms and 1h, got 1w'
t_done
