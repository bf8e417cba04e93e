#!/usr/bin/env bash
# The webhook benchmark (issue 11): `serve` of bench/webhook/hook.flow (release build) on 127.0.0.1
# with a port the kernel picks, loaded by wrk (-t2 -c16) with 1 KB JSON bodies, each signed with
# HMAC-SHA256 as GitHub signs (1,000 distinct bodies, made beforehand), so that every request is
# verified, parsed and durably queued (committed to the state store before its answer) while runs of
# the flow take the queue into SQLite. Two loads, each for DURATION seconds (default 30):
#   paced — RATE requests/s (default 550, a little over the target) on a fixed schedule: each request
#           is sent at its slot (start + k / rate, per wrk thread), whatever the latency of the ones
#           before it (a fixed pause after each answer would lower the rate as the latency grows);
#           the target is >= 500 requests/s answered with p99 < 50 ms;
#   full  — as fast as the answers come: the capacity.
# The peer is the same load on GET /healthz (no verification, no body, no disk). Prints requests/s
# and latency (p50, p99) of each, the ratios to the peer, and checks that every request was answered
# 2xx and queued once and taken by the flow: the events in the store = serve's count of 204 answers
# (its /metrics; wrk does not count the requests in flight when it stops) = rows imported.
# Exit 1 when a request was refused or lost (the figures would mean nothing), 2 no wrk or build.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
root=$PWD
command -v wrk >/dev/null || { echo "bench/webhook: wrk is not installed (scripts/deps.sh bench)" >&2; exit 2; }
flowc=$PWD/build/flowc
dur=${DURATION:-30}
rate=${RATE:-550}
out=build/bench/webhook
rm -rf "$out"; mkdir -p "$out/out"
cp bench/webhook/hook.flow "$out/flow.flow"
cd "$out" || exit 2
"$flowc" build flow.flow -o hook >/dev/null || exit 2
export BENCH_HOOK_SECRET="bench-secret-$$-$RANDOM"
# 1,000 bodies of exactly 1,024 bytes, signed: "sha256=<hex>\t<body>"
for i in $(seq 1000); do
  head=$(printf '{"id":%d,"event":"order.created","customer":{"email":"user%d@example.com","name":"Customer %d"},"pad":"' "$i" "$i" "$i")
  printf '%s%s"}' "$head" "$(head -c $((1024 - ${#head} - 2)) /dev/zero | tr '\0' x)"
  printf '\n'
done >bodies.json
awk '{ print length($0) }' bodies.json | sort -u | grep -qx 1024 || { echo "bench/webhook: bodies are not 1 KB" >&2; exit 2; }
while IFS= read -r b; do
  printf 'sha256=%s\t%s\n' "$(printf '%s' "$b" | openssl dgst -sha256 -hmac "$BENCH_HOOK_SECRET" -hex | sed 's/^.*= //')" "$b"
done <bodies.json >signed.tsv
./hook serve --listen 127.0.0.1:0 </dev/null >serve.out 2>serve.err &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
for _ in $(seq 100); do grep -q 'listening on http://' serve.err && break; sleep 0.05; done
base=$(sed -n 's/.*listening on \(http:\/\/[0-9.:]*\).*/\1/p' serve.err | head -1)
[ -n "$base" ] || { echo "bench/webhook: serve did not start:" >&2; cat serve.err >&2; exit 2; }

# load NAME METHOD PATH RATE: wrk's report in NAME.txt (RATE 0: as fast as the answers come)
load() {
  WRK_BODIES=$PWD/signed.tsv WRK_METHOD=$2 WRK_RATE=$4 WRK_THREADS=2 wrk -t2 -c16 -d"${dur}s" --latency -s "$root/bench/webhook/post.lua" "$base$3" >"$1.txt" 2>&1
}
field() {   # field NAME: requests/s, p50 ms, p99 ms, requests, non-2xx
  awk -f "$root/bench/wrk.awk" "$1.txt"
}
load hook_paced POST /hooks/orders "$rate"
load peer_paced GET /healthz "$rate"
load hook_full POST /hooks/orders 0
load peer_full GET /healthz 0
read -r hp_rps hp_p50 hp_p99 hp_n hp_bad < <(field hook_paced)
read -r pp_rps pp_p50 pp_p99 pp_n pp_bad < <(field peer_paced)
read -r hf_rps hf_p50 hf_p99 hf_n hf_bad < <(field hook_full)
read -r pf_rps pf_p50 pf_p99 pf_n pf_bad < <(field peer_full)

# every 204 is one queued event: serve's count; let the runs take the queue, then count
curl -s "$base/metrics" >metrics.txt
total=$(awk '/^flowc_webhook_requests_total\{/ && /status="204"/ { n += $NF } END { print n + 0 }' metrics.txt)
commits=$(awk '/^flowc_webhook_queue_commits_total / { print $2 + 0 }' metrics.txt)
for _ in $(seq 600); do
  left=$(sqlite3 .flowstate/bench-webhook.state.db "select count(*) from webhook_events where status = 'queued'" 2>/dev/null)
  [ "$left" = 0 ] && break
  sleep 0.1
done
events=$(sqlite3 .flowstate/bench-webhook.state.db 'select count(*) from webhook_events')
rows=$(sqlite3 out/events.db 'select count(*) from events')
kill -TERM $pid; wait $pid; trap - EXIT
runs=$(./hook runs --flow orders --json --limit 0 | jq length)

awk -v d="$dur" -v rate="$rate" -v hp="$hp_rps" -v hp50="$hp_p50" -v hp99="$hp_p99" -v pp="$pp_rps" -v pp50="$pp_p50" -v pp99="$pp_p99" \
    -v hf="$hf_rps" -v hf50="$hf_p50" -v hf99="$hf_p99" -v pf="$pf_rps" -v pf50="$pf_p50" -v pf99="$pf_p99" 'BEGIN {
  printf "webhook requests, 1 KB bodies signed with HMAC-SHA256, verified and queued (fsync) before each answer; wrk -t2 -c16, %d s each:\n", d
  printf "  paced (%d requests/s offered): %.0f requests/s, p50 %.2f ms, p99 %.2f ms (target >= 500 requests/s, p99 < 50 ms: %s)\n",
         rate, hp, hp50, hp99, (hp >= 500 && hp99 < 50) ? "met" : "NOT met"
  printf "    peer GET /healthz, same pacing: %.0f requests/s, p50 %.2f ms, p99 %.2f ms; webhook/peer p99 %.1fx\n", pp, pp50, pp99, hp99 / pp99
  printf "  full speed: %.0f requests/s, p50 %.2f ms, p99 %.2f ms\n", hf, hf50, hf99
  printf "    peer GET /healthz, full speed: %.0f requests/s, p50 %.2f ms, p99 %.2f ms; webhook/peer throughput %.2f, p99 %.1fx\n", pf, pf50, pf99, hf / pf, hf99 / pf99 }'
echo "  every request: $total answered 204 (wrk saw $((hp_n + hf_n)) answers), $events events queued in ${commits:-?} transactions" \
     "(group commit: $(awk -v t="$total" -v c="${commits:-0}" 'BEGIN { printf "%.1f", c ? t / c : 0 }') requests each), $rows records imported by $runs runs of the flow"
if [ "$hp_bad" != 0 ] || [ "$hf_bad" != 0 ] || [ "$events" != "$total" ] || [ "$rows" != "$total" ]; then
  echo "bench/webhook: requests refused ($hp_bad + $hf_bad non-2xx) or lost (answered $total, queued $events, imported $rows); see $out" >&2
  exit 1
fi
