CREATE TABLE sink (id int PRIMARY KEY, before int);
CREATE TABLE odd (id int PRIMARY KEY, last int, prev int);
