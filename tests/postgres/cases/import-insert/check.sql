SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
 WHERE table_schema = 'public' ORDER BY table_name, ordinal_position;
SELECT conrelid::regclass, contype FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2;
SELECT * FROM created ORDER BY id;
SELECT id, at, tags, doc, flag, amount, note, note IS NULL AS note_null FROM typed ORDER BY id;
