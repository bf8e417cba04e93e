CREATE TABLE ledger_entries (
  entry_id INTEGER PRIMARY KEY,
  external_id TEXT NOT NULL UNIQUE,
  amount_cents INTEGER NOT NULL,
  refunded_cents INTEGER,
  currency TEXT NOT NULL,
  customer_ref TEXT,
  memo TEXT,
  posted_at DATETIME,
  status TEXT,
  email TEXT,
  paid BOOLEAN
);
