CREATE TABLE accounts (code int PRIMARY KEY, balance int CHECK (balance >= 0), owner text);
INSERT INTO accounts VALUES (1, 10, 'before');
