SELECT 'dst', id, name, amount, f8::text, neg::text, qty, active, born, local, length(note), md5(note) FROM dst ORDER BY id;
SELECT 'ins', id, name, amount, f8::text, neg::text, qty, active, born, local, length(note), md5(note) FROM ins ORDER BY id;
SELECT 'made', id, name, amount, active FROM made ORDER BY id;
SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'made' ORDER BY ordinal_position;
