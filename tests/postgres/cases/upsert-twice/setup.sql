CREATE TABLE src (id int PRIMARY KEY, email text, amount numeric(10,2), updated_at timestamptz);
INSERT INTO src SELECT i, 'User' || i || '@Example.com', i * 1.5, '2026-01-01 00:00:00+00' FROM generate_series(1, 45) i;
-- the destination exists with a primary key on the upsert key and a column only updates touch
CREATE TABLE dst (email text PRIMARY KEY, amount numeric(10,2), first_seen boolean, updates int NOT NULL DEFAULT 0);
-- `mirror` does not exist: the connector creates it, its key the primary key
