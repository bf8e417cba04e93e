create table items (id integer primary key, name text not null, qty integer not null check (qty >= 0));
create table tags (id integer primary key, name text not null);
insert into tags values (3, 'taken');
