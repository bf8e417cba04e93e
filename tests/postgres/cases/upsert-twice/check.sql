SELECT count(*) AS rows, sum(updates) AS updates, count(*) FILTER (WHERE first_seen) AS first_seen FROM dst;
SELECT * FROM dst WHERE email IN ('user1@example.com', 'user2@example.com', 'user44@example.com', 'new@example.com') ORDER BY email;
SELECT count(*) AS rows, sum(amount) AS amount FROM mirror;
SELECT conrelid::regclass, contype FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2;
