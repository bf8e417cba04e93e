CREATE TABLE customers (id INTEGER PRIMARY KEY, vip INTEGER, opted INTEGER);
INSERT INTO customers VALUES (1, 1, 1), (2, 0, 0), (3, 1, NULL);
