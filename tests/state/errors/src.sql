create table items (id integer primary key, name text not null, qty integer not null);
insert into items values (1, 'a', 5), (2, 'b', -1), (3, 'c', 2), (4, 'd', -3), (5, 'e', 0);
