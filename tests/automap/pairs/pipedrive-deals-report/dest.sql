CREATE TABLE deals (
  deal_id INTEGER,
  deal_name TEXT,
  amount REAL,
  currency TEXT,
  stage INTEGER,
  status TEXT,
  contact_name TEXT,
  organization TEXT,
  owner TEXT,
  created_at DATETIME,
  updated_at DATETIME,
  close_date DATE,
  win_probability INTEGER,
  loaded_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
