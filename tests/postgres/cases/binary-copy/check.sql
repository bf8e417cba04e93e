-- the rows with special values in full; every table's rows as a digest (check.sh compares every row
-- with the COPY text run's too)
SELECT * FROM pgbin_all WHERE id < 100 OR id >= 2000 AND id < 2100 ORDER BY id;
SELECT id, n2, to_char(tstz, 'YYYY-MM-DD HH24:MI:SS.US TZ') FROM pgbin_all WHERE id < 100 ORDER BY id;
SELECT 'all', count(*), md5(string_agg(x::text, E'\n' ORDER BY id)) FROM pgbin_all x;
SELECT 'log', count(*), md5(string_agg(x::text, E'\n' ORDER BY id)) FROM pgbin_log x;
SELECT 'up', count(*), sum(runs), md5(string_agg(x::text, E'\n' ORDER BY id)) FROM pgbin_up x;
SELECT 'text', count(*), md5(string_agg(x::text, E'\n' ORDER BY id)) FROM pgbin_text x;
SELECT 'f8 signs', count(*) FILTER (WHERE f8 = 0 AND f8::text = '-0'), count(*) FILTER (WHERE f8 = 0) FROM pgbin_all;
