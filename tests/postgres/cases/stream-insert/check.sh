# pages finished one at a time (no stream) give the same output and table
if [ "$MODE" = native ]; then pg_again "$(dirname "$chk")" off FLOW_PIPELINE=off; fi
