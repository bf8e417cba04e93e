-- every row changes, 100 new ones
UPDATE src SET name = name || '+';
INSERT INTO src SELECT i, 'n' || i FROM generate_series(2001, 2100) i;
