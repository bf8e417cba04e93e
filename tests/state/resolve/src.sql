create table items (id integer primary key, qty integer not null, updated_at text not null);
with recursive n(i) as (select 1 union all select i + 1 from n where i < 8)
insert into items select i, case when i = 7 then -7 else i end, '2024-01-15T00:00:00Z' from n;
create table codes (code text primary key, qty integer not null);
insert into codes values ('A', 1), ('B', -2), ('C', 3);
