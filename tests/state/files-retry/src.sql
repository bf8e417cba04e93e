CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO customers VALUES (1, 'ann'), (2, 'bob');
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER NOT NULL);
INSERT INTO orders VALUES (10, 1), (11, 3), (12, 2);
