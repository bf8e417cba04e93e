-- the second run sees two changed rows and one new one
UPDATE src SET amount = amount * 100 WHERE id IN (2, 44);
INSERT INTO src VALUES (46, 'new@example.com', 7, '2026-02-01 00:00:00+00');
