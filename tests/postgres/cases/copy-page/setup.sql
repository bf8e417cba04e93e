CREATE TABLE plain (id int PRIMARY KEY, name text, age int, tags text[], doc jsonb);
CREATE TABLE keyed (id int PRIMARY KEY, name text, age int CHECK (age <> 50), tags text[], doc jsonb);
INSERT INTO keyed VALUES (2, 'before', 0, '{}', '{}'), (13, 'kept', 0, '{}', '{}'), (25, 'before', 0, '{}', '{}');
