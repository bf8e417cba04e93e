SELECT count(*), sum(twice), count(DISTINCT id) FROM sink;
SELECT last_value AS lookup_kills FROM lookup_kills;
SELECT last_value AS insert_kills FROM insert_kills;
