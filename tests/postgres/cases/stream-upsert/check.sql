SELECT count(*), sum(id), sum(len), count(*) FILTER (WHERE name LIKE '%+') FROM stream_up;
SELECT id, name, len FROM stream_up WHERE id IN (1, 100, 101, 1999, 2000, 2001, 2100) ORDER BY id;
