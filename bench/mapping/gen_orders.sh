#!/bin/sh
# Prints N generated orders as NDJSON (about 300 bytes each, nested customer and items; one in ten
# cancelled). Deterministic. Usage: bench/mapping/gen_orders.sh N
n=${1:?usage: gen_orders.sh N}
awk -v n="$n" 'BEGIN {
  split("paid pending shipped paid paid pending paid shipped paid cancelled", st, " ")
  split("Anna Bob Carl Dora Eve Finn Gus Hana Ivo Jan", fn, " ")
  split("Berg Stone Ode Lind Moss Nord Ek Holm Sand Vik", ln, " ")
  split("EU US APAC", rg, " ")
  for (i = 1; i <= n; i++) {
    k = (i * 7919) % 1000
    items = ""
    m = 1 + i % 3
    for (j = 1; j <= m; j++) {
      items = items (j > 1 ? "," : "") sprintf("{\"sku\":\"SKU-%05d\",\"qty\":%d,\"price\":%.2f}", (i * 31 + j) % 100000, 1 + (i + j) % 4, ((i * j) % 5000) / 7.0)
    }
    printf "{\"id\":%d,\"email\":\"%s.%s%d@Example.COM\",\"status\":\"%s\",\"total\":%.2f,\"customer\":{\"first\":\"%s\",\"last\":\"%s\",\"vip\":%s},\"items\":[%s],\"region\":\"%s\",\"created_at\":\"2026-11-%02dT%02d:%02d:00Z\"}\n", \
      i, fn[1 + i % 10], ln[1 + k % 10], i, st[1 + i % 10], (k * 3.7) + 5, fn[1 + i % 10], ln[1 + k % 10], (i % 4 == 0) ? "true" : "false", items, rg[1 + i % 3], 1 + i % 28, i % 24, i % 60
  }
}'
