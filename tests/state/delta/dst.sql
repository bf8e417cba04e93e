create table items (id integer primary key, name text not null, updated_at text not null);
