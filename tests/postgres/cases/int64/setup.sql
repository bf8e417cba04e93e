CREATE TABLE big (id bigint PRIMARY KEY, n bigint NOT NULL, num numeric(30,0), created int, updated int);
