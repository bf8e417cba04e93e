SELECT count(*), sum(id), count(DISTINCT id) FROM stream_sink;
SELECT last_value FROM kills;
