[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" serve
# Schedules fire on the clock and their drift is checked: tests/run.sh runs this suite in its timing
# lane (see there).
# lane: timing
# Suite `serve`: `OUT serve` and `flowc serve` as real processes on 127.0.0.1 (a free port, as the
# kernel picks it: --listen 127.0.0.1:0, read back from the log), driven with curl and signals: a
# 6-field cron every 2 s, after() chains, an overlapping fire skipped, a run from a shell while serve
# runs the flow (and the reverse), kill -9 of serve then a restart, SIGTERM in the middle of a run,
# a crash in a hook, catch_up, a schedule from a param that is not one; /healthz, /metrics (parsed
# by Debian's python3-prometheus-client), POST /flows/F/run from loopback and with --admin-token, the
# 413/404/405 answers; `OUT runs`; `OUT run` in dependency order with chains and --no-chain; the live
# progress line on a pty and not on a pipe; --env; webhooks through the listener (every verification,
# the answers, their metrics, the durable queue across kill -9, redeliveries, the run lock). Programs:
# tests/serve/NAME/flow.flow (each says at its top what it is for).
# Flows are built against the sanitized runtime; `flowc serve` runs the sanitized compiler's JIT.

sv_root=$T_TMP/serve
rm -rf "$sv_root"; mkdir -p "$sv_root"
make -s build/asan/libflowrt.a >/dev/null 2>&1
SV_PY=/usr/bin/python3
SV_PIDS=()

# sv_copy NAME DIR: a fresh copy of tests/serve/NAME in DIR
sv_copy() { rm -rf "$2"; mkdir -p "$2"; cp -r "tests/serve/$1/." "$2/"; mkdir -p "$2/out"; }

# sv_prepare NAME DIR: the copy, built (DIR/prog), inside the current case
sv_prepare() {
  sv_copy "$1" "$2"
  san_build "$2" || t_note "flowc build failed:" "$(head -n 20 "$2/build.log")"
}

# sv_start DIR MODE [ARGS...]: starts serve in DIR (MODE native: ./prog serve; jit: flowc serve
# flow.flow) on 127.0.0.1, a free port; waits for its `listening on` line (the JIT compiles first).
# Sets SV_PID, SV_PORT, SV_LOG (its stderr). 1 when it did not come up (noted on the case).
SV_N=0
sv_start() {
  local dir=$1 mode=$2; shift 2
  SV_N=$((SV_N + 1))
  SV_LOG=$dir/serve.$SV_N.err
  if [ "$mode" = jit ]; then
    (cd "$dir" && exec "$FLOWC" serve flow.flow --listen 127.0.0.1:0 "$@") </dev/null >"$dir/serve.$SV_N.out" 2>"$SV_LOG" &
  else
    (cd "$dir" && exec ./prog serve --listen 127.0.0.1:0 "$@") </dev/null >"$dir/serve.$SV_N.out" 2>"$SV_LOG" &
  fi
  SV_PID=$!
  SV_PIDS+=("$SV_PID")
  C_FILES+=("$SV_LOG" "$dir/serve.$SV_N.out")
  SV_PORT=
  local i
  for i in $(seq 600); do
    SV_PORT=$(sed -n 's/.* serve: listening on http:\/\/127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$SV_LOG" | head -n 1)
    [ -n "$SV_PORT" ] && return 0
    kill -0 "$SV_PID" 2>/dev/null || break
    sleep 0.05
  done
  t_note "serve did not come up ($mode):" "$(head -n 12 "$SV_LOG")"
  return 1
}

# sv_stop [SIG]: sends SIG (default TERM) to serve and waits for it (at most 40 s); SV_RC its exit
# status, SV_SECS how long it took to end
sv_stop() {
  local sig=${1:-TERM} i t0 t1
  t0=$(date +%s.%N)
  kill -s "$sig" "$SV_PID" 2>/dev/null
  for i in $(seq 800); do kill -0 "$SV_PID" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$SV_PID" 2>/dev/null; then
    t_note "serve did not end within 40 s of SIG$sig"
    kill -9 "$SV_PID" 2>/dev/null
  fi
  wait "$SV_PID" 2>/dev/null; SV_RC=$?
  t1=$(date +%s.%N)
  SV_SECS=$(awk "BEGIN { print $t1 - $t0 }")
}

# sv_until SECONDS CMD...: polls CMD (every 0.1 s) until it succeeds; 1 when time ran out
sv_until() {
  local n=$(( $1 * 10 )) i; shift
  for i in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
  return 1
}

# sv_runs DIR MODE [ARGS...]: `runs --json` (native or JIT) into $SV_RUNS (file)
sv_runs() {
  local dir=$1 mode=$2; shift 2
  SV_RUNS=$dir/runs.json
  if [ "$mode" = jit ]; then (cd "$dir" && "$FLOWC" runs flow.flow --json --limit 0 "$@") >"$SV_RUNS" 2>"$dir/runs.err"
  else (cd "$dir" && ./prog runs --json --limit 0 "$@") >"$SV_RUNS" 2>"$dir/runs.err"; fi
  C_FILES+=("$dir/runs.err")
}

# sv_count FILTER: how many runs of $SV_RUNS the jq FILTER (a select) keeps
sv_count() { jq "[.[] | $1] | length" "$SV_RUNS" 2>/dev/null || echo -1; }

# sv_curl ARGS...: curl against serve; SV_CODE the status, SV_BODY the body (file)
sv_curl() {
  SV_BODY=$T_TMP/serve/curl.body
  SV_CODE=$(curl -s -o "$SV_BODY" -w '%{http_code}' --max-time 20 "$@")
}

sv_ran() { sv_runs "$1" "$2"; [ "$(sv_count "select(.flow == \"$3\" and (.status == \"ok\" or .status == \"record_errors\"))")" -ge "$4" ]; }

# ===================================================================================================
# 1. schedules, chains, catch_up, the endpoints: tests/serve/chain, natively and through the JIT

# sv_ticked DIR MODE: tick has run on its schedule at least 3 times, and its after() chain (second,
# third) at least twice (SV_RUNS holds the history)
sv_ticked() {
  sv_runs "$1" "$2"
  [ "$(sv_count 'select(.flow == "tick" and .trigger == "schedule" and .status == "ok")')" -ge 3 ] &&
    [ "$(sv_count 'select(.flow == "third" and .trigger == "after" and .status == "ok")')" -ge 2 ]
}

sv_chain() {
  local mode=$1 d=$sv_root/chain.$1
  t_case "serve/chain/$mode/cron-every-2s-fires-3-times"
  if [ "$mode" = native ]; then sv_prepare chain "$d"; else sv_copy chain "$d"; fi
  if sv_start "$d" "$mode"; then
    sv_until 15 sv_ticked "$d" "$mode"
    local n late
    n=$(sv_count "select(.flow == \"tick\" and .trigger == \"schedule\" and .status == \"ok\")")
    [ "$n" -ge 3 ] || t_note "tick ran $n times in 15 s (expected at least 3): $(jq -c '[.[] | [.flow, .status, .started_at]]' "$SV_RUNS" | head -c 400)"
    # each on an even second, started within 0.5 s of it
    late=$(jq '[.[] | select(.flow == "tick" and .trigger == "schedule") | select((.due_at | test(":[0-9][02468]\\.000Z$") | not) or .drift_ms > 500 or .drift_ms < 0)] | length' "$SV_RUNS")
    [ "$late" = 0 ] || t_note "fires not on an even second or late: $(jq -c '[.[] | select(.flow == "tick") | [.due_at, .drift_ms]]' "$SV_RUNS")"
    grep -qE '^[0-9T:.-]+Z flow tick: ok in [0-9.]+ s: exported 2, ignored 0, imported 2, errors 0 \(run [0-9T]+Z-[0-9a-f]{8}, schedule, [0-9.]+ ms after its due time\)$' "$SV_LOG" ||
      t_note "no log line for a run of tick: $(grep -m2 'flow tick' "$SV_LOG")"
    grep -q 'serve: flow tick: cron("\*/2 \* \* \* \* \*"), next ' "$SV_LOG" || t_note "no start line for tick's schedule"
    # catch_up: yearly's fire (1 January) came while serve was never up: it ran once at start; yearly_plain did not
    [ "$(sv_count 'select(.flow == "yearly" and .trigger == "catch_up")')" = 1 ] || t_note "yearly did not catch up once: $(jq -c '[.[] | select(.flow | startswith("yearly"))]' "$SV_RUNS")"
    [ "$(sv_count 'select(.flow == "yearly_plain")')" = 0 ] || t_note "yearly_plain ran without catch_up"
  fi
  t_done

  t_case "serve/chain/$mode/after-chain-runs-in-order"
  # every tick is followed by second, then third, each starting after the one before it ended
  local bad
  bad=$(jq '[.[] | select(.status == "ok")] as $r
    | [$r[] | select(.flow == "tick") | . as $t
       | ([$r[] | select(.flow == "second" and .started_at >= $t.finished_at)] | min_by(.started_at)) as $s
       | ([$r[] | select(.flow == "third" and $s != null and .started_at >= $s.finished_at)] | min_by(.started_at)) as $u
       | select($s == null or $u == null or ($s.trigger != "after") or ($u.trigger != "after"))] | length' "$SV_RUNS" 2>&1)
  # (the last tick's chain may still be going when the history was read)
  [ "${bad:-9}" -le 1 ] 2>/dev/null || t_note "ticks without second then third after them: $bad: $(jq -c '[.[] | [.flow, .trigger, .started_at, .finished_at]]' "$SV_RUNS" | head -c 600)"
  [ "$(sv_count 'select(.flow == "second" and .trigger == "after")')" -ge 2 ] || t_note "second did not run after tick"
  [ "$(sv_count 'select(.flow == "third" and .trigger == "after")')" -ge 2 ] || t_note "third did not run after second"
  t_done

  t_case "serve/chain/$mode/failed-run-stops-the-chain-record-errors-do-not"
  sv_curl -X POST "http://127.0.0.1:$SV_PORT/flows/broken/run"
  [ "$SV_CODE" = 202 ] || t_note "POST /flows/broken/run: $SV_CODE $(head -c 200 "$SV_BODY")"
  sv_curl -X POST "http://127.0.0.1:$SV_PORT/flows/bad_rows/run"
  [ "$SV_CODE" = 202 ] || t_note "POST /flows/bad_rows/run: $SV_CODE $(head -c 200 "$SV_BODY")"
  sv_until 20 sv_ran "$d" "$mode" after_bad_rows 1 || t_note "after_bad_rows did not run after bad_rows (record errors do not stop a chain)"
  sv_until 10 eval '[ "$(sv_runs "$d" "$mode"; sv_count "select(.flow == \"broken\" and .status == \"failed\")")" = 1 ]' ||
    t_note "broken did not fail once"
  sleep 0.5
  sv_runs "$d" "$mode"
  [ "$(sv_count 'select(.flow == "after_broken")')" = 0 ] || t_note "after_broken ran after a failed run"
  [ "$(sv_count 'select(.flow == "bad_rows" and .status == "record_errors" and .errors == 1 and .imported == 2)')" = 1 ] ||
    t_note "bad_rows: $(jq -c '[.[] | select(.flow == "bad_rows")]' "$SV_RUNS")"
  grep -qE 'flow broken: failed in [0-9.]+ s: exported 0, ignored 0, imported 0, errors 0; export items: .*missing\.ndjson' "$SV_LOG" ||
    t_note "no failed line for broken: $(grep 'flow broken' "$SV_LOG")"
  t_done

  t_case "serve/chain/$mode/admin-run-loopback"
  sv_curl -X POST "http://127.0.0.1:$SV_PORT/flows/yearly_plain/run"
  [ "$SV_CODE" = 202 ] || t_note "POST from loopback: $SV_CODE"
  local rid
  rid=$(jq -r '.run_id' "$SV_BODY" 2>/dev/null)
  [ "$(jq -c '[.flow, .status]' "$SV_BODY" 2>/dev/null)" = '["yearly_plain","accepted"]' ] || t_note "answer: $(head -c 200 "$SV_BODY")"
  sv_until 10 eval '[ "$(sv_runs "$d" "$mode"; sv_count "select(.run_id == \"$rid\" and .status == \"ok\" and .trigger == \"admin\")")" = 1 ]' ||
    t_note "the run $rid did not happen: $(jq -c '[.[] | select(.flow == "yearly_plain")]' "$SV_RUNS")"
  sv_curl -X POST "http://127.0.0.1:$SV_PORT/flows/nope/run"
  [ "$SV_CODE" = 404 ] || t_note "unknown flow: $SV_CODE"
  sv_curl "http://127.0.0.1:$SV_PORT/flows/tick/run"
  [ "$SV_CODE" = 405 ] || t_note "GET /flows/tick/run: $SV_CODE"
  sv_curl -X POST "http://127.0.0.1:$SV_PORT/flows/yearly_plain/run?since=yesterday"
  [ "$SV_CODE" = 400 ] && grep -q 'not an ISO-8601' "$SV_BODY" || t_note "since=yesterday: $SV_CODE $(head -c 200 "$SV_BODY")"
  sv_curl -X POST "http://127.0.0.1:$SV_PORT/flows/yearly_plain/run?since=2030-01-01T00:00:00Z&until=2029-01-01T00:00:00Z"
  [ "$SV_CODE" = 400 ] || t_note "an inverted window: $SV_CODE"
  sv_curl -X POST "http://127.0.0.1:$SV_PORT/flows/yearly_plain/run?sine=2020-01-01"
  [ "$SV_CODE" = 400 ] && grep -q 'unknown query parameter `sine`' "$SV_BODY" || t_note "?sine=: $SV_CODE $(head -c 200 "$SV_BODY")"
  t_done

  t_case "serve/chain/$mode/healthz-404-405-413"
  sv_curl "http://127.0.0.1:$SV_PORT/healthz"
  [ "$SV_CODE" = 200 ] && [ "$(cat "$SV_BODY")" = '{"status":"ok","flows":9}' ] || t_note "/healthz: $SV_CODE $(head -c 200 "$SV_BODY")"
  sv_curl -X POST "http://127.0.0.1:$SV_PORT/healthz"
  [ "$SV_CODE" = 405 ] || t_note "POST /healthz: $SV_CODE"
  sv_curl "http://127.0.0.1:$SV_PORT/nothing/here"
  [ "$SV_CODE" = 404 ] || t_note "/nothing/here: $SV_CODE"
  # over 5 MB: refused from its Content-Length before the body is read, and a chunked one while it is read
  head -c $((5 * 1024 * 1024 + 1)) /dev/zero >"$sv_root/big.bin"
  sv_curl -X POST --data-binary "@$sv_root/big.bin" -H 'Content-Type: application/octet-stream' "http://127.0.0.1:$SV_PORT/hooks/x"
  [ "$SV_CODE" = 413 ] || t_note "5 MB + 1 with a Content-Length: $SV_CODE"
  sv_curl -X POST --data-binary "@$sv_root/big.bin" -H 'Transfer-Encoding: chunked' "http://127.0.0.1:$SV_PORT/hooks/x"
  [ "$SV_CODE" = 413 ] || t_note "5 MB + 1 chunked: $SV_CODE"
  head -c $((5 * 1024 * 1024)) /dev/zero >"$sv_root/max.bin"
  sv_curl -X POST --data-binary "@$sv_root/max.bin" "http://127.0.0.1:$SV_PORT/nothing"
  [ "$SV_CODE" = 404 ] || t_note "exactly 5 MB to an unknown path: $SV_CODE (expected 404: the body is within the limit)"
  sv_curl "http://127.0.0.1:$SV_PORT/healthz"
  [ "$SV_CODE" = 200 ] || t_note "/healthz after the big bodies: $SV_CODE"
  t_done

  t_case "serve/chain/$mode/metrics-parse"
  sv_curl "http://127.0.0.1:$SV_PORT/metrics"
  [ "$SV_CODE" = 200 ] || t_note "/metrics: $SV_CODE"
  cp "$SV_BODY" "$d/metrics.txt"
  sv_runs "$d" "$mode"
  # the real parser of the format; then the figures must agree with the run history
  "$SV_PY" - "$d/metrics.txt" "$SV_RUNS" >"$d/metrics.check" 2>&1 <<'PY'
import json, sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
runs = json.load(open(sys.argv[2]))
fams = {f.name: f for f in text_string_to_metric_families(text)}
need = {"flowc_runs": "counter", "flowc_records_exported": "counter", "flowc_records_imported": "counter",
        "flowc_records_ignored": "counter", "flowc_record_errors": "counter", "flowc_run_duration_seconds": "histogram",
        "flowc_flow_last_success_timestamp_seconds": "gauge", "flowc_scheduler_drift_seconds": "histogram",
        "flowc_webhook_queue_depth": "gauge", "flowc_http_requests": "counter", "flowc_flows": "gauge"}
bad = []
for n, t in need.items():
    if n not in fams: bad.append("missing family " + n)
    elif fams[n].type != t: bad.append("%s is %s, not %s" % (n, fams[n].type, t))
def value(fam, sample, **labels):
    for s in fams[fam].samples:
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()): return s.value
    return None
# the counters hold at least what the history held when /metrics was read, and the history was read after
ok_bad_rows = value("flowc_runs", "flowc_runs_total", flow="bad_rows", status="record_errors")
if ok_bad_rows != 1: bad.append("bad_rows record_errors runs: %r" % ok_bad_rows)
failed = value("flowc_runs", "flowc_runs_total", flow="broken", status="failed")
if failed != 1: bad.append("broken failed runs: %r" % failed)
tick_ok = value("flowc_runs", "flowc_runs_total", flow="tick", status="ok")
hist_ok = len([r for r in runs if r["flow"] == "tick" and r["status"] == "ok"])
if tick_ok is None or tick_ok < 3 or tick_ok > hist_ok: bad.append("tick ok runs: %r (history %d)" % (tick_ok, hist_ok))
exp = value("flowc_records_exported", "flowc_records_exported_total", flow="tick")
if exp != 2 * tick_ok: bad.append("tick exported %r for %r runs" % (exp, tick_ok))
errs = value("flowc_record_errors", "flowc_record_errors_total", flow="bad_rows")
if errs != 1: bad.append("bad_rows record errors: %r" % errs)
cnt = value("flowc_run_duration_seconds", "flowc_run_duration_seconds_count", flow="tick")
inf = value("flowc_run_duration_seconds", "flowc_run_duration_seconds_bucket", flow="tick", le="+Inf")
if cnt != inf or cnt != tick_ok: bad.append("tick duration count %r, +Inf bucket %r, runs %r" % (cnt, inf, tick_ok))
last = value("flowc_flow_last_success_timestamp_seconds", "flowc_flow_last_success_timestamp_seconds", flow="tick")
if not last or last < 1.7e9: bad.append("tick last success: %r" % last)
if value("flowc_flows", "flowc_flows") != 9: bad.append("flowc_flows: %r" % value("flowc_flows", "flowc_flows"))
drift = value("flowc_scheduler_drift_seconds", "flowc_scheduler_drift_seconds_count")
if not drift or drift < 3: bad.append("drift observations: %r" % drift)
if value("flowc_http_requests", "flowc_http_requests_total", route="/healthz", status="200") is None: bad.append("no /healthz 200 counted")
if value("flowc_http_requests", "flowc_http_requests_total", route="webhook", status="413") is None and \
   value("flowc_http_requests", "flowc_http_requests_total", route="other", status="413") is None: bad.append("no 413 counted")
print("\n".join(bad) if bad else "ok")
PY
  [ "$(cat "$d/metrics.check")" = ok ] || t_note "/metrics:" "$(cat "$d/metrics.check")"
  t_done

  t_case "serve/chain/$mode/sigterm-stops-cleanly"
  sv_stop TERM
  [ "$SV_RC" = 0 ] || t_note "exit $SV_RC after SIGTERM (expected 0)"
  grep -q ' serve: SIGTERM: stopping: no new runs' "$SV_LOG" || t_note "no stopping line"
  grep -q ' serve: stopped$' "$SV_LOG" || t_note "no stopped line"
  sv_runs "$d" "$mode"
  [ "$(sv_count 'select(.status == "running")')" = 0 ] || t_note "runs left running: $(jq -c '[.[] | select(.status == "running")]' "$SV_RUNS")"
  t_done

  t_case "serve/chain/$mode/restart-no-catch-up-twice"
  # yearly caught up in the first session: its last run is after its last fire, so no catch-up now
  if sv_start "$d" "$mode"; then
    sleep 1
    sv_stop TERM
    sv_runs "$d" "$mode"
    [ "$(sv_count 'select(.flow == "yearly" and .trigger == "catch_up")')" = 1 ] || t_note "yearly caught up again"
  fi
  t_done
}
sv_chain native
sv_chain jit

# ===================================================================================================
# 2. `runs`, `run` in dependency order with chains, --env (tests/serve/chain, built)

sv_cd=$sv_root/chain.native
t_case serve/runs/text-json-flow-limit
t_exec -C "$sv_cd" ./prog runs --limit 3
t_expect_rc 0
[ "$(wc -l <"$C_OUT")" = 3 ] || t_note "--limit 3 printed $(wc -l <"$C_OUT") lines"
t_expect_grep "$C_OUT" '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}  [a-z_]+  (ok|record_errors|failed|skipped)  [0-9-]+T[0-9:.]+Z  ([0-9.]+ s|-)  (schedule|after|admin|catch_up)' "a history line"
t_exec -C "$sv_cd" ./prog runs --flow bad_rows
t_expect_rc 0
t_expect_grep "$C_OUT" '  bad_rows  record_errors  .*  admin  exported 3, ignored 0, imported 2, errors 1$' "bad_rows' line"
t_exec -C "$sv_cd" ./prog runs --flow broken --json
t_expect_rc 0
[ "$(jq -c '[.[] | [.flow, .status, .trigger, (.message | test("missing.ndjson"))]]' "$C_OUT")" = '[["broken","failed","admin",true]]' ] ||
  t_note "broken in --json: $(head -c 300 "$C_OUT")"
[ "$(jq -c '.[0] | keys' "$C_OUT")" = '["drift_ms","due_at","duration_ms","errors","exported","finished_at","flow","ignored","imported","message","pid","run_id","started_at","status","trigger"]' ] ||
  t_note "keys: $(jq -c '.[0] | keys' "$C_OUT")"
t_exec -C "$sv_cd" ./prog runs --flow nope
t_expect_rc 2
t_expect_grep "$C_ERR" 'unknown flow `nope` \(flows: third, second, tick, broken' "the flows listed"
t_exec -C "$sv_cd" ./prog runs --limit x
t_expect_rc 2
t_exec -C "$sv_cd" ./prog runs --since 2020-01-01
t_expect_rc 2
t_expect_grep "$C_ERR" '--since does not go with runs' "a foreign option refused"
t_done

sv_ro=$sv_root/order
t_case serve/run/all-in-dependency-order
sv_prepare chain "$sv_ro"
t_exec -C "$sv_ro" ./prog run
t_expect_rc 1
# third and second are declared before tick: run orders them after it; after_broken waits for broken,
# which fails; after_bad_rows runs after bad_rows' record errors
[ "$(grep -oE '^flow [a-z_]+:' "$C_ERR" | paste -sd' ')" = "flow tick: flow second: flow third: flow broken: flow bad_rows: flow after_bad_rows: flow yearly: flow yearly_plain:" ] ||
  t_note "order: $(grep -oE '^flow [a-z_]+:' "$C_ERR" | paste -sd' ')"
t_expect_grep "$C_ERR" '^prog: flow after_broken did not run: it runs after broken, which failed$' "after_broken not run"
[ -e "$sv_ro/out/after_broken.ndjson" ] && t_note "after_broken wrote its file"
t_done

t_case serve/run/named-flow-runs-its-chain
rm -rf "$sv_ro/out"; mkdir -p "$sv_ro/out"
t_exec -C "$sv_ro" ./prog run second --json
t_expect_rc 0
[ "$(jq -r .flow "$C_OUT" | paste -sd' ')" = "second third" ] || t_note "run second: $(jq -r .flow "$C_OUT" | paste -sd' ')"
t_exec -C "$sv_ro" ./prog run tick --no-chain --json
t_expect_rc 0
[ "$(jq -r .flow "$C_OUT" | paste -sd' ')" = "tick" ] || t_note "run tick --no-chain: $(jq -r .flow "$C_OUT" | paste -sd' ')"
t_exec -C "$sv_ro" ./prog run third tick --json
t_expect_rc 0
[ "$(jq -r .flow "$C_OUT" | paste -sd' ')" = "tick second third" ] || t_note "run third tick: $(jq -r .flow "$C_OUT" | paste -sd' ')"
t_exec -C "$sv_ro" ./prog run third tick --no-chain --json
[ "$(jq -r .flow "$C_OUT" | paste -sd' ')" = "tick third" ] || t_note "run third tick --no-chain: $(jq -r .flow "$C_OUT" | paste -sd' ')"
t_exec -C "$sv_ro" ./prog run broken
t_expect_rc 1
t_expect_grep "$C_ERR" 'flow after_broken did not run: it runs after broken, which failed' "the chain stops"
# the same through the JIT
t_exec -C "$sv_ro" "$FLOWC" run flow.flow second --json
t_expect_rc 0
[ "$(jq -r .flow "$C_OUT" | paste -sd' ')" = "second third" ] || t_note "flowc run second: $(jq -r .flow "$C_OUT" | paste -sd' ')"
t_done

t_case serve/run/env-block
rm -rf "$sv_ro/out"; mkdir -p "$sv_ro/out"
t_exec -C "$sv_ro" ./prog run tick --no-chain --env sandbox
t_expect_rc 0
[ "$(jq -r .label "$sv_ro/out/tick.ndjson" | sort -u)" = sandboxed ] || t_note "--env sandbox: $(head -c 200 "$sv_ro/out/tick.ndjson")"
rm -f "$sv_ro/out/tick.ndjson"
t_exec -C "$sv_ro" ./prog run tick --no-chain --env sandbox --param label=given
[ "$(jq -r .label "$sv_ro/out/tick.ndjson" | sort -u)" = given ] || t_note "--param over --env: $(head -c 200 "$sv_ro/out/tick.ndjson")"
t_exec -C "$sv_ro" ./prog run tick --env nope
t_expect_rc 1
t_expect_grep "$C_ERR" 'no env `nope` \(envs: sandbox\)' "unknown env"
t_exec -C "$sv_ro" ./prog describe --env sandbox
[ "$(jq -r '.params[0].value' "$C_OUT")" = sandboxed ] || t_note "describe --env: $(jq -c .params "$C_OUT")"
t_done

# ===================================================================================================
# 3. slow and crashing runs: overlap, runs from a shell, kill -9 and restart, a crash (tests/serve/slow)

sv_sd=$sv_root/slow
t_case serve/slow/overlapping-fire-is-skipped
sv_prepare slow "$sv_sd"
if NAP_MS=2500 sv_start "$sv_sd" native; then
  sv_until 10 sv_ran "$sv_sd" native slow 1 || t_note "slow never finished a run"
  sv_runs "$sv_sd" native
  [ "$(sv_count 'select(.flow == "slow" and .status == "skipped" and (.message | test("^flow slow is already running \\(pid [0-9]+\\)$")))')" -ge 1 ] ||
    t_note "no skipped fire: $(jq -c '[.[] | [.status, .message]]' "$SV_RUNS")"
  # a run from a shell while serve runs the flow is refused, naming the run's process
  sv_until 5 eval '[ "$(sv_runs "$sv_sd" native; sv_count "select(.flow == \"slow\" and .status == \"running\")")" = 1 ]' ||
    t_note "no run going on"
  sv_runs "$sv_sd" native
  sv_child=$(jq -r '[.[] | select(.flow == "slow" and .status == "running")][0].pid' "$SV_RUNS")
  t_exec -C "$sv_sd" ./prog run slow
  t_expect_rc 1
  t_expect_grep "$C_ERR" "^prog: flow slow is already running \\(pid $sv_child\\)$" "the run's process named"
  sv_runs "$sv_sd" native
  [ "$(sv_count "select(.flow == \"slow\" and .status == \"skipped\" and .trigger == \"run\" and .message == \"flow slow is already running (pid $sv_child)\")")" = 1 ] ||
    t_note "the refused run from the shell is not in the history as skipped: $(jq -c '[.[] | select(.trigger == "run")]' "$SV_RUNS")"
  sv_curl "http://127.0.0.1:$SV_PORT/metrics"
  grep -qE '^flowc_runs_total\{flow="slow",status="skipped"\} [1-9]' "$SV_BODY" || t_note "skipped not counted: $(grep 'flow="slow"' "$SV_BODY" | head -5)"
  sv_curl -X POST "http://127.0.0.1:$SV_PORT/flows/slow/run"
  [ "$SV_CODE" = 409 ] && grep -q 'already running' "$SV_BODY" || t_note "POST while it runs: $SV_CODE $(head -c 200 "$SV_BODY")"
  sv_stop TERM
  [ "$SV_RC" = 0 ] || t_note "exit $SV_RC"
fi
t_done

t_case serve/slow/shell-run-holds-the-lock
# a run from a shell holds the flow; serve's fires meanwhile are skipped, naming the shell's run
(cd "$sv_sd" && NAP_MS=1500 exec ./prog run slow) </dev/null >"$sv_sd/shell.out" 2>"$sv_sd/shell.err" &
sv_shell=$!
sleep 0.5
if NAP_MS=0 sv_start "$sv_sd" native; then
  sleep 2
  sv_stop TERM
  sv_runs "$sv_sd" native
  [ "$(sv_count "select(.flow == \"slow\" and .status == \"skipped\" and .message == \"flow slow is already running (pid $sv_shell)\")")" -ge 1 ] ||
    t_note "no fire skipped for the shell's run (pid $sv_shell): $(jq -c '[.[0:4][] | [.status, .message]]' "$SV_RUNS")"
fi
wait "$sv_shell"; sv_src=$?
[ "$sv_src" = 0 ] || t_note "the shell's run: exit $sv_src: $(head -c 300 "$sv_sd/shell.err")"
C_FILES+=("$sv_sd/shell.err")
t_done

t_case serve/slow/crash-in-a-hook-is-a-crashed-run
if sv_start "$sv_sd" native; then
  sv_curl -X POST "http://127.0.0.1:$SV_PORT/flows/crash/run"
  sv_until 10 eval '[ "$(sv_runs "$sv_sd" native; sv_count "select(.flow == \"crash\" and .status == \"crashed\")")" = 1 ]' ||
    t_note "no crashed run: $(jq -c '[.[] | select(.flow == "crash")]' "$SV_RUNS")"
  sv_runs "$sv_sd" native
  [ "$(jq -r '[.[] | select(.flow == "crash")][0].message' "$SV_RUNS")" = "the run's process was killed by signal 6 (Aborted)" ] ||
    t_note "message: $(jq -r '[.[] | select(.flow == "crash")][0].message' "$SV_RUNS")"
  grep -qE 'flow crash: crashed in [0-9.]+ s: exported 0, ignored 0, imported 0, errors 0; the run.s process was killed by signal 6' "$SV_LOG" || t_note "no crashed line"
  sv_curl "http://127.0.0.1:$SV_PORT/healthz"
  [ "$SV_CODE" = 200 ] || t_note "serve is gone after the crash: $SV_CODE"
  sv_until 5 sv_ran "$sv_sd" native slow 2 || t_note "no run after the crash"
  t_exec -C "$sv_sd" ./prog state show crash --json
  [ "$(jq -r '.[0].last_status' "$C_OUT")" = crashed ] || t_note "state show: $(head -c 200 "$C_OUT")"
  sv_stop TERM
  [ "$SV_RC" = 0 ] || t_note "exit $SV_RC"
fi
t_done

sv_kill9() {
  local mode=$1 d=$sv_root/kill9.$1
  t_case "serve/slow/$mode/kill-9-then-restart"
  if [ "$mode" = native ]; then sv_prepare slow "$d"; else sv_copy slow "$d"; fi
  if NAP_MS=1500 sv_start "$d" "$mode"; then
    # killed while a run goes on: the run stops at its next safe point (it gets SIGTERM when serve
    # is gone) and records itself interrupted; it keeps the flow until it has ended
    sv_until 10 sv_ran "$d" "$mode" slow 1 || t_note "no run before the kill"
    sv_until 5 eval '[ "$(sv_runs "$d" "$mode"; sv_count "select(.status == \"running\")")" = 1 ]' || t_note "no run going on to kill"
    kill -9 "$SV_PID"; wait "$SV_PID" 2>/dev/null
    sv_until 10 eval '[ "$(sv_runs "$d" "$mode"; sv_count "select(.status == \"running\")")" = 0 ]' ||
      t_note "a run is still recorded running 10 s after the kill: $(jq -c '[.[] | select(.status == "running")]' "$SV_RUNS")"
    sv_runs "$d" "$mode"
    [ "$(sv_count 'select(.status == "interrupted" and (.message | test("interrupted by SIGTERM")))')" = 1 ] ||
      t_note "the killed session's run: $(jq -c '[.[] | [.status, .message]]' "$SV_RUNS" | head -c 300)"
    pgrep -f "$d" >/dev/null && t_note "processes left after the kill: $(pgrep -af "$d" | head -3)"
    local before
    before=$(sv_count 'select(.status == "ok")')
    if NAP_MS=0 sv_start "$d" "$mode"; then
      sv_until 10 sv_ran "$d" "$mode" slow $((before + 2)) || t_note "the restarted serve did not run slow twice"
      sv_stop TERM
      [ "$SV_RC" = 0 ] || t_note "exit $SV_RC after the restart"
    fi
    sv_runs "$d" "$mode"
    # no fire ran twice (one run per due time, skipped starts aside), nothing is left running
    [ "$(jq '[.[] | select(.status != "skipped" and .due_at != null) | .due_at] | (length - (unique | length))' "$SV_RUNS")" = 0 ] ||
      t_note "a due time ran twice: $(jq -c '[.[] | [.due_at, .status]]' "$SV_RUNS" | head -c 400)"
    [ "$(sv_count 'select(.status == "running" or .status == "crashed")')" = 0 ] || t_note "left running or crashed: $(jq -c '[.[] | select(.status == "running" or .status == "crashed")]' "$SV_RUNS")"
    [ "$(sqlite3 "$d/.flowstate/serve-slow.state.db" 'pragma integrity_check')" = ok ] || t_note "the state store is damaged"
  fi
  t_done
}
sv_kill9 native
sv_kill9 jit

# ===================================================================================================
# 4. SIGTERM in the middle of a run: nothing a finished page wrote is lost, the delta time stays

sv_term() {
  local mode=$1 d=$sv_root/bulk.$1
  t_case "serve/bulk/$mode/sigterm-mid-run"
  if [ "$mode" = native ]; then sv_prepare bulk "$d"; else sv_copy bulk "$d"; fi
  mkdir -p "$d/data"
  sqlite3 "$d/data/src.db" "create table items (id integer primary key, qty, updated_at text not null);"
  (cd "$d" && if [ "$mode" = jit ]; then "$FLOWC" run flow.flow bulk; else ./prog run bulk; fi) >"$d/first.out" 2>"$d/first.err"
  local t0
  t0=$(cd "$d" && ./prog state show bulk --json 2>/dev/null | jq -r '.[0].delta_since')
  [ "$mode" = jit ] && t0=$(cd "$d" && "$FLOWC" state flow.flow show bulk --json 2>/dev/null | jq -r '.[0].delta_since')
  [ -n "$t0" ] && [ "$t0" != null ] || t_note "no delta time after the first run: $(head -c 300 "$d/first.err")"
  sqlite3 "$d/data/src.db" "with recursive n(i) as (select 1 union all select i + 1 from n where i < 40000)
    insert into items select i, i, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') from n;"
  if sv_start "$d" "$mode"; then
    sv_curl -X POST "http://127.0.0.1:$SV_PORT/flows/bulk/run"
    [ "$SV_CODE" = 202 ] || t_note "POST /flows/bulk/run: $SV_CODE"
    local n=0 i
    for i in $(seq 1500); do
      n=$(sqlite3 -cmd '.timeout 2000' "$d/data/dst.db" "select count(*) from items" 2>/dev/null || echo 0)
      [ "${n:-0}" -ge 2000 ] 2>/dev/null && break
      sleep 0.02
    done
    sv_stop TERM
    [ "$SV_RC" = 0 ] || t_note "exit $SV_RC after SIGTERM (expected 0)"
    awk "BEGIN { exit !($SV_SECS < 30) }" || t_note "serve took $SV_SECS s to stop"
    sv_runs "$d" "$mode"
    [ "$(jq -c '[.[] | select(.flow == "bulk" and .trigger == "admin") | .status]' "$SV_RUNS")" = '["interrupted"]' ] ||
      t_note "the run: $(jq -c '[.[] | select(.flow == "bulk") | [.status, .exported, .message]]' "$SV_RUNS")"
    local t1 c max
    t1=$(cd "$d" && ./prog state show bulk --json 2>/dev/null | jq -r '.[0].delta_since')
    [ "$mode" = jit ] && t1=$(cd "$d" && "$FLOWC" state flow.flow show bulk --json 2>/dev/null | jq -r '.[0].delta_since')
    [ "$t1" = "$t0" ] || t_note "the delta time moved: $t1, was $t0"
    c=$(sqlite3 "$d/data/dst.db" "select count(*) from items")
    max=$(sqlite3 "$d/data/dst.db" "select coalesce(max(id), 0) from items")
    [ "$c" -ge 2000 ] && [ "$c" -lt 40000 ] && [ $((c % 200)) = 0 ] && [ "$c" = "$max" ] || t_note "the table holds $c rows up to id $max: not whole pages of an interrupted run"
    [ -e "$d/out/items.ndjson" ] && t_note "the file import wrote out/items.ndjson"
    [ -z "$(find "$d/out" -mindepth 1 | head -1)" ] || t_note "files left in out/: $(find "$d/out" -mindepth 1 | head -3)"
    grep -qE 'flow bulk: interrupted in [0-9.]+ s: exported [0-9]+, .*interrupted by SIGTERM' "$SV_LOG" || t_note "no interrupted line: $(grep 'flow bulk' "$SV_LOG")"
    # the next run reads the same window again: nothing is lost
    (cd "$d" && if [ "$mode" = jit ]; then "$FLOWC" run flow.flow bulk --json; else ./prog run bulk --json; fi) >"$d/rerun.out" 2>"$d/rerun.err"
    [ "$(jq -c '[.exported, .imported.copy, .imported.dump]' "$d/rerun.out")" = '[40000,40000,40000]' ] || t_note "rerun: $(head -c 300 "$d/rerun.out") $(head -c 300 "$d/rerun.err")"
    [ "$(sqlite3 "$d/data/dst.db" 'select count(*), count(distinct id) from items')" = "40000|40000" ] || t_note "after the rerun: $(sqlite3 "$d/data/dst.db" 'select count(*) from items')"
    C_FILES+=("$d/rerun.err" "$d/first.err")
  fi
  t_done
}
sv_term native
sv_term jit

t_case serve/bulk/admin-window-keeps-the-delta-time
# POST /flows/F/run?since=&until= runs the window given, as run --since/--until does: the saved
# delta time stays, and the next run goes on from it
sv_aw=$sv_root/window
sv_prepare bulk "$sv_aw"
mkdir -p "$sv_aw/data"
sqlite3 "$sv_aw/data/src.db" "create table items (id integer primary key, qty, updated_at text not null);
  with recursive n(i) as (select 1 union all select i + 1 from n where i < 100)
  insert into items select i, i, '2020-06-01T00:00:00.000Z' from n;"
t_exec -C "$sv_aw" ./prog run bulk --json
t_expect_rc 0
[ "$(jq -c '[.exported, .imported.copy]' "$C_OUT")" = '[100,100]' ] || t_note "the first run: $(cat "$C_OUT")"
sv_t0=$(cd "$sv_aw" && ./prog state show bulk --json | jq -r '.[0].delta_since')
sqlite3 "$sv_aw/data/dst.db" "delete from items"
if sv_start "$sv_aw" native; then
  sv_curl -X POST "http://127.0.0.1:$SV_PORT/flows/bulk/run?since=2019-01-01T00:00:00Z&until=2021-01-01T00:00:00%2B00:00"
  [ "$SV_CODE" = 202 ] || t_note "POST with a window: $SV_CODE $(head -c 200 "$SV_BODY")"
  [ "$(jq -c '[.since, .until]' "$SV_BODY")" = '["2019-01-01T00:00:00Z","2021-01-01T00:00:00+00:00"]' ] || t_note "answer: $(cat "$SV_BODY")"
  sv_until 10 sv_ran "$sv_aw" native bulk 2 || t_note "the windowed run did not happen"
  sv_stop TERM
  sv_runs "$sv_aw" native
  [ "$(jq -c '[.[] | select(.trigger == "admin") | [.status, .exported, .imported]]' "$SV_RUNS")" = '[["ok",100,200]]' ] ||
    t_note "the windowed run: $(jq -c '[.[] | select(.trigger == "admin")]' "$SV_RUNS")"
fi
[ "$(cd "$sv_aw" && ./prog state show bulk --json | jq -r '.[0].delta_since')" = "$sv_t0" ] || t_note "the delta time moved after the windowed run"
[ "$(sqlite3 "$sv_aw/data/dst.db" 'select count(*) from items')" = 100 ] || t_note "the windowed run wrote $(sqlite3 "$sv_aw/data/dst.db" 'select count(*) from items') rows"
t_exec -C "$sv_aw" ./prog run bulk --json
t_expect_rc 0
[ "$(jq -c '[.exported, .ignored, .imported.copy]' "$C_OUT")" = '[100,100,0]' ] || t_note "the run after it did not go on from the saved time: $(cat "$C_OUT")"
t_done

# ===================================================================================================
# 5. the admin token, a second signal, what serve refuses to start with

sv_ad=$sv_root/admin
t_case serve/admin/token-required-from-anywhere
sv_prepare chain "$sv_ad"
if FLOW_ADMIN_TOKEN= sv_start "$sv_ad" native --admin-token s3cr3t-t0ken; then
  tr '\0' ' ' <"/proc/$SV_PID/cmdline" | grep -q s3cr3t && t_note "the token shows in the command line: $(tr '\0' ' ' <"/proc/$SV_PID/cmdline")"
  sv_curl -X POST "http://127.0.0.1:$SV_PORT/flows/yearly_plain/run"
  [ "$SV_CODE" = 401 ] || t_note "no token from loopback: $SV_CODE"
  sv_curl -X POST -H 'Authorization: Bearer wrong' "http://127.0.0.1:$SV_PORT/flows/yearly_plain/run"
  [ "$SV_CODE" = 401 ] || t_note "a wrong token: $SV_CODE"
  sv_curl -X POST -H 'Authorization: Bearer s3cr3t-t0ke' "http://127.0.0.1:$SV_PORT/flows/yearly_plain/run"
  [ "$SV_CODE" = 401 ] || t_note "a prefix of the token: $SV_CODE"
  sv_curl -X POST -H 'Authorization: Bearer s3cr3t-t0ken' "http://127.0.0.1:$SV_PORT/flows/yearly_plain/run?until=2020-01-01T00:00:00Z"
  [ "$SV_CODE" = 202 ] || t_note "the token: $SV_CODE $(head -c 200 "$SV_BODY")"
  sv_until 10 sv_ran "$sv_ad" native yearly_plain 1 || t_note "the run did not happen"
  sv_stop TERM
  grep -q 's3cr3t' "$SV_LOG" && t_note "the token is in the log"
  grep -rqa 's3cr3t' "$sv_ad/.flowstate" && t_note "the token is in the state directory"
fi
t_done

t_case serve/admin/second-signal-kills-runs
sv_s2=$sv_root/second
sv_prepare slow "$sv_s2"
if NAP_MS=20000 sv_start "$sv_s2" native; then
  sv_until 5 eval '[ "$(sv_runs "$sv_s2" native; sv_count "select(.status == \"running\")")" = 1 ]' || t_note "no run going on"
  kill -TERM "$SV_PID"; sleep 0.3
  sv_stop INT
  [ "$SV_RC" = 130 ] || t_note "exit $SV_RC after a second signal (SIGINT: expected 130)"
  awk "BEGIN { exit !($SV_SECS < 5) }" || t_note "it took $SV_SECS s"
  sv_runs "$sv_s2" native
  [ "$(jq -r '[.[] | select(.status != "skipped")][0] | .status + ": " + .message' "$SV_RUNS")" = "interrupted: killed: a second SIGINT came while it stopped" ] ||
    t_note "the killed run: $(jq -c '.[0]' "$SV_RUNS")"
  pgrep -f "$sv_s2" >/dev/null && t_note "processes left: $(pgrep -af "$sv_s2" | head -3)"
fi
t_done

t_case serve/refuses/bad-zone-from-a-param
sv_bz=$sv_root/badzone
sv_prepare badzone "$sv_bz"
t_exec -C "$sv_bz" ./prog serve --listen 127.0.0.1:0
t_expect_rc 1
t_expect_grep "$C_ERR" '^prog serve: flow tick: schedule cron\("\*/5 \* \* \* \*", "Mars/Olympus_Mons"\): unknown time zone "Mars/Olympus_Mons"' "the message"
t_exec -C "$sv_bz" "$FLOWC" serve flow.flow --listen 127.0.0.1:0
t_expect_rc 1
t_expect_grep "$C_ERR" 'unknown time zone "Mars/Olympus_Mons"' "the JIT's message"
t_done

t_case serve/refuses/usage-and-port-in-use
t_exec -C "$sv_bz" ./prog serve --json
t_expect_rc 2
t_exec -C "$sv_bz" ./prog serve tick
t_expect_rc 2
t_exec -C "$sv_bz" ./prog serve --listen nowhere --param zone=UTC
t_expect_rc 1
t_expect_grep "$C_ERR" '--listen takes ADDR:PORT' "a bad address"
if sv_start "$sv_ad" native; then
  t_exec -C "$sv_bz" ./prog serve --listen "127.0.0.1:$SV_PORT" --param zone=UTC
  t_expect_rc 1
  t_expect_grep "$C_ERR" "cannot listen on 127.0.0.1:$SV_PORT: Address already in use" "port in use"
  sv_stop TERM
fi
t_done

# ===================================================================================================
# 6. the live progress line of `run`: on a terminal (a real pty, through script(1)), not on a pipe

sv_pg=$sv_sd
t_case serve/progress/on-a-pty
rm -rf "$sv_pg/out"; mkdir -p "$sv_pg/out"
sv_t0=$(date +%s.%N)
(cd "$sv_pg" && NAP_MS=50 timeout 60 script -qfec "./prog run pages" /dev/null </dev/null) >"$sv_pg/pty.out" 2>&1
sv_rc=$?
sv_t1=$(date +%s.%N)
C_FILES+=("$sv_pg/pty.out")
[ "$sv_rc" = 0 ] || t_note "exit $sv_rc: $(head -c 300 "$sv_pg/pty.out")"
sv_draws=$(grep -aoE $'\r\e\\[Kflow pages: [0-9]+ records, [0-9]+ pages?, [0-9]+ records/s, 0 errors' "$sv_pg/pty.out" | wc -l)
sv_secs=$(awk "BEGIN { print $sv_t1 - $sv_t0 }")
[ "$sv_draws" -ge 3 ] || t_note "$sv_draws progress lines drawn in $sv_secs s: $(head -c 300 "$sv_pg/pty.out" | od -c | head -5)"
awk "BEGIN { exit !($sv_draws <= $sv_secs * 10 + 1) }" || t_note "$sv_draws redraws in $sv_secs s: more than 10 a second"
grep -aq 'flow pages: 300 records, 30 pages' "$sv_pg/pty.out" || grep -aq 'records, 2[0-9] pages' "$sv_pg/pty.out" || t_note "the count did not reach the last pages"
grep -aq $'\r\e\[Kflow pages: exported 300, ignored 0, imported copy=300, errors 0' "$sv_pg/pty.out" || t_note "the summary does not replace the progress line"
t_done

t_case serve/progress/quiet-and-pipe
(cd "$sv_pg" && NAP_MS=50 timeout 60 script -qfec "./prog run pages --quiet" /dev/null </dev/null) >"$sv_pg/quiet.out" 2>&1
C_FILES+=("$sv_pg/quiet.out")
grep -aq 'records/s' "$sv_pg/quiet.out" && t_note "--quiet drew the progress line"
grep -aq 'flow pages: exported 300' "$sv_pg/quiet.out" || t_note "no summary with --quiet"
t_exec -C "$sv_pg" env NAP_MS=50 ./prog run pages
t_expect_rc 0
t_expect_nogrep "$C_ERR" 'records/s' "a progress line on a pipe"
grep -q $'\r' "$C_ERR" && t_note "a carriage return on a pipe"
# the JIT draws it too
(cd "$sv_pg" && NAP_MS=50 timeout 60 script -qfec "$FLOWC run flow.flow pages" /dev/null </dev/null) >"$sv_pg/jit.out" 2>&1
C_FILES+=("$sv_pg/jit.out")
grep -aq $'\r\e\[Kflow pages: [0-9]* records' "$sv_pg/jit.out" || t_note "flowc run drew no progress line on a pty"
t_done

# ===================================================================================================
# 7. webhooks through serve's listener (tests/serve/hooks): every verification accepting and
# refusing, the answers, /metrics by path and status with the queue depth, the durable queue across
# a kill -9 right after the 204s, redeliveries processed once, and a webhook run being an ordinary
# run (the lock, the history, the log). Natively and through the JIT.

export GH_SECRET="gh-secret It's a Secret to Everybody" SHOP_SECRET="shpss_0123456789abcdef" HOOK_TOKEN="tok-9f8e7d6c5b4a"
export HOOK_PASSWORD="pa:ss wörd" Q_TOKEN="q-token-5d41402abc4b2a76"

# sv_hooks_copy DIR MODE: tests/serve/hooks in DIR with the slow program's nap hook, built natively
sv_hooks_copy() {
  sv_copy hooks "$1"
  cp tests/serve/slow/hooks.c "$1/"
  if [ "$2" = native ]; then san_build "$1" || t_note "flowc build failed:" "$(head -n 20 "$1/build.log")"; fi
}
# sv_cmd DIR MODE ARGS...: the program's command (native ./prog, JIT flowc CMD flow.flow) in DIR; C_OUT, C_ERR, C_RC
sv_cmd() {
  local dir=$1 mode=$2 cmd=$3; shift 3
  if [ "$mode" = jit ]; then t_exec -C "$dir" "$FLOWC" "$cmd" flow.flow "$@"; else t_exec -C "$dir" ./prog "$cmd" "$@"; fi
}
# sv_post PATH FILE [HEADER...]: POST FILE's bytes to serve at PATH (with its query); SV_CODE, SV_BODY
sv_post() {
  local path=$1 file=$2 h; shift 2
  local args=()
  for h in "$@"; do args+=(-H "$h"); done
  sv_curl -X POST --data-binary "@$file" -H 'Content-Type: application/json' "${args[@]}" "http://127.0.0.1:$SV_PORT$path"
}
# sv_want WHAT STATUS: the last answer's status
sv_want() { [ "$SV_CODE" = "$2" ] || t_note "$1: $SV_CODE, expected $2: $(head -c 200 "$SV_BODY")"; }
# sv_sql DIR SQL: a query on the state store
# (serve writes the store meanwhile: a read waits for its lock, up to 5 s, rather than failing empty)
sv_sql() { sqlite3 -cmd '.timeout 5000' "$1/.flowstate/serve-hooks.state.db" "$2" 2>/dev/null; }
# sv_drained DIR: no event queued and no run going on
sv_drained() {
  [ "$(sv_sql "$1" "select count(*) from webhook_events where status = 'queued'")" = 0 ] &&
    [ "$(sv_sql "$1" "select count(*) from runs where status = 'running'")" = 0 ]
}
sv_db_ids() { sqlite3 -cmd '.timeout 5000' "$1/out/hooks.db" 'select id from items order by id' 2>/dev/null | tr '\n' ' '; }
sv_file_ids() { sed 's/.*"id":\([0-9]*\).*/\1/' "$1/out/items.ndjson" 2>/dev/null | sort -n | tr '\n' ' '; }
# sv_lines FILE: its lines (0 when it is not there)
sv_lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

sv_hooks() {
  local mode=$1 d=$sv_root/hooks.$1 url sig i want_gh=1
  local b=$d/body.json
  t_case "serve/hooks/$mode/verify-accept-and-refuse"
  sv_hooks_copy "$d" "$mode"
  printf '{"id": 1, "note": "café — ok"}\n' >"$b"
  printf '{"id": 1, "note": "café — ok" }\n' >"$d/tampered.json"
  # the secret URL as describe --show-secrets makes it, before serve first runs
  sv_cmd "$d" "$mode" describe --show-secrets
  url=$(grep -o '"url":"/hooks/secret/[0-9a-f]*"' "$C_OUT" | sed 's/"url":"//; s/"$//')
  [ ${#url} = $((14 + 32)) ] || t_note "describe --show-secrets shows no secret URL: $(head -c 300 "$C_OUT")"
  if NAP_MS=0 sv_start "$d" "$mode"; then
    # GitHub: X-Hub-Signature-256 as openssl makes it, and as @octokit/webhooks-methods does when npm could install it
    sig=sha256=$(openssl dgst -sha256 -hmac "$GH_SECRET" -hex <"$b" | sed 's/^.*= //')
    sv_post /hooks/github "$b" "X-Hub-Signature-256: $sig" "X-GitHub-Event: issues"; sv_want "GitHub, openssl's signature" 204
    want_gh=1
    if [ -f build/npm/webhook/node_modules/@octokit/webhooks-methods/package.json ]; then
      sig=$(SIGN_SECRET=$GH_SECRET node tests/webhook/sign.mjs build/npm/webhook sign "$d/tampered.json")
      sv_post /hooks/github "$d/tampered.json" "X-Hub-Signature-256: $sig"; sv_want "GitHub, octokit's signature" 204
      want_gh=2
    fi
    sv_post /hooks/github "$d/tampered.json" "X-Hub-Signature-256: sha256=$(openssl dgst -sha256 -hmac "$GH_SECRET" -hex <"$b" | sed 's/^.*= //')"
    sv_want "GitHub, another body's signature" 401
    sv_post /hooks/github "$b"; sv_want "GitHub, unsigned" 401
    sv_post /hooks/github "$b" "X-Hub-Signature-256: sha256=$(openssl dgst -sha256 -hmac wrong -hex <"$b" | sed 's/^.*= //')"
    sv_want "GitHub, another secret" 401
    # Shopify: base64
    sv_post /hooks/shopify "$b" "X-Shopify-Hmac-Sha256: $(openssl dgst -sha256 -hmac "$SHOP_SECRET" -binary <"$b" | base64 -w0)"
    sv_want "Shopify" 204
    sv_post /hooks/shopify "$b" "X-Shopify-Hmac-Sha256: $(openssl dgst -sha256 -hmac "$SHOP_SECRET" -hex <"$b" | sed 's/^.*= //')"
    sv_want "Shopify, hex for base64" 401
    # tokens and basic
    printf '{"events":[{"n":1},{"n":2}]}' >"$d/events.json"
    sv_post /hooks/token "$d/events.json" "X-Webhook-Token: $HOOK_TOKEN"; sv_want "the token" 202
    sv_post /hooks/token "$d/events.json" "X-Webhook-Token: ${HOOK_TOKEN}x"; sv_want "a longer token" 401
    sv_post /hooks/token "$d/events.json"; sv_want "no token" 401
    sv_post "/hooks/token-query?key=$HOOK_TOKEN" "$b"; sv_want "the token in the query" 204
    sv_post "/hooks/token-query?key=nope" "$b"; sv_want "a wrong token in the query" 401
    sv_post /hooks/basic "$b" "Authorization: Basic $(printf 'partner:%s' "$HOOK_PASSWORD" | base64 -w0)"; sv_want "basic" 200
    sv_post /hooks/basic "$b" "Authorization: Basic $(printf 'partner:pa:ss' | base64 -w0)"; sv_want "basic, a wrong password" 401
    sv_post /hooks/basic "$b"; sv_want "basic, none" 401
    # the secret URL, and a handshake there
    sv_post "$url" "$b"; sv_want "the secret URL" 204
    sv_post /hooks/secret/0123456789abcdef0123456789abcdef "$b"; sv_want "a guessed secret" 401
    sv_post /hooks/secret "$b"; sv_want "the path without its secret" 401
    printf '{"challenge":"c-123","type":"url_verification"}' >"$d/challenge.json"
    sv_post "$url" "$d/challenge.json"; sv_want "a handshake" 200
    [ "$(cat "$SV_BODY")" = c-123 ] || t_note "the challenge was not echoed: $(head -c 100 "$SV_BODY")"
    # the flows run what was accepted, once; nothing refused
    sv_until 30 sv_drained "$d" || t_note "the queue was not taken within 30 s: $(sv_sql "$d" 'select flow, status from webhook_events')"
    local one='{"id":1,"note":"café — ok"}'
    [ "$(sv_lines "$d/out/github.ndjson")" = $want_gh ] || t_note "github wrote: $(head -c 300 "$d/out/github.ndjson" 2>/dev/null)"
    for f in shopify token_query basic_auth secret_path; do
      [ "$(cat "$d/out/$f.ndjson" 2>/dev/null)" = "$one" ] || t_note "$f wrote: $(head -c 300 "$d/out/$f.ndjson" 2>/dev/null)"
    done
    [ "$(cat "$d/out/token_header.ndjson" 2>/dev/null)" = "$(printf '{"n":1}\n{"n":2}')" ] || t_note "token_header wrote: $(cat "$d/out/token_header.ndjson" 2>/dev/null)"
    sv_runs "$d" "$mode"
    for f in github shopify token_header token_query basic_auth secret_path; do
      [ "$(sv_count "select(.flow == \"$f\" and .trigger == \"webhook\" and .status == \"ok\")")" -ge 1 ] ||
        t_note "no ok webhook run of $f: $(jq -c "[.[] | select(.flow == \"$f\")]" "$SV_RUNS")"
    done
    grep -qE '^[0-9T:.-]+Z flow shopify: ok in [0-9.]+ s: exported 1, ignored 0, imported 1, errors 0 \(run [0-9T]+Z-[0-9a-f]{8}, webhook\)$' "$SV_LOG" ||
      t_note "no log line for shopify's webhook run: $(grep 'flow shopify' "$SV_LOG" | head -3)"
    grep -qF -e "$GH_SECRET" -e "$SHOP_SECRET" -e "$HOOK_TOKEN" -e "$HOOK_PASSWORD" -e "${url##*/}" -e café "$SV_LOG" &&
      t_note "serve's log shows a secret or a body"
  fi
  t_done

  t_case "serve/hooks/$mode/answers-404-405-400-413"
  if [ -n "$SV_PORT" ] && kill -0 "$SV_PID" 2>/dev/null; then
    sv_post /hooks/nope "$b"; sv_want "an unknown path" 404
    sv_post /hooks/github/x "$b"; sv_want "under a path that is not secret_url" 404
    SV_BODY=$sv_root/curl.body
    SV_CODE=$(curl -s -o "$SV_BODY" -D "$d/headers.txt" -w '%{http_code}' --max-time 20 "http://127.0.0.1:$SV_PORT/hooks/token")
    sv_want "GET on a webhook path" 405
    grep -qi '^Allow: POST' "$d/headers.txt" || t_note "405 without Allow: POST: $(cat "$d/headers.txt")"
    sv_curl -X PUT --data-binary "@$d/events.json" -H "X-Webhook-Token: $HOOK_TOKEN" "http://127.0.0.1:$SV_PORT/hooks/token"
    sv_want "PUT" 405
    printf 'not json' >"$d/bad.txt"
    sv_post /hooks/token "$d/bad.txt" "X-Webhook-Token: $HOOK_TOKEN"; sv_want "not JSON" 400
    grep -q 'not JSON: malformed JSON at line 1, column 1' "$SV_BODY" || t_note "400 without the parse error: $(head -c 200 "$SV_BODY")"
    printf '{"events":[]}\n{"events":' >"$d/bad.ndjson"
    sv_post /hooks/token "$d/bad.ndjson" "X-Webhook-Token: $HOOK_TOKEN"; sv_want "a bad NDJSON line" 400
    grep -q 'line 2: malformed JSON' "$SV_BODY" || t_note "400 without the line: $(head -c 200 "$SV_BODY")"
    # over 5 MB, while it is read: from its Content-Length, and chunked (no length); exactly 5 MB is taken
    head -c $((5 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$d/big.json"
    sv_post /hooks/token "$d/big.json" "X-Webhook-Token: $HOOK_TOKEN"; sv_want "5 MB and a byte" 413
    sv_post /hooks/token "$d/big.json" "X-Webhook-Token: $HOOK_TOKEN" 'Transfer-Encoding: chunked'; sv_want "5 MB and a byte, chunked" 413
    { printf '{"events":[{"n":3}],"pad":"'; head -c $((5 * 1024 * 1024 - 29)) /dev/zero | tr '\0' x; printf '"}'; } >"$d/max.json"
    [ "$(stat -c %s "$d/max.json")" = $((5 * 1024 * 1024)) ] || t_note "max.json is $(stat -c %s "$d/max.json") bytes"
    sv_post /hooks/token "$d/max.json" "X-Webhook-Token: $HOOK_TOKEN" 'Transfer-Encoding: chunked'; sv_want "exactly 5 MB" 202
    sv_until 20 eval '[ "$(sv_lines "$d/out/token_header.ndjson")" = 3 ]' || t_note "the 5 MB request was not run: $(cat "$d/out/token_header.ndjson")"
    sv_curl "http://127.0.0.1:$SV_PORT/healthz"
    [ "$SV_CODE" = 200 ] && [ "$(cat "$SV_BODY")" = '{"status":"ok","flows":9}' ] || t_note "/healthz: $SV_CODE $(head -c 100 "$SV_BODY")"
  else
    t_note "no serve to ask"
  fi
  t_done

  t_case "serve/hooks/$mode/metrics-by-path-and-status"
  if [ -n "$SV_PORT" ] && kill -0 "$SV_PID" 2>/dev/null; then
    sv_curl "http://127.0.0.1:$SV_PORT/metrics"
    cp "$SV_BODY" "$d/metrics.txt"
    "$SV_PY" - "$d/metrics.txt" "$want_gh" >"$d/metrics.check" 2>&1 <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
gh_ok = int(sys.argv[2])
bad = []
def value(fam, sample, **labels):
    for s in fams.get(fam).samples if fam in fams else []:
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()): return s.value
    return None
if fams.get("flowc_webhook_requests") is None or fams["flowc_webhook_requests"].type != "counter": bad.append("no counter flowc_webhook_requests")
if fams.get("flowc_webhook_queue_depth") is None or fams["flowc_webhook_queue_depth"].type != "gauge": bad.append("no gauge flowc_webhook_queue_depth")
want = [("github", "/hooks/github", "204", gh_ok), ("github", "/hooks/github", "401", 3), ("shopify", "/hooks/shopify", "204", 1),
        ("shopify", "/hooks/shopify", "401", 1), ("token_header", "/hooks/token", "202", 2), ("token_header", "/hooks/token", "401", 2),
        ("token_header", "/hooks/token", "405", 2), ("token_header", "/hooks/token", "400", 2), ("token_header", "/hooks/token", "413", 2),
        ("token_query", "/hooks/token-query", "204", 1), ("token_query", "/hooks/token-query", "401", 1),
        ("basic_auth", "/hooks/basic", "200", 1), ("basic_auth", "/hooks/basic", "401", 2),
        ("secret_path", "/hooks/secret", "204", 1), ("secret_path", "/hooks/secret", "401", 2), ("secret_path", "/hooks/secret", "200", 1)]
for flow, path, status, n in want:
    v = value("flowc_webhook_requests", "flowc_webhook_requests_total", flow=flow, path=path, status=status)
    if v != n: bad.append("webhook_requests_total{flow=%s,path=%s,status=%s} = %r, expected %d" % (flow, path, status, v, n))
for s in fams["flowc_webhook_requests"].samples if "flowc_webhook_requests" in fams else []:
    if s.labels.get("path", "").startswith("/hooks/secret/"): bad.append("a secret in a label: " + s.labels["path"])
for flow in ("github", "shopify", "token_header", "token_query", "basic_auth", "secret_path", "to_db", "to_file", "ping"):
    v = value("flowc_webhook_queue_depth", "flowc_webhook_queue_depth", flow=flow)
    if v != 0: bad.append("queue depth of %s: %r, expected 0 (all taken)" % (flow, v))
# every queued request was committed by one transaction, shared or not: 1 <= commits <= requests queued
queued = sum(s.value for s in fams["flowc_webhook_requests"].samples if s.labels.get("status") in ("200", "202", "204")) - 1 \
    if "flowc_webhook_requests" in fams else 0   # (less the handshake, which queues nothing)
c = value("flowc_webhook_queue_commits", "flowc_webhook_queue_commits_total")
if c is None or c < 1 or c > queued: bad.append("webhook_queue_commits_total: %r for %r queued requests" % (c, queued))
v = value("flowc_http_requests", "flowc_http_requests_total", route="other", status="404")
if v is None or v < 2: bad.append("404s counted as route other: %r" % v)
print("\n".join(bad) if bad else "ok")
PY
    [ "$(cat "$d/metrics.check")" = ok ] || t_note "/metrics:" "$(cat "$d/metrics.check")"
    sv_stop TERM
    [ "$SV_RC" = 0 ] || t_note "exit $SV_RC after SIGTERM"
  else
    t_note "no serve to ask"
  fi
  t_done

  t_case "serve/hooks/$mode/queue-survives-kill-9-after-204"
  # runs nap 1 s a page: the first request's run is still going when the last request is answered
  # and serve is killed; the killed session's runs are interrupted, the events stay queued and the
  # restarted serve runs them at once, without a request, each record once
  if NAP_MS=1000 sv_start "$d" "$mode"; then
    for i in 0 1 2; do
      t_items $((i * 3 + 1)) $((i * 3 + 3)) "$d/r.json"
      sv_post /q/db "$d/r.json" "X-Token: $Q_TOKEN"; sv_want "request $i to /q/db" 204
      sv_post /q/file "$d/r.json" "X-Token: $Q_TOKEN"; sv_want "request $i to /q/file" 204
    done
    sv_curl "http://127.0.0.1:$SV_PORT/metrics"
    kill -9 "$SV_PID"; wait "$SV_PID" 2>/dev/null
    grep -qE '^flowc_webhook_queue_depth\{flow="to_db"\} [1-9]' "$SV_BODY" ||
      t_note "queue depth of to_db while its run naps: $(grep 'queue_depth' "$SV_BODY")"
    sv_until 15 eval '[ "$(sv_sql "$d" "select count(*) from runs where status = '"'running'"'")" = 0 ]' || t_note "runs still going 15 s after the kill"
    local queued
    queued=$(sv_sql "$d" "select count(*) from webhook_events where status = 'queued' and flow in ('to_db', 'to_file')")
    [ "${queued:-0}" -ge 1 ] || t_note "no event left queued at the kill (the test proves nothing): $(sv_sql "$d" 'select flow, status from webhook_events')"
    sv_runs "$d" "$mode"
    local before
    before=$(sv_count 'select(.trigger == "webhook" and (.flow == "to_db" or .flow == "to_file"))')
    if NAP_MS=0 sv_start "$d" "$mode"; then
      sv_until 30 sv_drained "$d" || t_note "the restarted serve did not take the queue: $(sv_sql "$d" "select flow, status from webhook_events where status = 'queued'")"
      sv_runs "$d" "$mode"
      [ "$(sv_count 'select(.trigger == "webhook" and (.flow == "to_db" or .flow == "to_file"))')" -gt "$before" ] || t_note "no webhook run after the restart"
      sv_stop TERM
    fi
    [ "$(sv_db_ids "$d")" = "$(t_seq 1 9)" ] || t_note "database, each record once: $(sv_db_ids "$d")"
    [ "$(sv_file_ids "$d")" = "$(t_seq 1 9)" ] || t_note "file, each record once: $(sv_file_ids "$d")"
    [ "$(sv_sql "$d" 'pragma integrity_check')" = ok ] || t_note "the state store is damaged"
  fi
  t_done

  t_case "serve/hooks/$mode/redeliveries-once"
  if NAP_MS=0 sv_start "$d" "$mode"; then
    t_items 20 21 "$d/a.json"
    for i in 1 2 3; do
      sv_post /q/db "$d/a.json" "X-Token: $Q_TOKEN" "X-GitHub-Delivery: 5a0d5b10-0000-4000-8000-00000000000$mode"; sv_want "GitHub delivery, time $i" 204
    done
    t_items 22 22 "$d/b.json"
    for i in 1 2; do sv_post /q/db "$d/b.json" "X-Token: $Q_TOKEN" "Idempotency-Key: key-$mode"; sv_want "Idempotency-Key, time $i" 204; done
    t_items 23 23 "$d/c.json"
    for i in 1 2; do sv_post /q/db "$d/c.json" "X-Token: $Q_TOKEN" "X-Shopify-Webhook-Id: shop-$mode"; sv_want "Shopify webhook id, time $i" 204; done
    t_items 24 24 "$d/e.json"
    for i in 1 2; do sv_post /q/db "$d/e.json" "X-Token: $Q_TOKEN"; sv_want "no key, time $i" 204; done
    sv_until 20 sv_drained "$d" || t_note "the queue was not taken"
    # a redelivery after its event was processed is still one
    sv_post /q/db "$d/a.json" "X-Token: $Q_TOKEN" "X-GitHub-Delivery: 5a0d5b10-0000-4000-8000-00000000000$mode"; sv_want "a redelivery after the run" 204
    sleep 0.5
    sv_until 20 sv_drained "$d" || t_note "the queue was not taken"
    [ "$(sv_db_ids "$d")" = "$(t_seq 1 9)20 21 22 23 24 24 " ] || t_note "each delivery once, identical bodies without a key twice: $(sv_db_ids "$d")"
    sv_stop TERM
  fi
  t_done

  t_case "serve/hooks/$mode/webhook-run-is-an-ordinary-run"
  # a webhook run holds the flow's lock: a run from a shell is refused naming its process, and is in
  # the history as skipped; POST /flows/F/run is 409 meanwhile (the run naps while $d/hold exists)
  : >"$d/hold"
  if NAP_MS=0 NAP_UNTIL="$d/hold" sv_start "$d" "$mode"; then
    t_items 30 31 "$d/f.json"
    sv_post /q/db "$d/f.json" "X-Token: $Q_TOKEN"; sv_want "a request" 204
    # going on: its row says running with its process, and the run lock names the same process (serve
    # takes the lock, then writes its child's pid there and in the row)
    sv_until 10 eval '[ -n "$(sv_sql "$d" "select pid from runs where flow = '"'to_db'"' and status = '"'running'"'")" ] &&
      [ "$(sv_sql "$d" "select pid from runs where flow = '"'to_db'"' and status = '"'running'"'")" = "$(cat "$d/.flowstate/serve-hooks.to_db.lock" 2>/dev/null)" ]' ||
      t_note "no webhook run going on"
    local pid
    pid=$(sv_sql "$d" "select pid from runs where flow = 'to_db' and status = 'running'")
    sv_cmd "$d" "$mode" run to_db
    t_expect_rc 1
    t_expect_grep "$C_ERR" "flow to_db is already running \\(pid $pid\\)$" "the webhook run's process named"
    sv_curl -X POST "http://127.0.0.1:$SV_PORT/flows/to_db/run"
    [ "$SV_CODE" = 409 ] || t_note "POST /flows/to_db/run while the webhook run goes on: $SV_CODE"
    rm -f "$d/hold"
    sv_until 20 sv_drained "$d" || t_note "the run did not end"
    sv_runs "$d" "$mode"
    [ "$(jq -c "[.[] | select(.flow == \"to_db\" and .pid == $pid) | [.trigger, .status, .exported, .imported]]" "$SV_RUNS")" = '[["webhook","ok",2,2]]' ] ||
      t_note "the webhook run in the history: $(jq -c "[.[] | select(.flow == \"to_db\")][0:3]" "$SV_RUNS")"
    [ "$(sv_count "select(.flow == \"to_db\" and .status == \"skipped\" and .trigger == \"run\" and .message == \"flow to_db is already running (pid $pid)\")")" = 1 ] ||
      t_note "the refused shell run is not in the history as skipped"
    grep -qE "flow to_db: ok in [0-9.]+ s: exported 2, ignored 0, imported 2, errors 0 \(run [^,]+, webhook\)$" "$SV_LOG" || t_note "no log line for the webhook run"
    # a flow with a webhook trigger and its own export runs it; its event is done
    sv_post /q/ping "$d/bad.txt" "X-Token: $Q_TOKEN"; sv_want "ping (any body: the export is not from webhook)" 204
    sv_until 20 eval '[ "$(sv_lines "$d/out/ping.ndjson")" = 2 ]' || t_note "ping did not run its export"
    sv_until 10 sv_drained "$d" || t_note "ping's event is still queued"
    sv_stop TERM
    [ "$SV_RC" = 0 ] || t_note "exit $SV_RC"
  fi
  t_done

  t_case "serve/hooks/$mode/queued-while-a-shell-run-holds-the-flow"
  # the reverse: a run of ping from a shell holds the flow (it naps 2 s on its page); a request
  # meanwhile is answered at once and queued, and serve runs it when the shell's run has ended
  local shell lines
  lines=$(sv_lines "$d/out/ping.ndjson")
  if NAP_MS=0 sv_start "$d" "$mode"; then
    if [ "$mode" = jit ]; then (cd "$d" && NAP_MS=2000 exec "$FLOWC" run flow.flow ping) </dev/null >"$d/shell.out" 2>"$d/shell.err" &
    else (cd "$d" && NAP_MS=2000 exec ./prog run ping) </dev/null >"$d/shell.out" 2>"$d/shell.err" & fi
    shell=$!
    C_FILES+=("$d/shell.err")
    sv_until 20 eval '[ "$(sv_sql "$d" "select count(*) from runs where flow = '"'ping'"' and status = '"'running'"'")" = 1 ]' || t_note "the shell's run did not start"
    sv_post /q/ping "$d/bad.txt" "X-Token: $Q_TOKEN"; sv_want "a request while a shell runs ping" 204
    [ "$(sv_sql "$d" "select count(*) from webhook_events where flow = 'ping' and status = 'queued'")" = 1 ] || t_note "not queued"
    wait "$shell" || t_note "the shell's run: exit $?: $(head -c 300 "$d/shell.err")"
    sv_until 20 eval '[ "$(sv_lines "$d/out/ping.ndjson")" = $((lines + 4)) ]' || t_note "the request was not run after the shell's run: $(sv_lines "$d/out/ping.ndjson") lines, $lines before"
    sv_until 10 sv_drained "$d" || t_note "ping's event is still queued"
    sv_runs "$d" "$mode"
    [ "$(sv_count 'select(.flow == "ping" and .status == "skipped")')" = 0 ] || t_note "a webhook start was skipped (its event should wait)"
    sv_stop TERM
    [ "$SV_RC" = 0 ] || t_note "exit $SV_RC"
  fi
  t_done
}
sv_hooks native
sv_hooks jit

# every serve a case started is gone
for sv_p in "${SV_PIDS[@]}"; do kill -9 "$sv_p" 2>/dev/null; done
unset SV_PIDS
