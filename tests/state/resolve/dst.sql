create table items (id integer primary key, qty integer not null check (qty >= 0));
create table codes (code text primary key, qty integer not null check (qty >= 0));
