CREATE TABLE src (id INTEGER PRIMARY KEY, total REAL, name TEXT);
INSERT INTO src VALUES (1, 1.5, 'ok'), (2, 9e999, 'inf'), (3, 2, CAST(X'610062' AS TEXT)), (4, 3, CAST(X'61FF62' AS TEXT)),
  (5, 4, 'fine é');
