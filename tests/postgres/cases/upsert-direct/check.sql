SELECT 'plain', * FROM plain ORDER BY id;
SELECT 'numbered', * FROM numbered ORDER BY n;
SELECT 'triggered', * FROM triggered ORDER BY id;
SELECT 'fired', n FROM fired;
SELECT 'halves', * FROM halves ORDER BY half;
