for i in 1 2; do
  curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -d "{\"id\":$((100 + i)),\"external_id\":\"order-1\"}" "$BASE/sink/deals"
done
