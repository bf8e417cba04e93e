# The native run took binary COPY where the case means it to (the server's log of this case's
# statements: setup.sql sets log_statement): the first page through one slot, the last through
# COPY's buffer, the upsert's second run into its staging table; the page of refused values, and
# every page of pgbin_text, as COPY text. Then the native build again with FLOW_PG_COPY=text (COPY
# text for every page, as before binary COPY) into a database of its own: stdout, stderr and the
# tables must be the very same.
if [ "$MODE" = native ]; then
  log=$pg/server/server.log
  want() {   # want N PATTERN WHAT: at least N statements (or none for 0) of this run match PATTERN
    local got
    got=$(grep -c -- "$2" "$log")
    if [ "$1" = 0 ] && [ "$got" != 0 ]; then echo "$3: $got statements, expected none"; fi
    if [ "$1" != 0 ] && [ "$got" -lt "$1" ]; then echo "$3: $got statements, expected $1 or more"; fi
  }
  want 1 'COPY "pgbin_all" (.*) FROM STDIN (FORMAT binary) WHERE pg_catalog.random() >= 0; COMMIT' "pgbin_all in binary through one slot"
  want 1 'COPY "pgbin_all" (.*) FROM STDIN (FORMAT binary); COMMIT' "pgbin_all in binary through COPY's buffer"
  want 1 'COPY "pgbin_all" (.*) FROM STDIN; COMMIT' "pgbin_all's page of refused values as text"
  want 2 'COPY "flow_stage_[0-9]*" (.*) FROM STDIN (FORMAT binary)' "pgbin_up through the staging table in binary"
  want 0 'COPY "pgbin_text" (.*) FROM STDIN (FORMAT binary)' "pgbin_text (a domain, an array, a real) in binary"
  want 1 'COPY "pgbin_text" (.*) FROM STDIN; COMMIT' "pgbin_text as text"
  pg_again "$(dirname "$chk")" text FLOW_PG_COPY=text
fi
