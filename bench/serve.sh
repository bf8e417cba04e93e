#!/usr/bin/env bash
# The scheduler benchmark (issue 11): `serve` of a flow that fires every second (a 6-field cron),
# built with `flowc build` (release runtime), for FIRES fires (default 60): the drift of each fire
# (when serve started the run minus its due time, as the run history keeps it: drift_ms), median and
# max, and how long each run took from its due time to its end. Runs on 127.0.0.1 with a port the
# kernel picks. Exit 1 when fewer fires happened than asked (the figures would mean nothing).
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
flowc=$PWD/build/flowc
fires=${FIRES:-60}
out=build/bench/serve
rm -rf "$out"; mkdir -p "$out/data" "$out/out"
cp bench/serve/tick.flow "$out/flow.flow"
printf '{"id":1}\n{"id":2}\n' > "$out/data/items.ndjson"
cd "$out" || exit 2
"$flowc" build flow.flow -o tick >/dev/null || exit 2
./tick serve --listen 127.0.0.1:0 </dev/null >serve.out 2>serve.err &
pid=$!
# the fires: (fires + 1) seconds, then SIGTERM
sleep $((fires + 1))
kill -TERM "$pid"
wait "$pid"
./tick runs --flow tick --json --limit 0 >runs.json
n=$(jq '[.[] | select(.trigger == "schedule" and .status == "ok")] | length' runs.json)
if [ "$n" -lt "$fires" ]; then
  echo "serve: only $n fires of $fires happened (see $out/serve.err)" >&2
  exit 1
fi
jq -r --argjson n "$fires" '[.[] | select(.trigger == "schedule" and .status == "ok")] | sort_by(.due_at) | .[-$n:] | .[] | [.drift_ms, .duration_ms] | @tsv' runs.json |
  sort -n | awk -v n="$fires" '
  { d[NR] = $1; if ($1 > max) max = $1; if (NR == 1 || $1 < min) min = $1; sum += $2 }
  END {
    med = n % 2 ? d[(n + 1) / 2] : (d[n / 2] + d[n / 2 + 1]) / 2
    printf "scheduler drift over %d fires of a 1 s schedule (start minus due time): median %.3f ms, max %.3f ms, min %.3f ms\n", n, med, max, min
    printf "each run (fork, the flow, its history row): %.1f ms on average from its start to its end\n", sum / n
  }'
