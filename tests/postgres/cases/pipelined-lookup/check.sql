SELECT id, before FROM sink ORDER BY id;
SELECT id, last, prev FROM odd ORDER BY id;
