#!/usr/bin/env bash
# The postgres connector benchmark: 1M rows PostgreSQL -> PostgreSQL through a small mapping
# (bench/postgres/upsert.flow, `flowc build`, native), upserted into an empty table (every row
# inserted) and again (every row updated), against the physical floor: `psql \copy` of the same
# rows out of the source and into a table of the same shape (two psql processes, a pipe between).
# Also the floor of an upsert that updates every row: the same \copy into a staging table and one
# INSERT ... SELECT ... ON CONFLICT DO UPDATE (what flowc's staging way sends), which the updated
# rows are compared with too. Prints rows/s of each and the ratio, the CPU time of each side (the client: flowc or the two psql;
# the server: its backends, which a loaded machine does not change), and flowc's peak RSS at 100k
# and 1M rows (it must stay flat).
# Each of the three runs BENCH_PG_RUNS times (default 3), back to back in rounds (every row new,
# every row updated, the floor), the best wall time of each counting (with its CPU times): the
# machine may be shared.
# The server is a throwaway one (scripts/pg.sh) under build/bench/postgres, stopped at the end.
# BENCH_PG_ROWS (default 1000000) and BENCH_PG_RSS_ROWS (default 100000) change the sizes;
# BENCH_FLOWC (default build/flowc) the flowc that builds the flow (e.g. another checkout's, to
# compare).
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
n=${BENCH_PG_ROWS:-1000000}
small=${BENCH_PG_RSS_ROWS:-100000}
runs=${BENCH_PG_RUNS:-3}
out=build/bench/postgres
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
flowc=${BENCH_FLOWC:-build/flowc}
[ -x "$flowc" ] || { echo "bench: $flowc missing (make first)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }
[ -x "$PG_BIN/psql" ] || { echo "bench: PostgreSQL 15 is missing ($PG_BIN; scripts/deps.sh bench installs it)" >&2; exit 2; }
rm -rf "$out"; mkdir -p "$out"
trap 'scripts/pg.sh stop "$out/server" >/dev/null 2>&1' EXIT
port=$(PG_BIN=$PG_BIN scripts/pg.sh start "$out/server") || exit 1
dsn="host=127.0.0.1 port=$port user=flowtest dbname=flowtest"
psql_() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U flowtest -d flowtest "$@"; }

# the source rows and the destinations (same shape: the mapping's output)
psql_ >/dev/null <<SQL || exit 1
CREATE TABLE src (id bigint PRIMARY KEY, email text, name text, amount numeric(12,4), created_at timestamptz, active boolean);
INSERT INTO src SELECT i, 'User' || i || '@Example.COM', 'Name ' || i, (i % 100000) / 7.0,
  timestamptz '2026-01-01' + i * interval '1 second', i % 3 = 0 FROM generate_series(1, $n) i;
CREATE TABLE dst (id bigint PRIMARY KEY, email text, name text, amount numeric(12,2), created_at timestamptz, active boolean, source text);
CREATE TABLE dst_copy (LIKE dst INCLUDING ALL);
CREATE TABLE dst_small (LIKE dst INCLUDING ALL);
VACUUM ANALYZE;
SQL
"$flowc" build bench/postgres/upsert.flow -o "$out/upsert" || exit 1

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# srv_cpu: the server's CPU time so far in ms (the postmaster and its ended backends)
pm=$(head -n 1 "$out/server/data/postmaster.pid")
srv_cpu() { sleep 0.2; awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", ($14 + $15 + $16 + $17) * 1000 / hz }' "/proc/$pm/stat"; }
# flow_run N TABLE LABEL: one native run; sets F_MS, F_CPU and F_SRV (ms: flowc's, the server's) and F_RSS (KB)
flow_run() {
  local t0 t1
  sed "s/table = \"dst\"/table = \"$2\"/" bench/postgres/upsert.flow > "$out/$3.flow"
  if [ "$2" != dst ]; then "$flowc" build "$out/$3.flow" -o "$out/$3" >/dev/null || exit 1; else cp "$out/upsert" "$out/$3"; fi
  s0=$(srv_cpu)
  t0=$(now_ms)
  (cd "$out" && PG_DSN=$dsn exec /usr/bin/time -f 'maxrss %M cpu %U %S' "./$3" run --json --param "n=$1") >"$out/$3.out" 2>"$out/$3.err" ||
    { echo "bench: the flowc run failed:"; tail -n 5 "$out/$3.err"; exit 1; }
  t1=$(now_ms)
  F_MS=$((t1 - t0))
  F_SRV=$(( $(srv_cpu) - s0 ))
  F_RSS=$(sed -n 's/^maxrss \([0-9]*\) .*/\1/p' "$out/$3.err")
  F_CPU=$(awk '/^maxrss / { printf "%d", ($4 + $5) * 1000 }' "$out/$3.err")
  grep -q "\"imported\":{\"people\":$1}" "$out/$3.out" || { echo "bench: unexpected result: $(cat "$out/$3.out")"; exit 1; }
}

# copy_run: the floor once (dst_copy emptied first); sets C_MS, C_CPU and C_SRV (ms)
export -f psql_
export PG_BIN port n
copy_run() {
  local t0 t1 s0
  psql_ -c "TRUNCATE dst_copy" || exit 1
  s0=$(srv_cpu)
  t0=$(now_ms)
  /usr/bin/time -o "$out/copy.time" -f 'cpu %U %S' bash -c 'set -o pipefail
    psql_ -c "\\copy (SELECT id, lower(email), name, round(amount, 2), created_at, active, '"'bench'"' FROM src WHERE id <= $n ORDER BY id) TO STDOUT" |
    psql_ -c "\\copy dst_copy FROM STDIN"' || exit 1
  t1=$(now_ms)
  C_MS=$((t1 - t0))
  C_SRV=$(( $(srv_cpu) - s0 ))
  C_CPU=$(awk '/^cpu / { printf "%d", ($2 + $3) * 1000 }' "$out/copy.time")
}

# upsert_run: the floor of an upsert that updates every row, once (after copy_run: dst_copy holds
# them): the rows `\copy`d out as copy_run does, into a staging table, then one INSERT ... SELECT
# ... ON CONFLICT (id) DO UPDATE, as flowc's staging way does; sets U_MS, U_CPU and U_SRV (ms)
upsert_run() {
  local t0 t1 s0
  s0=$(srv_cpu)
  t0=$(now_ms)
  /usr/bin/time -o "$out/upsert.time" -f 'cpu %U %S' bash -c 'set -o pipefail
    psql_ -c "\\copy (SELECT id, lower(email), name, round(amount, 2), created_at, active, '"'bench'"' FROM src WHERE id <= $n ORDER BY id) TO STDOUT" |
    psql_ -f <(printf "%s\n" "CREATE TEMPORARY TABLE stage (LIKE dst_copy);" "\\copy stage FROM pstdin" \
      "INSERT INTO dst_copy SELECT * FROM stage ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, name = EXCLUDED.name, amount = EXCLUDED.amount, created_at = EXCLUDED.created_at, active = EXCLUDED.active, source = EXCLUDED.source;")' || exit 1
  t1=$(now_ms)
  U_MS=$((t1 - t0))
  U_SRV=$(( $(srv_cpu) - s0 ))
  U_CPU=$(awk '/^cpu / { printf "%d", ($2 + $3) * 1000 }' "$out/upsert.time")
}

# rounds of the four, back to back; the best wall time of each is kept with its CPU times
ins_ms=0; upd_ms=0; copy_ms=0; ups_ms=0
for ((round = 1; round <= runs; round++)); do
  psql_ -c "TRUNCATE dst" || exit 1
  flow_run "$n" dst insert
  if [ "$ins_ms" = 0 ] || [ "$F_MS" -lt "$ins_ms" ]; then ins_ms=$F_MS; ins_cpu=$F_CPU; ins_srv=$F_SRV; fi
  rss_big=$F_RSS
  flow_run "$n" dst update
  if [ "$upd_ms" = 0 ] || [ "$F_MS" -lt "$upd_ms" ]; then upd_ms=$F_MS; upd_cpu=$F_CPU; upd_srv=$F_SRV; fi
  copy_run
  if [ "$copy_ms" = 0 ] || [ "$C_MS" -lt "$copy_ms" ]; then copy_ms=$C_MS; copy_cpu=$C_CPU; copy_srv=$C_SRV; fi
  upsert_run
  if [ "$ups_ms" = 0 ] || [ "$U_MS" -lt "$ups_ms" ]; then ups_ms=$U_MS; ups_cpu=$U_CPU; ups_srv=$U_SRV; fi
done
flow_run "$small" dst_small small; rss_small=$F_RSS
same=$(psql_ -At -c "SELECT count(*) FROM (SELECT * FROM dst EXCEPT SELECT * FROM dst_copy) d")
rows=$(psql_ -At -c "SELECT count(*) FROM dst")

awk -v n="$n" -v i="$ins_ms" -v u="$upd_ms" -v c="$copy_ms" -v r1="$rss_small" -v r2="$rss_big" -v small="$small" \
    -v ic="$ins_cpu" -v uc="$upd_cpu" -v cc="$copy_cpu" -v is="$ins_srv" -v us="$upd_srv" -v cs="$copy_srv" \
    -v us2="$ups_srv" -v uc2="$ups_cpu" -v u2="$ups_ms" \
    -v rows="$rows" -v diff="$same" -v runs="$runs" -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
  printf "postgres benchmark: %d rows PostgreSQL -> PostgreSQL, best of %d (dst holds %d rows, %d differ from the copy; load average %s)\n", n, runs, rows, diff, load
  printf "%-34s %10s %12s %10s %10s %10s %10s\n", "", "seconds", "rows/s", "vs copy", "client s", "server s", "cpu vs copy"
  printf "%-34s %10.2f %12.0f %9.2fx %10.2f %10.2f %9.2fx\n", "flowc upsert, every row new", i / 1000, n / (i / 1000), i / c, ic / 1000, is / 1000, (ic + is) / (cc + cs)
  printf "%-34s %10.2f %12.0f %9.2fx %10.2f %10.2f %9.2fx\n", "flowc upsert, every row updated", u / 1000, n / (u / 1000), u / c, uc / 1000, us / 1000, (uc + us) / (cc + cs)
  printf "%-34s %10.2f %12.0f %9s %10.2f %10.2f %9s\n", "psql \\copy out | \\copy in (floor)", c / 1000, n / (c / 1000), "1.0x", cc / 1000, cs / 1000, "1.0x"
  printf "%-34s %10.2f %12.0f %9.2fx %10.2f %10.2f %9.2fx\n", "psql \\copy | staging + ON CONFLICT", u2 / 1000, n / (u2 / 1000), u2 / c, uc2 / 1000, us2 / 1000, (uc2 + us2) / (cc + cs)
  printf "flowc upsert, every row updated vs psql \\copy into a staging table + INSERT ... ON CONFLICT DO UPDATE: %.2fx wall, %.2fx cpu\n", u / u2, (uc + us) / (uc2 + us2)
  printf "flowc peak RSS: %.1f MB at %d rows, %.1f MB at %d rows (flat: %s; under 20 MB: %s)\n", r1 / 1024, small, r2 / 1024, n,
         (r2 < r1 * 1.5 + 4096) ? "yes" : "NO", (r2 < 20480) ? "yes" : "NO"
}'
