CREATE TABLE customers (id INTEGER PRIMARY KEY, vip INTEGER, opted INTEGER);
INSERT INTO customers VALUES (1, 1, 0), (2, 0, NULL), (3, 1, 1), (4, 2, 0);
CREATE TABLE tiers (id INTEGER PRIMARY KEY, gold INTEGER);
INSERT INTO tiers VALUES (1, 1), (2, 0), (3, 0), (4, 1);
