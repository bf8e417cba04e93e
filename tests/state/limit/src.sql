create table items (id integer primary key, updated_at text not null);
insert into items values
  (1, '2024-01-01T00:00:00Z'), (2, '2024-01-02T00:00:00Z'), (3, '2024-01-03T00:00:00Z'),
  (4, '2024-01-04T00:00:00Z'), (5, '2024-01-04T23:30:00Z'), (6, '2024-01-06T00:00:00Z'),
  (7, '2024-01-07T00:00:00Z'), (8, '2024-01-09T00:00:00Z');
