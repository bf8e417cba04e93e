CREATE TABLE users (name TEXT, secret TEXT);
INSERT INTO users VALUES ('ann', 'ann-secret'), ('bob', 'bob-secret');
