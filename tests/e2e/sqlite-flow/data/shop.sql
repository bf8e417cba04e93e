CREATE TABLE orders (id INTEGER PRIMARY KEY, email TEXT, total REAL);
INSERT INTO orders VALUES (1, 'a@x.io', 50), (2, 'b@x.io', 5), (3, 'c@x.io', 75), (4, 'zz@x.io', 99);
CREATE TABLE accounts (email TEXT PRIMARY KEY, tier TEXT);
INSERT INTO accounts VALUES ('a@x.io', 'gold'), ('c@x.io', 'silver');
CREATE TABLE customers (email TEXT UNIQUE, tier TEXT, orders_seen INTEGER, updated INTEGER);
INSERT INTO customers VALUES ('a@x.io', 'bronze', 7, NULL);
