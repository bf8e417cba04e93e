-- src's columns have no declared types, so each row's values keep the storage class they are
-- given (INTEGER, REAL, TEXT, BLOB, NULL): rows that fit the flow's declared type and rows that do not.
CREATE TABLE src (id INTEGER PRIMARY KEY, name, amount, qty, active, born, note, extra);
INSERT INTO src VALUES
  (1, 'Ann', 12.5, 3, 1, '2024-01-02T03:04:05Z', 'first', 'kept'),
  (2, 'Bob', 3.0, 0, 0, 1700000000, NULL, NULL),
  (3, 'Zoë ✓ "q" \ tab	end', -0.0, 9223372036854775807, 1, NULL, '', 'x'),
  (4, 'filtered', 1.0, 1, 1, NULL, NULL, NULL),
  (5, CAST(X'C328' AS TEXT), 1.5, 1, 1, NULL, NULL, NULL),
  (6, CAST(X'610062' AS TEXT), 1.5, 1, 1, NULL, NULL, NULL),
  (7, 'Two', 1.5, 1, 2, NULL, NULL, NULL),
  (8, 'Text qty', 1.5, '7', 1, NULL, NULL, NULL),
  (9, NULL, 1.5, 1, 0, NULL, NULL, NULL),
  (10, 'Inf', 1e999, 1, 0, NULL, NULL, NULL),
  (11, 'Big', 1e300, -9223372036854775808, 0, 'not a date', NULL, NULL),
  (12, 'Whole', 9007199254740993, 5, 1.0, 0.5, 'n', 2.5),
  (13, 'Min', -9223372036854775808, NULL, 0.0, NULL, NULL, X'0102'),
  (14, 'Tiny', 5e-324, 2, 1, '2024-02-29', NULL, NULL),
  (15, 'Feb 30', 1.5, 1, 1, '2024-02-30', NULL, NULL);
CREATE TABLE kept (id INTEGER PRIMARY KEY, name, amount, half, qty, active, flag, note, doubled, seen);
INSERT INTO kept VALUES (1, 'old', 0, 0, 0, 0, 'old', 'old', 0, 0);
