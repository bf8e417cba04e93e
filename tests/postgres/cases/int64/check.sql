SELECT id, n, num, created, updated FROM big ORDER BY id;
