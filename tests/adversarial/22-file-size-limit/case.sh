# 22: a file import whose writes fail with EFBIG (a file size limit, SIGXFSZ ignored) must fail the
# run with the file's name, leave no temporary file and never a partial target; the summary counts
# none of them as imported. The runtime ignores SIGXFSZ (flow_main), so the write fails with EFBIG
# instead of the signal killing the process.
mkdir -p data   # git keeps no empty folder
awk 'BEGIN { for (i = 1; i <= 3000; i++) printf "{\"id\":%d,\"pad\":\"%s\"}\n", i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" }' >data/many.ndjson

# 300 blocks of 512 bytes (dash) is 150 KB, room for the state store (about 90 KB made, its WAL
# as much again); the run writes 2 x 180 KB
for adv_how in native jit; do
  t_case adversarial/22-file-size-limit/efbig-fails-cleanly-$adv_how
  rm -rf "$ADV_WORK/$adv_how"; adv_copy "$ADV_WORK/$adv_how"
  mkdir -p "$ADV_WORK/$adv_how/data"
  cp data/many.ndjson "$ADV_WORK/$adv_how/data/"
  if [ $adv_how = native ]; then
    adv_build "$ADV_WORK/$adv_how"
    t_exec -C "$ADV_WORK/$adv_how" sh -c "ulimit -f 300 && exec ./prog run --json"
  else
    t_exec -C "$ADV_WORK/$adv_how" sh -c "ulimit -f 300 && exec \"\$0\" run flow.flow --json" "$FLOWC"
  fi
  t_expect_rc 1
  t_expect_grep "$C_ERR" '^error: flow grow: import (big|app): cannot write out/(big|app)\.ndjson: File too large$'
  t_expect_grep "$C_ERR" '^flow grow: failed; exported [0-9]+, ignored 0, imported big=0 app=0, not written [0-9]+, errors 0$'
  [ "$(cat "$ADV_WORK/$adv_how/out/big.ndjson")" = '{"id":"old"}' ] || t_note "out/big.ndjson was changed"
  [ "$(cat "$ADV_WORK/$adv_how/out/app.ndjson")" = '{"id":"kept"}' ] || t_note "out/app.ndjson was changed"
  [ -z "$(cd "$ADV_WORK/$adv_how/out" && ls -A | grep '^\.')" ] || t_note "temporary files left in out/"
  t_done
done
