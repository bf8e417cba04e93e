create table items (id integer primary key, name text not null, updated_at text not null, extra text);
insert into items (id, name, updated_at) values
  (1, 'a', '2024-01-01T10:00:00Z'),
  (2, 'b', '2024-01-01T11:00:00Z'),
  (3, 'c', '2024-01-01T12:00:00Z'),
  (4, 'd', '2024-01-05T00:00:00Z');
