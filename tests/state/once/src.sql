CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER, done BOOLEAN NOT NULL DEFAULT 0);
INSERT INTO items (id, qty) VALUES (1, 5), (2, -1), (3, 2), (4, 7), (5, 1);
INSERT INTO items (id, qty, done) VALUES (6, 9, 1);
