-- the same table without the CHECK constraint, keeping its rows
begin;
create table items_new (id integer primary key, name text not null, qty integer not null);
insert into items_new select id, name, qty from items;
drop table items;
alter table items_new rename to items;
commit;
