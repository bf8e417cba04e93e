# the native run's first page went out as binary COPY through one slot and was refused; the same page
# then went in as COPY text (the server's log of this case's database: setup.sql sets log_statement)
if [ "$MODE" = native ]; then
  log=$pg/server/server.log
  grep -q 'permission denied for function random' "$log" || echo "the one-slot COPY was not refused"
  grep -q 'COPY "fallback" (.*) FROM STDIN; COMMIT' "$log" || echo "no COPY text after the refusal"
fi
