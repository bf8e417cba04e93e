# The native build again with FLOW_TYPED=off (the generic way for every row and map) into a database of
# its own: stdout, stderr and the tables must be the very same as the typed run's.
if [ "$MODE" = native ]; then
  gdb=${DB}_generic
  pg_sql postgres -c "DROP DATABASE IF EXISTS $gdb" -c "CREATE DATABASE $gdb" >/dev/null 2>&1
  pg_sql "$gdb" -f "$(dirname "$chk")/setup.sql" >/dev/null 2>&1
  (FLOW_TYPED=off PG_DSN="host=127.0.0.1 port=$PG_PORT user=flowtest dbname=$gdb password=$PG_SECRET" \
     exec timeout -k 5 "$PG_RUN_TIMEOUT" ./prog run --json) </dev/null >generic.out 2>generic.err
  echo "exit $?" >>generic.out
  pg_sql "$gdb" -A -F '|' -P footer=off -f "$(dirname "$chk")/check.sql" >generic.db 2>&1
  for f in out err db; do
    a=$WORK/std$f; [ "$f" = db ] && a=$WORK/db
    sed "s/$gdb/DB/g" generic.$f | pg_norm | diff -u --label typed --label generic "$a" - | head -n 20
  done
  pg_sql postgres -c "DROP DATABASE IF EXISTS $gdb" >/dev/null 2>&1
fi
