# pages finished one at a time (no stream) give the same output and table, with at least twice as
# many COPY commands (into the table or the staging table) as the streams took: counted in the
# server's log, in the sessions that wrote stream_up, of this run and then of pg_again's
if [ "$MODE" = native ]; then
  log=$pg/server/server.log
  # copies: stdin (log lines) -> the COPY commands of the sessions that wrote stream_up
  copies() {
    awk '{ l[NR] = $0; if (match($0, /\[[0-9]+\]/)) p[NR] = substr($0, RSTART, RLENGTH); if (index($0, "\"stream_up\"")) w[p[NR]] = 1 }
         END { for (i = 1; i <= NR; i++) if ((p[i] in w) && l[i] ~ /COPY "[a-z_0-9]+" \(.*\) FROM STDIN/) c++; print c + 0 }'
  }
  n_db=$(wc -l < "$log")
  pg_again "$(dirname "$chk")" off FLOW_PIPELINE=off
  streamed=$(head -n "$n_db" "$log" | copies)
  off=$(tail -n +"$((n_db + 1))" "$log" | copies)
  if [ "$streamed" = 0 ] || [ $((streamed * 2)) -gt "$off" ]; then
    echo "COPY commands: $streamed with streams, $off with FLOW_PIPELINE=off (expected at most half)"
  fi
fi
