create table orders (id int primary key, total numeric, exported boolean not null default false);
insert into orders (id, total) values (1, 10), (2, -5), (3, 7), (4, 8), (5, 9);
insert into orders (id, total, exported) values (6, 100, true);
