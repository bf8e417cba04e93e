select(.status != "cancelled")
| { ref: "order-\(.id)",
    email: (.email | ascii_downcase),
    name: (.customer.first + " " + .customer.last),
    cents: ((.total * 100) | floor),
    tier: (if .total > 1000 then "gold" elif .customer.vip then "silver" else "bronze" end),
    lines: [.items[] | { sku: .sku, amount: (.qty * .price) }],
    source: "webshop" }
