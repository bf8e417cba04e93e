CREATE TABLE src (id bigint PRIMARY KEY, n bigint);
CREATE TABLE from_sqlite (id bigint PRIMARY KEY, n bigint);
CREATE TABLE from_pg (id bigint PRIMARY KEY, n bigint);
