SELECT 'plain', id, replace(replace(replace(name, E'\t', '<TAB>'), E'\n', '<LF>'), E'\r', '<CR>'), name IS NULL, age, tags, doc FROM plain ORDER BY id;
SELECT 'keyed', id, replace(replace(replace(name, E'\t', '<TAB>'), E'\n', '<LF>'), E'\r', '<CR>'), name IS NULL, age, tags, doc FROM keyed ORDER BY id;
SELECT count(*) FROM plain p JOIN keyed k USING (id) WHERE p.name IS NOT DISTINCT FROM k.name AND p.tags = k.tags AND p.doc = k.doc;
