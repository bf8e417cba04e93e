#!/bin/sh
# `make demo`: installs what is missing, builds flowc, compiles examples/quickstart.flow to a native
# executable and runs it on the example's embedded data in build/demo/, then says what it wrote.
set -e
cd "$(dirname "$0")/.."
scripts/deps.sh build
make --no-print-directory build/flowc >/dev/null
rm -rf build/demo
mkdir -p build/demo/out
cp -r examples/data build/demo/data
for sql in build/demo/data/*.sql; do sqlite3 "${sql%.sql}.db" < "$sql" 2>/dev/null || true; done
echo "== flowc check examples/quickstart.flow"
build/flowc check examples/quickstart.flow
echo "== flowc build examples/quickstart.flow -o build/demo/quickstart"
build/flowc build examples/quickstart.flow -o build/demo/quickstart
echo "== build/demo/quickstart run   (in build/demo)"
set +e
(cd build/demo && ./quickstart run)
rc=$?
set -e
echo
echo "== what it wrote"
echo "build/demo/out/small-orders.ndjson:"
sed 's/^/  /' build/demo/out/small-orders.ndjson 2>/dev/null || echo "  (missing)"
echo "build/demo/out/quickstart.db, table big_orders:"
if command -v sqlite3 >/dev/null 2>&1; then
  sqlite3 -header -column build/demo/out/quickstart.db 'select * from big_orders order by id' | sed 's/^/  /'
else
  echo "  (install sqlite3 to look inside)"
fi
echo
echo "exit status of the run: $rc (0: every record imported or ignored; 3: some became errors)"
