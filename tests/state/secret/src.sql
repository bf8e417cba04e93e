create table items (id integer primary key, name text not null);
insert into items values (1, 'a'), (2, 'b'), (3, 'c');
