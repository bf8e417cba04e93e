SELECT count(*), min(id), max(id), count(DISTINCT at), md5(string_agg(x::text, ',' ORDER BY id)) FROM fallback x;
