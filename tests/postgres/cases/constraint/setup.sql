CREATE TABLE people (
  id int PRIMARY KEY,
  name text NOT NULL,
  age int CHECK (age >= 0),
  email text UNIQUE
);
INSERT INTO people VALUES (100, 'already here', 50, 'taken@example.com');
