-- every row changes, three new ones
UPDATE src SET name = name || '+';
INSERT INTO src SELECT i, 'n' || i FROM generate_series(31, 33) i;
