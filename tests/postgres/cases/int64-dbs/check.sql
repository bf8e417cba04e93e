SELECT 'from_sqlite', id, n FROM from_sqlite ORDER BY id;
SELECT 'from_pg', id, n FROM from_pg ORDER BY id;
