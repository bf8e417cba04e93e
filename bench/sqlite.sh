#!/usr/bin/env bash
# The sqlite connector benchmark: 1M rows SQLite -> SQLite through a small mapping
# (bench/sqlite/upsert.flow, `flowc build`, native; the same mapping as bench/postgres.sh), upserted
# into an empty table (every row inserted) and again (every row updated), against the sqlite3 CLI
# doing the same in SQL (`INSERT INTO dst SELECT ... FROM src ON CONFLICT (id) DO UPDATE`, the floor:
# no process boundary, no JSON). Prints rows/s of each and the ratio, wall clock and CPU time (user +
# sys: what a loaded machine does not change), the best of BENCH_SQLITE_REPS runs (3) of each, flowc
# and the CLI back to back; and flowc's peak RSS at 100k and 1M rows (it must stay flat).
# The destination databases are in WAL mode, as src.db is (PRAGMA journal_mode = WAL, a property of
# the database file, the same for flowc and the CLI): flowc commits each page (1000 rows) as one
# transaction, which SQLite makes durable with one fsync of the WAL, where the default rollback
# journal takes four (the journal twice, the database, its directory); the CLI commits once. flowc
# changes no journal mode and no `synchronous` setting: one more line shows the same insert into a
# database with the default rollback journal, where the wall clock is mostly those fsyncs.
# BENCH_SQLITE_ROWS / BENCH_SQLITE_RSS_ROWS change the sizes.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
n=${BENCH_SQLITE_ROWS:-1000000}
small=${BENCH_SQLITE_RSS_ROWS:-100000}
out=build/bench/sqlite
flowc=$PWD/build/flowc
[ -x "$flowc" ] || { echo "bench: build/flowc missing (make first)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "bench: the sqlite3 CLI is missing (apt-get install sqlite3)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }
rm -rf "$out"; mkdir -p "$out"
cd "$out" || exit 2

reps=${BENCH_SQLITE_REPS:-3}
TABLE='CREATE TABLE dst (id INTEGER PRIMARY KEY, email TEXT, name TEXT, amount REAL, created_at TEXT, active INTEGER, source TEXT);'
# fresh DB [JOURNAL]: an empty destination database (WAL, or the given journal mode)
fresh() {
  rm -f "$1" "$1-wal" "$1-shm" "$1-journal"
  sqlite3 "$1" "PRAGMA journal_mode = ${2:-WAL}; $TABLE" >/dev/null || exit 1
}
sqlite3 src.db >/dev/null <<SQL || exit 1
PRAGMA journal_mode = WAL;
CREATE TABLE src (id INTEGER PRIMARY KEY, email TEXT, name TEXT, amount REAL, created_at TEXT, active INTEGER);
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $n)
INSERT INTO src SELECT i, 'User' || i || '@Example.COM', 'Name ' || i, (i % 100000) / 7.0,
  strftime('%Y-%m-%dT%H:%M:%SZ', 1767225600 + i, 'unixepoch'), i % 3 = 0 FROM s;
SQL
"$flowc" build "$OLDPWD/bench/sqlite/upsert.flow" -o upsert || exit 1

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# flow_run N: one native run into dst.db; sets F_MS, F_CPU (ms) and F_RSS (KB)
flow_run() {
  local t0 t1
  t0=$(now_ms)
  /usr/bin/time -f 'maxrss %M cpu %U %S' ./upsert run --json --param "n=$1" >flow.out 2>flow.err ||
    { echo "bench: the flowc run failed:"; tail -n 5 flow.err; exit 1; }
  t1=$(now_ms)
  F_MS=$((t1 - t0))
  F_RSS=$(sed -n 's/^maxrss \([0-9]*\) .*/\1/p' flow.err)
  F_CPU=$(awk '/^maxrss / { printf "%d", ($4 + $5) * 1000 }' flow.err)
  grep -q "\"imported\":{\"people\":$1}" flow.out || { echo "bench: unexpected result: $(cat flow.out)"; exit 1; }
}
# cli_run: one run of the CLI; sets C_MS and C_CPU (ms)
SQL="ATTACH 'src.db' AS s; BEGIN; INSERT INTO dst SELECT id, lower(email), name, round(amount, 2), created_at, active, 'bench' FROM s.src WHERE id <= $n ORDER BY id
  ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name, amount = excluded.amount,
  created_at = excluded.created_at, active = excluded.active, source = excluded.source; COMMIT;"
cli_run() {
  local t0 t1
  t0=$(now_ms)
  /usr/bin/time -o cli.time -f 'cpu %U %S' sqlite3 cli.db "$SQL" || exit 1
  t1=$(now_ms)
  C_MS=$((t1 - t0))
  C_CPU=$(awk '/^cpu / { printf "%d", ($2 + $3) * 1000 }' cli.time)
}
min() { if [ -z "$1" ] || [ "$2" -lt "$1" ]; then echo "$2"; else echo "$1"; fi; }
# the insert into a database with the default rollback journal (its fsyncs per page commit), and
# the peak RSS at the small size
fresh dst.db DELETE
flow_run "$n"; jrn_ms=$F_MS; jrn_cpu=$F_CPU
fresh dst.db
flow_run "$small"; rss_small=$F_RSS
ins_ms= ins_cpu= upd_ms= upd_cpu= cli_ins_ms= cli_ins_cpu= cli_upd_ms= cli_upd_cpu=
for _ in $(seq "$reps"); do
  # flowc and the floor back to back: insert, then update, each into a fresh database; the last
  # ones are compared
  fresh dst.db
  flow_run "$n"; ins_ms=$(min "$ins_ms" "$F_MS"); ins_cpu=$(min "$ins_cpu" "$F_CPU"); rss_big=$F_RSS
  flow_run "$n"; upd_ms=$(min "$upd_ms" "$F_MS"); upd_cpu=$(min "$upd_cpu" "$F_CPU")
  fresh cli.db
  cli_run; cli_ins_ms=$(min "$cli_ins_ms" "$C_MS"); cli_ins_cpu=$(min "$cli_ins_cpu" "$C_CPU")
  cli_run; cli_upd_ms=$(min "$cli_upd_ms" "$C_MS"); cli_upd_cpu=$(min "$cli_upd_cpu" "$C_CPU")
done
diff=$(sqlite3 dst.db "ATTACH 'cli.db' AS c; SELECT count(*) FROM (SELECT * FROM dst EXCEPT SELECT * FROM c.dst)")
rows=$(sqlite3 dst.db "SELECT count(*) FROM dst")

awk -v n="$n" -v i="$ins_ms" -v u="$upd_ms" -v ci="$cli_ins_ms" -v cu="$cli_upd_ms" -v r1="$rss_small" -v r2="$rss_big" \
    -v ic="$ins_cpu" -v uc="$upd_cpu" -v cic="$cli_ins_cpu" -v cuc="$cli_upd_cpu" -v j="$jrn_ms" -v jc="$jrn_cpu" -v reps="$reps" \
    -v small="$small" -v rows="$rows" -v diff="$diff" -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
  printf "sqlite benchmark: %d rows SQLite -> SQLite (dst holds %d rows, %d differ from the CLI'"'"'s; best of %d; load average %s)\n", n, rows, diff, reps, load
  printf "%-34s %10s %12s %10s %10s %10s\n", "", "seconds", "rows/s", "vs CLI", "cpu s", "cpu vs CLI"
  printf "%-34s %10.2f %12.0f %9.1fx %10.2f %9.1fx\n", "flowc upsert, every row new", i / 1000, n / (i / 1000), i / ci, ic / 1000, ic / (cic ? cic : 1)
  printf "%-34s %10.2f %12.0f %9.1fx %10.2f %9.1fx\n", "flowc upsert, every row updated", u / 1000, n / (u / 1000), u / cu, uc / 1000, uc / (cuc ? cuc : 1)
  printf "%-34s %10.2f %12.0f %9.1fx %10.2f %9.1fx\n", "flowc new, rollback journal (once)", j / 1000, n / (j / 1000), j / ci, jc / 1000, jc / (cic ? cic : 1)
  printf "%-34s %10.2f %12.0f %9s %10.2f %9s\n", "sqlite3 INSERT ... SELECT, new", ci / 1000, n / (ci / 1000), "1.0x", cic / 1000, "1.0x"
  printf "%-34s %10.2f %12.0f %9s %10.2f %9s\n", "sqlite3 INSERT ... SELECT, update", cu / 1000, n / (cu / 1000), "1.0x", cuc / 1000, "1.0x"
  printf "flowc peak RSS: %.1f MB at %d rows, %.1f MB at %d rows (flat: %s)\n", r1 / 1024, small, r2 / 1024, n,
         (r2 < r1 * 1.5 + 4096) ? "yes" : "NO"
}'
