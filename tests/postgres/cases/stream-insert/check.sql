SELECT count(*), sum(id), count(DISTINCT id), min(v), max(v) FROM stream_ins;
SELECT id FROM stream_ins WHERE id BETWEEN 648 AND 652 ORDER BY id;
