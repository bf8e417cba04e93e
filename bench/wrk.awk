# wrk.awk — the figures of one wrk --latency report, for the benchmarks that load a listener with wrk
# (bench/webhook.sh, bench/server.sh): prints `REQUESTS/S P50_MS P99_MS REQUESTS NON_2XX`.
function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
/Requests\/sec:/ { rps = $2 }
/^ +50%/ { p50 = ms($2) }
/^ +99%/ { p99 = ms($2) }
/ requests in / { n = $1 }
/Non-2xx/ { bad = $NF }
END { printf "%s %s %s %s %s\n", rps, p50, p99, n, bad + 0 }
