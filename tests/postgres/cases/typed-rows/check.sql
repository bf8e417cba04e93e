SELECT 'dst', id, name, amount, f8::text, neg::text, qty, active, born, local, length(note), md5(note) FROM dst ORDER BY id;
SELECT 'ins', id, name, amount, f8::text, neg::text, qty, active, born, local, length(note), md5(note) FROM ins ORDER BY id;
