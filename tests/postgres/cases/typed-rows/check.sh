# The native build again with FLOW_TYPED=off (the generic way for every row and map) into a database of
# its own: stdout, stderr and the tables must be the very same as the typed run's.
if [ "$MODE" = native ]; then pg_again "$(dirname "$chk")" generic FLOW_TYPED=off; fi
